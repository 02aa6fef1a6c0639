"""`ThreadSource` (why a thread exists) and `SessionSource` (which surface made it).

`ThreadSource` is an open scalar string: four core values plus any app-owned
feature label, stored and emitted exactly as given.

`SessionSource` has two wire forms. The *rollout* form is what rollout files and
Codex's SQLite `threads.source` column hold (`"cli"`, `"mcp"`,
`{"subagent": {...}}`); the *app-server* form is the v2 API's camelCase form
(`"appServer"`, `{"subAgent": {...}}`). An instance keeps the rollout value it
was read from, so values written by newer Codex versions survive a round trip.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ..errors import InvalidRequest

__all__ = [
    "MAX_FEATURE_LABEL_LENGTH",
    "SessionSource",
    "SourceKind",
    "ThreadSource",
]

MAX_FEATURE_LABEL_LENGTH: Final = 128


class ThreadSource(str):
    """An open scalar label: `user`, `subagent`, `memory_consolidation`, `guardian_review`,
    or any app-owned feature label such as `automation`.

    It is a `str`, so it compares, hashes and serializes as the bare label.
    Reading never fails; only :meth:`validate_new` checks a label.
    """

    __slots__ = ()

    USER: ThreadSource
    SUBAGENT: ThreadSource
    MEMORY_CONSOLIDATION: ThreadSource
    GUARDIAN_REVIEW: ThreadSource
    CORE_VALUES: frozenset[str] = frozenset(
        {"user", "subagent", "memory_consolidation", "guardian_review"}
    )

    @property
    def is_core(self) -> bool:
        """True for the four values Codex itself defines."""
        return str(self) in ThreadSource.CORE_VALUES

    @property
    def is_feature(self) -> bool:
        """True for an app-owned feature label (any non-core string)."""
        return not self.is_core

    @property
    def label(self) -> str:
        """The plain label, as analytics and the wire carry it."""
        return str(self)

    @classmethod
    def validate_new(cls, value: object) -> ThreadSource:
        """Check a label given when *creating* a thread and return it.

        Core values always pass. A feature label must be a non-empty string with
        no surrounding whitespace and at most 128 characters.

        Raises:
            InvalidRequest: the label breaks one of those rules.
        """
        if not isinstance(value, str):
            raise InvalidRequest(f"thread_source must be a string, got {type(value).__name__}")
        if value in cls.CORE_VALUES:
            return cls(value)
        if not value:
            raise InvalidRequest("thread_source must not be empty; omit it or pass a label")
        if value != value.strip():
            raise InvalidRequest(
                f"thread_source {value!r} has surrounding whitespace; pass {value.strip()!r}"
            )
        if len(value) > MAX_FEATURE_LABEL_LENGTH:
            raise InvalidRequest(
                f"thread_source is {len(value)} characters long; "
                f"feature labels are at most {MAX_FEATURE_LABEL_LENGTH}"
            )
        return cls(value)


ThreadSource.USER = ThreadSource("user")
ThreadSource.SUBAGENT = ThreadSource("subagent")
ThreadSource.MEMORY_CONSOLIDATION = ThreadSource("memory_consolidation")
ThreadSource.GUARDIAN_REVIEW = ThreadSource("guardian_review")


class SourceKind:
    """The app-server `ThreadSourceKind` names, used to filter lists by kind."""

    CLI: Final = "cli"
    VSCODE: Final = "vscode"
    EXEC: Final = "exec"
    APP_SERVER: Final = "appServer"
    SUB_AGENT: Final = "subAgent"
    SUB_AGENT_REVIEW: Final = "subAgentReview"
    SUB_AGENT_COMPACT: Final = "subAgentCompact"
    SUB_AGENT_THREAD_SPAWN: Final = "subAgentThreadSpawn"
    SUB_AGENT_OTHER: Final = "subAgentOther"
    UNKNOWN: Final = "unknown"
    ALL: Final = frozenset(
        {
            "cli",
            "vscode",
            "exec",
            "appServer",
            "subAgent",
            "subAgentReview",
            "subAgentCompact",
            "subAgentThreadSpawn",
            "subAgentOther",
            "unknown",
        }
    )


_UNIT_ROLLOUT = ("cli", "vscode", "exec", "mcp", "unknown")
_UNIT_TO_APP = {"cli": "cli", "vscode": "vscode", "exec": "exec", "mcp": "appServer"}
_APP_TO_UNIT = {v: k for k, v in _UNIT_TO_APP.items()}
_SUBAGENT_UNITS = ("review", "compact", "memory_consolidation")


class SessionSource:
    """The runtime surface that created a thread, in Codex's rollout form.

    Build one with the class methods (`SessionSource.cli()`,
    `SessionSource.thread_spawn(parent, depth=1)`, ...) or parse one with
    :meth:`from_rollout` / :meth:`from_app_server`. Instances are immutable
    and compare by value.
    """

    __slots__ = ("_key", "_value")

    def __init__(self, value: str | dict[str, Any]) -> None:
        # The rollout JSON value, kept as read so unknown shapes survive re-encoding.
        self._value: str | dict[str, Any] = value
        self._key = msgspec.json.encode(value, order="sorted")

    # -- constructors -------------------------------------------------------------
    @classmethod
    def cli(cls) -> SessionSource:
        return cls("cli")

    @classmethod
    def vscode(cls) -> SessionSource:
        return cls("vscode")

    @classmethod
    def exec(cls) -> SessionSource:
        return cls("exec")

    @classmethod
    def mcp(cls) -> SessionSource:
        """Threads made through the app-server (`appServer` in the v2 API)."""
        return cls("mcp")

    @classmethod
    def unknown(cls) -> SessionSource:
        return cls("unknown")

    @classmethod
    def custom(cls, name: str) -> SessionSource:
        return cls({"custom": name})

    @classmethod
    def internal(cls, kind: str) -> SessionSource:
        return cls({"internal": kind})

    @classmethod
    def subagent(cls, kind: str) -> SessionSource:
        """A `review`, `compact` or `memory_consolidation` subagent."""
        return cls({"subagent": kind})

    @classmethod
    def subagent_other(cls, label: str) -> SessionSource:
        return cls({"subagent": {"other": label}})

    @classmethod
    def thread_spawn(
        cls,
        parent_thread_id: str,
        *,
        depth: int = 1,
        agent_path: str | None = None,
        agent_nickname: str | None = None,
        agent_role: str | None = None,
    ) -> SessionSource:
        """A subagent spawned by `parent_thread_id`."""
        return cls(
            {
                "subagent": {
                    "thread_spawn": {
                        "parent_thread_id": parent_thread_id,
                        "depth": depth,
                        "agent_path": agent_path,
                        "agent_nickname": agent_nickname,
                        "agent_role": agent_role,
                    }
                }
            }
        )

    # -- wire forms ---------------------------------------------------------------
    @classmethod
    def from_rollout(cls, value: Any) -> SessionSource:
        """Parse the rollout/SQLite form; a missing source reads as `vscode` (Codex's default).

        Any string is accepted: an unrecognised unit string behaves as `unknown`
        but is written back unchanged.
        """
        if value is None:
            return cls("vscode")
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, dict) and len(value) == 1:
            return cls(value)
        raise InvalidRequest(f"session source {value!r} is neither a string nor a one-key object")

    def to_rollout(self) -> str | dict[str, Any]:
        """The rollout-file JSON value."""
        return self._value

    @classmethod
    def from_db_text(cls, text: str) -> SessionSource:
        """Parse Codex's SQLite `threads.source` text (bare string or JSON text)."""
        if text.startswith("{"):
            return cls.from_rollout(msgspec.json.decode(text))
        return cls(text)

    def to_db_text(self) -> str:
        """Codex's SQLite `threads.source` text: the bare string, or compact JSON."""
        if isinstance(self._value, str):
            return self._value
        return msgspec.json.encode(self._value).decode()

    @classmethod
    def from_app_server(cls, value: Any) -> SessionSource:
        """Parse the v2 API form (`appServer`, `{"subAgent": ...}`, `{"custom": ...}`)."""
        if isinstance(value, str):
            if value in _APP_TO_UNIT:
                return cls(_APP_TO_UNIT[value])
            return cls("unknown")
        if isinstance(value, dict) and len(value) == 1:
            ((key, inner),) = value.items()
            if key == "subAgent":
                return cls({"subagent": inner})
            if key == "custom":
                return cls({"custom": inner})
        raise InvalidRequest(f"{value!r} is not an app-server SessionSource")

    def to_app_server(self) -> str | dict[str, Any]:
        """The v2 API form. Internal threads show as `unknown`, as Codex hides them."""
        v = self._value
        if isinstance(v, str):
            return _UNIT_TO_APP.get(v, "unknown")
        ((key, inner),) = v.items()
        if key == "subagent":
            return {"subAgent": inner}
        if key == "custom":
            return {"custom": inner}
        return "unknown"

    # -- classification -----------------------------------------------------------
    @property
    def kind(self) -> str:
        """The app-server `ThreadSourceKind` of this source (see :class:`SourceKind`)."""
        v = self._value
        if isinstance(v, str):
            return _UNIT_TO_APP.get(v, SourceKind.UNKNOWN)
        ((key, inner),) = v.items()
        if key != "subagent":
            return SourceKind.UNKNOWN
        if inner == "review":
            return SourceKind.SUB_AGENT_REVIEW
        if inner == "compact":
            return SourceKind.SUB_AGENT_COMPACT
        if isinstance(inner, dict) and "thread_spawn" in inner:
            return SourceKind.SUB_AGENT_THREAD_SPAWN
        return SourceKind.SUB_AGENT_OTHER

    def matches_kind(self, kind: str) -> bool:
        """True when this source falls under `kind`; `subAgent` matches every subagent."""
        mine = self.kind
        if kind == SourceKind.SUB_AGENT:
            return mine.startswith("subAgent")
        return mine == kind

    @property
    def is_subagent(self) -> bool:
        return isinstance(self._value, dict) and "subagent" in self._value

    @property
    def is_internal(self) -> bool:
        return isinstance(self._value, dict) and "internal" in self._value

    @property
    def subagent_kind(self) -> str | None:
        """The subagent kind: `review`, `compact`, `thread_spawn`, ..., or None."""
        if not self.is_subagent:
            return None
        assert isinstance(self._value, dict)
        inner = self._value["subagent"]
        if isinstance(inner, str):
            return inner
        if isinstance(inner, dict):
            if "thread_spawn" in inner:
                return "thread_spawn"
            if "other" in inner:
                return str(inner["other"])
        return None

    def _spawn(self) -> dict[str, Any] | None:
        v = self._value
        if isinstance(v, dict):
            inner = v.get("subagent")
            if isinstance(inner, dict):
                spawn = inner.get("thread_spawn")
                if isinstance(spawn, dict):
                    return spawn
        return None

    @property
    def parent_thread_id(self) -> str | None:
        spawn = self._spawn()
        return None if spawn is None else spawn.get("parent_thread_id")

    @property
    def agent_nickname(self) -> str | None:
        spawn = self._spawn()
        return None if spawn is None else spawn.get("agent_nickname")

    @property
    def agent_role(self) -> str | None:
        spawn = self._spawn()
        if spawn is None:
            return None
        # Codex accepts `agent_type` as an alias of `agent_role`.
        return spawn.get("agent_role", spawn.get("agent_type"))

    @property
    def agent_path(self) -> str | None:
        spawn = self._spawn()
        return None if spawn is None else spawn.get("agent_path")

    def __str__(self) -> str:
        """Codex's display string (`cli`, `subagent_review`, `subagent_thread_spawn_<id>_d1`)."""
        v = self._value
        if isinstance(v, str):
            return v if v in _UNIT_ROLLOUT else "unknown"
        ((key, inner),) = v.items()
        if key == "custom":
            return str(inner)
        if key == "internal":
            return f"internal_{inner}"
        if key == "subagent":
            spawn = self._spawn()
            if spawn is not None:
                return (
                    f"subagent_thread_spawn_{spawn.get('parent_thread_id')}_d{spawn.get('depth')}"
                )
            if isinstance(inner, dict) and "other" in inner:
                return str(inner["other"])
            return f"subagent_{inner}"
        return "unknown"

    def __repr__(self) -> str:
        return f"SessionSource({self._value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SessionSource) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)
