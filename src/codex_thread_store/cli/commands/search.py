"""`codex-threads search`: full-text search with highlighted snippets."""

from __future__ import annotations

import click

from ...store import ThreadStore
from ...types import MAX_PAGE_SIZE, SearchThreadsParams, StoredThreadSearchResult, ThreadSearchPage
from ..console import emit_json, emit_jsonl, out_console, stderr_is_terminal, stdout_is_terminal
from ..context import CliContext, pass_cli
from ..exit_codes import CliError, ExitCode
from ..pages import collect_pages
from ..safe_text import field

__all__ = ["search_command"]


@click.command("search")
@click.argument("text")
@click.option("--archived", is_flag=True, help="Search archived threads instead of active ones.")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=MAX_PAGE_SIZE),
    default=20,
    show_default=True,
    help="Results per page.",
)
@click.option(
    "--cursor", metavar="CURSOR", help="Continue from the cursor a previous page printed."
)
@click.option("--all", "all_pages", is_flag=True, help="Every page, not just the first.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the page as JSON (ThreadSearchPage: items [{thread, snippet}], next_cursor).",
)
@click.option(
    "--jsonl", "as_jsonl", is_flag=True, help="Print one {thread, snippet} JSON per line."
)
@pass_cli
def search_command(
    cli: CliContext,
    text: str,
    archived: bool,
    limit: int,
    cursor: str | None,
    all_pages: bool,
    as_json: bool,
    as_jsonl: bool,
) -> None:
    """Full-text search over names, previews and messages.

    Finds threads whose name, preview or messages hold every word of TEXT. Words match
    case-insensitively anywhere (so `pars` finds "parser"); results are the most
    recently updated first, each with a snippet around the match. Piped output is tab-
    separated: id, name or preview, snippet.

    \b
    Examples:
      codex-threads search "flaky test"
      codex-threads search migration --archived --json
    """
    if as_json and as_jsonl:
        raise CliError("pass either --json or --jsonl, not both", ExitCode.USAGE)

    async def body(store: ThreadStore) -> tuple[ThreadSearchPage, dict[str, str]]:
        results, next_cursor = await collect_pages(
            lambda page_cursor: store.search_threads(
                SearchThreadsParams(
                    search_term=text, page_size=limit, cursor=page_cursor, archived=archived
                )
            ),
            cursor,
            all_pages=all_pages,
        )
        shorts: dict[str, str] = {}
        if stdout_is_terminal() and not (as_json or as_jsonl):
            from ..resolve import all_thread_ids, short_ids

            ids = [r.thread.thread_id for r in results]
            shorts = short_ids(ids, await all_thread_ids(store))
        return ThreadSearchPage(items=results, next_cursor=next_cursor), shorts

    page, shorts = cli.run(body)
    if as_json:
        emit_json(page)
        return
    if as_jsonl:
        emit_jsonl(page.items)
        return
    _print_results(page.items, text, shorts)
    if page.next_cursor is not None and stderr_is_terminal():
        click.echo(f"more: --cursor {page.next_cursor}  (or --all)", err=True)


def _print_results(
    results: list[StoredThreadSearchResult], text: str, shorts: dict[str, str]
) -> None:
    from ..resolve import thread_label

    if not stdout_is_terminal():
        for r in results:
            label, found = field(thread_label(r.thread, 200)), field(r.snippet)
            click.echo(f"{r.thread.thread_id}\t{label}\t{found}")
        return
    if not results:
        click.echo(f"no thread matches {field(repr(text))}", err=True)
        return
    from rich.text import Text

    words = [w for w in text.split() if w]
    console = out_console()
    for r in results:
        head = Text()
        head.append(shorts.get(r.thread.thread_id, r.thread.thread_id), style="cyan")
        head.append("  ")
        head.append(field(thread_label(r.thread, 80)), style="bold" if r.thread.name else "")
        snippet = Text("    " + field(r.snippet))
        snippet.highlight_words(words, style="bold black on yellow", case_sensitive=False)
        console.print(head)
        console.print(snippet)
