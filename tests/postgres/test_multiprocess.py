"""Several OS processes on one database at once: migrations, appends with listings, and
a race for one thread's writer lease. Workers are `worker.py` run as subprocesses."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from builders import history, new_thread, tid
from codex_thread_store import ListThreadsParams
from codex_thread_store.postgres.migrations import _LOCK_KEY, MIGRATIONS

from .helpers import StoreMaker, sql

WORKER = Path(__file__).with_name("worker.py")
TIMEOUT_S = 120


async def spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process) -> list[Any]:
    """Wait for a worker; its JSON reports, or an assertion with its stderr."""
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    assert proc.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


async def wait_for_lock_waiters(dsn: str, count: int) -> None:
    """Poll until `count` sessions of this database wait on an advisory lock."""
    deadline = time.monotonic() + TIMEOUT_S
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        while True:
            cur = await conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            row = await cur.fetchone()
            if row is not None and row[0] >= count:
                return
            assert time.monotonic() < deadline, f"only {row} of {count} workers reached the lock"
            await asyncio.sleep(0.05)


async def test_migrations_applied_concurrently_by_several_processes(fresh_dsn: str) -> None:
    workers = 4
    # Hold the migration lock so every worker is provably inside the race at once.
    async with await psycopg.AsyncConnection.connect(fresh_dsn) as holder:
        await holder.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        procs = [await spawn("migrate", fresh_dsn, f"m{n}") for n in range(workers)]
        await wait_for_lock_waiters(fresh_dsn, workers)
        await holder.commit()

    reports = [await finish(proc) for proc in procs]

    assert reports == [[{"opened": True}]] * workers
    versions = sql(fresh_dsn, "SELECT version FROM schema_migrations ORDER BY version")
    assert versions == [(m.version,) for m in MIGRATIONS]


async def test_stores_opening_at_once_in_one_process_migrate_once(
    make_store: StoreMaker, fresh_dsn: str
) -> None:
    stores = [make_store(dsn=fresh_dsn, owner=f"o{n}") for n in range(5)]

    await asyncio.gather(*(s.open() for s in stores))

    assert sql(fresh_dsn, "SELECT count(*) FROM schema_migrations") == [(len(MIGRATIONS),)]


async def test_processes_appending_and_listing_at_once(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    workers, threads, batches = 4, 3, 10
    procs = [
        await spawn("append", shared_dsn, owner, str(threads), str(batches), f"w{n}")
        for n in range(workers)
    ]
    reports = [await finish(proc) for proc in procs]

    ids = sorted(tid for (report,) in reports for tid in report["threads"])
    store = make_store()
    page = await store.list_threads(ListThreadsParams(page_size=100))
    assert sorted(t.thread_id for t in page.items) == ids
    for thread_id in ids:
        items = await history(store, thread_id)
        assert len(items) == 1 + 3 * batches
    dense = sql(
        shared_dsn,
        "SELECT thread_id, count(*) = max(seq) + 1 FROM thread_items WHERE owner = %s"
        " GROUP BY thread_id ORDER BY thread_id",
        (owner,),
    )
    assert dense == [(thread_id, True) for thread_id in ids]


async def test_processes_racing_for_one_thread_have_exactly_one_writer(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    store = make_store()
    await new_thread(store, tid(1))
    await store.shutdown_thread(tid(1))

    procs = [await spawn("contend", shared_dsn, owner, tid(1)) for _ in range(3)]
    firsts = []
    for proc in procs:
        assert proc.stdout is not None
        firsts.append(json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT_S)))
    winners = [proc for proc, first in zip(procs, firsts, strict=True) if first["won"]]

    assert len(winners) == 1
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await finish(proc)
    assert [i.payload.get("message") for i in (await history(store, tid(1)))[1:]] == ["the winner"]
