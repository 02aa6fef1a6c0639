"""Stored text made safe for a terminal: what a thread holds (names, previews, paths,
messages, tool output) may carry control characters, and printed raw they would drive
the terminal (OSC 52 writes the clipboard, OSC 0 the title, OSC 8 hides links, CSI
clears the screen or moves the cursor over earlier lines, a bare CR overwrites a line).

`clean` shows every such character as a visible escape (`\\x1b`, `\\u202e`) and keeps
newlines and tabs, for multi-line text; `field` also escapes those, for one-line cells
and tab-separated rows, so a newline in a cwd can never forge a row. JSON output is
never passed through here: it stays exact.
"""

from __future__ import annotations

import re

__all__ = ["clean", "field"]

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides and
# isolates (which reorder what follows them on screen).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_FIELD = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """`text` with every terminal control made visible; newlines and tabs kept."""
    return _UNSAFE.sub(_escape, text)


def field(text: str) -> str:
    """`text` as one safe line: controls, tabs and newlines made visible."""
    return _UNSAFE_IN_FIELD.sub(_escape, text)
