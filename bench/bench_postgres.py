"""Benchmark `PostgresThreadStore` beside `LocalThreadStore` on the same data.

    python bench/bench_postgres.py                       # 100,000 threads, 2,000 appends
    python bench/bench_postgres.py --threads 20000 --appends 500
    python bench/bench_postgres.py --dsn postgresql://me@host/db   # an existing server
    python bench/bench_postgres.py --json results.json

Without `--dsn` a throwaway PostgreSQL server is started (initdb/pg_ctl, as the tests
do, but with fsync left on) in a temporary folder and removed afterwards.

What is measured (one process, one event loop, the public async API only):

- append throughput with 1 and 8 concurrent writers, each appending to its own thread
  one item per `append_items` call. PostgreSQL commits every call (durable when it
  returns); the local store is run twice: `durability="append"` (fsync per call, the
  same promise) and its default `"flush"` (write per call, fsync at `flush_thread`);
- a synthetic home of N threads (session_meta, a turn with a user and an agent
  message, 5% archived, 20 cwds, 3 providers) written as rollout files, then indexed
  by the local store (cold build) and copied into PostgreSQL with `copy_threads`
  (8 jobs; the migration a user runs);
- first-page (50) `list_threads` latency: by created_at, by updated_at, with a cwd
  filter and with a metadata `search_term`; and `search_threads` latency for a common
  word, a rare word and a word in no thread. Median and p90 over `--runs` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from codex_thread_store import (
    AppendThreadItemsParams,
    CreateThreadParams,
    ListThreadsParams,
    RolloutItem,
    SearchThreadsParams,
    SessionSource,
    ThreadPersistenceMetadata,
    ThreadSortKey,
    ThreadStore,
)
from codex_thread_store.copy import CopyEvent, copy_threads
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig
from codex_thread_store.local.layout import rollout_file_name
from codex_thread_store.postgres import PostgresThreadStore, PostgresThreadStoreConfig
from codex_thread_store.projection import initial_session_meta
from codex_thread_store.protocol.rollout import RolloutLine, encode_line
from codex_thread_store.timeutil import format_rfc3339_ms

CWDS = [f"/home/dev/project-{n}" for n in range(20)]
PROVIDERS = ["openai", "azure", "local"]
COMMON, RARE, ABSENT = "deploy", "zyzzogeton", "qwxjvbnmz"
WORDS = [
    "refactor", "parser", "flaky", "test", "migrate", "database", "schema", "cache", "retry",
    "timeout", "logging", "config", "release", "branch", "merge", "review", "docs", "error",
    "stack", "trace", "memory", "leak", "index", "query", "latency", "thread", "async",
]  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> dict[str, float]:
    await fn()  # warm-up (plans, caches, the local store's first refresh)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(samples), "p90_ms": percentile(samples, 0.9)}


def message(kind: str, text: str) -> RolloutItem:
    return RolloutItem.event_msg({"type": kind, "message": text, "images": None})


# -- append throughput ----------------------------------------------------------------
async def bench_appends(store: ThreadStore, writers: int, appends: int) -> dict[str, float]:
    ids = []
    for _ in range(writers):
        params = CreateThreadParams(metadata=ThreadPersistenceMetadata(cwd="/bench"))
        await store.create_thread(params)
        await store.persist_thread(params.thread_id)
        ids.append(params.thread_id)
    latencies: list[float] = []

    async def write(thread_id: str) -> None:
        for n in range(appends):
            item = message("user_message", f"append {n}: " + " ".join(WORDS[:12]))
            start = time.perf_counter()
            await store.append_items(AppendThreadItemsParams(thread_id=thread_id, items=[item]))
            latencies.append((time.perf_counter() - start) * 1000)
        await store.flush_thread(thread_id)

    start = time.perf_counter()
    await asyncio.gather(*(write(t) for t in ids))
    elapsed = time.perf_counter() - start
    for thread_id in ids:
        await store.shutdown_thread(thread_id)
    return {
        "appends_per_s": writers * appends / elapsed,
        "median_ms": statistics.median(latencies),
        "p90_ms": percentile(latencies, 0.9),
    }


# -- the shared data set ----------------------------------------------------------------
def write_home(root: Path, threads: int, seed: int) -> None:
    """N small rollouts, as Codex would have written them, spread over a year."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(days=365) / threads
    made: set[Path] = set()
    for n in range(threads):
        created = start + step * n
        thread_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        params = CreateThreadParams(
            thread_id=thread_id,
            source=SessionSource.exec() if n % 7 == 0 else SessionSource.cli(),
            originator="bench",
            metadata=ThreadPersistenceMetadata(
                cwd=CWDS[n % len(CWDS)], model_provider=PROVIDERS[n % len(PROVIDERS)]
            ),
        )
        words = rng.sample(WORDS, 6)
        if n % 3 == 0:
            words.append(COMMON)
        if n % 1000 == 7:
            words.append(RARE)
        question = f"please {' '.join(words)} in thread {n}"
        answer = f"done: {' '.join(rng.sample(WORDS, 8))}"
        items = [
            initial_session_meta(params, created),
            RolloutItem.event_msg({"type": "task_started", "turn_id": f"t{n}"}),
            message("user_message", question),
            message("agent_message", answer),
            RolloutItem.event_msg({"type": "task_complete", "turn_id": f"t{n}"}),
        ]
        archived = n % 20 == 19
        local = created.astimezone().replace(tzinfo=None)
        folder = (
            root / "archived_sessions"
            if archived
            else root / "sessions" / f"{local:%Y}" / f"{local:%m}" / f"{local:%d}"
        )
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        lines = [
            encode_line(RolloutLine(format_rfc3339_ms(created + timedelta(seconds=k)), item))
            for k, item in enumerate(items)
        ]
        (folder / rollout_file_name(thread_id, local)).write_bytes(b"\n".join(lines) + b"\n")


async def bench_reads(store: ThreadStore, runs: int) -> dict[str, dict[str, float]]:
    async def listing(**params: Any) -> None:
        await store.list_threads(ListThreadsParams(page_size=50, **params))

    async def search(term: str) -> None:
        await store.search_threads(SearchThreadsParams(search_term=term, page_size=50))

    return {
        "list created_at": await timed(lambda: listing(), runs),
        "list updated_at": await timed(lambda: listing(sort_key=ThreadSortKey.UPDATED_AT), runs),
        "list cwd filter": await timed(lambda: listing(cwd_filters=[CWDS[3]]), runs),
        "list search_term": await timed(lambda: listing(search_term="flaky parser"), runs),
        "search common": await timed(lambda: search(COMMON), runs),
        "search rare": await timed(lambda: search(RARE), runs),
        "search absent": await timed(lambda: search(ABSENT), runs),
    }


# -- main ---------------------------------------------------------------------------------
async def run(args: argparse.Namespace, dsn: str, work: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"threads": args.threads, "appends_per_writer": args.appends}
    owner = f"bench-{uuid.uuid4().hex[:8]}"

    def pg(**overrides: Any) -> PostgresThreadStore:
        return PostgresThreadStore(
            PostgresThreadStoreConfig(conninfo=dsn, owner=owner, pool_max_size=16, **overrides)
        )

    appends: dict[str, Any] = {}
    for writers in (1, 8):
        async with pg() as store:
            appends[f"postgres, {writers} writers"] = await bench_appends(
                store, writers, args.appends
            )
        for durability in ("append", "flush"):
            home = work / f"append-{writers}-{durability}"
            config = LocalThreadStoreConfig(codex_home=home, durability=durability)  # type: ignore[arg-type]
            async with LocalThreadStore(config) as store:
                appends[f"local ({durability}), {writers} writers"] = await bench_appends(
                    store, writers, args.appends
                )
        print(f"appends with {writers} writers done", file=sys.stderr)
    results["appends"] = appends

    home = work / "home"
    started = time.perf_counter()
    await asyncio.to_thread(write_home, home, args.threads, args.seed)
    results["write_home_s"] = time.perf_counter() - started
    print(f"wrote {args.threads} rollouts", file=sys.stderr)

    owner = f"bench-data-{uuid.uuid4().hex[:8]}"
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as local:
        started = time.perf_counter()
        await local.list_threads(ListThreadsParams(page_size=1))
        results["local_index_build_s"] = time.perf_counter() - started
        print("local index built", file=sys.stderr)
        async with pg() as target:
            last = [0.0]

            def report(event: CopyEvent) -> None:
                if event.phase == "copying" and time.monotonic() - last[0] > 10:
                    last[0] = time.monotonic()
                    print(f"copy: {event.done}/{event.total}", file=sys.stderr)

            started = time.perf_counter()
            copied = await copy_threads(local, target, progress=report, jobs=8)
            results["copy_s"] = time.perf_counter() - started
            results["copy"] = copied.summary()
            assert copied.ok, copied.summary()
            results["reads"] = {
                "local": await bench_reads(local, args.runs),
                "postgres": await bench_reads(target, args.runs),
            }
    return results


def render(results: dict[str, Any]) -> str:
    out = [f"threads: {results['threads']:,}; appends per writer: {results['appends_per_writer']}"]
    out.append("\n| append | appends/s | median ms | p90 ms |\n|---|---:|---:|---:|")
    for name, r in results["appends"].items():
        out.append(
            f"| {name} | {r['appends_per_s']:,.0f} | {r['median_ms']:.2f} | {r['p90_ms']:.2f} |"
        )
    out.append(
        f"\nwrite home: {results['write_home_s']:.1f} s; local index build: "
        f"{results['local_index_build_s']:.1f} s; copy to PostgreSQL: {results['copy_s']:.1f} s "
        f"({results['threads'] / results['copy_s']:,.0f} threads/s) — {results['copy']}"
    )
    out.append("\n| first page of 50 | local median / p90 ms | postgres median / p90 ms |")
    out.append("|---|---:|---:|")
    local, pg = results["reads"]["local"], results["reads"]["postgres"]
    for name in local:
        out.append(
            f"| {name} | {local[name]['median_ms']:.1f} / {local[name]['p90_ms']:.1f} "
            f"| {pg[name]['median_ms']:.1f} / {pg[name]['p90_ms']:.1f} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--appends", type=int, default=2_000, help="appends per writer")
    parser.add_argument("--runs", type=int, default=30, help="timed calls per read query")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dsn", help="an existing PostgreSQL database (default: throwaway)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-postgres-"))
    server = None
    try:
        dsn = args.dsn
        if dsn is None:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
            from pg_server import PgServer

            server = PgServer(durable=True).start()
            dsn = server.create_database("bench")
        results = asyncio.run(run(args, dsn, work))
    finally:
        if server is not None:
            server.destroy()
        shutil.rmtree(work, ignore_errors=True)
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
