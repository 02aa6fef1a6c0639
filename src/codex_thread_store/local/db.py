"""The one thread that owns the SQLite connection (the aiosqlite model, per transaction).

Every failure of the index comes out typed: a damaged file as `IndexDamaged` (the store
moves it aside, rebuilds it from the rollouts and retries), a full disk, a read-only
home or a lock another process holds as the matching `ThreadStoreError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import msgspec

from ..errors import Unavailable
from .os_errors import typed_sqlite_error

__all__ = ["IndexDamaged", "IndexDb", "rollback"]

P = ParamSpec("P")
T = TypeVar("T")


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already (it does so itself on a
    full disk or an I/O error; a second ROLLBACK would then hide the real error)."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


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
    """Runs `fn(conn, ...)` calls one at a time on a dedicated thread.

    `quick()` is a view of the same index, on the same thread, through a second connection
    that waits for another process's lock only briefly: the refresh a read triggers writes
    through it, so a read never waits on another process's long write.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        *,
        path: Path | None = None,
        quick: sqlite3.Connection | None = None,
    ) -> None:
        self._conn = conn
        self._executor = executor
        self._path = path
        self._quick = None if quick is None else IndexDb(quick, executor, path=path)

    def quick(self) -> IndexDb:
        return self if self._quick is None else self._quick

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
            if _is_busy(exc) and self._path is not None:
                holders = await asyncio.to_thread(lock_holders, self._path)
                if holders:
                    doing += f", locked by {', '.join(holders)},"
            raise classify(exc, doing) from exc

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(...)` on the owner thread without the connection (other databases
        whose access must be serialised with the index's)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(fn, *args, **kwargs))

    def close(self) -> Any:
        try:
            if self._quick is not None:
                self._executor.submit(self._quick._conn.close).result()
            self._executor.submit(self._conn.close).result()
        finally:
            self._executor.shutdown(wait=True)


def _is_busy(exc: BaseException) -> bool:
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


def lock_holders(path: Path) -> list[str]:
    """The other processes that have the index open ("pid 123 (codex-threads)"), to say
    who holds its lock (Linux `/proc`; empty elsewhere)."""
    found = []
    targets = {str(path), f"{path}-wal", f"{path}-shm"}
    me = os.getpid()
    for entry in Path("/proc").glob("[0-9]*"):
        if int(entry.name) == me:
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if links & targets:
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                name = "?"
            found.append(f"pid {entry.name} ({name})")
    return found
