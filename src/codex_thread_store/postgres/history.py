"""History rows: the fenced, idempotent append and the reads.

An append is one transaction that costs O(items appended): it locks the thread's
lease row, checks the fencing token, takes `next_seq` and renews the lease in one
UPDATE, then inserts the new rows. Nothing already stored is read or rewritten.

Idempotency works at two levels:
- every call carries an *attempt key* (random, made once per call), stored on the
  lease row in the same transaction, so a retry after a connection dropped just
  after COMMIT sees its own key and returns without writing again;
- a caller's `idempotency_key` is kept in `append_keys` with a hash of the items,
  so a later retry (even from another process or after a takeover) with the same
  key and items succeeds without duplicating, and the same key with other items
  is a `Conflict`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..errors import Conflict
from ..gc_pause import paused_gc
from ..protocol.rollout import RolloutItem
from ..timeutil import from_ms, to_ms
from ..turns import TimedItem
from .db import Conn
from .leases import LeaseLost
from .rows import ITEM_COLUMNS, decode_item, item_row

__all__ = ["PreparedAppend", "append", "count_items", "insert_items", "load_items", "prepare"]

_INSERT_ITEM = (
    f"INSERT INTO thread_items ({', '.join(ITEM_COLUMNS)})"
    f" VALUES ({', '.join(['%s'] * len(ITEM_COLUMNS))})"
)

_COPY_ITEMS = f"COPY thread_items ({', '.join(ITEM_COLUMNS)}) FROM STDIN"


@dataclass(frozen=True)
class PreparedAppend:
    """The encoded items of one append call and its keys (built once, reused by retries)."""

    items: list[RolloutItem]
    payloads: list[bytes]
    created_at: datetime
    attempt_key: str
    caller_key: str | None
    request_hash: bytes


def prepare(
    items: list[RolloutItem],
    payloads: list[bytes],
    created_at: datetime,
    attempt_key: str,
    caller_key: str | None,
) -> PreparedAppend:
    digest = hashlib.sha256()
    for payload in payloads:
        # Length-prefixed so two different splits of the same bytes hash differently.
        digest.update(len(payload).to_bytes(8, "big"))
        digest.update(payload)
    return PreparedAppend(items, payloads, created_at, attempt_key, caller_key, digest.digest())


async def append(
    conn: Conn, *, owner: str, thread_id: str, token: int, ttl_s: float, batch: PreparedAppend
) -> bool:
    """Store `batch` after the thread's last item; False when it was already stored.

    Raises:
        Conflict: the caller's key was used before with other items.
        LeaseLost: another writer holds the lease now.
    """
    if batch.caller_key is not None:
        cur = await conn.execute(
            "SELECT request_hash FROM append_keys WHERE owner = %s AND thread_id = %s AND key = %s",
            (owner, thread_id, batch.caller_key),
        )
        seen = await cur.fetchone()
        if seen is not None:
            if bytes(seen[0]) == batch.request_hash:
                return False
            raise Conflict(
                f"idempotency key {batch.caller_key!r} was already used on thread {thread_id} "
                "with different items; use a new key for a new append"
            )
    count = len(batch.items)
    cur = await conn.execute(
        "UPDATE writer_leases SET next_seq = next_seq + %(n)s,"
        " expires_at = now() + make_interval(secs => %(ttl)s), last_append_key = %(attempt)s"
        " WHERE owner = %(owner)s AND thread_id = %(tid)s AND token = %(token)s"
        " AND last_append_key IS DISTINCT FROM %(attempt)s"
        " RETURNING next_seq - %(n)s",
        {
            "n": count,
            "ttl": ttl_s,
            "attempt": batch.attempt_key,
            "owner": owner,
            "tid": thread_id,
            "token": token,
        },
    )
    head = await cur.fetchone()
    if head is None:
        cur = await conn.execute(
            "SELECT last_append_key FROM writer_leases WHERE owner = %s AND thread_id = %s",
            (owner, thread_id),
        )
        lease = await cur.fetchone()
        if lease is not None and lease[0] == batch.attempt_key:
            return False  # an earlier attempt of this very call committed
        raise LeaseLost(thread_id)
    first = int(head[0])
    rows = [
        item_row(owner, thread_id, first + i, item, payload, batch.created_at)
        for i, (item, payload) in enumerate(zip(batch.items, batch.payloads, strict=True))
    ]
    async with conn.cursor() as cur:
        await cur.executemany(_INSERT_ITEM, rows)
    if batch.caller_key is not None:
        await conn.execute(
            "INSERT INTO append_keys (owner, thread_id, key, request_hash, first_seq, item_count)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (owner, thread_id, batch.caller_key, batch.request_hash, first, count),
        )
    return True


async def insert_items(conn: Conn, owner: str, thread_id: str, items: Sequence[TimedItem]) -> None:
    """Bulk-load a new thread's history rows from seq 0 with COPY (creation and imports)."""
    async with conn.cursor() as cur, cur.copy(_COPY_ITEMS) as copy:
        for seq, timed in enumerate(items):
            await copy.write_row(
                item_row(
                    owner,
                    thread_id,
                    seq,
                    timed.item,
                    timed.item.encode(),
                    from_ms(timed.created_at_ms),
                )
            )


async def load_items(conn: Conn, owner: str, thread_id: str) -> list[TimedItem]:
    """The whole history in order, with each item's write time."""
    cur = conn.cursor(binary=True)
    await cur.execute(
        "SELECT created_at, payload FROM thread_items WHERE owner = %s AND thread_id = %s"
        " ORDER BY seq",
        (owner, thread_id),
    )
    with paused_gc():  # a long history is many objects at once, none of them garbage
        return [
            TimedItem(to_ms(created_at), decode_item(bytes(payload)))
            for created_at, payload in await cur.fetchall()
        ]


async def count_items(conn: Conn, owner: str, thread_id: str) -> int:
    cur = await conn.execute(
        "SELECT count(*) FROM thread_items WHERE owner = %s AND thread_id = %s",
        (owner, thread_id),
    )
    row = await cur.fetchone()
    return 0 if row is None else int(row[0])
