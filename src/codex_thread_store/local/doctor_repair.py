"""Repairing what `doctor.examine` found, where that is safe: nothing is lost (what is cut
is saved first) and no writer is raced (a thread a writer holds is left alone)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from pathlib import Path

from ..errors import Conflict
from ..importer import IMPORT_TEMP_MARK
from . import index, journal
from .config import LocalThreadStoreConfig
from .doctor import CODEX_ROW_KINDS, INDEX_KINDS, Finding, HomeCheck
from .rollout_files import repair_torn_tail
from .scan import Progress
from .writer_lock import WriterLock, writer_is_live

__all__ = ["repair"]


async def repair(home: Path, check: HomeCheck, *, progress: Progress | None = None) -> HomeCheck:
    """Fix the fixable findings of `check` in place (each says what was done) and return it.

    Torn tails are cut first, then orphan rows removed, then the index rebuilt if any
    index finding remains, so the rebuild reads the repaired files.
    """
    for finding in check.findings:
        if finding.kind == "torn_tail" and finding.path:
            finding.repaired = await asyncio.to_thread(_cut_torn_tail, home, finding)
    for finding in check.findings:
        if finding.kind == "leftover_temp" and finding.path:
            finding.repaired = await asyncio.to_thread(_remove_leftover, finding)
        if finding.kind == "journal_damaged" and finding.path:
            finding.repaired = await asyncio.to_thread(_repair_journal, home, Path(finding.path))
    orphans = [f for f in check.findings if f.kind == "orphan_row" and f.thread_id]
    if orphans:
        await asyncio.to_thread(_remove_rows, home, orphans)
    if any(f.kind in INDEX_KINDS and f.repaired is None for f in check.findings):
        from .store import LocalThreadStore

        store = LocalThreadStore(LocalThreadStoreConfig(codex_home=home, progress=progress))
        async with store:
            count = await store.reindex()
        for finding in check.findings:
            if finding.kind in INDEX_KINDS and finding.repaired is None:
                finding.repaired = f"index rebuilt from {count} rollout file(s)"
    codex = [f for f in check.findings if f.kind in CODEX_ROW_KINDS and f.thread_id]
    if codex:
        await _repair_codex_rows(home, codex)
    return check


async def _repair_codex_rows(home: Path, findings: list[Finding]) -> None:
    from .store import LocalThreadStore

    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        for finding in findings:
            assert finding.thread_id is not None
            if finding.kind == "codex_db_orphan_row":
                if await asyncio.to_thread(writer_is_live, home, finding.thread_id):
                    finding.detail += "; kept: a live writer holds the thread"
                    continue
                await asyncio.to_thread(store.codex_db.delete, finding.thread_id)
                finding.repaired = "removed Codex's row"
            elif await store.sync_codex_row(finding.thread_id):
                finding.repaired = "wrote Codex's row from the rollout"


def _cut_torn_tail(home: Path, finding: Finding) -> str | None:
    assert finding.path is not None
    path = Path(finding.path)
    if path.suffix == ".zst" or not path.exists():
        return None  # compressed files are rewritten by Codex, never appended to
    lock = WriterLock(home, finding.thread_id) if finding.thread_id else None
    try:
        if lock is not None:
            lock.acquire()
    except Conflict:
        finding.detail += "; not cut: a live writer holds the thread"
        return None
    if path.is_symlink():
        finding.detail += "; not cut: the rollout is a link, never written through"
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        try:
            size = os.fstat(fd).st_size
            data = os.pread(fd, size, 0)
            cut = data.rfind(b"\n") + 1
            if cut == size:
                return "already complete"
            aside = LocalThreadStoreConfig(codex_home=home).own_dir / "doctor"
            aside.mkdir(parents=True, exist_ok=True)
            saved = aside / f"{path.name}.torn-{int(time.time())}"
            saved.write_bytes(data[cut:])
            repair_torn_tail(fd)
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        if lock is not None:
            lock.release()
    return f"cut {size - cut} byte(s); saved them to {saved}"


def _repair_journal(home: Path, path: Path) -> str:
    """Drop the journal's unreadable lines (a compaction keeps every readable patch), or
    move aside whatever is in its place."""
    if path.exists() and not path.is_file():
        aside = LocalThreadStoreConfig(codex_home=home).own_dir / "doctor"
        aside.mkdir(parents=True, exist_ok=True)
        target = aside / f"{path.name}.not-a-file-{int(time.time())}"
        path.rename(target)
        return f"moved it to {target}"
    before, after = journal.compact(path)
    return f"kept every readable patch ({before} -> {after} bytes)"


def _remove_rows(home: Path, findings: list[Finding]) -> None:
    config = LocalThreadStoreConfig(codex_home=home)
    conn = sqlite3.connect(config.index_path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        for finding in findings:
            assert finding.thread_id is not None
            if writer_is_live(home, finding.thread_id):
                finding.detail += "; kept: a live writer holds the thread"
                continue
            index.delete_thread(conn, finding.thread_id)
            finding.repaired = "removed the row"
    except sqlite3.Error:
        pass  # a damaged index: the rebuild that follows removes the row
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.close()


def _remove_leftover(finding: Finding) -> str | None:
    assert finding.path is not None
    pid = finding.path.rsplit(IMPORT_TEMP_MARK, 1)[-1].removesuffix(".tmp")
    if pid.isdigit() and Path(f"/proc/{pid}").exists() and int(pid) != os.getpid():
        finding.detail += "; kept: the importing process may still be running"
        return None
    with contextlib.suppress(FileNotFoundError):
        os.unlink(finding.path)
    return "removed"
