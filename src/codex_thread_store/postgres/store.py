"""`PostgresThreadStore`: threads in PostgreSQL, shared by many processes and machines.

Every operation is one transaction through `Database.run`, so a dropped connection
or a restarted server never leaves anything half-written visible, and is retried
where the operation can tell whether its earlier attempt committed (all of them
here: see `history.py` for appends and `writers.py` for the rest). Every row and
every query carries the store's `owner`, so one database serves many tenants. This
class keeps the process-local state (live writers, the lease renewer) and delegates
the SQL to one module per concern.

Appends commit when they return: `flush_thread` has nothing left to write; it
materializes a lazily written thread and confirms this writer still holds its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self, TypeVar

import msgspec

from ..errors import (
    Conflict,
    InvalidRequest,
    ResourceExhausted,
    ThreadNotFound,
    ThreadStoreError,
    Unsupported,
)
from ..policy import persisted_rollout_items
from ..projection import initial_session_meta, thread_from_create
from ..protocol.rollout import history_mode_of
from ..store import ThreadStore
from ..timeutil import to_ms, utc_now
from ..turns import TimedItem, history_view, page_items, page_turns, stored_history
from ..types import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    DeleteThreadParams,
    ItemPage,
    ListItemsParams,
    ListThreadsParams,
    ListTurnsParams,
    LoadThreadHistoryParams,
    ReadThreadByRolloutPathParams,
    ReadThreadParams,
    ResumeThreadParams,
    SearchThreadsParams,
    StoredThread,
    StoredThreadHistory,
    ThreadPage,
    ThreadSearchPage,
    TurnPage,
    UpdateThreadMetadataParams,
)
from . import history, leases, queries, threads, writers
from .config import PostgresThreadStoreConfig
from .db import Conn, Database
from .leases import LeaseLost
from .migrations import apply_migrations

__all__ = ["PostgresThreadStore"]

T = TypeVar("T")

_CLOSE_DEADLINE_S = 2.0
_NOT_LIVE_HINT = "it has no live writer in this store; call resume_thread first"


@dataclass
class _Writer:
    """This process's live writer of one thread."""

    writer_id: uuid.UUID
    token: int
    history_mode: str
    materialized: bool
    has_items: bool  # history beyond the initial session_meta
    lost: bool = False
    mutex: asyncio.Lock = field(default_factory=asyncio.Lock)


class PostgresThreadStore(ThreadStore):
    """A `ThreadStore` in PostgreSQL for one owner. Use as `async with PostgresThreadStore(...)`.

    The schema is created or migrated on first use. Live writers hold leases that a
    background task renews; `aclose()` discards them and closes the pool.
    """

    def __init__(self, config: PostgresThreadStoreConfig) -> None:
        self.config = config
        self.owner = config.owner
        self.db = Database(config)
        self._open_lock = asyncio.Lock()
        self._ready = False
        self._live: dict[str, _Writer] = {}
        self._renewer: asyncio.Task[None] | None = None

    @classmethod
    def from_url(cls, url: str, *, owner: str | None = None, **overrides: object) -> Self:
        """`postgresql://user@host/db?owner=NAME`; see `PostgresThreadStoreConfig.from_url`."""
        return cls(PostgresThreadStoreConfig.from_url(url, owner=owner, **overrides))

    # -- lifecycle of the store -------------------------------------------------------
    async def open(self) -> None:
        """Connect and apply any missing migrations (done lazily by every operation)."""
        if self._ready:
            return
        async with self._open_lock:
            if not self._ready:
                schema = self.config.schema
                try:
                    await self.db.run(
                        "applying schema migrations",
                        lambda conn: apply_migrations(conn, schema),
                        deadline_s=self.config.connect_timeout_s,
                    )
                except BaseException:
                    await self.db.release_pool()  # no connections left behind; retry later
                    raise
                self._ready = True

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        for thread_id in list(self._live):
            # Best effort and brief: an unreachable server must not hold the close up;
            # leases that could not be released simply expire.
            with contextlib.suppress(ThreadStoreError):
                await self._discard(thread_id, deadline_s=_CLOSE_DEADLINE_S)
        await self.db.close()

    async def _run(
        self,
        what: str,
        fn: Callable[[Conn], Awaitable[T]],
        *,
        deadline_s: float | None = None,
        transaction: bool = True,
    ) -> T:
        await self.open()
        return await self.db.run(what, fn, deadline_s=deadline_s, transaction=transaction)

    async def _read(self, what: str, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """A read in autocommit mode. Under READ COMMITTED a transaction would give its
        statements no common snapshot anyway, so BEGIN/COMMIT would only add round trips;
        a thread deleted between two statements of a read simply reads as gone."""
        return await self._run(what, fn, transaction=False)

    def _pending(self) -> list[str]:
        return [tid for tid, w in self._live.items() if not w.materialized]

    def _writer(self, thread_id: str) -> _Writer:
        writer = self._live.get(thread_id)
        if writer is None:
            raise ThreadNotFound(thread_id, _NOT_LIVE_HINT)
        if writer.lost:
            raise LeaseLost(thread_id)
        return writer

    # -- leases -----------------------------------------------------------------------
    def _start_renewer(self) -> None:
        interval = self.config.lease_renew_interval_s
        if interval is None or (self._renewer is not None and not self._renewer.done()):
            return
        self._renewer = asyncio.create_task(self._renew_forever(interval))

    async def _renew_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            # A missed round is harmless: the lease outlives several intervals.
            with contextlib.suppress(ThreadStoreError):
                await self.renew_leases()

    async def renew_leases(self) -> set[str]:
        """Renew every lease this store holds now; returns the threads whose lease was lost
        (their writers then refuse further writes with `Conflict`)."""
        held = {tid: w.token for tid, w in self._live.items() if not w.lost}
        if not held:
            return set()
        lost = await self._run(
            "renewing writer leases",
            lambda conn: leases.renew_all(
                conn, owner=self.owner, held=held, ttl_s=self.config.lease_ttl_s
            ),
        )
        for thread_id in lost:
            writer = self._live.get(thread_id)
            if writer is not None and writer.token == held[thread_id]:
                writer.lost = True
        return lost

    # -- live writers -----------------------------------------------------------------
    async def create_thread(self, params: CreateThreadParams) -> None:
        params = params.with_history_mode(self.default_history_mode())
        if params.history_base is not None:
            raise Unsupported("fork_point", "this store forks by copying history")
        thread_id = params.thread_id
        if thread_id in self._live:
            raise Conflict(f"thread {thread_id} already exists; pick a new id")
        now = utc_now()
        meta = TimedItem(to_ms(now), initial_session_meta(params, now))
        thread = thread_from_create(params, now)
        writer_id = uuid.uuid4()
        owner, ttl = self.owner, self.config.lease_ttl_s

        def txn(conn: Conn) -> Awaitable[int]:
            return writers.create(
                conn,
                owner=owner,
                thread=thread,
                session_meta=meta,
                writer_id=writer_id,
                ttl_s=ttl,
            )

        token = await self._run("create_thread", txn)
        self._live[thread_id] = _Writer(
            writer_id, token, params.history_mode or "legacy", materialized=False, has_items=False
        )
        self._start_renewer()

    async def resume_thread(self, params: ResumeThreadParams) -> None:
        thread_id = params.thread_id
        if thread_id in self._live:
            raise Conflict(f"thread {thread_id} already has a live writer in this store")
        writer_id = uuid.uuid4()
        owner, ttl, pending = self.owner, self.config.lease_ttl_s, self._pending()

        def txn(conn: Conn) -> Awaitable[tuple[StoredThread, int]]:
            return writers.resume(
                conn,
                owner=owner,
                thread_id=thread_id,
                pending=pending,
                include_archived=params.include_archived,
                writer_id=writer_id,
                ttl_s=ttl,
            )

        thread, token = await self._run("resume_thread", txn)
        mode = (
            history_mode_of(params.history, thread.history_mode)
            if params.history
            else thread.history_mode
        )
        self._live[thread_id] = _Writer(writer_id, token, mode, materialized=True, has_items=True)
        self._start_renewer()

    async def append_items(self, params: AppendThreadItemsParams) -> None:
        live = self._live.get(params.thread_id)
        canonical = persisted_rollout_items(params.items, live.history_mode if live else "legacy")
        if not canonical:
            return
        writer = self._writer(params.thread_id)
        limit = self.config.max_item_bytes
        payloads = [item.encode() for item in canonical]
        for item, payload in zip(canonical, payloads, strict=True):
            if len(payload) > limit:
                raise ResourceExhausted(
                    f"a {item.type} item is {len(payload)} bytes, over the {limit}-byte limit; "
                    "nothing was appended"
                )
        batch = history.prepare(
            canonical, payloads, utc_now(), uuid.uuid4().hex, params.idempotency_key
        )
        owner, ttl = self.owner, self.config.lease_ttl_s
        async with writer.mutex:
            await self._guarded(
                writer,
                params.thread_id,
                "append_items",
                lambda conn: history.append(
                    conn,
                    owner=owner,
                    thread_id=params.thread_id,
                    token=writer.token,
                    ttl_s=ttl,
                    batch=batch,
                ),
            )
            writer.has_items = True

    async def _guarded(
        self, writer: _Writer, thread_id: str, what: str, fn: Callable[[Conn], Awaitable[T]]
    ) -> T:
        """Run a fenced write; a lost lease marks the writer so it refuses further writes."""
        if writer.lost:
            raise LeaseLost(thread_id)
        try:
            return await self._run(what, fn)
        except LeaseLost:
            writer.lost = True
            raise

    async def _settle(self, thread_id: str, writer: _Writer, *, persist: bool, close: bool) -> None:
        """Materialize (when asked or when there is history) and/or release, fenced."""
        owner, ttl, token = self.owner, self.config.lease_ttl_s, writer.token
        materialize = not writer.materialized and (persist or writer.has_items)
        drop = close and not writer.materialized and not materialize

        def txn(conn: Conn) -> Awaitable[None]:
            return writers.settle(
                conn,
                owner=owner,
                thread_id=thread_id,
                token=token,
                ttl_s=ttl,
                materialize=materialize,
                drop=drop,
                close=close,
            )

        await self._guarded(writer, thread_id, "writing the thread", txn)
        if materialize:
            writer.materialized = True

    async def persist_thread(self, thread_id: str) -> None:
        writer = self._writer(thread_id)
        async with writer.mutex:
            await self._settle(thread_id, writer, persist=True, close=False)

    async def flush_thread(self, thread_id: str) -> None:
        writer = self._writer(thread_id)
        async with writer.mutex:
            await self._settle(thread_id, writer, persist=False, close=False)

    async def shutdown_thread(self, thread_id: str) -> None:
        writer = self._writer(thread_id)
        async with writer.mutex:
            try:
                await self._settle(thread_id, writer, persist=False, close=True)
            finally:
                self._live.pop(thread_id, None)

    async def discard_thread(self, thread_id: str) -> None:
        await self._discard(thread_id)

    async def _discard(self, thread_id: str, *, deadline_s: float | None = None) -> None:
        writer = self._live.pop(thread_id, None)
        if writer is None or writer.lost:
            return
        owner, token = self.owner, writer.token
        async with writer.mutex:
            await self._run(
                "discard_thread",
                lambda conn: writers.discard(
                    conn,
                    owner=owner,
                    thread_id=thread_id,
                    token=token,
                    materialized=writer.materialized,
                ),
                deadline_s=deadline_s,
            )

    # -- reads ------------------------------------------------------------------------
    async def _thread_and_items(
        self, thread_id: str, *, include_archived: bool
    ) -> tuple[StoredThread, list[TimedItem]]:
        owner, pending = self.owner, self._pending()

        async def txn(conn: Conn) -> tuple[StoredThread, list[TimedItem]]:
            thread = await threads.get_thread(
                conn, owner, thread_id, pending=pending, include_archived=include_archived
            )
            return thread, await history.load_items(conn, owner, thread_id)

        return await self._read("reading thread history", txn)

    async def load_history(self, params: LoadThreadHistoryParams) -> StoredThreadHistory:
        _, items = await self._thread_and_items(
            params.thread_id, include_archived=params.include_archived
        )
        return stored_history(params.thread_id, items)

    async def read_thread(self, params: ReadThreadParams) -> StoredThread:
        if params.include_history:
            thread, items = await self._thread_and_items(
                params.thread_id, include_archived=params.include_archived
            )
            return _with_history(thread, items)
        owner, pending = self.owner, self._pending()
        return await self._read(
            "read_thread",
            lambda conn: threads.get_thread(
                conn,
                owner,
                params.thread_id,
                pending=pending,
                include_archived=params.include_archived,
            ),
        )

    async def read_thread_by_rollout_path(
        self, params: ReadThreadByRolloutPathParams
    ) -> StoredThread:
        owner = self.owner

        async def txn(conn: Conn) -> str | None:
            cur = await conn.execute(
                "SELECT thread_id FROM threads WHERE owner = %s AND rollout_path = %s"
                " AND materialized ORDER BY thread_id LIMIT 1",
                (owner, params.rollout_path),
            )
            row = await cur.fetchone()
            return None if row is None else str(row[0])

        thread_id = await self._read("read_thread_by_rollout_path", txn)
        if thread_id is None:
            raise InvalidRequest(
                f"no thread in this PostgreSQL store has rollout path {params.rollout_path}; "
                "address threads by id"
            )
        return await self.read_thread(
            ReadThreadParams(
                thread_id=thread_id,
                include_archived=params.include_archived,
                include_history=params.include_history,
            )
        )

    async def list_threads(self, params: ListThreadsParams) -> ThreadPage:
        if params.cwd_filters is not None and not params.cwd_filters:
            return ThreadPage(items=[])
        owner, pending = self.owner, self._pending()
        items, cursor = await self._read(
            "list_threads", lambda conn: queries.list_threads(conn, owner, pending, params)
        )
        return ThreadPage(items=items, next_cursor=cursor)

    async def search_threads(self, params: SearchThreadsParams) -> ThreadSearchPage:
        owner, pending = self.owner, self._pending()
        items, cursor = await self._read(
            "search_threads", lambda conn: queries.search_threads(conn, owner, pending, params)
        )
        return ThreadSearchPage(items=items, next_cursor=cursor)

    async def list_turns(self, params: ListTurnsParams) -> TurnPage:
        thread, items = await self._thread_and_items(
            params.thread_id, include_archived=params.include_archived
        )
        return page_turns(
            params.thread_id,
            history_view(thread.history_mode, items, running=params.thread_id in self._live),
            params,
        )

    async def list_items(self, params: ListItemsParams) -> ItemPage:
        thread, items = await self._thread_and_items(
            params.thread_id, include_archived=params.include_archived
        )
        return page_items(
            params.thread_id,
            history_view(thread.history_mode, items, running=params.thread_id in self._live),
            params,
        )

    # -- metadata and lifecycle -------------------------------------------------------
    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        owner, pending = self.owner, self._pending()
        return await self._run(
            "update_thread_metadata",
            lambda conn: writers.patch_metadata(
                conn,
                owner=owner,
                thread_id=params.thread_id,
                pending=pending,
                include_archived=params.include_archived,
                patch=params.patch,
            ),
        )

    async def archive_thread(self, params: ArchiveThreadParams) -> None:
        await self._set_archived(params.thread_id, archived=True)

    async def unarchive_thread(self, params: ArchiveThreadParams) -> StoredThread:
        return await self._set_archived(params.thread_id, archived=False)

    async def _set_archived(self, thread_id: str, *, archived: bool) -> StoredThread:
        owner, pending = self.owner, self._pending()
        return await self._run(
            "archive_thread" if archived else "unarchive_thread",
            lambda conn: writers.set_archived(
                conn, owner=owner, thread_id=thread_id, pending=pending, archived=archived
            ),
        )

    async def delete_thread(self, params: DeleteThreadParams) -> None:
        thread_id = params.thread_id
        owner, pending = self.owner, self._pending()
        attempts = 0

        def txn(conn: Conn) -> Awaitable[None]:
            nonlocal attempts
            attempts += 1
            return writers.delete(
                conn, owner=owner, thread_id=thread_id, pending=pending, rerun=attempts > 1
            )

        await self._run("delete_thread", txn)
        # Our own writer (if any) is gone with the thread; another process's writer is
        # fenced out because its lease row no longer exists.
        self._live.pop(thread_id, None)

    # -- bulk import and counts (used by the copy engine) ------------------------------
    async def import_thread(
        self, thread: StoredThread, items: Sequence[TimedItem], *, replace: bool = False
    ) -> None:
        """Store a whole thread exactly as given (metadata, history with item times,
        archived state) in one transaction; `replace` overwrites an existing one.

        Raises:
            Conflict: the id exists and `replace` is false, or it has a live writer.
        """
        if not items or items[0].item.type != "session_meta":
            raise InvalidRequest(
                f"thread {thread.thread_id}: an imported history must start with its session_meta"
            )
        owner = self.owner
        thread = msgspec.structs.replace(thread, history=None)
        await self._run(
            "import_thread",
            lambda conn: writers.import_thread(
                conn, owner=owner, thread=thread, items=items, replace=replace
            ),
        )

    async def count_items(self, thread_id: str) -> int:
        """How many history items the thread has (0 for an unknown id)."""
        owner = self.owner
        return await self._read(
            "count_items", lambda conn: history.count_items(conn, owner, thread_id)
        )


def _with_history(thread: StoredThread, items: list[TimedItem]) -> StoredThread:
    return msgspec.structs.replace(thread, history=stored_history(thread.thread_id, items))
