"""What threads look like on screen: the thread table, the metadata block, the transcript.

Each view is built once as plain rows/lines, then printed either through rich (on a
terminal: colour, aligned tables) or as plain text (piped: tab-separated rows and
unstyled lines that scripts can rely on).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import click

from ..protocol.items import Turn
from ..transcript import Entry, fold, transcript_entries
from ..types import StoredThread, ThreadSortKey
from .console import out_console, stdout_is_terminal
from .safe_text import clean, field

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = [
    "ThreadRow",
    "format_time",
    "print_metadata",
    "print_thread_table",
    "print_transcript",
    "source_label",
]

_FOLD_LINES = {"tool_output": 4, "tool_call": 3, "reasoning": 2}
_ROLE_STYLE = {
    "user": ("you", "bold green"),
    "assistant": ("assistant", "bold blue"),
    "reasoning": ("thinking", "italic magenta"),
    "plan": ("plan", "bold cyan"),
    "tool_call": ("tool", "bold yellow"),
    "tool_output": ("output", "yellow"),
    "note": ("note", "dim"),
}


def format_time(value: datetime | None, *, terminal: bool) -> str:
    """Local `YYYY-MM-DD HH:MM` on a terminal; RFC 3339 UTC (stable) when piped."""
    if value is None:
        return ""
    if terminal:
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def source_label(thread: StoredThread) -> str:
    """The source kind as `--source` spells it (every subagent kind reads `subAgent`),
    plus an app feature label when the thread has one."""
    kind = thread.source.kind
    if kind.startswith("subAgent"):
        kind = "subAgent"
    label = thread.thread_source
    if label and label not in ("user", "subagent"):
        return f"{kind}/{label}"
    return kind


def _home_short(path: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


@dataclass(frozen=True)
class ThreadRow:
    thread: StoredThread
    short_id: str
    turns: int | None


def _sort_time(thread: StoredThread, sort_key: ThreadSortKey) -> datetime:
    if sort_key is ThreadSortKey.CREATED_AT:
        return thread.created_at
    if sort_key is ThreadSortKey.RECENCY_AT:
        return thread.recency_at
    return thread.updated_at


def print_thread_table(rows: Sequence[ThreadRow], sort_key: ThreadSortKey) -> None:
    """A rich table on a terminal; tab-separated rows (full ids, no header) when piped:
    id, name or preview, source, provider, cwd, time of the sort key, turns."""
    if not stdout_is_terminal():
        for row in rows:
            t = row.thread
            fields = [
                t.thread_id,
                " ".join((t.name or t.preview).split()),
                source_label(t),
                t.model_provider,
                t.cwd,
                format_time(_sort_time(t, sort_key), terminal=False),
                "" if row.turns is None else str(row.turns),
            ]
            click.echo("\t".join(field(f) for f in fields))
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    column = {"created_at": "created", "updated_at": "updated", "recency_at": "recent"}
    cells = [
        (
            row.short_id,
            field(source_label(row.thread)),
            field(row.thread.model_provider),
            format_time(_sort_time(row.thread, sort_key), terminal=True),
            "" if row.turns is None else str(row.turns),
        )
        for row in rows
    ]

    def width(index: int, header: str) -> int:
        return max([len(header), *(len(c[index]) for c in cells)])

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=True)
    table.add_column("id", style="cyan", no_wrap=True, min_width=width(0, "id"))
    table.add_column("name / preview", ratio=3, overflow="ellipsis", no_wrap=True)
    table.add_column("source", no_wrap=True, min_width=width(1, "source"))
    table.add_column("provider", no_wrap=True, min_width=width(2, "provider"))
    table.add_column("cwd", ratio=2, overflow="ellipsis", no_wrap=True, style="dim")
    table.add_column(column[sort_key.value], no_wrap=True, min_width=width(3, "updated"))
    table.add_column("turns", justify="right", no_wrap=True, min_width=5)
    for row, (short, source, provider, when, turns) in zip(rows, cells, strict=True):
        t = row.thread
        label = Text(field(" ".join((t.name or t.preview).split())), style="bold" if t.name else "")
        if t.is_archived:
            label.append(" (archived)", style="dim")
        table.add_row(
            Text(short),
            label,
            Text(source),
            Text(provider),
            Text(field(_home_short(t.cwd))),
            Text(when),
            Text(turns),
        )
    out_console().print(table)


def print_metadata(thread: StoredThread) -> None:
    from ..export import thread_facts

    terminal = stdout_is_terminal()
    fields = thread_facts(thread, lambda value: format_time(value, terminal=terminal))
    if not terminal:
        for key, value in fields:
            click.echo(f"{key}: {field(value)}")
        return
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in fields:
        grid.add_row(key, Text(field(value), style="bold cyan" if key in ("id", "name") else ""))
    out_console().print(grid)


def _turn_header(turn: Turn, number: int, total: int, terminal: bool) -> str:
    parts = [f"turn {number}/{total}", turn.status.value]
    if turn.started_at is not None:
        from ..timeutil import from_ms

        parts.append(format_time(from_ms(turn.started_at * 1000), terminal=terminal))
    if turn.duration_ms is not None:
        parts.append(f"{turn.duration_ms / 1000:.1f}s")
    if turn.error is not None:
        parts.append(f"error: {turn.error.message}")
    return field(" · ".join(parts))


def _entry_text(entry: Entry, full: bool) -> str:
    limit = _FOLD_LINES.get(entry.kind)
    return clean(entry.text if full or limit is None else fold(entry.text, limit))


def print_transcript(turns: Sequence[Turn], *, first_number: int, total: int, full: bool) -> None:
    """Each turn's header, then its entries (tool output folded unless `full`)."""
    terminal = stdout_is_terminal()
    if not turns:
        click.echo("(no turns)")
        return
    renderables: list[RenderableType] = []
    for offset, turn in enumerate(turns):
        header = _turn_header(turn, first_number + offset, total, terminal)
        entries = transcript_entries(turn.items)
        if not terminal:
            click.echo(f"\n── {header} ──")
            for entry in entries:
                role = _ROLE_STYLE[entry.kind][0]
                title = f" {field(entry.title)}" if entry.title else ""
                click.echo(f"{role}{title}:")
                for line in _entry_text(entry, full).split("\n"):
                    click.echo(f"  {line}")
            continue
        renderables.extend(_rich_turn(header, entries, full))
    if renderables:
        from rich.console import Group

        out_console().print(Group(*renderables))


def _rich_turn(header: str, entries: Sequence[Entry], full: bool) -> list[RenderableType]:
    from rich.padding import Padding
    from rich.rule import Rule
    from rich.text import Text

    out: list[RenderableType] = [Text(""), Rule(Text(header), style="dim", align="left")]
    for entry in entries:
        role, style = _ROLE_STYLE[entry.kind]
        head = Text(role, style=style)
        if entry.title:
            head.append(f" {field(entry.title)}", style="yellow")
        body_style = "dim" if entry.kind in ("tool_output", "reasoning", "note") else ""
        out.append(head)
        out.append(Padding(Text(_entry_text(entry, full), style=body_style), (0, 0, 0, 2)))
    return out
