"""How many turns a rollout holds, without decoding the whole file (blocking I/O).

Only the lines that can open or close a turn (turn start, completion, abort, and user
messages for old files without start events) decide the turn count, so only lines
whose bytes mention one of those events are decoded; the count is the one
`turns.split_turns` gives for the full history. A fork that references its parent by
byte offset (`history_base`) counts its inherited turns too.
"""

from __future__ import annotations

from pathlib import Path

from ..protocol.rollout import MalformedLine, RolloutLine, decode_line
from ..turns import TimedItem, split_turns
from .layout import CodexHome
from .lineage import inherited_prefix
from .rollout_files import iter_lines, read_rollout_bytes

__all__ = ["count_turns"]

_MARKERS = (
    b"task_started",
    b"turn_started",
    b"task_complete",
    b"turn_complete",
    b"turn_aborted",
    b"user_message",
)


def count_turns(home: CodexHome, path: Path) -> int:
    """The number of turns of the thread whose rollout is at `path` (0 when it is gone)."""
    try:
        data = read_rollout_bytes(path)
    except FileNotFoundError:
        return 0
    lines: list[RolloutLine] = []
    first = True
    for _, raw, terminated in iter_lines(data):
        if not terminated:
            break  # a torn tail is not history
        if first or any(marker in raw for marker in _MARKERS):
            try:
                lines.append(decode_line(raw))
            except MalformedLine:
                continue
            first = False
    prefix = inherited_prefix(home, lines[:1]) if lines else []
    relevant = [line for line in prefix if _relevant(line)] + lines
    spans, _ = split_turns([TimedItem(0, line.item) for line in relevant])
    return len(spans)


def _relevant(line: RolloutLine) -> bool:
    return line.item.type == "event_msg" and any(
        marker.decode() == line.item.payload_type for marker in _MARKERS
    )
