"""An exclusive lock on a small shared file, across threads and processes (blocking I/O)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["locked"]


@contextlib.contextmanager
def locked(path: Path, process_lock: threading.Lock) -> Iterator[None]:
    """Hold `process_lock`, then an `flock` on `<path>.lock` (the convention Codex uses
    for `session_index.jsonl.lock`), so a rewrite never races another writer's append."""
    with process_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the flock
