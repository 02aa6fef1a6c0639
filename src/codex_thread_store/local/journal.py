"""The metadata journal: every literal patch applied to a thread, in order (blocking I/O).

SQLite is a derived index, so a patch that cannot be re-derived from the rollout
(a rename, an explicit preview, recency) must live somewhere durable too. The
journal is replayed over the derived summaries when the index is rebuilt. It is
our file, in our own folder, so Codex never sees it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec

from ..codec import dec_hook, encode_json
from ..patch import ThreadMetadataPatch

__all__ = ["append_patch", "read_patches"]

_lock = threading.Lock()


class _Entry(msgspec.Struct, frozen=True):
    thread_id: str
    patch: ThreadMetadataPatch


class _Delete(msgspec.Struct, frozen=True):
    deleted: str


def append_patch(path: Path, thread_id: str, patch: ThreadMetadataPatch) -> None:
    line = encode_json(_Entry(thread_id, patch)) + b"\n"
    _append(path, line)


def append_delete(path: Path, thread_id: str) -> None:
    """Forget the thread's earlier patches (its id may be created again later)."""
    _append(path, encode_json(_Delete(thread_id)) + b"\n")


def _append(path: Path, line: bytes) -> None:
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            from .rollout_files import repair_torn_tail

            repair_torn_tail(fd)
            os.write(fd, line)
        finally:
            os.close(fd)


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
