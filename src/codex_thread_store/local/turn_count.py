"""How many turns a rollout holds, without decoding the whole file (blocking I/O).

The count is the number of turns the typed view (`protocol/items`) gives, which is what
Codex's app-server lists. Only lines that can shape turns are decoded: events (turn
starts, completions, aborts, rollbacks, messages...), compactions and user response items
(hook prompts); a fork that references its parent by offset counts its inherited turns.
"""

from __future__ import annotations

from pathlib import Path

from ..protocol.items import ThreadHistoryView
from ..protocol.rollout import MalformedLine, RolloutLine, decode_line
from .layout import CodexHome
from .lineage import history_segments
from .rollout_files import iter_lines, read_rollout_bytes

__all__ = ["count_turns"]

_SHAPING = (b'"event_msg"', b'"compacted"', b'"role":"user"')


def count_turns(home: CodexHome, path: Path, history_mode: str) -> int:
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
        if first or any(marker in raw for marker in _SHAPING):
            try:
                lines.append(decode_line(raw))
            except MalformedLine:
                continue
            first = False
    view = ThreadHistoryView(history_mode, history_segments(home, path, lines))
    return len(view.turns("notLoaded"))
