"""The transactions that write threads: create, resume, settle (materialize / release),
discard, metadata patches, archive, delete, and the exact bulk import of the copy engine.

Each function runs inside the caller's transaction (`Database.run`) and may be rerun
after a dropped connection, so each recognizes its own earlier commit where a rerun
would otherwise differ: `create` by the writer id it stored on the lease row, `delete`
by accepting "already gone" on a rerun. Patches and archiving are the same when applied
twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import msgspec

from ..errors import Conflict, ThreadNotFound
from ..patch import ThreadMetadataPatch
from ..projection import apply_patch
from ..timeutil import utc_now
from ..turns import TimedItem
from ..types import StoredThread
from . import history, leases, threads
from .db import Conn

__all__ = [
    "create",
    "delete",
    "discard",
    "import_thread",
    "patch_metadata",
    "resume",
    "set_archived",
    "settle",
]


async def create(
    conn: Conn,
    *,
    owner: str,
    thread: StoredThread,
    session_meta: TimedItem,
    writer_id: uuid.UUID,
    ttl_s: float,
) -> int:
    """Insert a lazily written thread, its `session_meta` (seq 0) and its lease; returns
    the fencing token. Raises `Conflict` when the id is taken."""
    thread_id = thread.thread_id
    await threads.reclaim_abandoned(conn, owner, thread_id)
    if not await threads.insert_thread(conn, owner, thread, materialized=False):
        cur = await conn.execute(
            "SELECT token FROM writer_leases"
            " WHERE owner = %s AND thread_id = %s AND writer_id = %s",
            (owner, thread_id, writer_id),
        )
        mine = await cur.fetchone()
        if mine is not None:
            return int(mine[0])  # a rerun: our first attempt committed
        raise Conflict(f"thread {thread_id} already exists; pick a new id")
    await history.insert_items(conn, owner, thread_id, [session_meta])
    if thread.parent_thread_id:
        await threads.add_spawn_edge(
            conn, owner, thread.parent_thread_id, thread_id, thread.created_at
        )
    return await leases.acquire(
        conn, owner=owner, thread_id=thread_id, writer_id=writer_id, ttl_s=ttl_s, next_seq=1
    )


async def resume(
    conn: Conn,
    *,
    owner: str,
    thread_id: str,
    pending: Sequence[str],
    include_archived: bool,
    writer_id: uuid.UUID,
    ttl_s: float,
) -> tuple[StoredThread, int]:
    """Take the lease of an existing thread; returns the thread and the fencing token."""
    thread = await threads.get_thread(
        conn, owner, thread_id, pending=pending, include_archived=include_archived
    )
    token = await leases.acquire(
        conn, owner=owner, thread_id=thread_id, writer_id=writer_id, ttl_s=ttl_s
    )
    return thread, token


async def settle(
    conn: Conn,
    *,
    owner: str,
    thread_id: str,
    token: int,
    ttl_s: float,
    materialize: bool,
    drop: bool,
    close: bool,
) -> None:
    """Fenced: materialize a lazy thread, or drop one that never was, and/or release."""
    await leases.check(conn, owner=owner, thread_id=thread_id, token=token, ttl_s=ttl_s)
    if drop:
        # Never materialized: like Codex's lazy rollout, it leaves nothing behind.
        await threads.delete_rows(conn, owner, thread_id)
        return
    if materialize:
        await conn.execute(
            "UPDATE threads SET materialized = true WHERE owner = %s AND thread_id = %s",
            (owner, thread_id),
        )
    if close:
        await leases.release(conn, owner=owner, thread_id=thread_id, token=token)


async def discard(
    conn: Conn, *, owner: str, thread_id: str, token: int, materialized: bool
) -> None:
    """Drop the writer: release the lease, or delete a thread never materialized. A
    no-op when the lease was taken over meanwhile (nothing of ours is left to drop)."""
    cur = await conn.execute(
        "SELECT 1 FROM writer_leases WHERE owner = %s AND thread_id = %s AND token = %s FOR UPDATE",
        (owner, thread_id, token),
    )
    if await cur.fetchone() is None:
        return
    if materialized:
        await leases.release(conn, owner=owner, thread_id=thread_id, token=token)
    else:
        await threads.delete_rows(conn, owner, thread_id)


async def import_thread(
    conn: Conn, *, owner: str, thread: StoredThread, items: Sequence[TimedItem], replace: bool
) -> None:
    """Store a whole thread exactly (every field, item times, archived state).

    Raises:
        Conflict: the id exists and `replace` is false, or a live writer holds it.
    """
    thread_id = thread.thread_id
    cur = await conn.execute(
        "SELECT l.writer_id IS NOT NULL AND l.expires_at > now()"
        " FROM threads t LEFT JOIN writer_leases l"
        "  ON l.owner = t.owner AND l.thread_id = t.thread_id"
        " WHERE t.owner = %s AND t.thread_id = %s FOR UPDATE OF t",
        (owner, thread_id),
    )
    existing = await cur.fetchone()
    if existing is not None:
        if not replace:
            raise Conflict(f"thread {thread_id} already exists in the target store")
        if existing[0]:
            raise Conflict(
                f"thread {thread_id} has a live writer in the target store; "
                "shut it down before replacing the thread"
            )
        await threads.delete_rows(conn, owner, thread_id)
    await threads.insert_thread(conn, owner, thread, materialized=True)
    await history.insert_items(conn, owner, thread_id, items)
    if thread.parent_thread_id:
        await threads.add_spawn_edge(
            conn, owner, thread.parent_thread_id, thread_id, thread.created_at
        )
    if thread.name is not None:
        await threads.record_name(conn, owner, thread_id, thread.name, thread.updated_at)
    # A released lease row carries the log head for the next writer.
    await conn.execute(
        "INSERT INTO writer_leases (owner, thread_id, next_seq, token, expires_at)"
        " VALUES (%s, %s, %s, nextval('lease_tokens'), now())",
        (owner, thread_id, len(items)),
    )


async def patch_metadata(
    conn: Conn,
    *,
    owner: str,
    thread_id: str,
    pending: Sequence[str],
    include_archived: bool,
    patch: ThreadMetadataPatch,
) -> StoredThread:
    # FOR UPDATE: concurrent patches from several processes apply one after the other
    # instead of overwriting each other's fields.
    thread = await threads.get_thread(
        conn, owner, thread_id, pending=pending, include_archived=include_archived, for_update=True
    )
    if patch.is_empty():
        return thread
    updated = apply_patch(thread, patch)
    if updated != thread:
        await threads.update_thread(conn, owner, updated)
    if updated.name != thread.name:
        await threads.record_name(conn, owner, thread_id, updated.name, utc_now())
    return updated


async def set_archived(
    conn: Conn, *, owner: str, thread_id: str, pending: Sequence[str], archived: bool
) -> StoredThread:
    thread = await threads.get_thread(
        conn, owner, thread_id, pending=pending, include_archived=True, for_update=True
    )
    if thread.is_archived == archived:
        return thread  # already so: archiving twice keeps the first time
    now = utc_now()
    changed = msgspec.structs.replace(
        thread,
        archived_at=now if archived else None,
        # Codex sorts an unarchived thread as just updated.
        updated_at=thread.updated_at if archived else max(thread.updated_at, now),
    )
    await conn.execute(
        "UPDATE threads SET archived_at = %s, updated_at = %s WHERE owner = %s AND thread_id = %s",
        (changed.archived_at, changed.updated_at, owner, thread_id),
    )
    return changed


async def delete(
    conn: Conn, *, owner: str, thread_id: str, pending: Sequence[str], rerun: bool
) -> None:
    """Delete the thread and everything stored for it; `rerun` (a retry after a dropped
    connection) accepts that an earlier attempt already did."""
    try:
        await threads.get_thread(
            conn, owner, thread_id, pending=pending, include_archived=True, for_update=True
        )
    except ThreadNotFound:
        if rerun:
            return
        raise
    await threads.delete_rows(conn, owner, thread_id)
