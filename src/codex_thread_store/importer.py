"""Importing a rollout JSONL (from another Codex home, or `export --format jsonl`).

Into a local home the file is copied byte for byte into `sessions/YYYY/MM/DD/` under
its Codex file name (written to a temporary file and renamed, so a concurrent reader
never sees half of it), then indexed. Into any other store it is replayed through
`LiveThread`, which derives the metadata (its write times become the import time).

A thread id that already exists is a `Conflict`, unless `new_id` is set: then every
occurrence of the old id in the file becomes a fresh one. Ids have a fixed length, so
the file keeps every byte offset (what forks that reference it by offset rely on).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import Conflict, InvalidRequest, ThreadNotFound
from .ids import new_thread_id
from .protocol.rollout import RolloutLine
from .protocol.session_meta import SessionMeta
from .store import ThreadStore
from .timeutil import parse_timestamp
from .types import ReadThreadParams, StoredThread

__all__ = ["IMPORT_TEMP_MARK", "ImportedRollout", "import_rollout", "parse_import"]

#: In the name of an import's temporary file (`.<rollout name>.import-<pid>.tmp`), which
#: only a process killed mid-import leaves behind (doctor removes it).
IMPORT_TEMP_MARK = ".import-"


@dataclass(frozen=True)
class ImportedRollout:
    """A rollout ready to import: its bytes, decoded lines and identity."""

    data: bytes
    lines: list[RolloutLine]
    meta: SessionMeta
    file_name: str | None

    @property
    def thread_id(self) -> str:
        return self.meta.id


def parse_import(data: bytes, file_name: str | None = None) -> ImportedRollout:
    """Check that `data` is a rollout: its first line must be a readable `session_meta`.

    A torn last line (no newline) is dropped; malformed lines in the middle are kept
    (Codex skips them when reading, and so does this library).

    Raises:
        InvalidRequest: the data is not a rollout.
    """
    from .local.rollout_files import parse_rollout

    parsed = parse_rollout(data)
    if parsed.torn_tail:
        data = data[: data.rfind(b"\n") + 1]
    if not parsed.lines or parsed.lines[0].item.type != "session_meta":
        raise InvalidRequest("not a rollout JSONL: the first line must be a session_meta")
    meta = parsed.lines[0].item.as_session_meta()
    if meta is None:
        raise InvalidRequest("not a rollout JSONL: its session_meta has no valid id/timestamp")
    from .ids import parse_thread_id

    parse_thread_id(meta.id, what="session_meta id")
    if data and not data.endswith(b"\n"):
        data += b"\n"
    return ImportedRollout(data, parsed.lines, meta, file_name)


async def _exists(store: ThreadStore, thread_id: str) -> bool:
    try:
        await store.read_thread(ReadThreadParams(thread_id=thread_id, include_archived=True))
    except ThreadNotFound:
        return False
    return True


async def import_rollout(
    store: ThreadStore, rollout: ImportedRollout, *, new_id: bool = False
) -> StoredThread:
    """Add the rollout to `store` and return the imported thread.

    Raises:
        Conflict: the thread id exists in the store and `new_id` is not set.
        InvalidRequest: a fork whose parent (referenced by byte offset) is not in the store.
    """
    if new_id:
        fresh = str(new_thread_id())
        data = rollout.data.replace(rollout.thread_id.encode(), fresh.encode())
        rollout = parse_import(
            data, rollout.file_name and rollout.file_name.replace(rollout.thread_id, fresh)
        )
    elif await _exists(store, rollout.thread_id):
        raise Conflict(
            f"thread {rollout.thread_id} already exists in this store; "
            "pass --new-id to import a copy under a new id"
        )
    base = rollout.meta.history_base
    parent = base.get("thread_id") if isinstance(base, dict) else None
    if isinstance(parent, str) and not await _exists(store, parent):
        raise InvalidRequest(
            f"this rollout is a fork that reads its first turns from thread "
            f"{parent}, which is not in this store; export it with "
            "`codex-threads export --format jsonl` (which inlines them) and import that"
        )
    from .local import LocalThreadStore

    if isinstance(store, LocalThreadStore):
        return await _import_local(store, rollout)
    return await _import_replay(store, rollout)


async def _import_local(store: ThreadStore, rollout: ImportedRollout) -> StoredThread:
    from .local import LocalThreadStore
    from .local.layout import parse_rollout_name, rollout_file_name

    assert isinstance(store, LocalThreadStore)
    named = parse_rollout_name(rollout.file_name or "")
    if named is not None and named.thread_id == rollout.thread_id and not named.compressed:
        stamp = named.timestamp.replace(tzinfo=None)
    else:
        created = parse_timestamp(rollout.meta.timestamp) or datetime.now().astimezone()
        stamp = created.astimezone().replace(tzinfo=None)
    day = store.home.sessions / f"{stamp:%Y}" / f"{stamp:%m}" / f"{stamp:%d}"
    target = day / rollout_file_name(rollout.thread_id, stamp)
    await asyncio.to_thread(_write_new_file, target, rollout.data)
    thread = await store.read_thread(
        ReadThreadParams(thread_id=rollout.thread_id, include_archived=True)
    )
    await store.sync_codex_row(rollout.thread_id)  # so Codex lists it without a backfill
    return thread


def _write_new_file(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically; an existing `target` is a `Conflict`. A
    failure (a full disk) leaves nothing behind, not even the temporary file."""
    from .local.os_errors import typed_os_error

    tmp = target.with_name(f".{target.name}{IMPORT_TEMP_MARK}{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.link(tmp, target)  # fails if the target exists: never clobber a rollout
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    except FileExistsError:
        raise Conflict(f"{target} already exists; pass --new-id to import a copy") from None
    except OSError as exc:
        raise typed_os_error(exc, "importing", target, "nothing was imported") from None
    with contextlib.suppress(OSError):  # the new name's durability: best effort
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


async def _import_replay(store: ThreadStore, rollout: ImportedRollout) -> StoredThread:
    from .manager import ThreadManager
    from .types import CreateThreadParams, ThreadPersistenceMetadata

    meta = rollout.meta
    git = SessionMeta.git_from_payload(rollout.lines[0].item.payload)
    params = CreateThreadParams(
        thread_id=meta.id,
        session_id=meta.session_id,
        forked_from_id=meta.forked_from_id,
        parent_thread_id=meta.parent_thread_id,
        source=meta.source,
        thread_source=None if meta.thread_source is None else str(meta.thread_source),
        originator=meta.originator or "codex_cli_rs",
        cli_version=meta.cli_version or None,
        base_instructions=meta.base_instructions,
        dynamic_tools=meta.dynamic_tools or [],
        history_mode=meta.history_mode,
        git_info=git,
        metadata=ThreadPersistenceMetadata(
            cwd=meta.cwd or None,
            model_provider=meta.model_provider or "openai",
            memory_mode=meta.memory_mode or "enabled",
        ),
    )
    manager = ThreadManager(store, collect_git=False)
    try:
        live = await manager.start_thread(params)
        await live.append_items([line.item for line in rollout.lines[1:]])
        await live.persist()
    finally:
        await manager.aclose()
    return await store.read_thread(ReadThreadParams(thread_id=meta.id, include_archived=True))
