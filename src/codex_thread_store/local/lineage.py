"""Forks that reference their parent by byte offset (`session_meta.history_base`).

Codex 0.169 forks a paginated thread without copying: the fork's rollout starts
with its own `session_meta` carrying `history_base = {thread_id,
end_ordinal_exclusive, end_byte_offset}`, and its logical history is the
parent's first `end_byte_offset` bytes followed by the fork's own lines. The
parent may itself be such a fork, so the lineage is resolved recursively.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..protocol.items import HistorySegment
from ..protocol.rollout import RolloutLine
from .layout import CodexHome, rollout_id_of
from .rollout_files import parse_rollout, read_rollout_bytes

__all__ = [
    "MAX_LINEAGE_DEPTH",
    "find_rollout",
    "history_base_of",
    "history_segments",
    "inherited_prefix",
]

log = logging.getLogger(__name__)

MAX_LINEAGE_DEPTH = 64


def history_base_of(lines: list[RolloutLine]) -> dict[str, Any] | None:
    """The `history_base` of the first `session_meta`, when it names a parent and offset."""
    for line in lines:
        if line.item.type == "session_meta":
            payload = line.item.payload
            base = payload.get("history_base") if isinstance(payload, dict) else None
            if (
                isinstance(base, dict)
                and isinstance(base.get("thread_id"), str)
                and isinstance(base.get("end_byte_offset"), int)
            ):
                return base
            return None
    return None


def _likely_day_folders(home: CodexHome, thread_id: str) -> list[Path]:
    """The day folders a UUIDv7 thread's rollout was created in: its embedded creation
    time, in local time as Codex names folders, give or take a day for time zones."""
    try:
        parsed = uuid.UUID(thread_id)
    except ValueError:
        return []
    if parsed.version != 7:
        return []
    created = datetime.fromtimestamp((parsed.int >> 80) / 1000).astimezone()
    days = {(created + timedelta(days=d)).date() for d in (-1, 0, 1)}
    return [home.sessions / f"{d:%Y}" / f"{d:%m}" / f"{d:%d}" for d in sorted(days)]


def _glob(folder: Path, pattern: str) -> list[Path]:
    try:
        return list(folder.glob(pattern))
    except OSError:  # a symlink loop or an unreadable folder: nothing found there
        return []


def _first(matches: list[Path]) -> Path | None:
    for match in sorted(matches):
        name = match.name
        return match.with_name(name[: -len(".zst")]) if name.endswith(".zst") else match
    return None


def find_rollout(home: CodexHome, rollout_id: str) -> Path | None:
    """The logical (`.jsonl`) path of the rollout with this id, active first, then
    archived: a thread's original rollout carries the thread's id, a revert its own.

    Looks in the day folders the id's UUIDv7 time points to first: globbing every day
    folder of a big home costs ~100 ms, and forks resolve their parent on every read.
    """
    names = [f"rollout-*{sep}{rollout_id}.jsonl{zst}" for sep in ("-", "_") for zst in ("", ".zst")]
    for folder in _likely_day_folders(home, rollout_id):
        found = _first([m for pattern in names for m in _glob(folder, pattern)])
        if found is not None:
            return found
    for root, prefix in ((home.sessions, "*/*/*/"), (home.archived, "")):
        found = _first([m for pattern in names for m in _glob(root, prefix + pattern)])
        if found is not None:
            return found
    return None


def inherited_prefix(
    home: CodexHome, lines: list[RolloutLine], _seen: frozenset[str] = frozenset()
) -> list[RolloutLine]:
    """The parent history a fork's lines build on (empty for an ordinary rollout)."""
    base = history_base_of(lines)
    if base is None:
        return []
    parent_id = base["thread_id"]
    if parent_id in _seen or len(_seen) >= MAX_LINEAGE_DEPTH:
        log.warning("fork lineage of %s loops or is too deep; ignoring its base", parent_id)
        return []
    path = find_rollout(home, parent_id)
    if path is None:
        log.warning("fork base %s is missing; reading the fork's own lines only", parent_id)
        return []
    try:
        data = read_rollout_bytes(path)[: base["end_byte_offset"]]
    except FileNotFoundError:
        return []
    parent_lines = parse_rollout(data).lines
    return inherited_prefix(home, parent_lines, _seen | {parent_id}) + parent_lines


def history_segments(
    home: CodexHome, path: Path, lines: list[RolloutLine], _seen: frozenset[str] = frozenset()
) -> list[HistorySegment]:
    """The segments a thread reads, oldest first: for a fork that references its parent by
    offset, the parent's (whole file, read up to the fork point by ordinal) then its own."""
    base = history_base_of(lines)
    own_id = rollout_id_of(path)
    cut = base.get("end_ordinal_exclusive") if base is not None else None
    if base is None or not isinstance(cut, int):
        return [HistorySegment(rollout_id=own_id, lines=lines)]
    own = HistorySegment(rollout_id=own_id, lines=lines, start=cut + 1, initial_ordinal=cut)
    parent_id = base["thread_id"]
    if parent_id in _seen or len(_seen) >= MAX_LINEAGE_DEPTH:
        log.warning("fork lineage of %s loops or is too deep; ignoring its base", parent_id)
        return [own]
    parent_path = find_rollout(home, parent_id)
    if parent_path is None:
        log.warning("fork base %s is missing; reading the fork's own lines only", parent_id)
        return [own]
    try:
        parent_lines = parse_rollout(read_rollout_bytes(parent_path)).lines
    except FileNotFoundError:
        return [own]
    older = history_segments(home, parent_path, parent_lines, _seen | {parent_id})
    last = older[-1]
    older[-1] = HistorySegment(
        rollout_id=last.rollout_id,
        lines=last.lines,
        start=last.start,
        end=cut,
        initial_ordinal=last.initial_ordinal,
    )
    return [*older, own]
