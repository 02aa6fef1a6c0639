"""`codex-threads mcp`: serve the store's threads to AI agents over MCP (stdio), read-only.

The store is the group's (`codex-threads --home PATH mcp`); `--home` and `--store` are
also accepted after `mcp`, the way MCP client configurations are usually written
(`args = ["mcp", "--home", PATH]`).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from ..context import CliContext, pass_cli
from ..exit_codes import CliError, ExitCode

__all__ = ["mcp_command"]

#: The top-level modules of the MCP SDK and of what it needs: one missing means the
#: `mcp` extra is not installed.
_SDK_MODULES = frozenset({"mcp", "mcp_types", "pydantic", "pydantic_core", "anyio", "starlette"})


@click.command("mcp")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Codex home folder to serve (as `codex-threads --home PATH mcp`).",
)
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="Store to serve instead of a home (as `codex-threads --store URL mcp`).",
)
@pass_cli
def mcp_command(cli: CliContext, home: Path | None, store_url: str | None) -> None:
    """Serve the threads to AI agents over MCP on stdin/stdout (read-only).

    A Model Context Protocol server with four tools: list_threads, search_threads,
    read_thread and find_in_thread (a phrase inside one thread, with context). It never
    writes a thread. An MCP client (Codex, or any other) starts it, and it stops when
    the client closes its stdin. Needs: pip install 'codex-thread-store[mcp]'.

    \b
    Examples:
      codex-threads mcp --home ~/.codex       (what an MCP client runs)
      codex mcp add codex-threads -- codex-threads mcp --home ~/.codex

    \b
    Or by hand, in ~/.codex/config.toml (see docs/mcp.md):
      [mcp_servers.codex-threads]
      command = "codex-threads"
      args = ["mcp", "--home", "/home/me/.codex"]
    """
    cli = _with_store(cli, home, store_url)
    try:
        from ...mcp import serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _SDK_MODULES:
            raise
        raise CliError(
            f"`codex-threads mcp` needs the MCP Python SDK ({exc.name} is missing); install "
            "it with: pip install 'codex-thread-store[mcp]'",
            ExitCode.ERROR,
        ) from None
    if sys.stdin.isatty():
        click.echo(
            f"codex-threads mcp: serving {cli.spec.describe()} over MCP on stdin/stdout "
            "(an MCP client starts this; Ctrl-C stops it)",
            err=True,
        )
    cli.run(serve)


def _with_store(cli: CliContext, home: Path | None, store_url: str | None) -> CliContext:
    """The context with `mcp --home/--store` in place of the group's store (which may
    come from CODEX_THREADS_STORE); both given on the command line is a usage error."""
    if home is None and store_url is None:
        return cli
    if home is not None and store_url is not None:
        raise CliError("pass either --home or --store, not both", ExitCode.USAGE)
    if cli.store_given:
        raise CliError(
            "the store is given twice: pass --home or --store either before `mcp` or after it",
            ExitCode.USAGE,
        )
    return dataclasses.replace(cli, home=home, store_url=store_url, store_given=True)
