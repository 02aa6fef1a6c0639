"""The one thread that owns the SQLite connection (the aiosqlite model, per transaction).

Every failure of the index comes out typed: a damaged file as `IndexDamaged` (the store
moves it aside, rebuilds it from the rollouts and retries), a full disk, a read-only
home or a lock another process holds as the matching `ThreadStoreError`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

import msgspec

from ..errors import Unavailable
from .os_errors import typed_sqlite_error

__all__ = ["IndexDamaged", "IndexDb"]

P = ParamSpec("P")
T = TypeVar("T")


class IndexDamaged(Unavailable):
    """The index file is damaged (corrupt pages, undecodable rows): it is derived, so the
    store moves it aside and rebuilds it from the rollouts."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the index is damaged ({detail}); it is being rebuilt from the rollouts")
        self.damage = detail


def classify(exc: BaseException, doing: str) -> BaseException:
    """The typed error for a failure of an index call (or `exc` itself when it is none of
    SQLite's or a decoding failure of the index's own rows)."""
    if isinstance(exc, (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)):
        return IndexDamaged(f"a row cannot be read: {exc}")
    if not isinstance(exc, sqlite3.Error):
        return exc
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    damaged = (
        code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_FORMAT)
        or type(exc) is sqlite3.DatabaseError  # "file is not a database", "malformed"
        # Text that is not UTF-8, a table or column gone: not the file this library wrote.
        or "Could not decode" in text
        or (code == sqlite3.SQLITE_ERROR and ("no such table" in text or "no such column" in text))
    )
    if damaged:
        return IndexDamaged(text)
    return typed_sqlite_error(exc, doing, "nothing was changed")


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
        try:
            return await loop.run_in_executor(self._executor, call)
        except (
            sqlite3.Error,
            msgspec.DecodeError,
            msgspec.ValidationError,
            UnicodeDecodeError,
        ) as exc:
            doing = f"the index ({getattr(fn, '__name__', 'query')})"
            raise classify(exc, doing) from exc

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(...)` on the owner thread without the connection (other databases
        whose access must be serialised with the index's)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(fn, *args, **kwargs))

    def close(self) -> Any:
        try:
            self._executor.submit(self._conn.close).result()
        finally:
            self._executor.shutdown(wait=True)
