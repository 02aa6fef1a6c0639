"""Benchmark `LocalThreadStore` beside the real Codex CLI (`codex app-server`) on one home.

    python bench/bench_local.py                          # homes of 2,000 and 100,000 threads
    python bench/bench_local.py --threads 2000           # one size
    python bench/bench_local.py --home /tmp/some-home    # an existing home (it is modified)
    python bench/bench_local.py --cold-build 10000       # only: cold index build of 10k rollouts
    python bench/bench_local.py --threads 2000 --json results.json --profile /tmp/prof

Homes are made with `bench/make_home.py` (clones of the real 0.169.0 corpus, with Codex's
own databases, so the CLI starts as it would on a home it already indexed) under a
temporary folder in /tmp, removed afterwards unless `--keep`.

Ours (one process, one event loop, the public async API only):

- `list_threads` first page of 50, by `created_at` and by `updated_at` (index warm; the
  store's own incremental refresh runs at most once a second, so it is in the p90 at most);
  the same with `refresh_interval_s=0`, where every call first looks for changed rollouts;
- a full walk of every page (page size 100, the CLI's cap);
- `read_thread(include_history=True)` and `list_turns` (first page) over a fixed sample
  of legacy, paginated and forked threads;
- `search_threads` for a common word, a rare word and a word in no thread;
- cold index build: delete `<home>/codex-thread-store/`, open a store, first list;
- incremental refresh: 100 new rollouts are written into the home behind the store's back
  (as another Codex process would), then the first list after the refresh interval;
- append + flush on one new thread: one item per `append_items` call with `flush_thread`
  every 100 items; also 100 items per call, and one fsync'ed flush per item.

The CLI (same home, `tests/interop` harness: a loopback mock model server, a hermetic
environment whose proxies point at the mock, so nothing can leave 127.0.0.1): `thread/list`
first page of 50 by `created_at` and `updated_at`, a full walk (limit 100), `thread/read`
with turns and `thread/turns/list` on the same sample. The report gives medians and p90s
and the ratio CLI / ours.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path[:0] = [str(BENCH_DIR), str(REPO)]  # make_home, and the tests/interop harness

import make_home as mh  # noqa: E402
from tests.interop.codex_cli import AppServer, CodexCli, codex_version, find_codex  # noqa: E402
from tests.interop.mock_responses import MockResponsesServer  # noqa: E402

from codex_thread_store import (  # noqa: E402
    AppendThreadItemsParams,
    CreateThreadParams,
    DeleteThreadParams,
    ListThreadsParams,
    ListTurnsParams,
    ReadThreadParams,
    RolloutItem,
    SearchThreadsParams,
    ThreadPersistenceMetadata,
    ThreadSortKey,
    new_thread_id,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig  # noqa: E402

STATE_DIR = "codex-thread-store"
PAGE = 50
WALK_PAGE = 100  # the app-server's cap
SEARCH_TERMS = {"search_common": "files", "search_rare": "flaky", "search_miss": "zqxjv"}
TARGETS = {
    "list_created_first50": ("median <= 5 ms at 100k; CLI/ours >= 20x", 5.0, 20.0),
    "list_updated_first50": ("median <= 5 ms at 100k; CLI/ours >= 20x", 5.0, 20.0),
    "cold_build": ("< 10 s for 10k rollouts", None, None),
    "append_flush_1": (">= 5,000 items/s", None, None),
}


# -- measurement ---------------------------------------------------------------------------------


@dataclass
class Stats:
    """Wall times of repeated runs, in seconds."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        if len(self.samples) < 2:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=10, method="inclusive")[-1]

    def to_json(self, per: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n": len(self.samples),
            "median_ms": round(self.median * 1e3, 4),
            "p90_ms": round(self.p90 * 1e3, 4),
            "min_ms": round(min(self.samples) * 1e3, 4),
            "max_ms": round(max(self.samples) * 1e3, 4),
        }
        if per:
            out["items"] = per
            out["median_items_per_s"] = round(per / self.median, 1)
            out["p90_items_per_s"] = round(per / self.p90, 1)
        return out


@dataclass
class Metric:
    """One row of the report."""

    name: str
    what: str
    ours: Stats | None = None
    cli: Stats | None = None
    items: int | None = None  # set for throughput rows: items per run
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.cli is None or self.ours.median <= 0:
            return None
        return self.cli.median / self.ours.median

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "what": self.what, "note": self.note}
        if self.ours is not None:
            out["ours"] = self.ours.to_json(self.items)
        if self.cli is not None:
            out["cli"] = self.cli.to_json()
        if self.ratio is not None:
            out["cli_over_ours"] = round(self.ratio, 2)
        return out


async def timed(fn: Callable[[], Awaitable[object]], reps: int, *, warmup: int = 1) -> Stats:
    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return Stats(samples)


def timed_sync(fn: Callable[[], object], reps: int, *, warmup: int = 1) -> Stats:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return Stats(samples)


@dataclass(frozen=True)
class Reps:
    """Repetitions per measurement (a run is one call, one walk or one build)."""

    page: int = 300
    page_refresh: int = 50
    walk: int = 10
    read: int = 200
    search: int = 100
    cold: int = 3
    drop: int = 5
    append_items: int = 5000
    append_runs: int = 3
    cli_page: int = 30
    cli_walk: int = 3
    cli_read: int = 100

    @classmethod
    def for_size(cls, threads: int, scale: float) -> Reps:
        base = cls() if threads <= 20_000 else cls(walk=3, cold=1, cli_walk=1, cli_page=20)
        return cls(
            **{
                k: max(1, round(v * scale)) if k != "append_items" else v
                for k, v in base.__dict__.items()
            }
        )


# -- profiling (--profile): cProfile in the event loop and in every worker thread --------------


class Profiler:
    """cProfile for the event loop and for worker threads: the store runs SQLite on its
    own thread and file work through `asyncio.to_thread`, which a main-thread profile
    would only see as waits. Records only between `start()` and the end of `profiling`."""

    def __init__(self) -> None:
        self.main = cProfile.Profile()
        self.profiles: list[cProfile.Profile] = []
        self.active = False
        self.local = threading.local()
        self.lock = threading.Lock()

    def start(self) -> None:
        self.active = True
        self.main.enable()

    def stop(self) -> None:
        if self.active:
            self.main.disable()
            self.active = False

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            if not self.active:
                return fn(*args, **kwargs)
            prof = getattr(self.local, "prof", None)
            if prof is None:
                prof = self.local.prof = cProfile.Profile()
                with self.lock:
                    self.profiles.append(prof)
            prof.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                prof.disable()

        return run

    def executor_class(self) -> type[ThreadPoolExecutor]:
        profiler = self

        class ProfilingExecutor(ThreadPoolExecutor):
            def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
                return super().submit(profiler.wrap(fn), *args, **kwargs)

        return ProfilingExecutor


@contextlib.asynccontextmanager
async def profiling(out_dir: Path, name: str, *, start: bool = True) -> AsyncIterator[Profiler]:
    """Profile into `out_dir/name.{prof,txt}`: the event loop, the default executor and
    the SQLite thread of every store opened inside the block. With `start=False`,
    recording begins at `profiler.start()` (open and warm stores first)."""
    from codex_thread_store.local import store as store_module

    profiler = Profiler()
    loop = asyncio.get_running_loop()
    patched = "ThreadPoolExecutor"  # the class the store makes its SQLite thread with
    original = vars(store_module)[patched]
    setattr(store_module, patched, profiler.executor_class())
    default = profiler.executor_class()(max_workers=4)
    loop.set_default_executor(default)
    if start:
        profiler.start()
    try:
        yield profiler
    finally:
        profiler.stop()
        setattr(store_module, patched, original)
        loop.set_default_executor(ThreadPoolExecutor())
        default.shutdown(wait=True)
        _write_profile(out_dir, name, [profiler.main, *profiler.profiles])


def _write_profile(out_dir: Path, name: str, profiles: list[cProfile.Profile]) -> None:
    """`name.prof` (all threads merged) and `name.txt` (top functions) in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = pstats.Stats(profiles[0])
    for prof in profiles[1:]:
        stats.add(prof)
    path = out_dir / f"{name}.prof"
    stats.dump_stats(path)
    text = io.StringIO()
    pstats.Stats(str(path), stream=text).sort_stats("cumulative").print_stats(40)
    text.write("\n\n---- by internal time ----\n")
    pstats.Stats(str(path), stream=text).sort_stats("tottime").print_stats(30)
    (out_dir / f"{name}.txt").write_text(text.getvalue())


# -- our store -----------------------------------------------------------------------------------


def _config(home: Path, **kw: Any) -> LocalThreadStoreConfig:
    return LocalThreadStoreConfig(codex_home=home, **kw)


async def _walk(store: LocalThreadStore, sort_key: ThreadSortKey) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await store.list_threads(
            ListThreadsParams(page_size=WALK_PAGE, cursor=cursor, sort_key=sort_key)
        )
        ids.extend(t.thread_id for t in page.items)
        cursor = page.next_cursor
        if not cursor:
            return ids


def _items_for(count: int) -> list[RolloutItem]:
    """A realistic legacy item stream: turns of 9 items (~300 bytes each), 2 with text."""
    out: list[RolloutItem] = []
    turn = 0
    while len(out) < count:
        turn += 1
        tid = f"turn-{turn}"
        text = f"Please look at file_{turn}.py and fix the failing test number {turn}."
        reply = f"Done with turn {turn}: " + "patched the helper and re-ran the suite. " * 4
        out += [
            RolloutItem.event_msg({"type": "task_started", "turn_id": tid}),
            RolloutItem.response_item(
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                }
            ),
            RolloutItem.event_msg(
                {
                    "type": "user_message",
                    "message": text,
                    "images": None,
                    "local_images": [],
                    "text_elements": [],
                }
            ),
            RolloutItem.response_item(
                {
                    "type": "function_call",
                    "name": "exec_command",
                    "arguments": json.dumps({"cmd": f"pytest -q tests/test_{turn}.py"}),
                    "call_id": f"call_{turn}",
                }
            ),
            RolloutItem.response_item(
                {
                    "type": "function_call_output",
                    "call_id": f"call_{turn}",
                    "output": "Process exited with code 0\nOutput:\n" + "." * 120 + "\n1 passed",
                }
            ),
            RolloutItem.response_item(
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": reply}],
                }
            ),
            RolloutItem.event_msg({"type": "agent_message", "message": reply}),
            RolloutItem.event_msg(
                {
                    "type": "token_count",
                    "info": {
                        "total_token_usage": {
                            "input_tokens": 1000 * turn,
                            "cached_input_tokens": 0,
                            "output_tokens": 50 * turn,
                            "reasoning_output_tokens": 0,
                            "total_tokens": 1050 * turn,
                        }
                    },
                    "rate_limits": None,
                }
            ),
            RolloutItem.event_msg(
                {"type": "task_complete", "turn_id": tid, "last_agent_message": reply}
            ),
        ]
    return out[:count]


async def _append_run(
    store: LocalThreadStore, items: list[RolloutItem], *, batch: int, flush_every: int
) -> float:
    """Seconds to append `items` to a new thread `batch` at a time, flushing every
    `flush_every` items and at the end (the thread is created before and deleted after)."""
    thread_id = new_thread_id()
    await store.create_thread(
        CreateThreadParams(
            thread_id=thread_id,
            thread_source="bench",
            metadata=ThreadPersistenceMetadata(cwd="/tmp/bench"),
        )
    )
    await store.persist_thread(thread_id)
    started = time.perf_counter()
    since_flush = 0
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        await store.append_items(AppendThreadItemsParams(thread_id=thread_id, items=chunk))
        since_flush += len(chunk)
        if since_flush >= flush_every:
            await store.flush_thread(thread_id)
            since_flush = 0
    await store.flush_thread(thread_id)
    elapsed = time.perf_counter() - started
    await store.shutdown_thread(thread_id)
    await store.delete_thread(DeleteThreadParams(thread_id=thread_id))
    return elapsed


async def bench_ours(
    home: Path,
    read_ids: dict[str, list[str]],
    reps: Reps,
    *,
    templates: mh.Templates,
    profile_dir: Path | None,
    log: Callable[[str], None],
) -> tuple[dict[str, Metric], dict[str, Any]]:
    metrics: dict[str, Metric] = {}
    checks: dict[str, Any] = {}

    def put(name: str, what: str, stats: Stats, **kw: Any) -> None:
        metrics[name] = Metric(name, what, ours=stats, **kw)
        log(f"  ours {name}: median {stats.median * 1e3:,.2f} ms (n={len(stats.samples)})")

    # Cold index build: no index at all, open, first page.
    async def cold() -> None:
        shutil.rmtree(home / STATE_DIR, ignore_errors=True)
        async with LocalThreadStore(_config(home)) as store:
            page = await store.list_threads(ListThreadsParams(page_size=PAGE))
            checks["cold_first_page"] = len(page.items)

    log(f"  ours cold_build x{reps.cold} ...")
    put(
        "cold_build",
        "cold index build (delete index, open, first list)",
        await timed(cold, reps.cold, warmup=0),
    )

    async with (
        LocalThreadStore(_config(home)) as store,
        LocalThreadStore(_config(home, refresh_interval_s=0.0)) as eager,
    ):
        created = ListThreadsParams(page_size=PAGE)
        updated = ListThreadsParams(page_size=PAGE, sort_key=ThreadSortKey.UPDATED_AT)
        put(
            "list_created_first50",
            "list_threads first page 50, created_at desc",
            await timed(lambda: store.list_threads(created), reps.page),
        )
        put(
            "list_updated_first50",
            "list_threads first page 50, updated_at desc",
            await timed(lambda: store.list_threads(updated), reps.page),
        )
        put(
            "list_created_first50_refresh",
            "same, refresh_interval_s=0 (every call first checks the home for changes)",
            await timed(lambda: eager.list_threads(created), reps.page_refresh),
        )
        walked: dict[str, list[str]] = {}

        async def walk() -> None:
            walked["ids"] = await _walk(store, ThreadSortKey.CREATED_AT)

        put(
            "walk_all",
            f"full walk, every page of {WALK_PAGE}, created_at desc",
            await timed(walk, reps.walk),
        )
        ids = walked["ids"]
        checks["ours_walk_threads"] = len(ids)
        checks["ours_walk_unique"] = len(set(ids)) == len(ids)
        checks["ours_walk_ids"] = ids

        mixed = read_ids["mixed"]
        for kind, sample in read_ids.items():
            cycle = _cycler(sample)
            suffix = "" if kind == "mixed" else f"_{kind}"
            put(
                f"read_with_history{suffix}",
                f"read_thread include_history, {len(sample)} {_KIND_TEXT[kind]}",
                await timed(
                    _reader(store, cycle), reps.read if kind == "mixed" else max(1, reps.read // 2)
                ),
            )
        cycle = _cycler(mixed)
        put(
            "list_turns_first",
            f"list_turns first page (50), {len(mixed)} {_KIND_TEXT['mixed']}",
            await timed(
                lambda: store.list_turns(ListTurnsParams(thread_id=next(cycle))), reps.read
            ),
        )
        for name, term in SEARCH_TERMS.items():
            params = SearchThreadsParams(search_term=term, page_size=PAGE)
            hits = await store.search_threads(params)
            checks[f"{name}_hits_first_page"] = len(hits.items)
            put(
                name,
                f"search_threads {term!r}, first page of 50 ({len(hits.items)} hits)",
                await timed(functools.partial(store.search_threads, params), reps.search),
            )

        # Incremental refresh: 100 rollouts appear behind the store's back.
        interval = store.config.refresh_interval_s
        samples = []
        seen_new = []
        for rep in range(reps.drop):
            await store.list_threads(created)  # settle
            paths = mh.drop_threads(home, 100, templates=templates, seed=10_000 + rep)
            new_ids = {p.name[-42:-6] for p in paths}  # "<uuid>.jsonl"
            await asyncio.sleep(interval + 0.05)
            started = time.perf_counter()
            page = await store.list_threads(created)
            samples.append(time.perf_counter() - started)
            seen_new.append(sum(t.thread_id in new_ids for t in page.items))
            for p in paths:
                p.unlink()
            await asyncio.sleep(interval + 0.05)
            await store.list_threads(created)  # the refresh drops them again
        checks["refresh_new_in_first_page"] = seen_new
        put(
            "refresh_100_new",
            "first list after 100 new rollouts were written by another process",
            Stats(samples),
        )

        # Append + flush throughput on one thread.
        items = _items_for(reps.append_items)
        for name, what, batch, flush_every, count in (
            ("append_flush_1", "append 1 item/call, flush every 100 items", 1, 100, len(items)),
            ("append_flush_100", "append 100 items/call, flush each call", 100, 100, len(items)),
            ("append_fsync_each", "append 1 item/call, flush (fsync) each", 1, 1, 500),
        ):
            runs = [
                await _append_run(store, items[:count], batch=batch, flush_every=flush_every)
                for _ in range(reps.append_runs)
            ]
            metrics[name] = Metric(name, what, ours=Stats(runs), items=count)
            log(f"  ours {name}: {count / statistics.median(runs):,.0f} items/s")

        if profile_dir is not None:
            await _profile_ours(home, read_ids, profile_dir, templates, log)
    return metrics, checks


async def _profile_ours(
    home: Path,
    read_ids: dict[str, list[str]],
    out: Path,
    templates: mh.Templates,
    log: Callable[[str], None],
) -> None:
    """One extra, profiled pass of each of our measurements (not timed)."""
    log(f"  profiling into {out} ...")
    created = ListThreadsParams(page_size=PAGE)
    if _count_rollouts(home) <= 20_000:  # bigger: use --cold-build N --profile DIR
        async with profiling(out, "cold_build"):
            shutil.rmtree(home / STATE_DIR, ignore_errors=True)
            async with LocalThreadStore(_config(home)) as store:
                await store.list_threads(created)
    Op = Callable[[LocalThreadStore, LocalThreadStore], Awaitable[object]]
    ops: list[tuple[str, int, Op]] = [
        ("list_created_first50", 200, lambda s, e: s.list_threads(created)),
        ("list_created_first50_refresh", 50, lambda s, e: e.list_threads(created)),
        ("walk_all", 3, lambda s, e: _walk(s, ThreadSortKey.CREATED_AT)),
        (
            "search_common",
            20,
            lambda s, e: s.search_threads(SearchThreadsParams(search_term="files")),
        ),
        (
            "search_miss",
            20,
            lambda s, e: s.search_threads(SearchThreadsParams(search_term="zqxjv")),
        ),
    ]
    for kind, sample in read_ids.items():
        if kind != "mixed":
            ops.append((f"read_with_history_{kind}", 20, _reader_op(_cycler(sample))))
    for name, count, body in ops:
        async with (
            profiling(out, name, start=False) as profiler,
            LocalThreadStore(_config(home)) as store,
            LocalThreadStore(_config(home, refresh_interval_s=0.0)) as eager,
        ):
            await store.list_threads(created)
            await eager.list_threads(created)
            profiler.start()
            for _ in range(count):
                await body(store, eager)
    async with (
        profiling(out, "refresh_100_new", start=False) as profiler,
        LocalThreadStore(_config(home)) as store,
    ):
        await store.list_threads(created)
        paths = mh.drop_threads(home, 100, templates=templates, seed=20_000)
        await asyncio.sleep(store.config.refresh_interval_s + 0.05)
        profiler.start()
        await store.list_threads(created)
        profiler.stop()
        for p in paths:
            p.unlink()
        await asyncio.sleep(store.config.refresh_interval_s + 0.05)
        await store.list_threads(created)
    async with (
        profiling(out, "append_flush_1", start=False) as profiler,
        LocalThreadStore(_config(home)) as store,
    ):
        await store.list_threads(created)
        profiler.start()
        await _append_run(store, _items_for(5000), batch=1, flush_every=100)


def _reader_op(
    ids: Iterator[str],
) -> Callable[[LocalThreadStore, LocalThreadStore], Awaitable[object]]:
    return lambda s, e: s.read_thread(ReadThreadParams(thread_id=next(ids), include_history=True))


def _reader(store: LocalThreadStore, ids: Iterator[str]) -> Callable[[], Awaitable[object]]:
    return lambda: store.read_thread(ReadThreadParams(thread_id=next(ids), include_history=True))


def _cycler(ids: list[str]) -> Iterator[str]:
    while True:
        yield from ids


# -- the real CLI --------------------------------------------------------------------------------


def bench_cli(
    home: Path,
    read_ids: dict[str, list[str]],
    reps: Reps,
    *,
    user_home: Path,
    log: Callable[[str], None],
) -> tuple[dict[str, Stats], dict[str, Any]]:
    stats: dict[str, Stats] = {}
    checks: dict[str, Any] = {}
    had_codex_db = (home / "state_5.sqlite").exists()
    with MockResponsesServer() as server:
        cli = CodexCli(home, server, home=user_home, timeout=600)  # rewrites config.toml
        started = time.perf_counter()
        app: AppServer = cli.app_server(timeout=600)
        app.start()
        stats["cli_start"] = Stats([time.perf_counter() - started])
        try:
            # The first call may backfill Codex's DB (homes made without --with-codex-db).
            started = time.perf_counter()
            app.thread_list(limit=PAGE)
            checks["cli_first_call_ms"] = round((time.perf_counter() - started) * 1e3, 1)
            if not had_codex_db:
                log("  cli: warm-up walk (backfill) ...")
                started = time.perf_counter()
                app.thread_list_all()
                checks["cli_backfill_walk_s"] = round(time.perf_counter() - started, 2)
            for name, sort_key in (
                ("list_created_first50", "created_at"),
                ("list_updated_first50", "updated_at"),
            ):
                stats[name] = timed_sync(
                    functools.partial(app.thread_list, limit=PAGE, sortKey=sort_key),
                    reps.cli_page,
                )
                log(f"  cli  {name}: median {stats[name].median * 1e3:,.2f} ms")
            walked: dict[str, list[str]] = {}

            def walk() -> None:
                walked["ids"] = [t["id"] for t in app.iter_threads(limit=WALK_PAGE)]

            log(f"  cli  walk_all x{reps.cli_walk} ...")
            stats["walk_all"] = timed_sync(walk, reps.cli_walk, warmup=0)
            log(f"  cli  walk_all: median {stats['walk_all'].median:,.2f} s")
            checks["cli_walk_threads"] = len(walked["ids"])
            checks["cli_walk_ids"] = walked["ids"]
            turns: list[int] = []
            for kind, sample in read_ids.items():
                cycle = _cycler(sample)

                def read(c: Iterator[str] = cycle) -> None:
                    result = app.thread_read(next(c), include_turns=True)
                    turns.append(len(result["thread"].get("turns") or []))

                suffix = "" if kind == "mixed" else f"_{kind}"
                stats[f"read_with_history{suffix}"] = timed_sync(
                    read, reps.cli_read if kind == "mixed" else max(1, reps.cli_read // 2)
                )
            checks["cli_read_zero_turns"] = sum(1 for n in turns if n == 0)
            if checks["cli_read_zero_turns"] and not had_codex_db:
                log(
                    "  cli: some reads had 0 turns: Codex reads paginated threads from its"
                    " thread_history DB; make homes with --with-codex-db"
                )
            cycle = _cycler(read_ids["mixed"])
            stats["list_turns_first"] = timed_sync(
                lambda: app.thread_turns_list(next(cycle), limit=PAGE), reps.cli_read
            )
            read_ms = stats["read_with_history"].median * 1e3
            log(f"  cli  read_with_history: median {read_ms:.2f} ms")
        finally:
            app.close()
        checks["outbound_attempts"] = list(server.outbound_attempts)
        checks["mock_requests"] = len(server.requests)
    return stats, checks


# -- one home ------------------------------------------------------------------------------------


_KIND_TEXT = {
    "mixed": "threads, legacy/paginated/fork in turn",
    "legacy": "legacy threads",
    "paginated": "paginated threads",
    "fork": "paginated or copied forks",
}


def _sample_ids(home: Path, walk: list[str] | None = None, count: int = 60) -> dict[str, list[str]]:
    """Threads to read, none archived: `mixed` takes legacy, paginated and forked ones in
    turn (from the home's manifest), plus one group per kind; else a spread of the walk."""
    manifest_path = home / mh.MANIFEST_NAME
    if manifest_path.exists():
        samples = json.loads(manifest_path.read_text())["samples"]
        archived = set(samples.get("archived", []))
        groups = {
            k: [t for t in samples.get(k, []) if t not in archived][: count // 2]
            for k in ("legacy", "paginated", "fork")
        }
        groups = {k: v for k, v in groups.items() if v}
        mixed: list[str] = []
        kinds = list(groups.values())
        for i in range(count):
            group = kinds[i % len(kinds)]
            mixed.append(group[(i // len(kinds)) % len(group)])
        if mixed:
            return {"mixed": mixed, **groups}
    if not walk:
        raise SystemExit("the home has no threads to read")
    stride = max(1, len(walk) // count)
    return {"mixed": walk[::stride][:count]}


async def _walk_once(home: Path) -> list[str]:
    async with LocalThreadStore(_config(home)) as store:
        return await _walk(store, ThreadSortKey.CREATED_AT)


def run_home(
    home: Path,
    *,
    threads: int | None,
    reps: Reps,
    templates: mh.Templates,
    with_cli: bool,
    profile_dir: Path | None,
    user_home: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    walk = None if (home / mh.MANIFEST_NAME).exists() else asyncio.run(_walk_once(home))
    read_ids = _sample_ids(home, walk)
    log(f"home {home} ({threads or '?'} threads), {len(read_ids['mixed'])} threads to read")
    metrics, checks = asyncio.run(
        bench_ours(
            home,
            read_ids,
            reps,
            templates=templates,
            profile_dir=profile_dir,
            log=log,
        )
    )
    if with_cli:
        cli_stats, cli_checks = bench_cli(home, read_ids, reps, user_home=user_home, log=log)
        for name, stats in cli_stats.items():
            if name in metrics:
                metrics[name].cli = stats
            else:
                metrics[name] = Metric(name, "codex app-server spawn + initialize", cli=stats)
        ours_ids = checks.pop("ours_walk_ids")
        cli_ids = cli_checks.pop("cli_walk_ids")
        checks.update(cli_checks)
        checks["same_threads_as_cli"] = set(ours_ids) == set(cli_ids)
        checks["same_order_as_cli"] = ours_ids == cli_ids
    else:
        checks.pop("ours_walk_ids", None)
    manifest_path = home / mh.MANIFEST_NAME
    counts = json.loads(manifest_path.read_text())["counts"] if manifest_path.exists() else {}
    return {
        "threads": threads,
        "home": str(home),
        "counts": counts,
        "metrics": [m.to_json() for m in metrics.values()],
        "checks": checks,
        "_metrics": metrics,
    }


# -- report --------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    try:
        codex = codex_version(find_codex())
    except Exception as exc:  # the CLI part is optional
        codex = f"unavailable ({exc})"
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "checkout": _checkout(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "codex_cli": codex,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def _checkout() -> str:
    """HEAD of the checkout measured, and whether src/ differs from it (read-only git)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("diff", "--stat", "HEAD", "--", "src")
    return head + (" + uncommitted changes in src/" if dirty else "")


def _fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    if ms >= 10_000:
        return f"{seconds:,.1f} s"
    if ms >= 100:
        return f"{ms:,.0f} ms"
    return f"{ms:,.2f} ms"


def render_table(run: dict[str, Any]) -> str:
    metrics: dict[str, Metric] = run["_metrics"]
    lines = [
        "| metric | ours median | ours p90 | CLI median | CLI p90 | CLI / ours |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in metrics.values():
        if m.items:
            assert m.ours is not None
            ours_med = f"{m.items / m.ours.median:,.0f} items/s"
            ours_p90 = f"{m.items / m.ours.p90:,.0f} items/s"
        else:
            ours_med = _fmt_ms(m.ours.median) if m.ours else "-"
            ours_p90 = _fmt_ms(m.ours.p90) if m.ours else "-"
        cli_med = _fmt_ms(m.cli.median) if m.cli else "-"
        cli_p90 = _fmt_ms(m.cli.p90) if m.cli else "-"
        ratio = f"{m.ratio:,.1f}x" if m.ratio is not None else "-"
        lines.append(f"| {m.what} | {ours_med} | {ours_p90} | {cli_med} | {cli_p90} | {ratio} |")
    return "\n".join(lines)


def verdicts(run: dict[str, Any], *, big: bool) -> list[str]:
    metrics: dict[str, Metric] = run["_metrics"]
    out = []
    for name in ("list_created_first50", "list_updated_first50"):
        m = metrics.get(name)
        if m is None or m.ours is None:
            continue
        med = m.ours.median * 1e3
        scope = "" if big else " (target is stated at 100k)"
        out.append(f"{name}: {med:.2f} ms {'<=' if med <= 5 else '>'} 5 ms{scope}")
        if m.ratio is not None:
            out.append(f"{name}: CLI/ours {m.ratio:.1f}x {'>=' if m.ratio >= 20 else '<'} 20x")
    m = metrics.get("append_flush_1")
    if m is not None and m.ours is not None and m.items:
        rate = m.items / m.ours.median
        out.append(f"append_flush_1: {rate:,.0f} items/s {'>=' if rate >= 5000 else '<'} 5,000")
    return out


def print_header(machine: dict[str, Any]) -> None:
    print(
        f"# bench_local  {machine['date_utc']}\n"
        f"machine: {machine['cpu_count']} CPUs ({machine['cpu_model']}), "
        f"Python {machine['python']}, SQLite {machine['sqlite']}, {machine['platform']}\n"
        f"codex CLI: {machine['codex_cli']}; checkout {machine['checkout']}; "
        f"load average at start: {machine['loadavg_start']}"
    )


# -- main ----------------------------------------------------------------------------------------


def _make(path: Path, threads: int, seed: int, templates: mh.Templates, codex_db: bool) -> float:
    started = time.perf_counter()
    mh.make_home(
        path,
        mh.HomeSpec(threads=threads, seed=seed, with_codex_db=codex_db),
        templates=templates,
        progress=mh.TerminalProgress(f"make_home {threads:,}"),
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[2000, 100_000], help="home sizes to make"
    )
    parser.add_argument("--home", type=Path, help="benchmark this home instead (it is modified)")
    parser.add_argument("--cold-build", type=int, metavar="N", help="only time a cold build of N")
    parser.add_argument("--cold-reps", type=int, default=3, help="runs of --cold-build")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-cli", action="store_true", help="skip the real CLI")
    parser.add_argument("--reps-scale", type=float, default=1.0, help="scale repetitions")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of ours here")
    parser.add_argument("--workdir", type=Path, help="where to make homes (default: a /tmp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the homes made")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    machine = machine_info()
    print_header(machine)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_local-", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine, "argv": sys.argv, "runs": []}
    templates = mh.Templates.load(with_db=True)
    try:
        if args.cold_build:
            results["cold_build"] = cold_build_mode(args, workdir, templates, log)
        else:
            homes: list[tuple[Path, int | None, bool]] = []
            if args.home:
                if args.home.resolve() == (Path.home() / ".codex").resolve():
                    parser.error("refusing to benchmark (and modify) ~/.codex; use a copy")
                homes.append((args.home.resolve(), None, False))
            else:
                homes += [(workdir / f"home-{n}", n, True) for n in args.threads]
            for home, threads, make in homes:
                made_s = None
                if make and threads is not None:
                    made_s = _make(home, threads, args.seed, templates, codex_db=True)
                reps = Reps.for_size(threads or _count_rollouts(home), args.reps_scale)
                run = run_home(
                    home,
                    threads=threads,
                    reps=reps,
                    templates=templates,
                    with_cli=not args.no_cli,
                    profile_dir=(args.profile / f"home-{threads}") if args.profile else None,
                    user_home=workdir / "user-home",
                    log=log,
                )
                run["home_made_s"] = made_s
                run["reps"] = reps.__dict__
                results["runs"].append(run)
                print(f"\n## {threads or run['checks'].get('ours_walk_threads')} threads: {home}")
                if run["counts"]:
                    print("home: " + ", ".join(f"{k} {v:,}" for k, v in run["counts"].items()))
                print(render_table(run))
                checks = {k: v for k, v in run["checks"].items() if not k.endswith("_ids")}
                print("checks: " + json.dumps(checks))
                for line in verdicts(run, big=(threads or 0) >= 100_000):
                    print("target: " + line)
                if make and not args.keep:
                    shutil.rmtree(home, ignore_errors=True)
        results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        print(f"load average at end: {results['machine']['loadavg_end']}")
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        for run in results["runs"]:
            run.pop("_metrics", None)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0


def _count_rollouts(home: Path) -> int:
    return sum(1 for _ in home.glob("sessions/*/*/*/rollout-*")) + sum(
        1 for _ in home.glob("archived_sessions/rollout-*")
    )


def cold_build_mode(
    args: argparse.Namespace, workdir: Path, templates: mh.Templates, log: Callable[[str], None]
) -> dict[str, Any]:
    """`--cold-build N`: time cold index builds (no index; open; first list) of N rollouts."""
    home = workdir / f"cold-{args.cold_build}"
    made_s = _make(home, args.cold_build, args.seed, templates, codex_db=False)

    async def build() -> int:
        shutil.rmtree(home / STATE_DIR, ignore_errors=True)
        async with LocalThreadStore(_config(home)) as store:
            page = await store.list_threads(ListThreadsParams(page_size=PAGE))
            return len(page.items)

    samples = []
    for rep in range(args.cold_reps):
        log(f"cold build {rep + 1}/{args.cold_reps} of {args.cold_build:,} rollouts ...")
        subprocess.run(["sync"], check=False)
        started = time.perf_counter()
        got = asyncio.run(build())
        samples.append(time.perf_counter() - started)
        log(f"  {samples[-1]:.2f} s ({got} threads on the first page)")
    if args.profile:

        async def profiled() -> None:
            async with profiling(args.profile, f"cold_build_{args.cold_build}"):
                await build()

        asyncio.run(profiled())
    stats = Stats(samples)
    print(
        f"\n## cold index build, {args.cold_build:,} rollouts (page cache warm)\n"
        f"| runs | median | p90 | min | max | target |\n|---:|---:|---:|---:|---:|---|\n"
        f"| {len(samples)} | {stats.median:.2f} s | {stats.p90:.2f} s | {min(samples):.2f} s "
        f"| {max(samples):.2f} s | < 10 s: {'met' if stats.median < 10 else 'MISSED'} |"
    )
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return {"threads": args.cold_build, "home_made_s": made_s, **stats.to_json()}


if __name__ == "__main__":
    sys.exit(main())
