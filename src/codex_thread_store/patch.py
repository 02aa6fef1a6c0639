"""`ThreadMetadataPatch`: the one literal metadata write.

Every field defaults to `UNSET` (absent: leave the stored value alone). For the
*clearable* fields, `None` means "clear"; for plain fields `None` is read as
absent, because Codex cannot clear them either. JSON keeps the two apart: an
absent field is omitted and a clear is written as `null`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from .protocol.session_meta import GitInfo
from .protocol.sources import SessionSource

__all__ = ["UNSET", "GitInfoPatch", "ThreadMetadataPatch", "TokenUsage", "UnsetType"]


class TokenUsage(msgspec.Struct, frozen=True, omit_defaults=True):
    """Token totals as Codex reports them in `token_count` events."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0
    cache_write_input_tokens: int | None = None

    @classmethod
    def from_json(cls, value: Any) -> TokenUsage | None:
        if not isinstance(value, dict):
            return None
        try:
            return msgspec.convert(
                {k: v for k, v in value.items() if k in cls.__struct_fields__}, cls
            )
        except msgspec.ValidationError:
            return None


class GitInfoPatch(msgspec.Struct, frozen=True, omit_defaults=True):
    """Per-subfield git patch: UNSET keeps, None clears, a string sets."""

    sha: str | UnsetType | None = UNSET
    branch: str | UnsetType | None = UNSET
    origin_url: str | UnsetType | None = UNSET

    def is_empty(self) -> bool:
        return self.sha is UNSET and self.branch is UNSET and self.origin_url is UNSET

    def merge(self, nxt: GitInfoPatch) -> GitInfoPatch:
        """Fields present in `nxt` (including clears) win; absent ones keep ours."""
        return GitInfoPatch(
            sha=self.sha if nxt.sha is UNSET else nxt.sha,
            branch=self.branch if nxt.branch is UNSET else nxt.branch,
            origin_url=self.origin_url if nxt.origin_url is UNSET else nxt.origin_url,
        )

    def apply(self, current: GitInfo | None) -> GitInfo | None:
        """Resolve against the stored git info; None when all three end up empty."""
        cur = current or GitInfo()
        resolved = GitInfo(
            commit_hash=cur.commit_hash if self.sha is UNSET else self.sha,
            branch=cur.branch if self.branch is UNSET else self.branch,
            repository_url=cur.repository_url if self.origin_url is UNSET else self.origin_url,
        )
        return None if resolved.is_empty() else resolved

    @classmethod
    def set_all(cls, git: GitInfo) -> GitInfoPatch:
        """A patch that sets every subfield `git` carries and leaves the rest alone."""
        return cls(
            sha=UNSET if git.commit_hash is None else git.commit_hash,
            branch=UNSET if git.branch is None else git.branch,
            origin_url=UNSET if git.repository_url is None else git.repository_url,
        )


class ThreadMetadataPatch(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """A literal patch of a thread's metadata; see the module docstring for the rules.

    `title` is the derived title (Codex's `threads.title`), kept apart from the user's
    `name`. `advance_recency_at` only ever moves `recency_at` forward.
    """

    CLEARABLE: ClassVar[frozenset[str]] = frozenset(
        {"name", "thread_source", "agent_nickname", "agent_role", "agent_path"}
    )

    name: str | UnsetType | None = UNSET
    rollout_path: str | UnsetType | None = UNSET
    preview: str | UnsetType | None = UNSET
    title: str | UnsetType | None = UNSET
    model_provider: str | UnsetType | None = UNSET
    model: str | UnsetType | None = UNSET
    reasoning_effort: str | UnsetType | None = UNSET
    created_at: datetime | UnsetType | None = UNSET
    updated_at: datetime | UnsetType | None = UNSET
    advance_recency_at: datetime | UnsetType | None = UNSET
    source: SessionSource | UnsetType | None = UNSET
    thread_source: str | UnsetType | None = UNSET
    agent_nickname: str | UnsetType | None = UNSET
    agent_role: str | UnsetType | None = UNSET
    agent_path: str | UnsetType | None = UNSET
    cwd: str | UnsetType | None = UNSET
    cli_version: str | UnsetType | None = UNSET
    approval_mode: Any = UNSET
    permission_profile: Any = UNSET
    token_usage: TokenUsage | UnsetType | None = UNSET
    first_user_message: str | UnsetType | None = UNSET
    git_info: GitInfoPatch | UnsetType | None = UNSET
    memory_mode: str | UnsetType | None = UNSET
    history_mode: str | UnsetType | None = UNSET
    originator: str | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        # A plain field cannot be cleared: `None` there means "absent", as in Codex,
        # where a missing key and `null` decode the same for non-clearable fields.
        for name in self.__struct_fields__:
            if name not in self.CLEARABLE and getattr(self, name) is None:
                msgspec.structs.force_setattr(self, name, UNSET)

    def is_empty(self) -> bool:
        """True when every field is absent."""
        return all(getattr(self, f) is UNSET for f in self.__struct_fields__)

    def present_fields(self) -> list[str]:
        return [f for f in self.__struct_fields__ if getattr(self, f) is not UNSET]

    def merge(self, nxt: ThreadMetadataPatch) -> ThreadMetadataPatch:
        """Coalesce: every field present in `nxt` (including clears) replaces ours.

        `git_info` merges per subfield.
        """
        changes: dict[str, Any] = {}
        for name in nxt.__struct_fields__:
            value = getattr(nxt, name)
            if value is UNSET:
                continue
            if name == "git_info" and isinstance(value, GitInfoPatch):
                mine = self.git_info
                base = mine if isinstance(mine, GitInfoPatch) else GitInfoPatch()
                value = base.merge(value)
            changes[name] = value
        return msgspec.structs.replace(self, **changes) if changes else self

    def without(self, *names: str) -> ThreadMetadataPatch:
        """A copy with the named fields made absent."""
        return msgspec.structs.replace(self, **{n: UNSET for n in names})

    def has_metadata_fact(self) -> bool:
        """Whether anything besides `updated_at` and `name` is present (debounce rule)."""
        return any(
            getattr(self, f) is not UNSET
            for f in self.__struct_fields__
            if f not in ("updated_at", "name")
        )
