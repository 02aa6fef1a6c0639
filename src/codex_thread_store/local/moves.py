"""Moving a rollout between `sessions/` and `archived_sessions/` (blocking I/O), also when
one of them is a link to another file system (a relocated folder).

A rename is atomic. Across file systems it is impossible (`EXDEV`), so the move becomes:
record the intent, copy to a temporary name beside the target, fsync, rename it into
place, remove the source, forget the intent. A crash at any point leaves the source, or
the complete target, or both; `finish_moves` (run when a store opens the home) then
removes the source if the target is complete, else the partial copy, so exactly one
readable copy remains. A rollout that is itself a link is moved as a link: its target
is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import uuid
from pathlib import Path

import msgspec

__all__ = ["finish_moves", "move_rollout"]

log = logging.getLogger(__name__)


class _Intent(msgspec.Struct, frozen=True):
    src: str
    dst: str


def move_rollout(src: Path, dst: Path, intents: Path) -> None:
    """Move `src` to `dst` (a new name): atomically, or crash-safely across devices."""
    try:
        os.rename(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    intents.mkdir(parents=True, exist_ok=True)
    intent = intents / f"{uuid.uuid4().hex}.json"
    _write_synced(intent, msgspec.json.encode(_Intent(str(src), str(dst))))
    tmp = _temporary(dst)
    try:
        if src.is_symlink():
            os.symlink(os.readlink(src), tmp)
        else:
            shutil.copyfile(src, tmp, follow_symlinks=False)
            _fsync_path(tmp)
        os.rename(tmp, dst)
        _fsync_path(dst.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        with contextlib.suppress(OSError):
            intent.unlink()
        raise
    os.unlink(src)
    _fsync_path(src.parent)
    intent.unlink()


def finish_moves(intents: Path) -> int:
    """Complete or undo the moves a crash interrupted; returns how many there were."""
    try:
        pending = sorted(intents.glob("*.json"))
    except OSError:
        return 0
    for path in pending:
        try:
            intent = msgspec.json.decode(path.read_bytes(), type=_Intent)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError, ValueError):
            log.warning("unreadable move record %s; leaving it", path)
            continue
        src, dst = Path(intent.src), Path(intent.dst)
        if os.path.lexists(dst):  # the copy was complete (its rename is atomic)
            with contextlib.suppress(FileNotFoundError):
                src.unlink()
        with contextlib.suppress(FileNotFoundError):
            _temporary(dst).unlink()
        path.unlink()
        log.warning("finished an interrupted move of %s", src.name)
    return len(pending)


def _temporary(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}.move.tmp")


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_path(path.parent)


def _fsync_path(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
