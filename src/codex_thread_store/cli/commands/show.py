"""`codex-threads show`: one thread's metadata, then its turns as a transcript."""

from __future__ import annotations

import click
import msgspec

from ...protocol.items import Turn
from ...store import ThreadStore
from ...turns import all_turns
from ...types import StoredThread
from ..console import emit_json
from ..context import CliContext, pass_cli

__all__ = ["ShowResult", "show_command"]


class ShowResult(msgspec.Struct, frozen=True, kw_only=True):
    """The `--json` shape of `show` (and `export --format json`): the thread as
    `read_thread` returns it, and its turns as `list_turns` returns them: Codex's
    app-server `Turn`s with every typed item."""

    thread: StoredThread
    turns: list[Turn]


@click.command("show")
@click.argument("thread")
@click.option(
    "--turns", "last_turns", type=click.IntRange(min=0), metavar="N", help="Only the last N turns."
)
@click.option("--full", is_flag=True, help="Do not fold tool calls, tool output and reasoning.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print {thread: StoredThread, turns: [Turn]} as JSON.",
)
@pass_cli
def show_command(
    cli: CliContext, thread: str, last_turns: int | None, full: bool, as_json: bool
) -> None:
    """Show a thread's metadata and its turns as a transcript.

    THREAD is a full id, any unique prefix of one, or a thread name. Tool calls,
    their output and reasoning are folded to a few lines unless --full.

    \b
    Examples:
      codex-threads show 01a1fbf9-e0e1
      codex-threads show "Parser flake" --turns 2 --full
      codex-threads show 01a1fbf9-e0e1 --json | jq '.turns | length'
    """

    async def body(store: ThreadStore) -> tuple[StoredThread, list[Turn]]:
        from ..resolve import resolve_thread

        found = await resolve_thread(store, thread)
        return found, await all_turns(store, found.thread_id)

    found, turns = cli.run(body)
    total = len(turns)
    if last_turns is not None:
        turns = turns[total - last_turns :] if last_turns else []
    if as_json:
        emit_json(ShowResult(thread=found, turns=turns))
        return
    from ..render import print_metadata, print_transcript

    print_metadata(found)
    print_transcript(turns, first_number=total - len(turns) + 1, total=total, full=full)
