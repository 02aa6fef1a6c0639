"""Thread mutations: `rename`, `archive`, `unarchive`, `delete`, `fork`.

Metadata changes go through `ThreadManager` (the one entry point for mutations);
lifecycle changes go straight to the store, as the manager does for cold threads.
"""

from __future__ import annotations

import click

from ...store import ThreadStore
from ...types import ArchiveThreadParams, DeleteThreadParams, ReadThreadParams, StoredThread
from ..console import emit_json, stdin_is_terminal
from ..context import CliContext, pass_cli
from ..exit_codes import CliError, ExitCode
from ..safe_text import field

__all__ = [
    "archive_command",
    "delete_command",
    "fork_command",
    "rename_command",
    "unarchive_command",
]

_json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the resulting StoredThread as JSON."
)


def _report(thread: StoredThread, as_json: bool, message: str) -> None:
    if as_json:
        emit_json(thread)
    else:
        click.echo(field(message))


@click.command("rename")
@click.argument("thread")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="Remove the thread's name instead.")
@_json_option
@pass_cli
def rename_command(
    cli: CliContext, thread: str, name: str | None, clear: bool, as_json: bool
) -> None:
    """Name a thread, or clear its name.

    Codex shows the name instead of the first message.

    \b
    Examples:
      codex-threads rename 01a1fbf9-e0e1 "Parser flake"
      codex-threads rename "Parser flake" --clear
    """
    if clear == (name is not None):
        raise CliError("pass a NAME, or --clear to remove the name", ExitCode.USAGE)

    async def body(store: ThreadStore) -> StoredThread:
        from ...manager import ThreadManager
        from ...patch import ThreadMetadataPatch
        from ..resolve import resolve_thread

        found = await resolve_thread(store, thread)
        if name is not None and not name.strip():
            raise CliError("the name is empty; pass --clear to remove a name", ExitCode.USAGE)
        manager = ThreadManager(store, collect_git=False)
        return await manager.update_thread_metadata(
            found.thread_id,
            ThreadMetadataPatch(name=None if clear else (name or "").strip()),
            include_archived=True,
        )

    updated = cli.run(body)
    message = (
        f"renamed {updated.thread_id} to {updated.name!r}"
        if updated.name
        else f"cleared the name of {updated.thread_id}"
    )
    _report(updated, as_json, message)


@click.command("archive")
@click.argument("thread")
@_json_option
@pass_cli
def archive_command(cli: CliContext, thread: str, as_json: bool) -> None:
    """Archive a thread (move it to archived_sessions/).

    It leaves `list` (see `list --archived`) and stays readable by `show`.

    Example: codex-threads archive 01a1fbf9-e0e1
    """

    async def body(store: ThreadStore) -> tuple[StoredThread, bool]:
        from ..resolve import resolve_thread

        found = await resolve_thread(store, thread)
        if found.is_archived:
            return found, False
        await store.archive_thread(ArchiveThreadParams(thread_id=found.thread_id))
        read = ReadThreadParams(thread_id=found.thread_id, include_archived=True)
        return await store.read_thread(read), True

    archived, changed = cli.run(body)
    verb = "archived" if changed else "already archived:"
    _report(archived, as_json, f"{verb} {archived.thread_id}")


@click.command("unarchive")
@click.argument("thread")
@_json_option
@pass_cli
def unarchive_command(cli: CliContext, thread: str, as_json: bool) -> None:
    """Bring an archived thread back.

    Example: codex-threads unarchive 01a1fbf9-e83d
    """

    async def body(store: ThreadStore) -> tuple[StoredThread, bool]:
        from ..resolve import resolve_thread

        found = await resolve_thread(store, thread)
        if not found.is_archived:
            return found, False
        return await store.unarchive_thread(ArchiveThreadParams(thread_id=found.thread_id)), True

    restored, changed = cli.run(body)
    verb = "unarchived" if changed else "not archived:"
    _report(restored, as_json, f"{verb} {restored.thread_id}")


@click.command("delete")
@click.argument("thread")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (for scripts).")
@pass_cli
def delete_command(cli: CliContext, thread: str, yes: bool) -> None:
    """Delete a thread for good (asks first on a terminal).

    Removes its rollout file, name and index rows. Asks for confirmation on a terminal;
    scripts (no terminal on stdin) must pass --yes.

    Example: codex-threads delete 01a1fbf9-e0e1 --yes
    """
    if not yes and not stdin_is_terminal():
        raise CliError(
            "refusing to delete without confirmation (stdin is not a terminal); pass --yes",
            ExitCode.USAGE,
        )

    async def body(store: ThreadStore) -> StoredThread | None:
        from ..resolve import resolve_thread, thread_label

        found = await resolve_thread(store, thread)
        if not yes:
            label = thread_label(found)
            question = f"Delete thread {found.thread_id}" + (f" ({label})" if label else "")
            if not click.confirm(question + "? This cannot be undone", default=False):
                return None
        await store.delete_thread(DeleteThreadParams(thread_id=found.thread_id))
        return found

    deleted = cli.run(body)
    if deleted is None:
        raise CliError("not deleted", ExitCode.ERROR)
    click.echo(f"deleted {deleted.thread_id}")


@click.command("fork")
@click.argument("thread")
@click.option(
    "--last-turns",
    type=click.IntRange(min=1),
    metavar="N",
    help="Copy only the last N turns (default: the whole history).",
)
@click.option("--name", help="Name the new thread.")
@_json_option
@pass_cli
def fork_command(
    cli: CliContext, thread: str, last_turns: int | None, name: str | None, as_json: bool
) -> None:
    """Copy a thread's history (or last N turns) into a new thread.

    The new thread's `forked_from_id` names the source.

    \b
    Examples:
      codex-threads fork 01a1fbf9-e0e1
      codex-threads fork "Parser flake" --last-turns 1 --name "Parser, take two"
    """

    async def body(store: ThreadStore) -> StoredThread:
        from ...manager import ThreadManager
        from ..resolve import resolve_thread

        found = await resolve_thread(store, thread)
        manager = ThreadManager(store, collect_git=False)
        try:
            live = await manager.fork_thread(
                found.thread_id, last_n_turns=last_turns, include_archived=True
            )
            if name and name.strip():
                await manager.set_thread_name(live.thread_id, name)
        finally:
            await manager.aclose()
        return await store.read_thread(ReadThreadParams(thread_id=live.thread_id))

    fork = cli.run(body)
    _report(fork, as_json, f"forked {fork.forked_from_id} -> {fork.thread_id}")
