"""`codex-threads list`: a table (or JSON) of threads, filtered and sorted."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import click

from ...store import ThreadStore
from ...types import (
    MAX_PAGE_SIZE,
    ListThreadsParams,
    SortDirection,
    StoredThread,
    ThreadPage,
    ThreadRelationFilter,
    ThreadSortKey,
)
from ..console import emit_json, emit_jsonl, stderr_is_terminal, stdout_is_terminal
from ..context import CliContext, pass_cli
from ..exit_codes import CliError, ExitCode
from ..pages import collect_pages

__all__ = ["list_command"]

SORT_KEYS = {
    "created": ThreadSortKey.CREATED_AT,
    "updated": ThreadSortKey.UPDATED_AT,
    "recency": ThreadSortKey.RECENCY_AT,
}


def _cwd(value: str) -> str:
    """Codex records absolute working directories; `--cwd .` means this one."""
    return os.path.abspath(Path(value).expanduser())


@click.command("list")
@click.option(
    "--cwd",
    "cwds",
    multiple=True,
    metavar="DIR",
    help="Only threads started in DIR (repeatable; relative paths are made absolute).",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="KIND",
    help="Only threads of this source kind (repeatable): cli, vscode, exec, appServer, "
    "subAgent (any subagent), subAgentReview, subAgentThreadSpawn, ...",
)
@click.option(
    "--provider",
    "providers",
    multiple=True,
    metavar="NAME",
    help="Only threads of this model provider (repeatable).",
)
@click.option("--archived", is_flag=True, help="List archived threads instead of active ones.")
@click.option(
    "--search",
    metavar="TEXT",
    help="Only threads whose name, preview or first message holds every word of TEXT.",
)
@click.option(
    "--children-of", metavar="ID", help="Only direct subagents of this thread (id, prefix or name)."
)
@click.option("--descendants-of", metavar="ID", help="Only subagents of this thread, at any depth.")
@click.option(
    "--sort",
    "sort",
    type=click.Choice(list(SORT_KEYS)),
    default="updated",
    show_default=True,
    help="Order by creation, last update, or last turn start.",
)
@click.option("--asc", is_flag=True, help="Oldest first (default: newest first).")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=MAX_PAGE_SIZE),
    default=20,
    show_default=True,
    help="Threads per page.",
)
@click.option(
    "--cursor", metavar="CURSOR", help="Continue a listing from the cursor a previous page printed."
)
@click.option("--all", "all_pages", is_flag=True, help="Every page, not just the first.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the page as JSON (ThreadPage: items, next_cursor).",
)
@click.option("--jsonl", "as_jsonl", is_flag=True, help="Print one StoredThread JSON per line.")
@pass_cli
def list_command(
    cli: CliContext,
    cwds: tuple[str, ...],
    sources: tuple[str, ...],
    providers: tuple[str, ...],
    archived: bool,
    search: str | None,
    children_of: str | None,
    descendants_of: str | None,
    sort: str,
    asc: bool,
    limit: int,
    cursor: str | None,
    all_pages: bool,
    as_json: bool,
    as_jsonl: bool,
) -> None:
    """List threads, most recently updated first.

    On a terminal: a table (id prefix, name or preview, source, provider, cwd, time,
    turns); piped: the same columns tab-separated with full ids and no header.

    \b
    Examples:
      codex-threads list --cwd . --limit 5
      codex-threads list --source exec --provider openai --sort created --asc
      codex-threads list --descendants-of 01a1fbf9-bfe6 --json
      codex-threads list --all --jsonl > threads.jsonl
    """
    if as_json and as_jsonl:
        raise CliError("pass either --json or --jsonl, not both", ExitCode.USAGE)
    if children_of and descendants_of:
        raise CliError("pass either --children-of or --descendants-of, not both", ExitCode.USAGE)
    sort_key = SORT_KEYS[sort]

    def params(page_cursor: str | None, relation: ThreadRelationFilter | None) -> ListThreadsParams:
        return ListThreadsParams(
            page_size=limit,
            cursor=page_cursor,
            sort_key=sort_key,
            sort_direction=SortDirection.ASC if asc else SortDirection.DESC,
            source_kinds=list(sources) or None,
            model_providers=list(providers) or None,
            cwd_filters=[_cwd(c) for c in cwds] or None,
            archived=archived,
            search_term=search or None,
            relation_filter=relation,
        )

    async def body(store: ThreadStore) -> _Listing:
        relation = None
        if children_of or descendants_of:
            from ..resolve import resolve_thread

            root = await resolve_thread(store, children_of or descendants_of or "")
            relation = (
                ThreadRelationFilter.direct_children_of(root.thread_id)
                if children_of
                else ThreadRelationFilter.descendants_of(root.thread_id)
            )
        threads, next_cursor = await collect_pages(
            lambda page_cursor: store.list_threads(params(page_cursor, relation)),
            cursor,
            all_pages=all_pages,
        )
        listing = _Listing(threads, next_cursor)
        if as_json or as_jsonl:
            return listing
        from ..resolve import all_thread_ids, short_ids
        from ..turn_counts import turn_counts

        ids = [t.thread_id for t in listing.threads]
        listing.short_ids = (
            short_ids(ids, await all_thread_ids(store)) if stdout_is_terminal() else {}
        )
        listing.turns = await turn_counts(store, listing.threads)
        return listing

    listing = cli.run(body)
    if as_json:
        emit_json(ThreadPage(items=listing.threads, next_cursor=listing.next_cursor))
        return
    if as_jsonl:
        emit_jsonl(listing.threads)
        return
    from ..render import ThreadRow, print_thread_table

    if not listing.threads:
        if stdout_is_terminal():
            click.echo("no threads" + (" (archived)" if archived else ""), err=True)
        return
    rows = [
        ThreadRow(
            t, listing.short_ids.get(t.thread_id, t.thread_id), listing.turns.get(t.thread_id)
        )
        for t in listing.threads
    ]
    print_thread_table(rows, sort_key)
    if listing.next_cursor is not None and stderr_is_terminal():
        click.echo(f"more: --cursor {listing.next_cursor}  (or --all)", err=True)


@dataclass
class _Listing:
    threads: list[StoredThread] = field(default_factory=list)
    next_cursor: str | None = None
    short_ids: dict[str, str] = field(default_factory=dict)
    turns: dict[str, int | None] = field(default_factory=dict)
