"""One live writer per thread across processes: an exclusive `flock` per thread id.

The lock is tied to the open file description, so it is released when the
process dies, however it dies; there is never a stale lock to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import Conflict

__all__ = ["WriterLock"]


class WriterLock:
    def __init__(self, lock_dir: Path, thread_id: str) -> None:
        self.path = lock_dir / f"{thread_id}.lock"
        self._fd: int | None = None
        self._thread_id = thread_id

    def acquire(self) -> None:
        """Raises `Conflict` when another writer (in any process) holds the thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Conflict(
                f"thread {self._thread_id} already has a live writer in another process "
                "or store instance; shut that writer down first"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
