"""The metadata journal: every literal patch applied to a thread, in order (blocking I/O).

SQLite is a derived index, so a patch that cannot be re-derived from the rollout
(a rename, an explicit preview, recency) must live somewhere durable too. The
journal is replayed over the derived summaries when the index is rebuilt. It is
our file, in our own folder, so Codex never sees it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from ..codec import dec_hook, encode_json
from ..errors import ThreadStoreError
from ..patch import ThreadMetadataPatch
from .file_lock import locked
from .rollout_files import append_record, remove_record

__all__ = [
    "COMPACT_AT_BYTES",
    "append_delete",
    "append_patch",
    "compact",
    "damaged_lines",
    "read_patches",
]

log = logging.getLogger(__name__)
_lock = threading.Lock()
#: Opening a store compacts a journal bigger than this (one merged patch per thread).
COMPACT_AT_BYTES = 4 * 1024 * 1024


def _locked(path: Path) -> contextlib.AbstractContextManager[None]:
    return locked(path, _lock)


class _Entry(msgspec.Struct, frozen=True):
    thread_id: str
    patch: ThreadMetadataPatch


class _Delete(msgspec.Struct, frozen=True):
    deleted: str


def append_patch(path: Path, thread_id: str, patch: ThreadMetadataPatch) -> Callable[[], bool]:
    """Journal a patch, all or nothing; returns how to take it back (while nothing was
    appended after it)."""
    return _append(path, encode_json(_Entry(thread_id, patch)))


def append_delete(path: Path, thread_id: str) -> None:
    """Forget the thread's earlier patches (its id may be created again later)."""
    _append(path, encode_json(_Delete(thread_id)))


def _append(path: Path, line: bytes) -> Callable[[], bool]:
    # No fsync: the index is derived, so losing the newest patches on a power cut only
    # falls back to what the rollout itself implies.
    with _locked(path):
        start = append_record(path, line, fsync=False)

    def take_back() -> bool:
        with _locked(path):
            return remove_record(path, start, line)

    return take_back


def merged_patches(path: Path) -> dict[str, ThreadMetadataPatch]:
    """Each thread's patches merged in order (a delete forgets what came before)."""
    merged: dict[str, ThreadMetadataPatch] = {}
    for thread_id, patch in read_patches(path):
        if patch is None:
            merged.pop(thread_id, None)
        else:
            prior = merged.get(thread_id)
            merged[thread_id] = patch if prior is None else prior.merge(patch)
    return merged


def compact(path: Path) -> tuple[int, int]:
    """Rewrite the journal as one merged patch per thread (temp file, fsync, atomic
    rename). Returns (bytes before, bytes after)."""
    with _locked(path):
        try:
            before = path.stat().st_size
        except FileNotFoundError:
            return 0, 0
        merged = merged_patches(path)
        tmp = path.with_name(path.name + ".tmp")
        try:
            with open(tmp, "wb") as fh:
                for thread_id, patch in merged.items():
                    fh.write(encode_json(_Entry(thread_id, patch)) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()  # a full disk leaves no half-written copy behind
            raise
        return before, path.stat().st_size


def read_patches(path: Path) -> Iterator[tuple[str, ThreadMetadataPatch | None]]:
    """(thread id, patch) in order; a None patch means "forget what came before".
    Damaged lines are skipped (`damaged_lines` counts them)."""
    entries, _ = _scan(path)
    yield from entries


def damaged_lines(path: Path) -> int:
    """How many lines of the journal cannot be read (doctor reports them; a compaction,
    which `doctor --repair` runs, drops them)."""
    return _scan(path)[1]


def _scan(path: Path) -> tuple[list[tuple[str, ThreadMetadataPatch | None]], int]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    except OSError as exc:  # a folder in its place, unreadable: nothing to replay
        log.warning("the metadata journal %s cannot be read (%s); ignoring it", path, exc)
        return [], 1
    entries = msgspec.json.Decoder(_Entry, dec_hook=dec_hook)
    deletes = msgspec.json.Decoder(_Delete)
    out: list[tuple[str, ThreadMetadataPatch | None]] = []
    damaged = 0
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            if raw.startswith(b'{"deleted"'):
                out.append((deletes.decode(raw).deleted, None))
            else:
                entry = entries.decode(raw)
                out.append((entry.thread_id, entry.patch))
        except (
            msgspec.DecodeError,
            msgspec.ValidationError,
            ValueError,
            RecursionError,
            ThreadStoreError,
        ):
            damaged += 1  # a torn, damaged or foreign line: the journal is best effort
    return out, damaged
