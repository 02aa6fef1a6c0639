"""Checking a Codex home for damage, and repairing what is safe to repair.

`examine` only reads: every rollout file, our index (read-only connection) and Codex's
`state_5.sqlite` when there is one. `repair` (`doctor_repair.py`) then fixes what can be
fixed without losing anything or racing a writer:

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

import os
import sqlite3
from collections import defaultdict
from pathlib import Path

import msgspec

from ..importer import IMPORT_TEMP_MARK
from ..protocol.rollout import MAX_LINE_BYTES, MalformedLine, RolloutLine, decode_line
from . import index_file, journal, names
from .codex_db import CODEX_STATE_DB
from .config import LocalThreadStoreConfig
from .index_reader import IndexReader
from .layout import CodexHome, parse_rollout_name, rollout_id_of
from .rollout_files import existing_rollout, parse_rollout, read_rollout_bytes
from .scan import Progress, iter_rollout_dirs, rollout_files
from .writer_lock import writer_is_live

__all__ = ["CODEX_ROW_KINDS", "FIXABLE", "INDEX_KINDS", "Finding", "HomeCheck", "examine"]

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
