"""Helpers of the PostgreSQL store's tests: raw SQL access for inspecting or breaking rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from codex_thread_store.postgres import PostgresThreadStore

StoreMaker = Callable[..., PostgresThreadStore]


def sql(dsn: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement as a superuser outside any store (for inspecting or breaking rows)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET search_path TO codex_thread_store, public")
        cur = conn.execute(query.encode(), params)
        return cur.fetchall() if cur.description is not None else []


def expire_lease(dsn: str, owner: str, thread_id: str) -> None:
    """Make a writer's lease look expired, as if its process stopped renewing it."""
    sql(
        dsn,
        "UPDATE writer_leases SET expires_at = now() - interval '1 second'"
        " WHERE owner = %s AND thread_id = %s",
        (owner, thread_id),
    )
