"""A damaged index heals itself: the operation that meets the damage moves the index
aside (never deleting it), and runs once more against a rebuild from the rollouts."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from . import index, index_file
from .db import IndexDamaged, IndexDb

if TYPE_CHECKING:
    from .store import LocalThreadStore

__all__ = ["heals_index", "restore_unwritten"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


def heals_index(
    method: Callable[Concatenate[LocalThreadStore, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[LocalThreadStore, P], Coroutine[Any, Any, T]]:
    """Run the operation; if the index turns out damaged, move it aside, rebuild it from
    the rollouts and run the operation once more. Every wrapped operation is safe to
    repeat after such a failure: none acknowledges a write the index alone holds."""

    @functools.wraps(method)
    async def healing(self: LocalThreadStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        generation = self._index_generation
        try:
            return await method(self, *args, **kwargs)
        except IndexDamaged as exc:
            await _set_index_aside(self, exc, generation)
        return await method(self, *args, **kwargs)

    return healing


async def _set_index_aside(store: LocalThreadStore, damage: IndexDamaged, generation: int) -> None:
    """Move a damaged index aside (unless another operation already replaced it since
    `generation`); the next `_index()` rebuilds it from the rollouts."""
    async with store._open_lock:
        if generation != store._index_generation:
            return
        store._index_generation += 1
        db, store._db = store._db, None
        if db is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(db.close)
        aside = await asyncio.to_thread(index_file.move_aside, store.config.index_path, "corrupt")
        log.warning("%s; moved to %s, rebuilding", damage.message, aside.name)


async def restore_unwritten(store: LocalThreadStore, db: IndexDb) -> None:
    """A rebuilt index knows only what is on disk: give back the rows of live threads
    that are not written yet."""
    for live in store._live.values():
        if live.unwritten is not None and not live.recorder.materialized:
            await db.run(index.upsert_thread, live.unwritten, body="", live_only=True)
