"""Turn counts for the `list` table (not part of `StoredThread`, so not in `--json`).

A local home counts from the rollout files, decoding only the lines that open or close
turns; other stores page `list_turns` without loading items.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from ..protocol.items import TurnItemsView
from ..store import ThreadStore
from ..types import ListTurnsParams, StoredThread

__all__ = ["turn_counts"]


async def turn_counts(store: ThreadStore, threads: Sequence[StoredThread]) -> dict[str, int | None]:
    """thread id -> its number of turns (None when the store cannot say)."""
    from ..local import LocalThreadStore

    if isinstance(store, LocalThreadStore):
        from ..local.turn_count import count_turns

        home = store.home

        def count_all() -> dict[str, int | None]:
            return {
                t.thread_id: count_turns(home, Path(t.rollout_path), t.history_mode)
                if t.rollout_path
                else None
                for t in threads
            }

        return await asyncio.to_thread(count_all)
    return {t.thread_id: await _count_by_api(store, t) for t in threads}


async def _count_by_api(store: ThreadStore, thread: StoredThread) -> int | None:
    from ..errors import ThreadStoreError

    count = 0
    cursor: str | None = None
    try:
        while True:
            page = await store.list_turns(
                ListTurnsParams(
                    thread_id=thread.thread_id,
                    include_archived=True,
                    cursor=cursor,
                    page_size=500,
                    items_view=TurnItemsView.NOT_LOADED,
                )
            )
            count += len(page.turns)
            cursor = page.next_cursor
            if cursor is None:
                return count
    except ThreadStoreError:
        return None
