"""Benchmark `ThreadSession` beside the OpenAI Agents SDK's own sessions, on the same items.

    python bench/bench_agents_session.py                       # full run, local + PostgreSQL
    python bench/bench_agents_session.py --quick               # smoke run, small sizes
    python bench/bench_agents_session.py --skip-postgres --json results.json

Two store pairs, each in one process and one event loop, through the `Session` protocol
only (`add_items`, `get_items`):

- local: `ThreadSession` over a `LocalThreadStore` (a fresh Codex home in a temporary
  folder, default durability: each `add_items` is fsync'ed when it returns) beside
  `agents.SQLiteSession` on a file in the same folder (WAL, fsync per commit);
- PostgreSQL: `ThreadSession` over a `PostgresThreadStore` beside the SDK's
  `SQLAlchemySession` (`postgresql+psycopg://`) on the same throwaway server (initdb +
  pg_ctl as `tests/pg_server.py` does, with fsync left on), removed afterwards. Without
  initdb these rows are skipped with the reason; `--skip-postgres` skips them too.

Rows (both sides get the same items, written through their own `add_items`):

- `add_items` of 1 item: the mean over `--calls` calls on one growing session;
- `add_items` of 100 items, on one growing session;
- `get_items()` of a 1,000-item and of a 100,000-item session (written 1,000 items per
  `add_items` call). Cold: a NEW session object on the written session, its first
  `get_items()` (for ThreadSession that includes opening the thread: loading and
  replaying its history). Warm: the second call on the same object. Writing these
  sessions is timed too (per call, in the JSON; total, first and last call printed).

The store and the SQLAlchemy engine stay open across a row (as in a server); each side is
warmed up first (connections, migrations). Every repeat is timed with `perf_counter`, the
sides alternate within a repeat, and the table gives medians. Every read is checked
against what was written (outside the timing): a mismatch stops the benchmark. The JSON
keeps each sample and, per row and side, the item counts and digests of what was written
and what was read back. Nothing here uses the network beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import psycopg
from agents import SQLiteSession, TResponseInputItem
from agents.extensions.memory.sqlalchemy_session import SQLAlchemySession
from agents.memory.session import SessionABC
from sqlalchemy.ext.asyncio import create_async_engine

from codex_thread_store import open_store
from codex_thread_store.agents_sdk import ThreadSession
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig
from codex_thread_store.store import ThreadStore

Item = TResponseInputItem

WORDS = [
    "refactor", "parser", "flaky", "test", "migrate", "database", "schema", "cache", "retry",
    "timeout", "logging", "config", "release", "branch", "merge", "review", "docs", "error",
    "stack", "trace", "memory", "leak", "index", "query", "latency", "thread", "async",
    "deploy", "rollback", "session", "tool", "weather", "forecast", "invoice", "customer",
]  # fmt: skip


class BenchError(RuntimeError):
    """A side read back something other than what was written."""


# -- items ------------------------------------------------------------------------------
def _text(rng: random.Random) -> str:
    target = rng.randint(100, 300)
    words: list[str] = []
    length = -1
    while length < target:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:target]


def make_item(n: int) -> dict[str, Any]:
    """Item `n` of every session: user (short form), function_call, its output, assistant
    message (long form), again and again; 100-300 characters of text each."""
    rng = random.Random(n)
    text = _text(rng)
    kind = n % 4
    if kind == 0:
        return {"role": "user", "content": text}
    if kind == 1:
        return {
            "type": "function_call",
            "id": f"fc_{n:08d}",
            "call_id": f"call_{n:08d}",
            "name": "search_docs",
            "arguments": json.dumps({"query": text}),
            "status": "completed",
        }
    if kind == 2:
        return {"type": "function_call_output", "call_id": f"call_{n - 1:08d}", "output": text}
    return {
        "type": "message",
        "role": "assistant",
        "id": f"msg_{n:08d}",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def make_items(start: int, stop: int) -> list[Item]:
    return cast(list[Item], [make_item(n) for n in range(start, stop)])


def digest(items: list[Any]) -> str:
    encoded = json.dumps(items, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


# -- the two sides of a pair -------------------------------------------------------------
@dataclass
class Side:
    """One session implementation: `new(session_id)` builds a session object (a new one
    each call), `release(session)` closes it."""

    name: str
    new: Callable[[str], SessionABC]
    release: Callable[[SessionABC], Awaitable[None]]


@dataclass
class Pair:
    key: str
    label: str
    ours: Side
    sdk: Side

    @property
    def sides(self) -> tuple[Side, Side]:
        return self.ours, self.sdk


def thread_side(store: ThreadStore) -> Side:
    async def release(session: SessionABC) -> None:
        assert isinstance(session, ThreadSession)
        await session.close()

    return Side("ThreadSession", lambda sid: ThreadSession(sid, store), release)


def sqlite_side(path: Path) -> Side:
    async def release(session: SessionABC) -> None:
        assert isinstance(session, SQLiteSession)
        session.close()

    return Side("SQLiteSession", lambda sid: SQLiteSession(sid, path), release)


def sqlalchemy_side(new: Callable[[str], SQLAlchemySession]) -> Side:
    async def release(session: SessionABC) -> None:
        pass  # the engine (and its pool) is shared by every session and disposed at the end

    return Side("SQLAlchemySession", new, release)


# -- results -----------------------------------------------------------------------------
@dataclass
class Check:
    """What one side was given and what it read back, for one row."""

    written: int
    read: int
    written_digest: str
    read_digest: str


@dataclass
class Row:
    id: str
    label: str
    pair: str
    pair_label: str
    unit: str
    ours_ms: list[float] = field(default_factory=list)
    sdk_ms: list[float] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def ours(self) -> float:
        return statistics.median(self.ours_ms)

    @property
    def sdk(self) -> float:
        return statistics.median(self.sdk_ms)

    @property
    def ratio(self) -> float:
        return self.sdk / self.ours

    def samples(self, side: Side, pair: Pair) -> list[float]:
        return self.ours_ms if side is pair.ours else self.sdk_ms

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ours_median_ms=self.ours, sdk_median_ms=self.sdk, ratio=self.ratio)
        return data


def check(side: Side, got: list[Any], expected: list[Item]) -> None:
    if got != expected:
        first = next(
            (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
            min(len(got), len(expected)),
        )
        raise BenchError(
            f"{side.name} read {len(got)} items back, {len(expected)} were written; "
            f"the first difference is at item {first}"
        )


async def verify(side: Side, session_id: str, expected: list[Item]) -> Check:
    """Read `session_id` back through a new session object (untimed) and compare."""
    session = side.new(session_id)
    try:
        got = await session.get_items()
    finally:
        await side.release(session)
    check(side, got, expected)
    return Check(len(expected), len(got), digest(expected), digest(got))


def _settle() -> None:
    """Collect garbage between repeats, not inside the timing (cheap: see `main`)."""
    gc.collect()


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


# -- rows --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sizes:
    repeat: int
    calls: int
    batch: int
    small: int
    large: int
    build_batch: int


async def row_add_one(pair: Pair, sizes: Sizes, run: str) -> Row:
    row = Row("add_1", "add_items(1 item)", pair.key, pair.label, "ms per call (mean)")
    sid = f"{run}-add-1"
    sessions = {side.name: side.new(sid) for side in pair.sides}
    written = 1
    try:
        for side in pair.sides:  # creates the session (untimed)
            await sessions[side.name].add_items(make_items(0, 1))
        for _ in range(sizes.repeat):
            items = make_items(written, written + sizes.calls)
            for side in pair.sides:
                _settle()
                session = sessions[side.name]
                total = 0.0
                for item in items:
                    start = time.perf_counter()
                    await session.add_items([item])
                    total += _ms(start)
                row.samples(side, pair).append(total / sizes.calls)
            written += sizes.calls
    finally:
        for side in pair.sides:
            await side.release(sessions[side.name])
    expected = make_items(0, written)
    for side in pair.sides:
        row.checks[side.name] = await verify(side, sid, expected)
    return row


async def row_add_batch(pair: Pair, sizes: Sizes, run: str) -> Row:
    label = f"add_items({sizes.batch} items)"
    row = Row(f"add_{sizes.batch}", label, pair.key, pair.label, "ms per call")
    sid = f"{run}-add-{sizes.batch}"
    sessions = {side.name: side.new(sid) for side in pair.sides}
    written = 1
    try:
        for side in pair.sides:
            await sessions[side.name].add_items(make_items(0, 1))
        for _ in range(sizes.repeat):
            items = make_items(written, written + sizes.batch)
            for side in pair.sides:
                _settle()
                start = time.perf_counter()
                await sessions[side.name].add_items(items)
                row.samples(side, pair).append(_ms(start))
            written += sizes.batch
    finally:
        for side in pair.sides:
            await side.release(sessions[side.name])
    expected = make_items(0, written)
    for side in pair.sides:
        row.checks[side.name] = await verify(side, sid, expected)
    return row


async def build(side: Side, session_id: str, count: int, batch: int) -> list[float]:
    """Write `count` items through the side's own `add_items`; each call's milliseconds."""
    session = side.new(session_id)
    calls: list[float] = []
    try:
        for first in range(0, count, batch):
            items = make_items(first, min(count, first + batch))
            start = time.perf_counter()
            await session.add_items(items)
            calls.append(_ms(start))
    finally:
        await side.release(session)
    return calls


async def rows_get(
    pair: Pair, sizes: Sizes, run: str, count: int, builds: dict[str, Any]
) -> list[Row]:
    sid = f"{run}-get-{count}"
    size = f"{count:,} items"
    cold = Row(f"get_{count}_cold", f"get_items() cold, {size}", pair.key, pair.label, "ms")
    warm = Row(f"get_{count}_warm", f"get_items() warm, {size}", pair.key, pair.label, "ms")
    built = builds.setdefault(f"{pair.key}/{count}", {})
    for side in pair.sides:
        calls = await build(side, sid, count, sizes.build_batch)
        built[side.name] = {
            "total_s": sum(calls) / 1000,
            "first_call_ms": calls[0],
            "last_call_ms": calls[-1],
            "max_call_ms": max(calls),
            "calls_ms": calls,
        }
    expected = make_items(0, count)
    written_digest = digest(expected)
    for _ in range(sizes.repeat):
        for side in pair.sides:
            _settle()
            session = side.new(sid)
            try:
                start = time.perf_counter()
                first = await session.get_items()
                cold.samples(side, pair).append(_ms(start))
                start = time.perf_counter()
                second = await session.get_items()
                warm.samples(side, pair).append(_ms(start))
            finally:
                await side.release(session)
            check(side, first, expected)
            check(side, second, expected)
            if side.name not in cold.checks:
                for row, got in ((cold, first), (warm, second)):
                    row.checks[side.name] = Check(count, len(got), written_digest, digest(got))
    return [cold, warm]


async def run_pair(pair: Pair, sizes: Sizes, builds: dict[str, Any]) -> list[Row]:
    run = f"bench-{time.time_ns()}"
    for side in pair.sides:  # warm-up: connections, migrations, the SQLite file
        await build(side, f"{run}-warmup", 8, 4)
        await verify(side, f"{run}-warmup", make_items(0, 8))
    rows = [await row_add_one(pair, sizes, run), await row_add_batch(pair, sizes, run)]
    for count in dict.fromkeys((sizes.small, sizes.large)):
        print(f"  {pair.label}: get_items() of {count:,} items", file=sys.stderr, flush=True)
        rows += await rows_get(pair, sizes, run, count, builds)
    return rows


# -- the pairs ---------------------------------------------------------------------------
@asynccontextmanager
async def local_pair(work: Path) -> AsyncIterator[Pair]:
    home = work / "codex-home"
    home.mkdir()
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        yield Pair(
            "local",
            "LocalThreadStore vs SQLiteSession",
            thread_side(store),
            sqlite_side(work / "agents-sessions.sqlite"),
        )


@asynccontextmanager
async def postgres_pair(dsn: str) -> AsyncIterator[Pair]:
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    # The tables are made once, as a migration would; the measured sessions do not check.
    await SQLAlchemySession("setup", engine=engine, create_tables=True).get_items()
    try:
        async with open_store(dsn + "&owner=bench") as store:
            yield Pair(
                "postgres",
                "PostgresThreadStore vs SQLAlchemySession",
                thread_side(store),
                sqlalchemy_side(lambda sid: SQLAlchemySession(sid, engine=engine)),
            )
    finally:
        await engine.dispose()


def start_postgres(stack: AsyncExitStack) -> tuple[str | None, str]:
    """A throwaway server's database URL, or None and the reason there is none."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pg_server import PgServer, PgServerUnavailable

    try:
        server = PgServer(durable=True)  # finds initdb/pg_ctl and the user to run as
    except PgServerUnavailable as exc:
        return None, str(exc)
    stack.callback(server.destroy)
    server.start()
    dsn = server.create_database("bench")
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    version = row[0] if row else "?"
    return dsn, f"PostgreSQL {version} on 127.0.0.1:{server.port} (fsync on)"


async def run(args: argparse.Namespace, sizes: Sizes, work: Path) -> dict[str, Any]:
    rows: list[Row] = []
    builds: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    postgres_info = None
    print("local: LocalThreadStore vs SQLiteSession", file=sys.stderr, flush=True)
    async with local_pair(work) as pair:
        rows += await run_pair(pair, sizes, builds)
    if args.skip_postgres:
        skipped["postgres"] = "--skip-postgres"
    else:
        async with AsyncExitStack() as stack:
            dsn, postgres_info = start_postgres(stack)
            if dsn is None:
                skipped["postgres"], postgres_info = postgres_info, None
            else:
                print(f"postgres: {postgres_info}", file=sys.stderr, flush=True)
                pair = await stack.enter_async_context(postgres_pair(dsn))
                rows += await run_pair(pair, sizes, builds)
    return {
        "sizes": asdict(sizes),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "postgres": postgres_info,
        "skipped": skipped,
        "build": builds,
        "rows": [row.as_json() for row in rows],
    }


# -- report ------------------------------------------------------------------------------
def fmt_ms(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.3f} ms"


def render(results: dict[str, Any]) -> str:
    lines = [
        "| row | store pair | ThreadSession | SDK session | ratio (SDK / ours) |",
        "|---|---|---:|---:|---:|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['label']} | {row['pair_label']} | {fmt_ms(row['ours_median_ms'])} "
            f"| {fmt_ms(row['sdk_median_ms'])} | {row['ratio']:.2f}x |"
        )
    sizes = results["sizes"]
    lines.append("")
    lines.append(
        f"Medians of {sizes['repeat']} repeats; add_items(1 item) is the mean of "
        f"{sizes['calls']} calls per repeat. Ratio > 1: ThreadSession is faster."
    )
    for key, built in results["build"].items():
        sides = ", ".join(
            f"{name} {b['total_s']:.2f} s (first call {fmt_ms(b['first_call_ms'])}, "
            f"last {fmt_ms(b['last_call_ms'])})"
            for name, b in built.items()
        )
        lines.append(f"Writing {key} ({sizes['build_batch']:,} items per add_items): {sides}")
    for key, reason in results["skipped"].items():
        lines.append(f"Skipped {key}: {reason}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, help="repeats per row (default 7, quick 3)")
    parser.add_argument("--calls", type=int, help="1-item calls per repeat (default 200)")
    parser.add_argument("--large", type=int, help="items of the large session (default 100,000)")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run, smaller sizes")
    parser.add_argument("--skip-postgres", action="store_true", help="only the local pair")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    # The SDK's imports leave a large heap: keep it out of every collection, so the
    # collections between repeats are cheap and those inside a timing are the sessions'.
    gc.collect()
    gc.freeze()
    quick = args.quick
    sizes = Sizes(
        repeat=args.repeat or (3 if quick else 7),
        calls=args.calls or (20 if quick else 200),
        batch=100,
        small=1_000,
        large=args.large or (4_000 if quick else 100_000),
        build_batch=1_000,
    )
    work = Path(tempfile.mkdtemp(prefix="bench-agents-session-"))
    try:
        results = asyncio.run(run(args, sizes, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(render(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
