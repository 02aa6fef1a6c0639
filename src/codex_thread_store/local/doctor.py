"""Checking a Codex home for damage, and repairing what is safe to repair.

`examine` only reads: every rollout file, our index (read-only connection) and Codex's
`state_5.sqlite` when there is one. `repair` then fixes what can be fixed without
losing anything or racing a writer:

- `torn_tail` (an unterminated last line, a crash mid-write): the fragment is saved to
  `codex-thread-store/doctor/` and cut off, under the thread's writer lock;
- `orphan_row` (an index row whose rollout file is gone): the row is removed, unless a
  writer holds the thread;
- `unindexed_file`, `stale_row`, `index`: the index is rebuilt from the rollouts.

- `codex_db_missing_row`, `codex_db_archived_mismatch`: the thread's row in Codex's
  `state_5.sqlite` is written from the rollout (as the store does for its own writes);
- `codex_db_orphan_row` (a Codex row whose rollout is gone everywhere): the row is
  removed, as Codex's own read-repair would, unless a writer holds the thread.

- `leftover_temp` (the temporary file of an import killed midway): removed, unless the
  importing process is still running;
- `journal_damaged` (unreadable lines in our metadata journal): the journal is compacted,
  keeping every readable patch; something else than a file in its place is moved aside.

Left alone, and reported: `malformed_lines` (Codex skips them too), `no_session_meta`,
`duplicate_thread` (one rollout of a thread in two files), `names_damaged` (unreadable
lines in Codex's `session_index.jsonl`, or no file there), `broken_link` and
`foreign_link` (a rollout that is a link to nothing, or to something that is not a
rollout of that thread: ignored by readers), `codex_db_unreadable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections import defaultdict
from pathlib import Path

import msgspec

from ..errors import Conflict
from ..importer import IMPORT_TEMP_MARK
from ..protocol.rollout import MAX_LINE_BYTES, MalformedLine, RolloutLine, decode_line
from . import index, index_file, journal, names
from .codex_db import CODEX_STATE_DB
from .config import LocalThreadStoreConfig
from .index_reader import IndexReader
from .layout import CodexHome, parse_rollout_name, rollout_id_of
from .rollout_files import existing_rollout, parse_rollout, read_rollout_bytes, repair_torn_tail
from .scan import Progress, iter_rollout_dirs, rollout_files
from .writer_lock import WriterLock, writer_is_live

__all__ = ["FIXABLE", "INDEX_KINDS", "Finding", "HomeCheck", "examine", "repair"]

INDEX_KINDS = frozenset({"index", "unindexed_file", "stale_row", "orphan_row"})
"""The findings a rebuild of our index is about (what `reindex --check` reports)."""
CODEX_ROW_KINDS = frozenset(
    {"codex_db_missing_row", "codex_db_archived_mismatch", "codex_db_orphan_row"}
)
FIXABLE = frozenset(
    {"torn_tail", "journal_damaged", "leftover_temp", *INDEX_KINDS, *CODEX_ROW_KINDS}
)


class Finding(msgspec.Struct, kw_only=True):
    kind: str
    detail: str
    thread_id: str | None = None
    path: str | None = None
    repaired: str | None = None

    @property
    def fixable(self) -> bool:
        return self.kind in FIXABLE


class HomeCheck(msgspec.Struct, kw_only=True):
    home: str
    rollout_files: int = 0
    index_rows: int = 0
    codex_db_rows: int | None = None
    findings: list[Finding] = msgspec.field(default_factory=list)

    @property
    def remaining(self) -> list[Finding]:
        return [f for f in self.findings if f.repaired is None]


def _quiet(done: int, total: int) -> None:
    pass


def _first_meta_id(lines: list[RolloutLine]) -> str | None:
    if lines and lines[0].item.type == "session_meta":
        meta = lines[0].item.as_session_meta()
        if meta is not None:
            return meta.id
    return None


def examine(home: Path, *, progress: Progress | None = None) -> HomeCheck:
    """Read the whole home and report what is wrong with it (writes nothing)."""
    progress = progress or _quiet
    codex_home = CodexHome(home)
    check = HomeCheck(home=str(home))
    files = [
        (path, directory == codex_home.archived)
        for directory in iter_rollout_dirs(codex_home)
        for path in rollout_files(directory)
    ]
    check.rollout_files = len(files)
    for directory in iter_rollout_dirs(codex_home):
        _examine_leftovers(check, directory)
    paths_by_id: dict[str, list[Path]] = defaultdict(list)
    archived_ids: set[str] = set()
    for done, (path, archived) in enumerate(files, start=1):
        _examine_file(check, path, archived, paths_by_id, archived_ids)
        progress(done, len(files))
    for tid, paths in paths_by_id.items():
        by_rollout: dict[str, list[Path]] = defaultdict(list)
        for path in paths:  # a reverted thread's rollouts each have their own rollout id
            by_rollout[rollout_id_of(path)].append(path)
        for same in by_rollout.values():
            if len(same) < 2:
                continue
            where = ", ".join(str(p) for p in same)
            check.findings.append(
                Finding(
                    kind="duplicate_thread", thread_id=tid, detail=f"in {len(same)} files: {where}"
                )
            )
    _examine_index(check, home, paths_by_id)
    _examine_side_files(check, home)
    _examine_codex_db(check, home, paths_by_id, archived_ids)
    return check


def _examine_leftovers(check: HomeCheck, directory: Path) -> None:
    """Temporary files of imports a process did not live to finish."""
    try:
        names_here = os.listdir(directory)
    except OSError:
        return
    for name in sorted(names_here):
        if name.startswith("rollout-") and (directory / name).is_symlink():
            _examine_link(check, directory / name)
        if name.startswith(".rollout-") and IMPORT_TEMP_MARK in name and name.endswith(".tmp"):
            check.findings.append(
                Finding(
                    kind="leftover_temp",
                    path=str(directory / name),
                    detail="an import that never finished left it; removing it loses nothing",
                )
            )


def _examine_link(check: HomeCheck, path: Path) -> None:
    """A rollout that is a symbolic link is read only when it leads to a rollout of the
    thread its name says; report one that leads nowhere or elsewhere."""
    named = parse_rollout_name(path.name)
    target = os.path.realpath(path)
    if not os.path.isfile(path):
        check.findings.append(
            Finding(
                kind="broken_link",
                path=str(path),
                thread_id=named.thread_id if named else None,
                detail=f"a link to {target}, which is missing or not a file",
            )
        )
        return
    try:
        with open(path, "rb") as fh:
            first = fh.readline(MAX_LINE_BYTES + 1)
        tid = _first_meta_id([decode_line(first)])
    except (OSError, MalformedLine):
        tid = None
    if named is None or tid != named.thread_id:
        check.findings.append(
            Finding(
                kind="foreign_link",
                path=str(path),
                thread_id=named.thread_id if named else None,
                detail=f"a link to {target}, which is not a rollout of this thread; ignored",
            )
        )


def _remove_leftover(finding: Finding) -> str | None:
    assert finding.path is not None
    pid = finding.path.rsplit(IMPORT_TEMP_MARK, 1)[-1].removesuffix(".tmp")
    if pid.isdigit() and Path(f"/proc/{pid}").exists() and int(pid) != os.getpid():
        finding.detail += "; kept: the importing process may still be running"
        return None
    with contextlib.suppress(FileNotFoundError):
        os.unlink(finding.path)
    return "removed"


def _examine_side_files(check: HomeCheck, home: Path) -> None:
    """Codex's names file and our metadata journal: both are read line by line and any
    damaged line is skipped; say so."""
    session_index = CodexHome(home).session_index
    if session_index.exists() and not session_index.is_file():
        check.findings.append(
            Finding(
                kind="names_damaged",
                path=str(session_index),
                detail="not a file: threads show without names here and in Codex; move it away",
            )
        )
    elif bad := names.damaged_lines(session_index):
        check.findings.append(
            Finding(
                kind="names_damaged",
                path=str(session_index),
                detail=f"{bad} line(s) cannot be read; Codex and this store skip them",
            )
        )
    path = LocalThreadStoreConfig(codex_home=home).journal_path
    if path.exists() and not path.is_file():
        detail = "not a file: metadata patches cannot be kept across a rebuild"
    elif bad := journal.damaged_lines(path):
        detail = f"{bad} line(s) cannot be read; those patches are lost to a rebuild"
    else:
        return
    check.findings.append(Finding(kind="journal_damaged", path=str(path), detail=detail))


def _examine_file(
    check: HomeCheck,
    path: Path,
    archived: bool,
    paths_by_id: dict[str, list[Path]],
    archived_ids: set[str],
) -> None:
    try:
        parsed = parse_rollout(read_rollout_bytes(path))
    except FileNotFoundError:
        return  # removed while we looked
    named = parse_rollout_name(path.name)
    tid = _first_meta_id(parsed.lines)
    if tid is None:
        check.findings.append(
            Finding(
                kind="no_session_meta",
                path=str(path),
                thread_id=named.thread_id if named else None,
                detail="the first line is not a readable session_meta; no one can list this file",
            )
        )
    else:
        paths_by_id[tid].append(path)
        if archived:
            archived_ids.add(tid)
    if parsed.torn_tail:
        check.findings.append(
            Finding(
                kind="torn_tail",
                path=str(path),
                thread_id=tid,
                detail="the last line is unterminated (a write cut short)",
            )
        )
    if parsed.malformed:
        check.findings.append(
            Finding(
                kind="malformed_lines",
                path=str(path),
                thread_id=tid,
                detail=f"{parsed.malformed} line(s) are not rollout lines; readers skip them",
            )
        )


def _examine_index(check: HomeCheck, home: Path, paths_by_id: dict[str, list[Path]]) -> None:
    config = LocalThreadStoreConfig(codex_home=home)
    try:
        reader = IndexReader(config.index_path)
    except FileNotFoundError:
        check.findings.append(Finding(kind="index", detail="there is no index yet"))
        return
    with reader:
        try:
            problem = reader.problem()
            version = reader.schema_version() if problem is None else None
            if problem is None and version == index_file.SCHEMA_VERSION:
                bad = reader.undecodable_rows()
                if bad:
                    problem = f"damaged: {bad} row(s) cannot be read back"
            elif problem is None:
                problem = f"schema version {version}, this library uses {index_file.SCHEMA_VERSION}"
            if problem is None:
                rows = reader.rows()
                states = reader.file_states()
        except (sqlite3.Error, ValueError) as exc:  # undecodable text, a vanished table
            problem = f"unreadable ({exc})"
        if problem is not None:
            check.findings.append(Finding(kind="index", detail=f"the index is {problem}"))
            return
    check.index_rows = len(rows)
    for tid, paths in sorted(paths_by_id.items()):
        row = rows.get(tid)
        if row is None or row.rollout_path not in {str(p) for p in paths}:
            check.findings.append(
                Finding(
                    kind="unindexed_file",
                    thread_id=tid,
                    path=str(paths[0]),
                    detail="the index has no row for this rollout",
                )
            )
            continue
        state = states.get(row.rollout_path or "")
        actual = existing_rollout(Path(row.rollout_path or ""))
        if actual is not None:
            st = actual.stat()
            if state is None or (state[1], state[2]) != (st.st_size, st.st_mtime_ns):
                check.findings.append(
                    Finding(
                        kind="stale_row",
                        thread_id=tid,
                        path=row.rollout_path,
                        detail="the file changed since it was indexed",
                    )
                )
    for tid, row in sorted(rows.items()):
        if tid in paths_by_id:
            continue
        if row.rollout_path and existing_rollout(Path(row.rollout_path)) is not None:
            continue  # a file without a readable session_meta, reported above
        if row.live_only and writer_is_live(home, tid):
            continue  # a thread being written right now, not yet on disk
        check.findings.append(
            Finding(
                kind="orphan_row",
                thread_id=tid,
                path=row.rollout_path,
                detail="the index lists a thread whose rollout file is gone",
            )
        )


def _examine_codex_db(
    check: HomeCheck, home: Path, paths_by_id: dict[str, list[Path]], archived_ids: set[str]
) -> None:
    db_path = home / CODEX_STATE_DB
    if not db_path.is_file():
        return
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            rows = conn.execute("SELECT id, rollout_path, archived FROM threads").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        check.findings.append(
            Finding(
                kind="codex_db_unreadable",
                path=str(db_path),
                detail=f"Codex's database could not be read ({exc})",
            )
        )
        return
    check.codex_db_rows = len(rows)
    seen: set[str] = set()
    for tid, rollout_path, archived in rows:
        seen.add(tid)
        if tid not in paths_by_id:
            if not rollout_path or existing_rollout(Path(rollout_path)) is None:
                check.findings.append(
                    Finding(
                        kind="codex_db_orphan_row",
                        thread_id=tid,
                        path=rollout_path,
                        detail="Codex's database lists a thread whose rollout file is gone",
                    )
                )
            continue
        if bool(archived) != (tid in archived_ids):
            state = "archived" if archived else "active"
            check.findings.append(
                Finding(
                    kind="codex_db_archived_mismatch",
                    thread_id=tid,
                    detail=f"Codex's database says {state}, the file says otherwise",
                )
            )
    for tid in sorted(set(paths_by_id) - seen):
        check.findings.append(
            Finding(
                kind="codex_db_missing_row",
                thread_id=tid,
                path=str(paths_by_id[tid][0]),
                detail="Codex's database has no row for this thread, so Codex does not list it",
            )
        )


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
