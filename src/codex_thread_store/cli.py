"""`codex-threads`: the command line. Commands stay thin; the library does the work.

Exit codes: 0 success, 1 a thread-store error (not found, conflict, ...),
2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._version import __version__
from .errors import ThreadStoreError

EXIT_STORE_ERROR = 1


class _Group(click.Group):
    """Turns our errors into one clear line on stderr (a traceback only with --debug)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ThreadStoreError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_STORE_ERROR)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 ok, 1 thread-store error, 2 usage error.",
)
@click.version_option(__version__, prog_name="codex-threads")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Browse, search and manage Codex conversation threads."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the schema files into (created if missing).",
)
def schema(out_dir: Path) -> None:
    """Write the JSON Schema of the public wire types.

    Example: codex-threads schema --out ./schema
    """
    from .schema import write_schema

    paths = write_schema(out_dir)
    click.echo(f"wrote {len(paths)} schema files to {out_dir}")
