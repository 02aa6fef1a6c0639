"""`codex-threads schema`: the JSON Schema of the public wire types."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["schema_command"]


@click.command("schema")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the schema files into (created if missing).",
)
def schema_command(out_dir: Path) -> None:
    """Write the JSON Schema of the public wire types.

    Params, StoredThread, pages: every type the store API and `--json` use.

    Example: codex-threads schema --out ./schema
    """
    from ...schema import write_schema

    paths = write_schema(out_dir)
    click.echo(f"wrote {len(paths)} schema files to {out_dir}")
