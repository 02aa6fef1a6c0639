"""`RolloutRecorder`: the JSONL writer of one live thread (blocking; run in a worker thread).

Lazy: nothing touches the disk until `persist()` (or a flush/shutdown with items
pending), so a thread that is created and dropped leaves no file. Once
materialized, every append is one `write` of whole lines, flushed to the OS.

All or nothing: an append that fails (a full disk, an I/O error) leaves the file
exactly as it was, cut back to its last whole line, and raises a typed error; the
writer stays usable, and a retry neither duplicates nor glues lines together. Ordinals
advance only for lines that were written.

Durability policy (`Durability`):
- `"os"`: lines reach the OS on every append; no fsync (survives a process crash).
- `"flush"` (default): as `"os"`, plus fsync on `flush`, `persist` and `close`
  (what `flush_thread` acknowledges survives a power loss).
- `"append"`: fsync after every append.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path
from typing import Literal

import msgspec

from ..errors import Conflict, InvalidRequest, ResourceExhausted
from ..protocol.rollout import RolloutItem, RolloutLine, encode_line
from ..timeutil import format_rfc3339_ms
from .os_errors import typed_os_error
from .rollout_files import append_lines, repair_torn_tail

__all__ = ["Durability", "RolloutRecorder"]

Durability = Literal["os", "flush", "append"]


class RolloutRecorder:
    """Writes one thread's rollout file.

    Args:
        path: the rollout file (created on materialization if missing).
        materialized: the file already exists (a resumed thread).
        next_ordinal: the next dense ordinal, for paginated threads; None for legacy.
    """

    def __init__(
        self,
        path: Path,
        *,
        materialized: bool,
        next_ordinal: int | None,
        durability: Durability,
        max_item_bytes: int,
    ) -> None:
        self.path = path
        self._fd: int | None = None
        self._pending: list[bytes] = []
        self._pending_items = 0
        self._materialized = materialized
        self._next_ordinal = next_ordinal
        self._durability = durability
        self._max_item_bytes = max_item_bytes
        self._cut_at: int | None = None
        self.closed = False

    @property
    def materialized(self) -> bool:
        return self._materialized

    @property
    def pending_lines(self) -> list[bytes]:
        """Encoded lines not yet on disk (the lazy buffer)."""
        return list(self._pending)

    def encode(self, items: list[RolloutItem], now: datetime) -> list[bytes]:
        """Encode items as lines (timestamp, ordinal), checking the size limit first.

        Raises:
            ResourceExhausted: an item is over the limit; nothing is encoded or written.
        """
        stamp = format_rfc3339_ms(now)
        lines = []
        ordinal = self._next_ordinal
        for item in items:
            try:
                line = encode_line(RolloutLine(stamp, item, ordinal))
            except (UnicodeEncodeError, TypeError, msgspec.EncodeError) as exc:
                raise InvalidRequest(
                    f"a {item.type} item cannot be written as JSON ({exc}); nothing was "
                    "appended. Items must hold JSON values and valid Unicode text"
                ) from None
            if len(line) > self._max_item_bytes:
                raise ResourceExhausted(
                    f"a {item.type} line is {len(line)} bytes, over the {self._max_item_bytes}"
                    "-byte limit (LocalThreadStoreConfig.max_item_bytes); nothing was appended"
                )
            lines.append(line)
            if ordinal is not None:
                ordinal += 1
        return lines

    def write(self, lines: list[bytes], *, counts_as_items: bool = True) -> None:
        """Append encoded lines: to the file once materialized, else to the buffer.

        Raises:
            ResourceExhausted, PermissionDenied, Unavailable: the write failed; the file
                is as it was and nothing was appended.
        """
        if not lines:
            return
        if self.closed:
            raise Conflict(f"the writer of {self.path.name} is closed; resume the thread first")
        if not self._materialized:
            self._pending.extend(lines)
            if counts_as_items:
                self._pending_items += len(lines)
        else:
            try:
                self._append(lines, fsync=self._durability == "append")
            except OSError as exc:
                raise typed_os_error(
                    exc, "appending to", self.path, "nothing was appended"
                ) from None
        if self._next_ordinal is not None:
            self._next_ordinal += len(lines)

    def _append(self, lines: list[bytes], *, fsync: bool) -> None:
        """Write whole lines, or cut the file back to where it was and re-raise."""
        fd = self._open()
        start = os.fstat(fd).st_size
        try:
            append_lines(fd, lines, fsync=fsync)
        except BaseException:
            self._cut_back(fd, start)
            raise

    def _cut_back(self, fd: int, size: int) -> None:
        try:
            os.ftruncate(fd, size)
        except OSError:
            # Cut before the next write instead (the fragment has no newline, so readers
            # already skip it).
            self._cut_at = size
        else:
            self._cut_at = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Never through a link: a rollout that is a symbolic link is only read.
            flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
            fd = os.open(self.path, flags, 0o644)
            try:
                repair_torn_tail(fd)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        if self._cut_at is not None:  # an earlier failed write left a fragment
            os.ftruncate(self._fd, self._cut_at)
            self._cut_at = None
        return self._fd

    def move_to(self, path: Path) -> None:
        """The file now lives at `path` (archived, unarchived): write there from now on."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.path = path

    def persist(self) -> None:
        """Materialize the file (session_meta first, then buffered lines) and sync it.

        All or nothing: if the lines cannot be written, no file is left behind (or, for
        an existing file, it is cut back) and the lines stay buffered for a retry.
        """
        if not self._materialized:
            created = not self.path.exists()
            try:
                self._append(self._pending, fsync=False)
                _fsync_dir(self.path.parent)
            except OSError as exc:
                if created:
                    self._remove_new_file()
                raise typed_os_error(
                    exc, "creating", self.path, "nothing was written; the items are kept"
                ) from None
            self._pending.clear()
            self._pending_items = 0
            self._materialized = True
        self._sync()

    def _remove_new_file(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._cut_at = None
        with contextlib.suppress(OSError):
            self.path.unlink()

    def flush(self) -> None:
        """Make appended items durable; a lazy thread with items materializes first."""
        if not self._materialized:
            if self._pending_items:
                self.persist()
            return
        self._sync()

    def _sync(self) -> None:
        if self._fd is not None and self._durability in ("flush", "append"):
            try:
                os.fsync(self._fd)
            except OSError as exc:
                raise typed_os_error(
                    exc, "syncing", self.path, "the appended items may not survive a power loss"
                ) from None

    def close(self, *, flush: bool) -> None:
        if self.closed:
            return
        try:
            if flush:
                self.flush()
        finally:
            self.closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _fsync_dir(path: Path) -> None:
    # A new file's directory entry is durable only once the directory is synced.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
