"""Blocking rollout-file I/O: reading lines (plain or zstd) and durable appends.

Sync code only: callers run these in a worker thread. The reader never fails on
bad content: malformed lines are skipped and counted, a torn final line (a crash
mid-write) is ignored. The appender repairs a torn final line before writing, so
a new line is never glued onto a fragment.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from ..gc_pause import paused_gc
from ..protocol.rollout import MalformedLine, RolloutLine, decode_body, decode_line

__all__ = [
    "last_ordinal",
    "ReadResult",
    "append_lines",
    "append_record",
    "compressed_sibling",
    "existing_rollout",
    "read_lines_if_exists",
    "read_rollout",
    "read_rollout_bytes",
    "remove_record",
    "repair_torn_tail",
]


@dataclass(slots=True)
class ReadResult:
    """The decodable lines of a rollout, with their byte offsets, and what was skipped."""

    lines: list[RolloutLine] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    malformed: int = 0
    torn_tail: bool = False
    size: int = 0


def compressed_sibling(path: Path) -> Path:
    return path.with_name(path.name + ".zst")


def existing_rollout(path: Path) -> Path | None:
    """The plain file if it exists (plain wins), else its `.zst` sibling, else None."""
    if path.exists():
        return path
    zst = compressed_sibling(path)
    return zst if zst.exists() else None


def read_rollout_bytes(path: Path) -> bytes:
    """The logical bytes of a rollout: plain, or the decompressed `.zst` sibling."""
    actual = existing_rollout(path)
    if actual is None:
        raise FileNotFoundError(path)
    data = actual.read_bytes()
    if actual.suffix == ".zst":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


def iter_lines(data: bytes) -> Iterator[tuple[int, bytes, bool]]:
    """(offset, line without newline, terminated) for each line of `data`."""
    start = 0
    size = len(data)
    while start < size:
        end = data.find(b"\n", start)
        if end < 0:
            yield start, data[start:], False
            return
        yield start, data[start:end], True
        start = end + 1


def parse_rollout(data: bytes, base_offset: int = 0) -> ReadResult:
    with paused_gc():
        return _parse(data, base_offset)


def _parse(data: bytes, base_offset: int) -> ReadResult:
    result = ReadResult(size=base_offset + len(data))
    lines, offsets = result.lines, result.offsets
    pieces = data.split(b"\n")  # in C: a long rollout is hundreds of thousands of lines
    last = len(pieces) - 1
    offset = base_offset
    for index, raw in enumerate(pieces):
        start = offset
        offset += len(raw) + 1
        body = raw.rstrip(b"\r")
        if not body or body.isspace():
            continue
        try:
            line = decode_body(body)
        except MalformedLine:
            if index < last:
                result.malformed += 1
            else:
                result.torn_tail = True
            continue
        lines.append(line)
        offsets.append(start)
    return result


def read_rollout(path: Path) -> ReadResult:
    """Every decodable line of the rollout at `path` (plain or `.zst`)."""
    return parse_rollout(read_rollout_bytes(path))


def read_lines_if_exists(path: Path) -> list[RolloutLine]:
    """The decodable lines of the rollout at `path`, none when it does not exist."""
    try:
        return read_rollout(path).lines
    except FileNotFoundError:
        return []


_TAIL_BYTES = 1 << 20


def last_ordinal(path: Path) -> int | None:
    """The highest ordinal among the lines in the last MiB of the plain rollout at
    `path`: where a writer resuming a paginated thread goes on, found without reading a
    long file whole. None when the tail holds no line with one (or the file cannot be
    read this way): the caller then reads the whole file."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            start = max(0, size - _TAIL_BYTES)
            f.seek(start)
            data = f.read()
    except OSError:
        return None
    raws = data.split(b"\n")
    if start > 0:
        raws = raws[1:]  # the first piece may be the end of a line cut by the window
    ordinals = []
    for raw in raws:
        if not raw.strip():
            continue
        try:
            ordinal = decode_line(raw).ordinal
        except MalformedLine:
            continue
        if ordinal is not None:
            ordinals.append(ordinal)
    return max(ordinals) if ordinals else None


def repair_torn_tail(fd: int) -> int:
    """Make the file open as `fd` end in a newline; returns the new size.

    A crash mid-write leaves a fragment with no newline: it is cut, or the next
    appended line would be glued to it and both would be lost to readers. A last line
    that is complete JSON but lacks its newline (another writer's habit, not a crash)
    is kept, and terminated.
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return 0
    if os.pread(fd, 1, size - 1) == b"\n":
        return size
    # Walk back to the previous newline in 64 KiB steps.
    pos = size
    cut = 0
    while pos > 0:
        step = min(65536, pos)
        pos -= step
        chunk = os.pread(fd, step, pos)
        at = chunk.rfind(b"\n")
        if at >= 0:
            cut = pos + at + 1
            break
    tail = os.pread(fd, size - cut, cut)
    try:
        decode_line(tail)
    except MalformedLine:
        os.ftruncate(fd, cut)
        return cut
    os.pwrite(fd, b"\n", size)
    return size + 1


def append_record(path: Path, line: bytes, *, fsync: bool) -> int:
    """Append one line to a small append-only file (names, journal), repairing a torn tail.

    All or nothing: a failed write is cut back off. Returns the offset the line starts
    at (see `remove_record`). The caller holds the file's lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = repair_torn_tail(fd)
        try:
            append_lines(fd, [line], fsync=fsync)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise
        return start
    finally:
        os.close(fd)


def remove_record(path: Path, start: int, line: bytes) -> bool:
    """Take back the line `append_record` wrote at `start`, if it is still the file's last
    (the caller holds the file's lock). Returns whether it was taken back."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        end = start + len(line) + 1
        if os.fstat(fd).st_size != end or os.pread(fd, len(line) + 1, start) != line + b"\n":
            return False
        os.ftruncate(fd, start)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def append_lines(fd: int, lines: list[bytes], *, fsync: bool) -> int:
    """Append newline-terminated `lines` to `fd` (opened O_APPEND) in one write.

    Returns the byte count written. One `write` per call keeps concurrent readers
    from seeing half a batch more often than the OS allows.
    """
    if not lines:
        return 0
    payload = b"".join(line + b"\n" for line in lines)
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    if fsync:
        os.fsync(fd)
    return len(payload)
