"""One live writer per thread across processes, shared with Codex itself.

Codex (0.163+) holds an exclusive `flock` on `CODEX_HOME/thread-writer-locks/<id>.lock`
(an empty file) for as long as a thread is loaded for writing, removes the file on a
clean release, and serialises creating and removing those files with a short-lived
`flock` on `thread-writer-locks/.coordination.lock`. We take exactly the same locks, so
a thread open in `codex app-server` or `codex exec resume` is a `Conflict` here, and a
thread open here is refused by Codex ("already has an active writer").

An `flock` belongs to the open file description, so the kernel drops it when the
holder dies, however it dies: a lock file left behind by `kill -9` is not a held lock.
Because files are unlinked on release, a lock taken on a file that was unlinked in the
meantime would be worthless; the inode check after locking retries in that case.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import Conflict, Internal

__all__ = ["COORDINATION_LOCK", "LOCK_DIR", "WriterLock", "writer_is_live"]

LOCK_DIR = "thread-writer-locks"
COORDINATION_LOCK = ".coordination.lock"
#: The coordination lock is held for microseconds; waiting longer means a wedged holder.
_COORDINATION_TIMEOUT_S = 10.0


@contextlib.contextmanager
def _coordinated(lock_dir: Path) -> Iterator[None]:
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / COORDINATION_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + _COORDINATION_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Internal(
                        f"{lock_dir / COORDINATION_LOCK} stayed locked for "
                        f"{_COORDINATION_TIMEOUT_S:.0f} s; a process holding it is stuck"
                    ) from None
                time.sleep(0.001)  # polling a foreign lock; nothing to wait on instead
        yield
    finally:
        os.close(fd)  # closing drops the flock


class WriterLock:
    """The exclusive writer lock of one thread in one Codex home."""

    def __init__(self, codex_home: Path, thread_id: str) -> None:
        self.lock_dir = codex_home / LOCK_DIR
        self.path = self.lock_dir / f"{thread_id}.lock"
        self._fd: int | None = None
        self._thread_id = thread_id

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Raises `Conflict` when another writer (Codex, or any store instance) holds it."""
        with _coordinated(self.lock_dir):
            while True:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    raise Conflict(
                        f"thread {self._thread_id} already has an active writer (Codex or "
                        "another store instance); close it there first"
                    ) from None
                if _same_file(fd, self.path):
                    self._fd = fd
                    return
                os.close(fd)  # unlinked under us by a releasing writer: lock the new file

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with _coordinated(self.lock_dir):
            if _same_file(fd, self.path):
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            os.close(fd)


def writer_is_live(codex_home: Path, thread_id: str) -> bool:
    """Whether some process holds the thread's writer lock right now (without taking it)."""
    path = codex_home / LOCK_DIR / f"{thread_id}.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return True
        raise
    finally:
        os.close(fd)
    return False


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)
