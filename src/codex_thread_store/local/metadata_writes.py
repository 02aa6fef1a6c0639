"""Saving a metadata patch in a Codex home: the name in Codex's `session_index.jsonl`,
the patch in our journal, the row in our index, all three or none."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from ..patch import ThreadMetadataPatch
from ..types import StoredThread
from . import index, journal, names
from .db import IndexDb
from .os_errors import typed_os_error

if TYPE_CHECKING:
    from .store import LocalThreadStore

__all__ = ["save_patch"]

log = logging.getLogger(__name__)


async def save_patch(
    store: LocalThreadStore,
    db: IndexDb,
    thread_id: str,
    patch: ThreadMetadataPatch,
    updated: StoredThread,
    *,
    live_only: bool,
) -> None:
    """Each written part is taken back if a later one fails, so a failure changes
    nothing. Codex's own row follows afterwards and is best effort, as always."""
    undo: list[Callable[[], bool]] = []
    try:
        if patch.name is not msgspec.UNSET:
            undo.append(
                await asyncio.to_thread(
                    names.append_name, store.home.session_index, thread_id, patch.name
                )
            )
        undo.append(
            await asyncio.to_thread(
                journal.append_patch, store.config.journal_path, thread_id, patch
            )
        )
        await db.run(index.upsert_thread, updated, live_only=live_only)
    except BaseException as exc:
        for take_back in reversed(undo):
            if not await asyncio.to_thread(take_back):
                log.warning("could not take back part of thread %s's patch", thread_id)
        if isinstance(exc, OSError):
            raise typed_os_error(
                exc, "saving the metadata of thread", thread_id, "nothing was changed"
            ) from exc
        raise
