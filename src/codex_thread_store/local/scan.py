"""Finding and summarizing rollouts on disk, for the full rebuild and the incremental
refresh (whose planning lives in `refresh.py`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..protocol.messages import message_texts
from ..protocol.rollout import RolloutLine
from ..types import StoredThread
from .layout import CodexHome, parse_rollout_name
from .lineage import inherited_prefix
from .rollout_files import read_rollout
from .summary import summarize_rollout

__all__ = ["ScannedRollout", "iter_rollout_dirs", "scan_file"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ScannedRollout:
    path: Path
    thread: StoredThread | None
    body: str
    size: int
    mtime_ns: int
    malformed: int


def iter_rollout_dirs(home: CodexHome) -> Iterator[Path]:
    """`sessions/YYYY/MM/DD` folders (numeric names only), then `archived_sessions`."""
    for year in _numeric_children(home.sessions):
        for month in _numeric_children(year):
            yield from _numeric_children(month)
    if home.archived.is_dir():
        yield home.archived


def _numeric_children(path: Path) -> list[Path]:
    try:
        with os.scandir(path) as listing:
            entries = [e for e in listing if e.name.isdigit() and _is_dir(e)]
    except OSError:  # missing, not a folder, unreadable, or a symlink loop
        return []
    return [Path(e.path) for e in sorted(entries, key=lambda e: e.name)]


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # e.g. ELOOP: a symlink loop is not a folder to list
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def rollout_files(directory: Path) -> list[Path]:
    """Rollout files of one folder; a plain file hides its `.zst` sibling."""
    try:
        with os.scandir(directory) as listing:
            names = {e.name for e in listing if e.name.startswith("rollout-") and _is_file(e)}
    except OSError:
        return []
    out = []
    for name in sorted(names):
        parsed = parse_rollout_name(name)
        if parsed is None:
            continue
        if parsed.compressed and name[: -len(".zst")] in names:
            continue
        out.append(directory / (name[: -len(".zst")] if parsed.compressed else name))
    return out


def scan_file(
    home: CodexHome, path: Path, *, default_model_provider: str, archived: bool
) -> ScannedRollout | None:
    """Read and summarize one rollout (`path` is the logical `.jsonl` path)."""
    actual = path if path.exists() else path.with_name(path.name + ".zst")
    try:
        stat = actual.stat()
        result = read_rollout(path)
    except FileNotFoundError:
        return None
    mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
    inherited = inherited_prefix(home, result.lines)
    named = parse_rollout_name(path.name)
    if actual.is_symlink() and (
        named is None or not result.lines or _meta_id(result.lines[0]) != named.thread_id
    ):
        # A link is read only when it leads to a rollout of the thread its name says:
        # a link can never bring another file into the home (doctor reports it).
        return ScannedRollout(path, None, "", stat.st_size, stat.st_mtime_ns, result.malformed)
    thread = summarize_rollout(
        result.lines,
        path,
        mtime=mtime,
        archived_at=mtime if archived else None,
        default_model_provider=default_model_provider,
        inherited=inherited,
    )
    logical = [line.item for line in inherited + result.lines]
    body = "\n".join(" ".join(text.split()) for text in message_texts(logical))
    return ScannedRollout(path, thread, body, stat.st_size, stat.st_mtime_ns, result.malformed)


def _meta_id(line: RolloutLine) -> str | None:
    if line.item.type != "session_meta":
        return None
    meta = line.item.as_session_meta()
    return None if meta is None else meta.id
