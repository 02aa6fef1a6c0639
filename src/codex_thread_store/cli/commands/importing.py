"""`codex-threads import`: add rollout JSONL files (from another home, or `export`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ...store import ThreadStore
from ...types import StoredThread
from ..console import emit_jsonl
from ..context import CliContext, pass_cli

__all__ = ["import_command"]


@click.command("import")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
)
@click.option(
    "--new-id",
    is_flag=True,
    help="Give each imported thread a fresh id (needed when the id exists already).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print each imported StoredThread as a JSON line."
)
@pass_cli
def import_command(cli: CliContext, files: tuple[Path, ...], new_id: bool, as_json: bool) -> None:
    """Import rollout JSONL files (from another home, or export).

    FILES are rollout JSONL files, plain or .zst (- reads stdin). Each file is copied byte for byte
    into the home's sessions/ folder. A thread id that exists already is refused (exit
    4) unless --new-id, which imports a copy under a new id. A file that is not a
    rollout is refused (exit 2). Files are imported in order; the first failure stops
    the run.

    \b
    Examples:
      codex-threads import ~/other-home/sessions/2026/11/21/rollout-*.jsonl
      codex-threads export 01a1fbf9-e0e1 --format jsonl | codex-threads --home ./h import -
    """
    from ...importer import parse_import
    from ...local.rollout_files import read_rollout_bytes
    from ..progress import progress_bar

    rollouts = []
    for path in files:
        if str(path) == "-":
            rollouts.append(parse_import(sys.stdin.buffer.read(), None))
            continue
        # Codex compresses old rollouts in place: `.zst` files are read decompressed.
        rollouts.append(parse_import(read_rollout_bytes(path), path.name.removesuffix(".zst")))

    async def body(store: ThreadStore) -> list[StoredThread]:
        from ...importer import import_rollout

        done: list[StoredThread] = []
        for index, rollout in enumerate(rollouts, start=1):
            done.append(await import_rollout(store, rollout, new_id=new_id))
            progress(index, len(rollouts))
        return done

    with progress_bar("importing", unit="files") as progress:
        imported = cli.run(body, create=True)
    if as_json:
        emit_jsonl(imported)
        return
    for rollout, thread in zip(rollouts, imported, strict=True):
        if thread.thread_id != rollout.thread_id:
            click.echo(f"imported {thread.thread_id} (a copy of {rollout.thread_id})")
        else:
            click.echo(f"imported {thread.thread_id}")
