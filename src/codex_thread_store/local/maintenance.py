"""Keeping the index in step with the home: the full rebuild and the incremental refresh.

The store calls `rebuild` when the index is missing, old or corrupt, and `refresh`
(rate-limited) before reads; both summarize rollouts in worker threads and write the
index on its own thread. What changed is planned in `refresh.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from ..errors import PermissionDenied, ResourceExhausted, Unavailable
from ..timeutil import from_ms
from ..types import StoredThread
from . import index, journal, names
from . import refresh as planner
from .codex_db import PATCH_COLUMNS, CodexFacts, CodexStateDb
from .config import LocalThreadStoreConfig
from .db import IndexDamaged, IndexDb
from .layout import CodexHome, parse_rollout_name
from .scan import ScannedRollout, iter_rollout_dirs, rollout_files, scan_file
from .writer_lock import writer_is_live

__all__ = ["IndexMaintenance", "with_codex_facts"]

log = logging.getLogger(__name__)

_REBUILD_CHUNK = 200


class IndexMaintenance:
    """Rebuilds and refreshes one store's index; `live_ids` names the threads this store
    is writing, whose rows the files must not overwrite."""

    def __init__(
        self,
        home: CodexHome,
        config: LocalThreadStoreConfig,
        codex_db: CodexStateDb,
        *,
        live_ids: Callable[[], frozenset[str]],
        read_only: bool = False,
    ) -> None:
        self._home = home
        self._config = config
        self._codex_db = codex_db
        self._live_ids = live_ids
        self._read_only = read_only
        self._last_refresh = 0.0
        #: Rollouts whose index update failed after their lines were durable.
        self._behind: set[Path] = set()

    def rescan_later(self, path: Path) -> None:
        """Re-read this rollout at the next refresh, whatever its watermarks say."""
        self._behind.add(path)

    def compact_journal_if_big(self) -> None:
        path = self._config.journal_path
        try:
            if path.is_file() and path.stat().st_size > journal.COMPACT_AT_BYTES:
                journal.compact(path)
        except OSError as exc:  # a full disk: keep the long journal, try again next open
            log.warning("compacting the metadata journal failed: %s", exc)

    async def rebuild(self, db: IndexDb) -> int:
        paths, folders = await asyncio.to_thread(self._all_rollouts)
        progress = self._config.progress
        total = len(paths)
        codex_facts = await db.call(self._codex_db.facts_by_thread)
        provider = self._config.default_model_provider

        def scan_chunk(chunk: list[tuple[Path, bool]]) -> list[ScannedRollout]:
            out = []
            for path, archived in chunk:
                scanned = scan_file(
                    self._home, path, default_model_provider=provider, archived=archived
                )
                if scanned is not None and scanned.thread is not None:
                    out.append(scanned)
            return out

        # Chunks: one worker-thread hop and one index transaction per _REBUILD_CHUNK files.
        for start in range(0, total, _REBUILD_CHUNK):
            chunk = paths[start : start + _REBUILD_CHUNK]
            rows: list[tuple[StoredThread, str, index.FileState | None]] = []
            for scanned in await asyncio.to_thread(scan_chunk, chunk):
                assert scanned.thread is not None
                thread = with_codex_facts(scanned.thread, codex_facts)
                state = index.FileState(
                    str(scanned.path), thread.thread_id, scanned.size, scanned.mtime_ns
                )
                rows.append((thread, scanned.body, state))
            await db.run(index.upsert_many, rows, codex_current=_codex_paths(codex_facts))
            if progress is not None:
                progress(start + len(chunk), total)
        # Folder watermarks taken before each folder was listed: the refresh below then
        # re-lists only what changed during the rebuild, instead of every folder again.
        await db.run(index.forget_files, [], folders, keep_threads=frozenset())
        await self._replay_overlays(db)
        await self.refresh(db, force=True)
        return total

    def _all_rollouts(self) -> tuple[list[tuple[Path, bool]], dict[str, int]]:
        """Every rollout (with whether it is archived), and each folder's mtime as it was
        just before the folder was listed."""
        out: list[tuple[Path, bool]] = []
        folders: dict[str, int] = {}
        for directory in iter_rollout_dirs(self._home):
            with contextlib.suppress(FileNotFoundError):
                folders[str(directory)] = directory.stat().st_mtime_ns
            archived = directory == self._home.archived
            out.extend((p, archived) for p in rollout_files(directory))
        return out, folders

    async def _replay_overlays(self, db: IndexDb) -> None:
        """Names from `session_index.jsonl`, then journaled patches, over derived rows."""
        signature = await asyncio.to_thread(_signature, self._home.session_index)
        names_by_id, end = await asyncio.to_thread(
            names.read_names_since, self._home.session_index, 0
        )
        patches = await asyncio.to_thread(journal.merged_patches, self._config.journal_path)
        await db.run(index.apply_overlays, names_by_id, patches)
        if signature is not None:  # these names are applied: the refresh starts after them
            await db.run(index.set_watermark, "session_index_size", end)
            await db.run(index.set_watermark, "session_index", signature)

    async def refresh(self, db: IndexDb, *, force: bool = False) -> None:
        """Pick up rollouts written, moved or removed by other processes (see `refresh.py`);
        a handful of index round trips whatever the number of changed files."""
        now = time.monotonic()
        if not force and now - self._last_refresh < self._config.refresh_interval_s:
            return
        self._last_refresh = now
        try:
            await self._refresh(db.quick())
        except IndexDamaged:
            raise
        except (Unavailable, ResourceExhausted, PermissionDenied) as exc:
            # Reads go on from what the index holds (a full disk, another process holding
            # the write lock); the next refresh tries again.
            log.warning("refreshing the index failed (%s); reading what it holds", exc)

    async def _refresh(self, db: IndexDb) -> None:
        if self._behind:
            behind, self._behind = self._behind, set()
            try:
                await self._index_files(db, [(p, self._home.is_archived_path(p)) for p in behind])
            except BaseException:
                self._behind |= behind
                raise
        dirs_before = await db.run(index.dir_states)
        plan = await asyncio.to_thread(planner.plan_folders, self._home, dirs_before)
        folders = [str(f) for f in plan.check] + plan.vanished
        files_before = await db.run(index.file_states_under, folders)
        changes = await asyncio.to_thread(planner.changed_files, self._home, plan, files_before)
        changes.scan.extend(await self._touched_by_codex(db, changes))
        if changes.scan:
            await self._index_files(db, changes.scan)
        gone = [files_before[p] for p in changes.gone if p in files_before]
        if gone or changes.dirs:
            keep = frozenset(self._live_ids())
            await db.run(index.forget_files, gone, changes.dirs, keep_threads=keep)
        await self._refresh_names(db)

    async def _index_files(self, db: IndexDb, paths: list[tuple[Path, bool]]) -> None:
        """(Re)summarize changed rollouts and write them in one transaction, keeping what
        the index knew beyond the file (names, explicit patches)."""

        def scan_all() -> list[tuple[ScannedRollout, StoredThread]]:
            provider = self._config.default_model_provider
            live = self._live_ids()
            out = []
            for path, archived in paths:
                named = parse_rollout_name(path.name)
                if named is not None and named.thread_id in live:
                    # Its writer indexes it as it writes. Reading it here would re-read
                    # the whole file at every refresh while it grows: quadratic, and for
                    # nothing, since a live thread's scan is thrown away below anyway.
                    continue
                scanned = scan_file(
                    self._home, path, default_model_provider=provider, archived=archived
                )
                thread = None if scanned is None else scanned.thread
                if (
                    scanned is not None
                    and thread is not None
                    and thread.thread_id not in self._live_ids()
                ):
                    out.append((scanned, thread))
            return out

        found = await asyncio.to_thread(scan_all)
        ids = [t.thread_id for _, t in found]
        codex_facts = await db.call(self._codex_db.facts_by_thread, ids)
        rows: list[tuple[StoredThread, str, index.FileState | None]] = []
        for item, derived in found:
            thread = with_codex_facts(derived, codex_facts)
            state = index.FileState(str(item.path), thread.thread_id, item.size, item.mtime_ns)
            rows.append((thread, item.body, state))
        await db.run(
            index.upsert_many, rows, merge=_overlay, codex_current=_codex_paths(codex_facts)
        )
        await self._reconcile_codex_rows(db, ids, codex_facts)

    async def _reconcile_codex_rows(
        self, db: IndexDb, ids: list[str], facts: dict[str, CodexFacts]
    ) -> None:
        """Codex's row follows the files: a rollout moved or written without its row being
        updated (a process killed between the two steps of an archive or an import) would
        otherwise stay hidden from Codex. Threads a writer holds are that writer's."""
        if self._read_only or not self._codex_db.present:
            return
        for thread in await db.run(index.get_threads, list(dict.fromkeys(ids))):
            thread_id = thread.thread_id
            if thread.rollout_path is None:
                continue
            fact = facts.get(thread_id)
            if fact is not None and (fact.rollout_path, fact.archived) in (
                (thread.rollout_path, thread.is_archived),
                (None, None),  # an older Codex without these columns
            ):
                continue
            if await asyncio.to_thread(writer_is_live, self._home.root, thread_id):
                continue
            changed = None if fact is None else PATCH_COLUMNS["archived"]
            await db.call(self._codex_db.sync, thread, changed=changed)

    async def _touched_by_codex(
        self, db: IndexDb, changes: planner.Changes
    ) -> list[tuple[Path, bool]]:
        """Rollouts Codex wrote since the last look, from its `threads.updated_at_ms`.

        An append to an old rollout changes no folder's mtime, so the folder watermarks
        cannot see it; Codex's own row update can, for one cheap query.
        """
        if not self._codex_db.present:
            return []
        mark = await db.run(index.get_watermark, "codex_updated_at_ms")
        rows = await db.call(self._codex_db.changed_since, mark or 0)
        if rows:
            newest = max(r[2] for r in rows)
            await db.run(index.set_watermark, "codex_updated_at_ms", max(newest, mark or 0))
        if mark is None or not rows:
            return []  # first look: the folder scan covered everything up to now
        paths = [r[1] for r in rows]
        states = await db.run(index.file_states_for, paths)
        queued = {str(p) for p, _ in changes.scan}
        stale = await asyncio.to_thread(planner.stale_files, self._home, paths, states, queued)
        # Codex also bumps rows without touching the file (unarchive, renames in some
        # versions): bring those rows' times and git in line without re-reading anything.
        rescanned = {str(p) for p, _ in stale} | queued
        bumped = [r[0] for r in rows if r[1] not in rescanned and r[0] not in self._live_ids()]
        if bumped:
            facts = await db.call(self._codex_db.facts_by_thread, bumped)
            await db.run(index.update_threads, {i: f for i, f in facts.items()}, with_codex_facts)
        return stale

    async def _refresh_names(self, db: IndexDb) -> None:
        """Apply renames other processes (Codex) appended to `session_index.jsonl`.

        Only lines added since the last look are applied: re-applying old lines would
        undo names set since by `title` patches, which do not go to that file. A file
        that shrank (a delete rewrote it) is read whole.
        """
        signature = await asyncio.to_thread(_signature, self._home.session_index)
        if signature is None or await db.run(index.get_watermark, "session_index") == signature:
            return
        seen = await db.run(index.get_watermark, "session_index_size") or 0
        size = await asyncio.to_thread(_size, self._home.session_index)
        start = seen if seen <= size else 0
        by_id, end = await asyncio.to_thread(
            names.read_names_since, self._home.session_index, start
        )
        await db.run(index.apply_overlays, by_id)
        await db.run(index.set_watermark, "session_index_size", end)
        await db.run(index.set_watermark, "session_index", signature)


def _codex_paths(facts: dict[str, CodexFacts]) -> dict[str, str | None]:
    """Each thread's current rollout as Codex's row names it (a reverted thread's)."""
    return {tid: fact.rollout_path for tid, fact in facts.items()}


def with_codex_facts(thread: StoredThread, facts: dict[str, CodexFacts]) -> StoredThread:
    """A thread as Codex's row has it. Codex's row wins for git (it is where Codex
    records git updates of paginated threads, whose rollouts never get a `session_meta`
    copy); its times count where they are earlier (created) or later (updated, recency),
    which is what the app-server answers after Codex bumped them."""
    fact = facts.get(thread.thread_id)
    if fact is None:
        return thread
    changes: dict[str, object] = {}
    if fact.git is not None:
        changes["git_info"] = fact.git
    if fact.created_at_ms is not None:
        changes["created_at"] = min(thread.created_at, from_ms(fact.created_at_ms))
    if fact.updated_at_ms is not None:
        changes["updated_at"] = max(thread.updated_at, from_ms(fact.updated_at_ms))
    if fact.recency_at_ms is not None:
        changes["recency_at"] = max(thread.recency_at, from_ms(fact.recency_at_ms))
    return msgspec.structs.replace(thread, **changes) if changes else thread


def _overlay(derived: StoredThread, existing: StoredThread) -> StoredThread:
    """Merge a re-read rollout with the row the index holds.

    Values set once per thread (name, title, preview, first user message) keep the row's
    value when it has one: it may come from an explicit patch the file does not
    record. Times only move forward. Everything else (usage, model, location,
    archived state) comes from the file, which is what grew.
    """
    return msgspec.structs.replace(
        derived,
        name=existing.name if existing.name is not None else derived.name,
        title=existing.title if existing.title is not None else derived.title,
        preview=existing.preview or derived.preview,
        first_user_message=existing.first_user_message or derived.first_user_message,
        updated_at=max(existing.updated_at, derived.updated_at),
        recency_at=max(existing.recency_at, derived.recency_at),
        archived_at=derived.archived_at,
    )


def _signature(path: Path) -> int | None:
    """Size and mtime of a file in one number (None when it does not exist)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size * 1_000_003 + st.st_mtime_ns


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
