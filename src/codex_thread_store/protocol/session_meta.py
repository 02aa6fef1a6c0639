"""`SessionMeta`: the first line of every rollout, and the thread's canonical identity.

Only the *first* `session_meta` of a history counts: forks copy their parent's
lines, including its `session_meta`, after their own.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from ..errors import InvalidRequest
from .sources import SessionSource, ThreadSource

__all__ = [
    "GitInfo",
    "HistoryMode",
    "MemoryMode",
    "MultiAgentVersion",
    "SessionMeta",
]

HistoryMode = Literal["legacy", "paginated"]
MemoryMode = Literal["enabled", "disabled"]
MultiAgentVersion = Literal["disabled", "v1", "v2"]


class GitInfo(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=False):
    """Git facts captured for a thread's cwd; every field optional."""

    commit_hash: str | None = None
    branch: str | None = None
    repository_url: str | None = None

    def is_empty(self) -> bool:
        return self.commit_hash is None and self.branch is None and self.repository_url is None


class SessionMeta(msgspec.Struct, frozen=True, kw_only=True):
    """The typed fields of a `session_meta` payload.

    Unknown keys are not kept here but by the `RolloutItem` the payload came from.
    """

    id: str
    timestamp: str
    session_id: str | None = None
    forked_from_id: str | None = None
    parent_thread_id: str | None = None
    cwd: str = ""
    originator: str = ""
    cli_version: str = ""
    source: SessionSource = msgspec.field(default_factory=SessionSource.vscode)
    thread_source: ThreadSource | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    agent_path: str | None = None
    model_provider: str | None = None
    base_instructions: Any = None
    dynamic_tools: list[Any] | None = None
    selected_capability_roots: list[Any] = msgspec.field(default_factory=list)
    memory_mode: str | None = None
    history_mode: HistoryMode = "legacy"
    multi_agent_version: str | None = None
    context_window: dict[str, Any] | None = None
    history_base: Any = None
    forked_from_ordinal_exclusive: int | None = None

    @property
    def effective_session_id(self) -> str:
        """`session_id`, or `id` for files written before session ids existed."""
        return self.session_id or self.id

    def to_payload(self, git: GitInfo | None = None) -> dict[str, Any]:
        """The `session_meta` payload in Codex's key order and omission rules."""
        out: dict[str, Any] = {"session_id": self.effective_session_id, "id": self.id}
        if self.forked_from_id is not None:
            out["forked_from_id"] = self.forked_from_id
        if self.forked_from_ordinal_exclusive is not None:
            out["forked_from_ordinal_exclusive"] = self.forked_from_ordinal_exclusive
        if self.parent_thread_id is not None:
            out["parent_thread_id"] = self.parent_thread_id
        out["timestamp"] = self.timestamp
        out["cwd"] = self.cwd
        out["originator"] = self.originator
        out["cli_version"] = self.cli_version
        out["source"] = self.source.to_rollout()
        for key in ("thread_source", "agent_nickname", "agent_role", "agent_path"):
            value = getattr(self, key)
            if value is not None:
                out[key] = str(value)
        # Always written, possibly null (Codex serializes these without skip rules).
        out["model_provider"] = self.model_provider
        out["base_instructions"] = self.base_instructions
        if self.dynamic_tools:
            out["dynamic_tools"] = self.dynamic_tools
        if self.selected_capability_roots:
            out["selected_capability_roots"] = self.selected_capability_roots
        if self.memory_mode is not None:
            out["memory_mode"] = self.memory_mode
        out["history_mode"] = self.history_mode
        if self.history_base is not None:
            out["history_base"] = self.history_base
        if self.multi_agent_version is not None:
            out["multi_agent_version"] = self.multi_agent_version
        if self.context_window is not None:
            out["context_window"] = self.context_window
        if git is not None:
            out["git"] = msgspec.to_builtins(git)
        return out

    @classmethod
    def from_payload(cls, payload: Any) -> SessionMeta:
        """Read a `session_meta` payload written by any Codex version.

        Raises:
            InvalidRequest: the payload lacks an `id`/`timestamp` or has a bad field type.
        """
        if not isinstance(payload, dict):
            raise InvalidRequest("session_meta payload is not a JSON object")
        fields = {k: v for k, v in payload.items() if k in _FIELD_NAMES and v is not None}
        if "agent_role" not in fields and payload.get("agent_type") is not None:
            fields["agent_role"] = payload["agent_type"]
        source = SessionSource.from_rollout(fields.pop("source", None))
        thread_source = fields.pop("thread_source", None)
        try:
            meta = msgspec.convert(fields, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise InvalidRequest(f"malformed session_meta: {exc}") from None
        return msgspec.structs.replace(
            meta,
            source=source,
            thread_source=None if thread_source is None else ThreadSource(thread_source),
        )

    @staticmethod
    def git_from_payload(payload: Any) -> GitInfo | None:
        """The sibling `git` object of a `session_meta` payload, if any."""
        if not isinstance(payload, dict) or not isinstance(payload.get("git"), dict):
            return None
        git = payload["git"]
        return GitInfo(
            commit_hash=_opt_str(git.get("commit_hash")),
            branch=_opt_str(git.get("branch")),
            repository_url=_opt_str(git.get("repository_url")),
        )


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_FIELD_NAMES = frozenset(SessionMeta.__struct_fields__)
