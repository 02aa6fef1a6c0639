"""The one thread that owns the SQLite connection (the aiosqlite model, per transaction)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

__all__ = ["IndexDb"]

P = ParamSpec("P")
T = TypeVar("T")


class IndexDb:
    """Runs `fn(conn, ...)` calls one at a time on a dedicated thread."""

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._executor = executor

    async def run(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        loop = asyncio.get_running_loop()
        call: Callable[[], T] = partial(fn, self._conn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(...)` on the owner thread without the connection (other databases
        whose access must be serialised with the index's)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(fn, *args, **kwargs))

    def close(self) -> Any:
        self._executor.submit(self._conn.close).result()
        self._executor.shutdown(wait=True)
