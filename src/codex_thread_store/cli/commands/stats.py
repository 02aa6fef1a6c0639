"""`codex-threads stats`: how many threads, turns and bytes, by source, provider, month."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
import msgspec

from ...store import ThreadStore
from ...types import StoredThread
from ..console import emit_json, out_console, stdout_is_terminal
from ..context import CliContext, pass_cli
from ..safe_text import field

__all__ = ["Bucket", "StoreStats", "stats_command"]


class Bucket(msgspec.Struct, kw_only=True):
    threads: int = 0
    turns: int = 0
    bytes: int = 0

    def add(self, turns: int, size: int) -> None:
        self.threads += 1
        self.turns += turns
        self.bytes += size


class StoreStats(msgspec.Struct, kw_only=True):
    """The `--json` shape of `stats`. `bytes` is the rollout files' size on disk (0 for
    stores without files); months are the UTC month each thread was created in."""

    total: Bucket = msgspec.field(default_factory=Bucket)
    active: Bucket = msgspec.field(default_factory=Bucket)
    archived: Bucket = msgspec.field(default_factory=Bucket)
    by_source: dict[str, Bucket] = msgspec.field(default_factory=dict)
    by_provider: dict[str, Bucket] = msgspec.field(default_factory=dict)
    by_month: dict[str, Bucket] = msgspec.field(default_factory=dict)

    def add(self, thread: StoredThread, turns: int, size: int) -> None:
        from ..render import source_label

        self.total.add(turns, size)
        (self.archived if thread.is_archived else self.active).add(turns, size)
        for table, key in (
            (self.by_source, source_label(thread)),
            (self.by_provider, thread.model_provider or "(none)"),
            (self.by_month, thread.created_at.strftime("%Y-%m")),
        ):
            table.setdefault(key, Bucket()).add(turns, size)


def _file_sizes(paths: list[str | None]) -> list[int]:
    from ...local.rollout_files import existing_rollout

    sizes = []
    for path in paths:
        actual = existing_rollout(Path(path)) if path else None
        sizes.append(0 if actual is None else actual.stat().st_size)
    return sizes


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON (StoreStats).")
@pass_cli
def stats_command(cli: CliContext, as_json: bool) -> None:
    """Count threads, turns and bytes by source, provider, month.

    Reads every rollout to count turns, so it takes a while on a big home (a progress
    bar shows on a terminal).

    Example: codex-threads stats --json
    """
    from ..progress import progress_bar

    with progress_bar("counting", unit="threads") as progress:

        async def body(store: ThreadStore) -> StoreStats:
            from ...local import LocalThreadStore
            from ..pages import iter_threads
            from ..turn_counts import turn_counts

            threads = [t async for t in iter_threads(store, page_size=1000)]
            stats = StoreStats()
            local = isinstance(store, LocalThreadStore)
            for start in range(0, len(threads), 200):
                chunk = threads[start : start + 200]
                counts = await turn_counts(store, chunk)
                paths = [t.rollout_path for t in chunk]
                sizes = await asyncio.to_thread(_file_sizes, paths) if local else [0] * len(chunk)
                for thread, size in zip(chunk, sizes, strict=True):
                    stats.add(thread, counts.get(thread.thread_id) or 0, size)
                progress(start + len(chunk), len(threads))
            return stats

        stats = cli.run(body)
    if as_json:
        emit_json(stats)
        return
    _print_stats(stats)


def _sections(stats: StoreStats) -> list[tuple[str, list[tuple[str, Bucket]]]]:
    return [
        ("threads", [("all", stats.total), ("active", stats.active), ("archived", stats.archived)]),
        ("by source", sorted(stats.by_source.items(), key=lambda kv: -kv[1].threads)),
        ("by provider", sorted(stats.by_provider.items(), key=lambda kv: -kv[1].threads)),
        ("by month", sorted(stats.by_month.items())),
    ]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _print_stats(stats: StoreStats) -> None:
    if not stdout_is_terminal():
        for title, rows in _sections(stats):
            for key, b in rows:
                click.echo(f"{title}\t{field(key)}\t{b.threads}\t{b.turns}\t{b.bytes}")
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = out_console()
    for title, rows in _sections(stats):
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
        table.add_column("", no_wrap=True)
        for column in ("threads", "turns", "size"):
            table.add_column(column, justify="right")
        for key, b in rows:
            table.add_row(Text(field(key)), f"{b.threads:,}", f"{b.turns:,}", _size(b.bytes))
        console.print(table)
