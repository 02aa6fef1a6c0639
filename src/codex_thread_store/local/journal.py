"""The metadata journal: every literal patch applied to a thread, in order (blocking I/O).

SQLite is a derived index, so a patch that cannot be re-derived from the rollout
(a rename, an explicit preview, recency) must live somewhere durable too. The
journal is replayed over the derived summaries when the index is rebuilt. It is
our file, in our own folder, so Codex never sees it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec

from ..codec import dec_hook, encode_json
from ..patch import ThreadMetadataPatch
from .file_lock import locked
from .rollout_files import append_record

__all__ = ["COMPACT_AT_BYTES", "append_delete", "append_patch", "compact", "read_patches"]

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


def append_patch(path: Path, thread_id: str, patch: ThreadMetadataPatch) -> None:
    line = encode_json(_Entry(thread_id, patch))
    _append(path, line)


def append_delete(path: Path, thread_id: str) -> None:
    """Forget the thread's earlier patches (its id may be created again later)."""
    _append(path, encode_json(_Delete(thread_id)))


def _append(path: Path, line: bytes) -> None:
    # No fsync: the index is derived, so losing the newest patches on a power cut only
    # falls back to what the rollout itself implies.
    with _locked(path):
        append_record(path, line, fsync=False)


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
        with open(tmp, "wb") as fh:
            for thread_id, patch in merged.items():
                fh.write(encode_json(_Entry(thread_id, patch)) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return before, path.stat().st_size


def read_patches(path: Path) -> Iterator[tuple[str, ThreadMetadataPatch | None]]:
    """(thread id, patch) in order; a None patch means "forget what came before"."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    entries = msgspec.json.Decoder(_Entry, dec_hook=dec_hook)
    deletes = msgspec.json.Decoder(_Delete)
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            if raw.startswith(b'{"deleted"'):
                yield deletes.decode(raw).deleted, None
            else:
                entry = entries.decode(raw)
                yield entry.thread_id, entry.patch
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue  # a torn or foreign line: the journal is best effort
