"""`codex-threads demo`: make a small home, then list, search and show it."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import click

from ..context import CliContext
from ..exit_codes import CliError, ExitCode

__all__ = ["demo_command"]


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to make the demo home (a new or empty folder; default: a new temporary folder).",
)
def demo_command(directory: Path | None) -> None:
    """Make a small demo home and tour it: start here.

    Six threads written through LiveThread, as an app would write them: one with tool
    calls over two turns, a fork of it, a subagent it spawned, an exec thread, an
    automation thread on another provider, and an archived one. Then it lists,
    searches and shows them, and prints commands to try next.

    Example: codex-threads demo --dir ./demo-home
    """
    from ...demo import build_demo_home

    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="codex-threads-demo-"))
    elif directory.exists() and any(directory.iterdir()):
        raise CliError(f"{directory} is not empty; pick a new folder for the demo", ExitCode.USAGE)
    home = directory.absolute()
    demo = asyncio.run(build_demo_home(home))
    click.echo(f"Made a demo Codex home with {len(demo.thread_ids)} threads in {home}\n")

    from .listing import list_command
    from .search import search_command
    from .show import show_command

    steps = [
        ("codex-threads list", list_command, {}),
        ('codex-threads search "flaky"', search_command, {"text": "flaky"}),
        ('codex-threads show "Parser flake"', show_command, {"thread": "Parser flake"}),
    ]
    for title, command, params in steps:
        click.echo(f"$ {title}")
        with click.Context(command, obj=CliContext(home=home)) as sub:
            sub.invoke(command, **params)
        click.echo()
    from ..resolve import short_ids

    short = short_ids(demo.thread_ids, sorted(demo.thread_ids))
    prefix = f"codex-threads --home {home}"
    click.echo("Try next:")
    for line in (
        f"{prefix} list --archived",
        f"{prefix} list --descendants-of {short[demo.parser]}",
        f"{prefix} show {short[demo.fork]} --full",
        f"{prefix} export 'Parser flake' --format html -o parser.html",
        f"{prefix} stats",
        f"{prefix} doctor",
    ):
        click.echo(f"  {line}")
