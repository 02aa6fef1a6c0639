"""Derive a thread's `StoredThread` from its rollout lines (the JSONL is the truth).

The same derivation rules as `ThreadMetadataSync` apply, so a rebuilt index says
what live metadata sync said. Times come from the lines themselves: created at
the first `session_meta`'s timestamp, updated at the last line, recency at the
last turn start (for a revert rollout, the last one of the part it keeps).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import msgspec

from ..errors import InvalidRequest
from ..ids import parse_thread_id
from ..metadata_sync import ThreadMetadataSync
from ..projection import apply_patch
from ..protocol.rollout import RolloutLine
from ..protocol.session_meta import SessionMeta
from ..timeutil import parse_timestamp
from ..types import StoredThread
from .layout import parse_rollout_name

__all__ = ["summarize_rollout"]

_TURN_STARTS = frozenset({"task_started", "turn_started"})


def summarize_rollout(
    lines: list[RolloutLine],
    path: Path,
    *,
    mtime: datetime,
    archived_at: datetime | None,
    default_model_provider: str,
    inherited: list[RolloutLine] | None = None,
) -> StoredThread | None:
    """The summary of a rollout, or None when it has no readable first `session_meta`.

    `inherited` is the parent history a referencing fork builds on (see `lineage.py`):
    metadata is derived over it too (a fork's preview is its parent's first message),
    while identity and times come from the rollout's own lines.
    """
    meta: SessionMeta | None = None
    for line in lines:
        if line.item.type == "session_meta":
            meta = line.item.as_session_meta()
            break
    if meta is None:
        return None
    try:
        if parse_thread_id(meta.id) != meta.id:
            return None
    except InvalidRequest:
        return None  # an id no operation could address: not a thread of this home
    name_info = parse_rollout_name(path.name)
    created = parse_timestamp(meta.timestamp) or (name_info.timestamp if name_info else mtime)
    updated = created
    recency = None
    for line in lines:
        stamp = parse_timestamp(line.timestamp)
        if stamp is None:
            continue
        updated = max(updated, stamp)
        if line.item.type == "event_msg" and line.item.payload_type in _TURN_STARTS:
            recency = stamp if recency is None else max(recency, stamp)
    if recency is None and name_info is not None and name_info.is_revert:
        # A revert continues the same thread: its last turn start is in the kept part.
        recency = _last_turn_start(inherited or [])
    base = StoredThread(
        thread_id=meta.id,
        session_id=meta.id,
        root_session_id=meta.effective_session_id,
        rollout_path=str(path),
        forked_from_id=meta.forked_from_id or _kept_fork_source(meta.id, inherited or []),
        parent_thread_id=meta.parent_thread_id or meta.source.parent_thread_id,
        model_provider=meta.model_provider or default_model_provider,
        created_at=created,
        updated_at=updated,
        recency_at=recency or updated,
        archived_at=archived_at,
        cwd=meta.cwd,
        cli_version=meta.cli_version,
        source=meta.source,
        history_mode=meta.history_mode,
        thread_source=None if meta.thread_source is None else str(meta.thread_source),
        originator=meta.originator or None,
        agent_nickname=meta.agent_nickname,
        agent_role=meta.agent_role,
        agent_path=meta.agent_path,
        git_info=SessionMeta.git_from_payload(lines[0].item.payload) if lines else None,
        memory_mode="enabled",
    )
    logical = [line.item for line in (inherited or [])] + [line.item for line in lines]
    sync = ThreadMetadataSync.for_resume(meta.id, logical)
    pending = sync.take_pending_update()
    # Names come only from `session_index.jsonl`, as Codex reads them; the derived title
    # is kept apart (the CLI answers `name: null` for unnamed threads).
    thread = base if pending is None else apply_patch(base, pending.patch)
    # Codex records a memory-mode change by appending a copy of the session_meta: last wins.
    memory_mode = "enabled"
    for line in lines:
        if line.item.type == "session_meta":
            other = line.item.as_session_meta()
            if other is not None and other.id == meta.id and other.memory_mode:
                memory_mode = other.memory_mode
    return msgspec.structs.replace(thread, memory_mode=memory_mode)


def _last_turn_start(lines: list[RolloutLine]) -> datetime | None:
    starts = [
        parse_timestamp(line.timestamp)
        for line in lines
        if line.item.type == "event_msg" and line.item.payload_type in _TURN_STARTS
    ]
    return max((s for s in starts if s is not None), default=None)


def _kept_fork_source(thread_id: str, inherited: list[RolloutLine]) -> str | None:
    """A revert's rollout does not repeat `forked_from_id`: a reverted fork is still the
    fork its first rollout says it is."""
    for line in inherited:
        if line.item.type == "session_meta":
            meta = line.item.as_session_meta()
            if meta is not None and meta.id == thread_id and meta.forked_from_id:
                return meta.forked_from_id
    return None
