"""Forks by reference: a paginated fork whose history starts with its source's rollout up to
a byte offset (`session_meta.history_base`), as Codex 0.169+ forks instead of copying.

`fork_point` says where such a fork of a thread would start now; `check_history_base`
refuses a base that is not a line boundary of a paginated rollout of this home.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidRequest, Unsupported
from ..types import CreateThreadParams, ForkPointParams, HistoryBase, StoredThread
from . import index
from .db import IndexDb
from .layout import rollout_id_of
from .lineage import find_rollout, history_base_of
from .rollout_files import read_lines_if_exists, read_rollout, read_rollout_bytes

if TYPE_CHECKING:
    from .store import LocalThreadStore

__all__ = ["check_history_base", "fork_point", "initial_ordinal"]


async def fork_point(store: LocalThreadStore, params: ForkPointParams) -> HistoryBase:
    """The end of the thread's durable rollout (flushed first when this store writes it)."""
    thread = await store._get(params.thread_id, include_archived=params.include_archived)
    if thread.history_mode != "paginated":
        raise Unsupported("fork_point", "only paginated threads are forked by reference")
    if params.thread_id in store._live:
        await store.flush_thread(params.thread_id)
    if not thread.rollout_path:
        raise InvalidRequest(f"thread {params.thread_id} has no rollout yet; persist it first")
    path = Path(thread.rollout_path)
    end = await asyncio.to_thread(durable_end, path)
    if end is None:
        raise InvalidRequest(f"thread {params.thread_id} has no ordered lines to fork from")
    offset, ordinal = end
    return HistoryBase(
        thread_id=rollout_id_of(path), end_ordinal_exclusive=ordinal, end_byte_offset=offset
    )


async def check_history_base(
    store: LocalThreadStore, db: IndexDb, params: CreateThreadParams
) -> StoredThread:
    """The source of a fork by reference, once its base is found to be a line boundary of a
    paginated rollout (the ordinal before it `end - 1`)."""
    base = params.history_base
    assert base is not None
    path = await asyncio.to_thread(find_rollout, store.home, base.thread_id)
    if path is None:
        raise InvalidRequest(f"history_base names rollout {base.thread_id}, which is not here")
    problem = await asyncio.to_thread(base_problem, path, base)
    if problem is not None:
        raise InvalidRequest(f"history_base does not fit rollout {base.thread_id}: {problem}")
    source = await db.run(index.thread_by_path, str(path))
    if source is None or source.history_mode != "paginated":
        raise InvalidRequest(f"history_base names {base.thread_id}, not a paginated thread")
    return source


def durable_end(path: Path) -> tuple[int, int] | None:
    """(bytes up to the end of the last complete line, last ordinal + 1) of a paginated
    rollout, or None when no line has an ordinal."""
    result = read_rollout(path)
    ordinals = [line.ordinal for line in result.lines if line.ordinal is not None]
    if not ordinals:
        return None
    end = result.size
    if result.torn_tail:  # the fragment after the last newline is not history
        end = read_rollout_bytes(path).rfind(b"\n") + 1
    return end, max(ordinals) + 1


def base_problem(path: Path, base: HistoryBase) -> str | None:
    """Why `base` is not a line boundary of the paginated rollout at `path` (None when it
    is one)."""
    result = read_rollout(path)
    cut = base.end_byte_offset
    if cut > result.size:
        return f"byte offset {cut} is past its end ({result.size} bytes)"
    if cut < result.size and cut not in result.offsets:
        return f"byte offset {cut} is not the start of a line"
    pairs = zip(result.lines, result.offsets, strict=True)
    before = [line.ordinal for line, offset in pairs if offset < cut]
    wanted = base.end_ordinal_exclusive - 1
    if not before or before[-1] != wanted:
        last = before[-1] if before else None
        return f"the line before byte {cut} has ordinal {last}, not {wanted}"
    return None


def initial_ordinal(path: Path) -> int:
    """Where a rollout's ordinals start: after its parent's, for a fork by reference."""
    base = history_base_of(read_lines_if_exists(path)[:1])
    cut = base.get("end_ordinal_exclusive") if base is not None else None
    return cut if isinstance(cut, int) else 0
