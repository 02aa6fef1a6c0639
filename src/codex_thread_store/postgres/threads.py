"""Thread rows: read, insert, update and delete, each scoped to one owner.

A thread that is only lazily written (`materialized = false`) is visible to the store
instance that owns its live writer and to nobody else, exactly as Codex writes no
rollout file until then. If that writer's process dies first, the row is abandoned:
invisible, and reclaimed when the id is created again (`reclaim_abandoned`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from psycopg import sql

from ..errors import ThreadNotFound
from ..types import StoredThread
from .db import Conn
from .queries import SELECT_THREAD, visible_clause
from .rows import DERIVED_COLUMNS, THREAD_COLUMNS, thread_from_row, thread_values

__all__ = [
    "delete_rows",
    "get_thread",
    "insert_thread",
    "reclaim_abandoned",
    "record_name",
    "update_thread",
]

_WRITE_COLUMNS = (*THREAD_COLUMNS, *DERIVED_COLUMNS)
_TABLES_BY_THREAD = ("thread_items", "append_keys", "thread_names", "writer_leases")

_ARCHIVED_HINT = "it is archived; pass include_archived=True"


async def get_thread(
    conn: Conn,
    owner: str,
    thread_id: str,
    *,
    pending: Sequence[str],
    include_archived: bool,
    for_update: bool = False,
) -> StoredThread:
    """The thread, or `ThreadNotFound` (also for another owner's id: no existence leak)."""
    visible, args = visible_clause(pending)
    query = sql.SQL(
        "SELECT {cols} FROM threads t WHERE t.owner = %s AND t.thread_id = %s AND {visible}{lock}"
    ).format(
        cols=SELECT_THREAD,
        visible=visible,
        lock=sql.SQL(" FOR UPDATE" if for_update else ""),
    )
    cur = await conn.execute(query, [owner, thread_id, *args])
    row = await cur.fetchone()
    if row is None:
        raise ThreadNotFound(thread_id)
    thread = thread_from_row(row)
    if thread.is_archived and not include_archived:
        raise ThreadNotFound(thread_id, _ARCHIVED_HINT)
    return thread


async def insert_thread(
    conn: Conn, owner: str, thread: StoredThread, *, materialized: bool
) -> bool:
    """Insert the row; False when the id is taken (nothing is changed then)."""
    values = thread_values(thread)
    columns = ["owner", *_WRITE_COLUMNS, "materialized"]
    query = sql.SQL(
        "INSERT INTO threads ({cols}) VALUES ({vals}) ON CONFLICT (owner, thread_id) DO NOTHING"
        " RETURNING 1"
    ).format(
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        vals=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    cur = await conn.execute(query, [owner, *(values[c] for c in _WRITE_COLUMNS), materialized])
    return await cur.fetchone() is not None


async def update_thread(conn: Conn, owner: str, thread: StoredThread) -> None:
    """Write every field of `thread` over its row (the caller holds the row lock)."""
    values = thread_values(thread)
    columns = [c for c in _WRITE_COLUMNS if c != "thread_id"]
    query = sql.SQL("UPDATE threads SET {sets} WHERE owner = %s AND thread_id = %s").format(
        sets=sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns)
    )
    await conn.execute(query, [*(values[c] for c in columns), owner, thread.thread_id])


async def record_name(
    conn: Conn, owner: str, thread_id: str, name: str | None, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO thread_names (owner, thread_id, name, set_at) VALUES (%s, %s, %s, %s)",
        (owner, thread_id, name, at),
    )


async def add_spawn_edge(
    conn: Conn, owner: str, parent_id: str, child_id: str, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO spawn_edges (owner, parent_thread_id, child_thread_id, created_at)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (owner, parent_id, child_id, at),
    )


async def delete_rows(conn: Conn, owner: str, thread_id: str) -> bool:
    """Remove the thread and everything stored for it; False when there was no row.

    Edges where it is the *parent* stay: its children still name it as their parent,
    as in every other store.
    """
    cur = await conn.execute(
        "DELETE FROM threads WHERE owner = %s AND thread_id = %s RETURNING 1", (owner, thread_id)
    )
    existed = await cur.fetchone() is not None
    for table in _TABLES_BY_THREAD:
        await conn.execute(
            sql.SQL("DELETE FROM {} WHERE owner = %s AND thread_id = %s").format(
                sql.Identifier(table)
            ),
            (owner, thread_id),
        )
    await conn.execute(
        "DELETE FROM spawn_edges WHERE owner = %s AND child_thread_id = %s", (owner, thread_id)
    )
    return existed


async def reclaim_abandoned(conn: Conn, owner: str, thread_id: str) -> None:
    """Delete a lazily written thread whose writer is gone (no live lease), so its id
    can be created again: it was never materialized, so nothing durable is lost."""
    cur = await conn.execute(
        "SELECT 1 FROM threads t WHERE t.owner = %(owner)s AND t.thread_id = %(tid)s"
        " AND NOT t.materialized AND NOT EXISTS (SELECT 1 FROM writer_leases l"
        "  WHERE l.owner = t.owner AND l.thread_id = t.thread_id"
        "  AND l.writer_id IS NOT NULL AND l.expires_at > now())"
        " FOR UPDATE",
        {"owner": owner, "tid": thread_id},
    )
    if await cur.fetchone() is not None:
        await delete_rows(conn, owner, thread_id)
