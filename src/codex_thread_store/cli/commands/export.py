"""`codex-threads export`: a thread as Markdown, HTML, JSON or rollout JSONL."""

from __future__ import annotations

from pathlib import Path

import click

from ...store import ThreadStore
from ..context import CliContext, pass_cli
from ..safe_text import clean

__all__ = ["export_command"]

FORMATS = ("markdown", "json", "jsonl", "html")


@click.command("export")
@click.argument("thread")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="markdown",
    show_default=True,
    help="markdown/html: a readable transcript; json: {thread, turns} as `show --json`; "
    "jsonl: the rollout, which `import` reads back.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)
@pass_cli
def export_command(cli: CliContext, thread: str, fmt: str, output: Path | None) -> None:
    """Export a thread as Markdown, HTML, JSON or rollout JSONL.

    The whole history, nothing folded, to stdout or a file (-o).

    \b
    Examples:
      codex-threads export 01a1fbf9-e0e1 > thread.md
      codex-threads export "Parser flake" --format html -o parser.html
      codex-threads export 01a1fbf9-e0e1 --format jsonl -o rollout.jsonl
    """

    async def body(store: ThreadStore) -> bytes:
        from ... import export as exporting
        from ...codec import encode_json
        from ...turns import all_turns
        from ..resolve import resolve_thread
        from .show import ShowResult

        found = await resolve_thread(store, thread)
        if fmt == "jsonl":
            return await exporting.rollout_jsonl(store, found)
        turns = await all_turns(store, found.thread_id)
        if fmt == "json":
            return encode_json(ShowResult(thread=found, turns=turns)) + b"\n"
        if fmt == "html":
            return exporting.render_html(found, turns).encode()
        return exporting.render_markdown(found, turns).encode()

    data = cli.run(body)
    if output is None:
        if fmt == "markdown":  # read on a terminal: its controls made visible
            data = clean(data.decode()).encode()
        click.echo(data, nl=False)  # bytes go to the binary stream unchanged
        return
    output.write_bytes(data)
    click.echo(f"wrote {output} ({len(data):,} bytes)", err=True)
