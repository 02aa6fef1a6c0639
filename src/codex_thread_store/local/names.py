"""`session_index.jsonl`: Codex's append-only thread-name index (blocking I/O).

One line per rename: `{"id", "thread_name", "updated_at"}`. The last line for an
id wins (append order, not `updated_at`); an empty name means cleared.
"""

from __future__ import annotations

import contextlib
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from .file_lock import locked
from .rollout_files import append_record

__all__ = ["append_name", "read_names", "read_names_since", "remove_names"]

_lock = threading.Lock()


def _locked(path: Path) -> contextlib.AbstractContextManager[None]:
    return locked(path, _lock)


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def append_name(index: Path, thread_id: str, name: str | None) -> None:
    """Record a rename (`None` or "" clears) with one append."""
    line = msgspec.json.encode(
        {"id": thread_id, "thread_name": name or "", "updated_at": _now_rfc3339()}
    )
    with _locked(index):
        append_record(index, line, fsync=True)


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
    complete = data.rfind(b"\n") + 1
    data = data[:complete]
    names: dict[str, str | None] = {}
    for raw in data.split(b"\n"):
        raw = raw.strip()
        if not raw:
            continue
        try:
            entry = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            continue
        if not isinstance(entry, dict):
            continue
        tid, name = entry.get("id"), entry.get("thread_name")
        if isinstance(tid, str) and isinstance(name, str):
            names[tid] = name or None
    return names, offset + complete


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
            except msgspec.DecodeError:
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
