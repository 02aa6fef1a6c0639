"""The connection pool and the one way the store talks to PostgreSQL: `Database.run`.

`run` executes a function inside one transaction on a pooled connection. When the
connection drops, the server restarts or a transaction hits a serialization
failure, the whole transaction is rolled back by the server and `run` runs the
function again on a fresh connection, with backoff, until the retry deadline.
That is only safe because every function handed to `run` is idempotent: reads
trivially, and every write detects its own earlier commit (appends by their
attempt key, creates by their writer id; see `store.py`). A failure that will
not be retried is raised as a typed error from `errors.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
import psycopg_pool
from psycopg import AsyncConnection, sql

from ..errors import ThreadStoreError
from .config import PostgresThreadStoreConfig
from .errors import Fault, StoreUnavailable, classify, translate

__all__ = ["Conn", "Database"]

Conn = AsyncConnection[tuple[Any, ...]]
T = TypeVar("T")

_FIRST_BACKOFF_S = 0.05
_MAX_BACKOFF_S = 1.0


class Database:
    """A lazily opened `AsyncConnectionPool` plus the retrying transaction runner."""

    def __init__(self, config: PostgresThreadStoreConfig) -> None:
        self.config = config
        self._pool: psycopg_pool.AsyncConnectionPool[Conn] | None = None
        self._closed = False
        self.retries = 0
        """How many times a transaction was rerun after a fault (for tests and logs)."""

    async def _configure(self, conn: Conn) -> None:
        # Unqualified table names resolve to our schema; `public` stays reachable for
        # extensions installed there.
        await conn.execute(
            sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.config.schema))
        )

    async def open(self) -> None:
        if self._closed:
            raise StoreUnavailable("this PostgreSQL thread store was closed; open a new one")
        if self._pool is not None:
            return
        pool: psycopg_pool.AsyncConnectionPool[Conn] = psycopg_pool.AsyncConnectionPool(
            self.config.conninfo,
            min_size=self.config.pool_min_size,
            max_size=self.config.pool_max_size,
            kwargs={"autocommit": True},
            configure=self._configure,
            open=False,
            name=f"codex-thread-store[{self.config.schema}]",
        )
        await pool.open(wait=False)
        self._pool = pool

    async def close(self) -> None:
        self._closed = True
        await self.release_pool()

    async def release_pool(self) -> None:
        """Close the pool and its connections (and its reconnect attempts); the next
        operation opens a new one unless the store was closed."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def run(
        self,
        what: str,
        fn: Callable[[Conn], Awaitable[T]],
        *,
        deadline_s: float | None = None,
        transaction: bool = True,
    ) -> T:
        """`fn(conn)` in one transaction; retried on connection faults until the deadline
        (`deadline_s`, else the configured `retry_deadline_s`).

        `transaction=False` runs `fn` in autocommit mode (reads only), which saves the
        BEGIN and COMMIT round trips.

        Raises:
            StoreUnavailable: the server stayed unreachable past the deadline.
            ThreadStoreError: whatever `fn` raised (its transaction is rolled back).
        """
        await self.open()
        pool = self._pool
        assert pool is not None
        budget = self.config.retry_deadline_s if deadline_s is None else deadline_s
        deadline = time.monotonic() + budget
        backoff = _FIRST_BACKOFF_S
        while True:
            try:
                wait = max(0.1, deadline - time.monotonic())
                async with pool.connection(timeout=wait) as conn:
                    if not transaction:
                        return await fn(conn)
                    async with conn.transaction():
                        return await fn(conn)
            except ThreadStoreError:
                raise
            except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
                fault = classify(exc)
                if fault is Fault.FATAL or time.monotonic() + backoff > deadline:
                    raise translate(exc, server=self.config.describe(), what=what) from exc
                if fault is Fault.CONNECTION:
                    # After a restart every idle pooled connection is dead: drop them all
                    # now instead of failing on each one in turn.
                    await pool.check()
                self.retries += 1
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
