"""Writer leases: one live writer per thread across every process and machine.

A lease row holds a fencing `token` (from a database sequence, so it never repeats),
the `writer_id` of the holder and an `expires_at` the holder keeps pushing forward.
Acquiring succeeds when the row is free, expired, or already ours (a retried
acquisition). Every write a holder makes names its token; once another writer has
taken the lease over, the old token matches nothing and the write is a `Conflict`.
Expiry is judged by the database clock (`now()`), never a client's, so machines
with skewed clocks still agree on who holds a lease.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from ..errors import Conflict
from .db import Conn

__all__ = ["LeaseLost", "acquire", "check", "release", "renew_all"]


class LeaseLost(Conflict):
    """Another writer took this thread's lease over; this writer may no longer write."""

    def __init__(self, thread_id: str) -> None:
        super().__init__(
            f"thread {thread_id}: this writer's lease was taken over by another writer "
            "(it expired without renewal); nothing more was written. Resume the thread "
            "again once the other writer shuts down"
        )
        self.thread_id = thread_id


async def acquire(
    conn: Conn,
    *,
    owner: str,
    thread_id: str,
    writer_id: uuid.UUID,
    ttl_s: float,
    next_seq: int | None = None,
) -> int:
    """Take the lease and return its fencing token.

    `next_seq` seeds the log head when the row is new (a fresh thread); otherwise the
    head is derived from the items already stored.

    Raises:
        Conflict: another writer holds an unexpired lease.
    """
    cur = await conn.execute(
        "INSERT INTO writer_leases AS l"
        " (owner, thread_id, next_seq, token, writer_id, expires_at)"
        " VALUES (%(owner)s, %(tid)s,"
        "  coalesce(%(next_seq)s, (SELECT coalesce(max(seq), -1) + 1 FROM thread_items"
        "   WHERE owner = %(owner)s AND thread_id = %(tid)s)),"
        "  nextval('lease_tokens'), %(writer)s, now() + make_interval(secs => %(ttl)s))"
        " ON CONFLICT (owner, thread_id) DO UPDATE"
        " SET token = EXCLUDED.token, writer_id = EXCLUDED.writer_id,"
        "  expires_at = EXCLUDED.expires_at"
        " WHERE l.writer_id IS NULL OR l.expires_at <= now() OR l.writer_id = EXCLUDED.writer_id"
        " RETURNING l.token",
        {
            "owner": owner,
            "tid": thread_id,
            "next_seq": next_seq,
            "writer": writer_id,
            "ttl": ttl_s,
        },
    )
    row = await cur.fetchone()
    if row is not None:
        return int(row[0])
    cur = await conn.execute(
        "SELECT expires_at FROM writer_leases WHERE owner = %s AND thread_id = %s",
        (owner, thread_id),
    )
    held = await cur.fetchone()
    until = _fmt(held[0]) if held else "soon"
    raise Conflict(
        f"thread {thread_id} already has a live writer (its lease runs until {until}); "
        "shut that writer down, or wait for its lease to expire if its process died"
    )


async def check(conn: Conn, *, owner: str, thread_id: str, token: int, ttl_s: float) -> None:
    """Lock the lease row, confirm it is still ours and renew it (a fenced write's guard).

    Raises:
        LeaseLost: another writer holds it now (or the thread was deleted).
    """
    cur = await conn.execute(
        "UPDATE writer_leases SET expires_at = now() + make_interval(secs => %s)"
        " WHERE owner = %s AND thread_id = %s AND token = %s RETURNING 1",
        (ttl_s, owner, thread_id, token),
    )
    if await cur.fetchone() is None:
        raise LeaseLost(thread_id)


async def release(conn: Conn, *, owner: str, thread_id: str, token: int) -> None:
    """Give the lease up (a no-op when it is no longer ours)."""
    await conn.execute(
        "UPDATE writer_leases SET writer_id = NULL, expires_at = now()"
        " WHERE owner = %s AND thread_id = %s AND token = %s",
        (owner, thread_id, token),
    )


async def renew_all(conn: Conn, *, owner: str, held: dict[str, int], ttl_s: float) -> set[str]:
    """Renew every lease in `held` (thread id → token) in one statement; returns the
    thread ids whose lease is no longer ours."""
    if not held:
        return set()
    ids = list(held)
    cur = await conn.execute(
        "UPDATE writer_leases AS l SET expires_at = now() + make_interval(secs => %s)"
        " FROM unnest(%s::text[], %s::bigint[]) AS h(thread_id, token)"
        " WHERE l.owner = %s AND l.thread_id = h.thread_id AND l.token = h.token"
        " RETURNING l.thread_id",
        (ttl_s, ids, [held[i] for i in ids], owner),
    )
    renewed = {str(row[0]) for row in await cur.fetchall()}
    return set(ids) - renewed


def _fmt(value: datetime) -> str:
    return value.isoformat(timespec="seconds")
