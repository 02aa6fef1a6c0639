"""Rollout items and the JSONL line envelope `{timestamp, ordinal?, type, payload}`.

Forward compatibility is the rule here: a line of a type we do not know, an
event or response item we do not know, or an unknown key anywhere, survives a
decode and re-encode unchanged. A line that was decoded and not modified is
re-encoded to *the same bytes* (we keep them); any line re-encodes to the same
JSON value, because payloads are kept as plain JSON values rather than
projected onto structs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import msgspec

from .session_meta import GitInfo, SessionMeta

__all__ = [
    "ITEM_KINDS",
    "MalformedLine",
    "RolloutItem",
    "RolloutLine",
    "decode_body",
    "decode_line",
    "encode_line",
    "first_session_meta",
    "history_mode_of",
]

ITEM_KINDS: Final = (
    "session_meta",
    "response_item",
    "event_msg",
    "turn_context",
    "compacted",
    "world_state",
    "token_usage_record",
    "inter_agent_communication",
    "inter_agent_communication_metadata",
)
"""The item kinds this library knows by name. Any other `type` is kept as-is."""

_ENVELOPE_KEYS: Final = frozenset({"timestamp", "ordinal", "type", "payload"})

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class MalformedLine(ValueError):
    """A rollout line that is not a JSON object with string `timestamp` and `type`."""


class RolloutItem:
    """One history item: its `type`, its `payload` (a JSON value) and any sibling keys.

    Sibling keys other than the envelope's (for example the `metadata` block that
    Codex 0.169 writes beside `response_item` payloads) live in `extra`, in their
    original order. Treat instances as immutable.
    """

    __slots__ = ("extra", "payload", "type")

    def __init__(self, type: str, payload: Any, extra: dict[str, Any] | None = None) -> None:
        self.type = type
        self.payload = payload
        self.extra: dict[str, Any] = extra or {}

    # -- constructors -------------------------------------------------------------
    @classmethod
    def session_meta(cls, meta: SessionMeta, git: GitInfo | None = None) -> RolloutItem:
        return cls("session_meta", meta.to_payload(git))

    @classmethod
    def event_msg(cls, payload: dict[str, Any]) -> RolloutItem:
        return cls("event_msg", payload)

    @classmethod
    def response_item(cls, payload: dict[str, Any]) -> RolloutItem:
        return cls("response_item", payload)

    @classmethod
    def turn_context(cls, payload: dict[str, Any]) -> RolloutItem:
        return cls("turn_context", payload)

    @classmethod
    def compacted(cls, payload: dict[str, Any]) -> RolloutItem:
        return cls("compacted", payload)

    # -- views --------------------------------------------------------------------
    @property
    def payload_type(self) -> str | None:
        """The inner tag of an `event_msg` or `response_item` payload (`user_message`, ...)."""
        p = self.payload
        if isinstance(p, dict):
            t = p.get("type")
            if isinstance(t, str):
                return t
        return None

    def as_session_meta(self) -> SessionMeta | None:
        """The typed `SessionMeta`, for a readable `session_meta` item; else None."""
        if self.type != "session_meta":
            return None
        try:
            return SessionMeta.from_payload(self.payload)
        except Exception:
            return None

    def to_json(self) -> dict[str, Any]:
        """`{"type", "payload", ...extra}` as plain JSON values."""
        out: dict[str, Any] = {"type": self.type}
        if self.payload is not msgspec.UNSET:
            out["payload"] = self.payload
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, value: Any) -> RolloutItem:
        """Inverse of :meth:`to_json`; also accepts a whole line (the envelope keys are dropped)."""
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise MalformedLine("a rollout item is a JSON object with a string `type`")
        extra = {k: v for k, v in value.items() if k not in _ENVELOPE_KEYS}
        return cls(value["type"], value.get("payload", msgspec.UNSET), extra)

    def encode(self) -> bytes:
        return _encoder.encode(self.to_json())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RolloutItem):
            return NotImplemented
        return (
            self.type == other.type and self.payload == other.payload and self.extra == other.extra
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        tag = self.payload_type
        return f"RolloutItem({self.type}{'/' + tag if tag else ''})"


class RolloutLine:
    """A JSONL line: an item with its write `timestamp`, an optional dense `ordinal`,
    and the bytes it was read from (None once built or changed in memory)."""

    __slots__ = ("item", "ordinal", "raw", "timestamp")

    def __init__(
        self,
        timestamp: str,
        item: RolloutItem,
        ordinal: int | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.timestamp = timestamp
        self.item = item
        self.ordinal = ordinal
        self.raw = raw

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"timestamp": self.timestamp}
        if self.ordinal is not None:
            out["ordinal"] = self.ordinal
        out.update(self.item.to_json())
        return out

    def __repr__(self) -> str:
        return f"RolloutLine({self.timestamp}, {self.item!r}, ordinal={self.ordinal})"


#: The longest line any reader decodes (64 MiB, the largest item `LocalThreadStore`
#: writes by default); longer ones are skipped as malformed, so memory stays bounded.
MAX_LINE_BYTES = 64 * 1024 * 1024

#: The deepest nesting of arrays and objects an item may have. Codex reads lines with
#: serde_json, which refuses JSON nested 128 deep, so deeper items could be written but
#: never read back by Codex (and deep enough ones exhaust Python's recursion).
MAX_NESTING = 100


def nesting_exceeds(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether `value` nests lists and dicts more than `limit` deep (no recursion).

    It walks level by level, keeping only containers: every appended line goes through
    it, so it is kept to one pass over the containers and a type test per child."""
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        below: list[Any] = []
        for current in level:
            if isinstance(current, dict):
                children: Iterable[Any] = current.values()
            elif isinstance(current, (list, tuple)):
                children = current
            else:
                continue
            if depth > limit:
                return True
            below += [child for child in children if isinstance(child, _CONTAINERS)]
        level = below
    return False


_CONTAINERS = (dict, list, tuple)


def decode_line(raw: bytes | str) -> RolloutLine:
    """Decode one JSONL line (without or with its trailing newline).

    Raises:
        MalformedLine: not JSON, not an object, or no string `timestamp`/`type`.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    return decode_body(data.rstrip(b"\r\n"))


def decode_body(body: bytes) -> RolloutLine:
    """`decode_line` of a line without its line ending: the hot path of reading a
    rollout, so it builds each line's objects once and nothing more."""
    if len(body) > MAX_LINE_BYTES:
        # Decoding would take many times its size in memory: such a line is skipped.
        raise MalformedLine(f"a line of {len(body)} bytes is over the {MAX_LINE_BYTES} read")
    try:
        value = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedLine(f"not a JSON line: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedLine("a rollout line is a JSON object")
    timestamp = value.get("timestamp")
    if not isinstance(timestamp, str):
        raise MalformedLine("a rollout line needs a string `timestamp`")
    kind = value.get("type")
    if not isinstance(kind, str):
        raise MalformedLine("a rollout item is a JSON object with a string `type`")
    ordinal = value.get("ordinal")
    if ordinal is not None and (not isinstance(ordinal, int) or isinstance(ordinal, bool)):
        raise MalformedLine("a rollout line's `ordinal` must be an integer")
    envelope = 2 + ("payload" in value) + ("ordinal" in value)
    extra = (
        {k: v for k, v in value.items() if k not in _ENVELOPE_KEYS}
        if len(value) > envelope
        else None
    )
    item = RolloutItem(kind, value.get("payload", msgspec.UNSET), extra)
    return RolloutLine(timestamp, item, ordinal, body)


def encode_line(line: RolloutLine) -> bytes:
    """The line's JSON, without a trailing newline: the original bytes if it was read."""
    if line.raw is not None:
        return line.raw
    return _encoder.encode(line.to_json())


def first_session_meta(items: Iterable[RolloutItem]) -> SessionMeta | None:
    """The canonical identity of a history: its *first* readable `session_meta`."""
    for item in items:
        if item.type == "session_meta":
            meta = item.as_session_meta()
            if meta is not None:
                return meta
    return None


def history_mode_of(items: Iterable[RolloutItem], default: str = "legacy") -> str:
    """The history mode recorded by the first `session_meta` (forks append copies after it)."""
    meta = first_session_meta(items)
    return default if meta is None else meta.history_mode
