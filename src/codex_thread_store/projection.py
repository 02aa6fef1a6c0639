"""How a store turns create params and literal patches into a `StoredThread`.

Shared by every store so that a patch means the same thing everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET

from ._version import __version__
from .patch import GitInfoPatch, ThreadMetadataPatch
from .protocol.rollout import RolloutItem
from .protocol.session_meta import GitInfo, SessionMeta
from .timeutil import format_rfc3339_ms, truncate_ms
from .types import CreateThreadParams, StoredThread

__all__ = ["apply_patch", "initial_session_meta", "thread_from_create"]

_PLAIN_FIELDS = (
    "rollout_path",
    "preview",
    "model_provider",
    "model",
    "reasoning_effort",
    "source",
    "thread_source",
    "agent_nickname",
    "agent_role",
    "agent_path",
    "cwd",
    "cli_version",
    "approval_mode",
    "permission_profile",
    "token_usage",
    "first_user_message",
    "memory_mode",
    "history_mode",
    "originator",
)


def default_cli_version() -> str:
    return __version__


def initial_session_meta(params: CreateThreadParams, now: datetime) -> RolloutItem:
    """The `session_meta` item a store writes first for a new thread."""
    source = params.source
    meta = SessionMeta(
        id=params.thread_id,
        session_id=params.effective_session_id,
        forked_from_id=params.forked_from_id,
        forked_from_ordinal_exclusive=(
            None if params.history_base is None else params.history_base.end_ordinal_exclusive
        ),
        parent_thread_id=params.parent_thread_id or source.parent_thread_id,
        timestamp=format_rfc3339_ms(now),
        cwd=params.metadata.cwd or "",
        originator=params.originator,
        cli_version=params.cli_version or default_cli_version(),
        source=source,
        thread_source=None if params.thread_source is None else params.thread_source,  # type: ignore[arg-type]
        agent_nickname=source.agent_nickname,
        agent_role=source.agent_role,
        agent_path=source.agent_path,
        model_provider=params.metadata.model_provider,
        base_instructions=params.base_instructions,
        dynamic_tools=params.dynamic_tools or None,
        selected_capability_roots=params.selected_capability_roots,
        # Codex writes memory_mode at creation only when memories are off.
        memory_mode="disabled" if params.metadata.memory_mode == "disabled" else None,
        history_mode=params.history_mode or "legacy",  # type: ignore[arg-type]
        history_base=(
            None if params.history_base is None else msgspec.to_builtins(params.history_base)
        ),
        multi_agent_version=params.multi_agent_version,
        context_window=(
            {"window_id": params.initial_window_id} if params.initial_window_id else None
        ),
    )
    return RolloutItem.session_meta(meta, _git_or_none(params))


def thread_from_create(
    params: CreateThreadParams, now: datetime, rollout_path: str | None = None
) -> StoredThread:
    """The summary of a just-created thread (no preview yet; times all `now`)."""
    now = truncate_ms(now)
    source = params.source
    return StoredThread(
        thread_id=params.thread_id,
        session_id=params.thread_id,
        root_session_id=params.effective_session_id,
        rollout_path=rollout_path,
        forked_from_id=params.forked_from_id,
        parent_thread_id=params.parent_thread_id or source.parent_thread_id,
        model_provider=params.metadata.model_provider,
        created_at=now,
        updated_at=now,
        recency_at=now,
        cwd=params.metadata.cwd or "",
        cli_version=params.cli_version or default_cli_version(),
        source=source,
        history_mode=params.history_mode or "legacy",
        thread_source=None if params.thread_source is None else str(params.thread_source),
        originator=params.originator or None,
        agent_nickname=source.agent_nickname,
        agent_role=source.agent_role,
        agent_path=source.agent_path,
        git_info=_git_or_none(params),
        memory_mode=params.metadata.memory_mode,
    )


def _git_or_none(params: CreateThreadParams) -> GitInfo | None:
    git = params.git_info
    return None if git is None or git.is_empty() else git


def apply_patch(thread: StoredThread, patch: ThreadMetadataPatch) -> StoredThread:
    """Apply `patch` literally: absent fields untouched, clears clear, `advance_recency_at`
    only moves forward, `git_info` merges per subfield. `title` sets the derived title, never
    the name (only `name` names a thread)."""
    changes: dict[str, Any] = {}
    for name in _PLAIN_FIELDS:
        value = getattr(patch, name)
        if value is not UNSET:
            changes[name] = str(value) if name == "thread_source" and value is not None else value
    if patch.title is not UNSET:
        changes["title"] = patch.title
    if patch.name is not UNSET:
        changes["name"] = patch.name
    for name in ("created_at", "updated_at"):
        value = getattr(patch, name)
        if value is not UNSET:
            changes[name] = truncate_ms(value)
    if patch.advance_recency_at is not UNSET and patch.advance_recency_at is not None:
        changes["recency_at"] = max(thread.recency_at, truncate_ms(patch.advance_recency_at))
    if isinstance(patch.git_info, GitInfoPatch):
        changes["git_info"] = patch.git_info.apply(thread.git_info)
    return msgspec.structs.replace(thread, **changes) if changes else thread
