"""`LocalThreadStore`: a Codex home as the store (rollout JSONL + our SQLite index).

The JSONL files are the source of truth and stay readable without SQLite. The
index (`codex-thread-store/codex-thread-store-index.sqlite`) is derived: it is
rebuilt from the rollouts when missing, old or corrupt, and refreshed
incrementally when other processes write rollouts. Explicit metadata patches
are also journaled so a rebuild keeps them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

import msgspec

from ..errors import Conflict, InvalidRequest, PermissionDenied, ThreadNotFound, ThreadStoreError
from ..policy import persisted_rollout_items
from ..projection import apply_patch, initial_session_meta, thread_from_create
from ..protocol.items import HistorySegment, ThreadHistoryView
from ..protocol.messages import message_texts
from ..protocol.rollout import RolloutLine, decode_line, history_mode_of
from ..search_text import make_snippet, search_words
from ..store import ThreadStore
from ..timeutil import utc_now
from ..turns import page_items, page_turns, stored_history, timed_lines
from ..types import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    DeleteThreadParams,
    ForkPointParams,
    HistoryBase,
    ItemPage,
    ListItemsParams,
    ListThreadsParams,
    ListTurnsParams,
    LoadThreadHistoryParams,
    ReadThreadByRolloutPathParams,
    ReadThreadParams,
    ResumeThreadParams,
    SearchThreadsParams,
    StoredThread,
    StoredThreadHistory,
    StoredThreadSearchResult,
    ThreadPage,
    ThreadSearchPage,
    TurnPage,
    UpdateThreadMetadataParams,
)
from . import (
    codex_mirror,
    forks,
    healing,
    index,
    index_file,
    index_queries,
    lifecycle,
    metadata_writes,
    moves,
    write_indexing,
)
from .codex_db import PATCH_COLUMNS, CodexStateDb
from .codex_history import CodexHistoryDb, detect_history_mode
from .config import LocalThreadStoreConfig
from .db import IndexDb
from .healing import heals_index
from .layout import CodexHome
from .lineage import (
    history_segments,
    inherited_prefix,
)
from .maintenance import IndexMaintenance
from .recorder import RolloutRecorder
from .rollout_files import last_ordinal, read_lines_if_exists
from .writer_lock import WriterLock

__all__ = ["LocalThreadStore"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

#: Appends up to this size are written on the event loop (see `append_items`).
_INLINE_WRITE_BYTES = 256 * 1024


@dataclass
class _Live:
    recorder: RolloutRecorder
    lock: WriterLock
    history_mode: str
    mutex: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Message text appended since the last barrier, indexed for search at the next one
    #: (one transaction per flush, not per append; a crash loses nothing: the refresh
    #: re-reads a rollout whose size moved).
    pending_text: list[str] = field(default_factory=list)
    #: The row of a thread not yet on disk (only the index has it), kept to restore it
    #: if the index must be rebuilt meanwhile.
    unwritten: StoredThread | None = None
    #: An index update after a durable write failed: redo it at the next barrier.
    index_behind: bool = False


class LocalThreadStore(ThreadStore):
    """A Codex home as a `ThreadStore`. Use as `async with LocalThreadStore(config):`."""

    def __init__(self, config: LocalThreadStoreConfig | None = None, **overrides: object) -> None:
        base = config or LocalThreadStoreConfig()
        if overrides:
            base = dataclasses.replace(base, **overrides)  # type: ignore[arg-type]
        self.config = base
        self.home = CodexHome(Path(base.codex_home))
        self._db: IndexDb | None = None
        self._open_lock = asyncio.Lock()
        self._index_generation = 0
        self._live: dict[str, _Live] = {}
        self.rebuild_reason: str | None = None
        #: The home cannot be written (a mounted backup, another user's home): reads work,
        #: from an index kept in the user's cache; writes raise `PermissionDenied`.
        self.read_only = base.read_only
        self._detected_mode: str | None = None
        #: Codex's own `state_5.sqlite`, kept in step when the home has one.
        self.codex_db = CodexStateDb(self.home.root)
        #: Codex's paginated-history projection, kept in step when the home has one.
        self.codex_history = CodexHistoryDb(self.home.root)
        self._maintenance = IndexMaintenance(
            self.home,
            self.config,
            self.codex_db,
            live_ids=lambda: frozenset(self._live),
            read_only=self.read_only,
        )

    # -- lifecycle of the store -----------------------------------------------------
    async def _index(self) -> IndexDb:
        if self._db is not None:
            return self._db
        async with self._open_lock:
            if self._db is None:
                self.config.own_dir.mkdir(parents=True, exist_ok=True)
                if not self.read_only:  # a move to another disk a crash interrupted
                    await asyncio.to_thread(moves.finish_moves, self.config.own_dir / "moves")
                executor = ThreadPoolExecutor(1, thread_name_prefix="codex-thread-store-index")
                path = self.config.index_path
                timeout_ms = int(self.config.lock_timeout_s * 1000)
                loop = asyncio.get_running_loop()
                conn, reason = await loop.run_in_executor(
                    executor,
                    functools.partial(index_file.open_index, path, busy_timeout_ms=timeout_ms),
                )
                quick = await loop.run_in_executor(executor, index_file.connect_quick, path)
                db = IndexDb(conn, executor, path=path, quick=quick)
                self.rebuild_reason = reason
                await asyncio.to_thread(self._maintenance.compact_journal_if_big)
                if reason is not None:
                    await self._maintenance.rebuild(db)
                    await healing.restore_unwritten(self, db)
                else:
                    await self._maintenance.refresh(db, force=True)
                if not self.read_only:
                    try:
                        await codex_mirror.catch_up_projections(self, db)
                    except Exception as exc:  # Codex's database is Codex's: never fatal here
                        log.warning("catching up Codex's projection failed: %s", exc)
                self._db = db
        return self._db

    async def aclose(self) -> None:
        for thread_id in list(self._live):
            await self.discard_thread(thread_id)
        if self._db is not None:
            db, self._db = self._db, None
            await db.call(self.codex_db.close)
            await db.call(self.codex_history.close)
            await asyncio.to_thread(db.close)

    @heals_index
    async def reindex(self) -> int:
        """Rebuild the index from the rollouts now; returns the number of threads indexed."""
        db = await self._index()
        return await self._maintenance.rebuild(db)

    @heals_index
    async def sync_codex_row(self, thread_id: str) -> bool:
        """Write the thread's whole row into Codex's `state_5.sqlite` (insert, or update
        every column we own), e.g. after a rollout was copied in from elsewhere. Returns
        False when the home has no Codex database."""
        self._check_writable("write Codex's row")
        if not self.codex_db.present:
            return False
        thread = await self._get(thread_id, include_archived=True)
        await self._sync_codex_row(await self._index(), thread)
        return True

    async def _sync_codex_row(self, db: IndexDb, thread: StoredThread) -> None:
        await codex_mirror.sync_row(self, db, thread)

    def default_history_mode(self) -> str:
        """The configured mode, or (`"auto"`) what the home's Codex writes: paginated when
        the home has Codex's history database or paginated threads, else legacy."""
        if self.config.history_mode != "auto":
            return self.config.history_mode
        if self._detected_mode is None:
            self._detected_mode = detect_history_mode(self.home.root)
        return self._detected_mode

    def _check_writable(self, what: str) -> None:
        if self.read_only:
            raise PermissionDenied(
                f"cannot {what}: the Codex home {self.home.root} cannot be written (read-only"
                " or another user's); reading, searching and exporting work"
            )

    def rollout_path_of(self, thread_id: str) -> str | None:
        live = self._live.get(thread_id)
        return None if live is None else str(live.recorder.path)

    async def _get(self, thread_id: str, *, include_archived: bool) -> StoredThread:
        db = await self._index()
        await self._maintenance.refresh(db)  # rate-limited; sees Codex's renames, moves and appends
        thread = await db.run(index.get_thread, thread_id)
        if thread is None:
            await self._maintenance.refresh(db, force=True)
            thread = await db.run(index.get_thread, thread_id)
        if thread is None:
            raise ThreadNotFound(thread_id, "no rollout for it in this Codex home")
        if thread.is_archived and not include_archived:
            raise ThreadNotFound(thread_id, "it is archived; pass include_archived=True")
        return thread

    def _live_writer(self, thread_id: str) -> _Live:
        live = self._live.get(thread_id)
        if live is None:
            raise ThreadNotFound(thread_id, "it has no live writer; call resume_thread first")
        return live

    async def _own_lines(self, thread: StoredThread) -> tuple[Path | None, list[RolloutLine]]:
        """The thread's rollout and its lines, with a lazy live writer's unwritten ones."""
        live = self._live.get(thread.thread_id)
        path = Path(thread.rollout_path) if thread.rollout_path else None
        lines: list[RolloutLine] = []
        if path is not None and (live is None or live.recorder.materialized):
            lines = await asyncio.to_thread(read_lines_if_exists, path)
        if live is not None and not live.recorder.materialized:
            lines = lines + [decode_line(raw) for raw in live.recorder.pending_lines]
        return path, lines

    async def _history(self, thread: StoredThread) -> StoredThreadHistory:
        """The logical history. A fork by reference reads as a fork by copy would: its own
        `session_meta` first (its identity), then the inherited lines, then its own."""
        _, own = await self._own_lines(thread)

        def logical() -> StoredThreadHistory:
            prefix = inherited_prefix(self.home, own)
            lines = [*own[:1], *prefix, *own[1:]] if prefix else own
            return stored_history(thread.thread_id, timed_lines(lines))

        return await asyncio.to_thread(logical)

    async def _history_view(self, thread: StoredThread) -> ThreadHistoryView:
        path, own = await self._own_lines(thread)

        def segments() -> list[HistorySegment]:
            if path is None:
                return [HistorySegment(rollout_id=thread.thread_id, lines=own)]
            return history_segments(self.home, path, own)

        return ThreadHistoryView(
            thread.history_mode,
            await asyncio.to_thread(segments),
            running=thread.thread_id in self._live,
        )

    # -- live writers -----------------------------------------------------------------
    @heals_index
    async def create_thread(self, params: CreateThreadParams) -> None:
        self._check_writable("create a thread")
        params = params.with_history_mode(self.default_history_mode())
        db = await self._index()
        thread_id = params.thread_id
        if thread_id in self._live or await db.run(index.get_thread, thread_id) is not None:
            raise Conflict(f"thread {thread_id} already exists; pick a new id")
        first_ordinal = 0 if params.history_mode == "paginated" else None
        inherited: StoredThread | None = None
        if params.history_base is not None:
            inherited = await forks.check_history_base(self, db, params)
            first_ordinal = params.history_base.end_ordinal_exclusive
        now = utc_now()
        # One instant for the file name, the session_meta and the row: Codex reads the
        # created time from either, and they must agree to the second.
        path = self.home.new_rollout_path(thread_id, now.astimezone())
        lock = WriterLock(self.home.root, thread_id)
        await asyncio.to_thread(lock.acquire)
        try:
            recorder = RolloutRecorder(
                path,
                materialized=False,
                next_ordinal=first_ordinal,
                durability=self.config.durability,
                max_item_bytes=self.config.max_item_bytes,
            )
            meta_line = recorder.encode([initial_session_meta(params, now)], now)
            recorder.write(meta_line, counts_as_items=False)
            thread = thread_from_create(params, now, rollout_path=str(path))
            if inherited is not None:  # a fork by reference shows its source's opening
                thread = msgspec.structs.replace(
                    thread,
                    preview=inherited.preview,
                    first_user_message=inherited.first_user_message,
                    model=inherited.model,
                    reasoning_effort=inherited.reasoning_effort,
                )
            await db.run(index.upsert_thread, thread, body="", live_only=True)
        except BaseException:
            await asyncio.to_thread(lock.release)
            raise
        self._live[thread_id] = _Live(
            recorder, lock, params.history_mode or "legacy", unwritten=thread
        )

    @heals_index
    async def fork_point(self, params: ForkPointParams) -> HistoryBase:
        """The end of the thread's durable rollout: a fork created with it as its
        `history_base` shares the history written so far, as Codex's `thread/fork` does."""
        return await forks.fork_point(self, params)

    @heals_index
    async def resume_thread(self, params: ResumeThreadParams) -> None:
        self._check_writable("resume a thread")
        thread = await self._get(params.thread_id, include_archived=params.include_archived)
        if params.thread_id in self._live:
            raise Conflict(f"thread {params.thread_id} already has a live writer in this store")
        if not thread.rollout_path:
            raise ThreadNotFound(params.thread_id, "it has no rollout file")
        path = Path(thread.rollout_path)
        if await asyncio.to_thread(path.is_symlink):
            raise PermissionDenied(
                f"cannot resume thread {params.thread_id}: its rollout {path} is a symbolic "
                "link, and this store never writes through links; replace the link with a "
                "copy of the file to continue the thread here"
            )
        mode, next_ordinal = await self._resume_point(path, params, thread.history_mode)
        lock = WriterLock(self.home.root, params.thread_id)
        await asyncio.to_thread(lock.acquire)
        recorder = RolloutRecorder(
            path,
            materialized=True,
            next_ordinal=next_ordinal,
            durability=self.config.durability,
            max_item_bytes=self.config.max_item_bytes,
        )
        self._live[params.thread_id] = _Live(recorder, lock, mode)

    async def _resume_point(
        self, path: Path, params: ResumeThreadParams, indexed_mode: str
    ) -> tuple[str, int | None]:
        """The thread's history mode and, for a paginated thread, the next ordinal. With
        the history given, the file is not read again (for a long thread that was half
        of a resume): only its tail, for the ordinal."""
        if params.history:
            mode = history_mode_of(params.history, indexed_mode)
            if mode != "paginated":
                return mode, None
            last = await asyncio.to_thread(last_ordinal, path)
            if last is not None:
                return mode, last + 1
        lines = await asyncio.to_thread(read_lines_if_exists, path)
        mode = history_mode_of(
            params.history if params.history else [line.item for line in lines], indexed_mode
        )
        if mode != "paginated":
            return mode, None
        ordinals = [line.ordinal for line in lines if line.ordinal is not None]
        return mode, (max(ordinals) + 1) if ordinals else len(lines)

    @heals_index
    async def append_items(self, params: AppendThreadItemsParams) -> None:
        live = self._live.get(params.thread_id)
        if live is not None:
            mode = live.history_mode
        else:
            # No writer here: judge the items by the thread's own mode, so items only a
            # paginated thread keeps still get the missing-writer error.
            known = await (await self._index()).run(index.get_thread, params.thread_id)
            mode = known.history_mode if known is not None else "legacy"
        canonical = persisted_rollout_items(params.items, mode)
        if not canonical:
            return
        live = self._live_writer(params.thread_id)
        async with live.mutex:
            lines = live.recorder.encode(canonical, utc_now())
            if self.config.durability == "append" or sum(map(len, lines)) > _INLINE_WRITE_BYTES:
                await asyncio.to_thread(live.recorder.write, lines)
            else:
                # A small write without fsync only copies into the page cache: cheaper on
                # the loop than the hop to a worker thread, which dominated append cost.
                live.recorder.write(lines)
            texts = message_texts(canonical)
            if texts:
                live.pending_text.append("\n".join(" ".join(t.split()) for t in texts))

    @heals_index
    async def persist_thread(self, thread_id: str) -> None:
        live = self._live_writer(thread_id)
        db = await self._index()
        async with live.mutex:
            await asyncio.to_thread(live.recorder.persist)
            await write_indexing.after_write(self, db, thread_id, live)

    @heals_index
    async def flush_thread(self, thread_id: str) -> None:
        live = self._live_writer(thread_id)
        db = await self._index()
        async with live.mutex:
            await asyncio.to_thread(live.recorder.flush)
            await write_indexing.after_write(self, db, thread_id, live)

    async def shutdown_thread(self, thread_id: str) -> None:
        live = self._live_writer(thread_id)
        db = await self._index()
        async with live.mutex:
            try:
                await asyncio.to_thread(live.recorder.close, flush=True)
                await write_indexing.after_write(self, db, thread_id, live)
            finally:
                await self._release(db, thread_id, live)

    async def discard_thread(self, thread_id: str) -> None:
        live = self._live.get(thread_id)
        if live is None:
            return
        db = await self._index()
        async with live.mutex:
            try:
                await asyncio.to_thread(live.recorder.close, flush=False)
                await write_indexing.pending_text(db, thread_id, live)  # written lines stay
                if live.recorder.materialized and live.history_mode == "paginated":
                    # Codex reads paginated turns from its projection only, and never
                    # builds it on a read: project what was written, as a shutdown does.
                    await codex_mirror.project(self, db, live.recorder.path)
            finally:
                await self._release(db, thread_id, live)

    async def _release(self, db: IndexDb, thread_id: str, live: _Live) -> None:
        self._live.pop(thread_id, None)
        await asyncio.to_thread(live.lock.release)
        if live.index_behind:
            self._maintenance.rescan_later(live.recorder.path)
        if not live.recorder.materialized:
            # Never written: nothing of the thread was durable, so nothing remains.
            try:
                await db.run(index.delete_thread, thread_id)
            except ThreadStoreError as exc:  # the rebuild that heals the index drops it
                log.warning("forgetting unwritten thread %s failed: %s", thread_id, exc)

    # -- reads ------------------------------------------------------------------------
    @heals_index
    async def load_history(self, params: LoadThreadHistoryParams) -> StoredThreadHistory:
        thread = await self._get(params.thread_id, include_archived=params.include_archived)
        return await self._history(thread)

    @heals_index
    async def read_thread(self, params: ReadThreadParams) -> StoredThread:
        thread = await self._get(params.thread_id, include_archived=params.include_archived)
        return await self._with_history(thread, params.include_history)

    async def _with_history(self, thread: StoredThread, include: bool) -> StoredThread:
        if not include:
            return thread
        history = await self._history(thread)
        return msgspec.structs.replace(thread, history=history)

    @heals_index
    async def read_thread_by_rollout_path(
        self, params: ReadThreadByRolloutPathParams
    ) -> StoredThread:
        spellings = await asyncio.to_thread(self.home.resolve_inside, params.rollout_path)
        db = await self._index()
        thread = None
        for refresh in (False, True):
            if refresh:
                await self._maintenance.refresh(db, force=True)
            for path in spellings:
                thread = await db.run(index.thread_by_path, str(path))
                if thread is not None:
                    break
            if thread is not None:
                break
        if thread is None:
            raise InvalidRequest(f"no thread rollout at {params.rollout_path}")
        thread = await self._get(thread.thread_id, include_archived=params.include_archived)
        return await self._with_history(thread, params.include_history)

    @heals_index
    async def list_threads(self, params: ListThreadsParams) -> ThreadPage:
        db = await self._index()
        if params.cwd_filters is not None and not params.cwd_filters:
            return ThreadPage(items=[])
        if not params.use_state_db_only:
            await self._maintenance.refresh(db)
        items, cursor = await db.run(index_queries.list_threads, params)
        return ThreadPage(items=items, next_cursor=cursor)

    @heals_index
    async def search_threads(self, params: SearchThreadsParams) -> ThreadSearchPage:
        db = await self._index()
        await self._maintenance.refresh(db)
        for thread_id, live in list(self._live.items()):
            await write_indexing.pending_text(db, thread_id, live)
        hits, cursor = await db.run(index_queries.search_threads, params)
        words = search_words(params.search_term)
        results = []
        for thread, body in hits:
            texts = [t for t in (thread.name, thread.preview, thread.first_user_message) if t]
            texts += body.split("\n")
            results.append(
                StoredThreadSearchResult(thread=thread, snippet=make_snippet(words, texts))
            )
        return ThreadSearchPage(items=results, next_cursor=cursor)

    @heals_index
    async def list_turns(self, params: ListTurnsParams) -> TurnPage:
        thread = await self._get(params.thread_id, include_archived=params.include_archived)
        return page_turns(params.thread_id, await self._history_view(thread), params)

    @heals_index
    async def list_items(self, params: ListItemsParams) -> ItemPage:
        thread = await self._get(params.thread_id, include_archived=params.include_archived)
        return page_items(params.thread_id, await self._history_view(thread), params)

    # -- metadata and lifecycle ---------------------------------------------------------
    @heals_index
    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        self._check_writable("change a thread's metadata")
        thread = await self._get(params.thread_id, include_archived=params.include_archived)
        db = await self._index()
        patch = params.patch
        if patch.is_empty():
            return thread
        updated = apply_patch(thread, patch)
        live_only = params.thread_id in self._live and await db.run(
            index.is_live_only, params.thread_id
        )
        await metadata_writes.save_patch(
            self, db, params.thread_id, patch, updated, live_only=live_only
        )
        if live_only:
            self._live[params.thread_id].unwritten = updated
        if not live_only:  # Codex gets a row only once the rollout exists, as its own do
            changed = {c for f in patch.present_fields() for c in PATCH_COLUMNS.get(f, ())}
            await db.call(self.codex_db.sync, updated, changed=changed)
            if patch.name is not msgspec.UNSET:
                await db.call(self.codex_db.set_name, params.thread_id, patch.name or None)
        return updated

    @heals_index
    async def archive_thread(self, params: ArchiveThreadParams) -> None:
        self._check_writable("archive a thread")
        await lifecycle.set_archived(self, params.thread_id, archived=True)

    @heals_index
    async def unarchive_thread(self, params: ArchiveThreadParams) -> StoredThread:
        self._check_writable("unarchive a thread")
        return await lifecycle.set_archived(self, params.thread_id, archived=False)

    @heals_index
    async def delete_thread(self, params: DeleteThreadParams) -> None:
        self._check_writable("delete a thread")
        await lifecycle.delete_thread(self, params.thread_id)
