"""`session_index.jsonl`: Codex's append-only thread-name index (blocking I/O).

One line per rename: `{"id", "thread_name", "updated_at"}`. The last line for an
id wins (append order, not `updated_at`); an empty name means cleared.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from .file_lock import locked
from .rollout_files import append_record, remove_record

__all__ = ["append_name", "damaged_lines", "read_names", "read_names_since", "remove_names"]

log = logging.getLogger(__name__)

_lock = threading.Lock()


def _locked(path: Path) -> contextlib.AbstractContextManager[None]:
    return locked(path, _lock)


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def append_name(index: Path, thread_id: str, name: str | None) -> Callable[[], bool]:
    """Record a rename (`None` or "" clears) with one append, all or nothing. Returns
    how to take it back (while nothing was appended after it)."""
    line = msgspec.json.encode(
        {"id": thread_id, "thread_name": name or "", "updated_at": _now_rfc3339()}
    )
    with _locked(index):
        start = append_record(index, line, fsync=True)

    def take_back() -> bool:
        with _locked(index):
            return remove_record(index, start, line)

    return take_back


def read_names(index: Path) -> dict[str, str | None]:
    """The current name of every id in the index (None when the last entry cleared it)."""
    return read_names_since(index, 0)[0]


def read_names_since(index: Path, offset: int) -> tuple[dict[str, str | None], int]:
    """Names set by the complete lines from byte `offset` on (a line boundary), and the
    offset just past the last complete line."""
    try:
        with open(index, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return {}, 0
    except OSError as exc:  # a folder in its place, unreadable: no names (Codex agrees)
        log.warning("%s cannot be read (%s); threads show without names", index, exc)
        return {}, offset
    complete = data.rfind(b"\n") + 1
    names: dict[str, str | None] = {}
    for entry in _entries(data[:complete]):
        tid, name = entry.get("id"), entry.get("thread_name")
        if isinstance(tid, str) and isinstance(name, str):
            names[tid] = name or None
    return names, offset + complete


def damaged_lines(index: Path) -> int:
    """How many lines of the names file cannot be read (Codex skips them too)."""
    try:
        data = index.read_bytes()
    except FileNotFoundError:
        return 0
    except OSError:
        return 1
    lines = [raw for raw in data.split(b"\n") if raw.strip()]
    return len(lines) - len(list(_entries(data)))


def _entries(data: bytes) -> Iterator[dict[str, Any]]:
    """The readable JSON objects among the lines of `data`."""
    for raw in data.split(b"\n"):
        raw = raw.strip()
        if not raw:
            continue
        try:
            entry = msgspec.json.decode(raw)
        except (msgspec.DecodeError, ValueError, RecursionError):
            continue
        if isinstance(entry, dict):
            yield entry


def remove_names(index: Path, thread_id: str) -> None:
    """Drop every line of `thread_id` (temp file + atomic rename)."""
    with _locked(index):
        try:
            data = index.read_bytes()
        except FileNotFoundError:
            return
        kept = []
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                entry = msgspec.json.decode(raw)
            except (msgspec.DecodeError, ValueError, RecursionError):
                kept.append(raw)
                continue
            if isinstance(entry, dict) and entry.get("id") == thread_id:
                continue
            kept.append(raw)
        tmp = index.with_name(index.name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(b"".join(line + b"\n" for line in kept))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, index)
