"""The `codex-threads` group: global options, the command table, and the one error handler.

Commands live one module per concern under `commands/` and are imported only when they
run (or when `--help` lists them), so `list` and `show` start without loading the rest.
To add a command, write its module and add one line to `COMMANDS`.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from .._version import __version__
from ..errors import ThreadStoreError
from .context import CliContext
from .exit_codes import EXIT_CODES_HELP, CliError, ExitCode, exit_code_for
from .safe_text import field

__all__ = ["COMMANDS", "main"]

#: name -> "module:attribute" under `codex_thread_store.cli.commands`, in `--help` order.
COMMANDS: dict[str, str] = {
    "list": "listing:list_command",
    "show": "show:show_command",
    "search": "search:search_command",
    "rename": "manage:rename_command",
    "archive": "manage:archive_command",
    "unarchive": "manage:unarchive_command",
    "delete": "manage:delete_command",
    "fork": "manage:fork_command",
    "export": "export:export_command",
    "import": "importing:import_command",
    "reindex": "maintenance:reindex_command",
    "doctor": "maintenance:doctor_command",
    "stats": "stats:stats_command",
    "copy": "copy:copy_command",
    "demo": "demo:demo_command",
    "schema": "schema:schema_command",
    "mcp": "mcp:mcp_command",
}


class _LazyGroup(click.Group):
    """A group that imports each command on first use and turns every failure into one
    `error: ...` line on stderr plus a documented exit code."""

    debug = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        module = importlib.import_module(f"{__package__}.commands.{module_name}")
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        _LazyGroup.debug = False
        try:
            result = super().main(
                args, prog_name or "codex-threads", complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):
                _fail("interrupted", ExitCode.INTERRUPTED)
            _fail("aborted", ExitCode.ERROR)
        except click.ClickException as exc:
            if isinstance(exc, click.UsageError):
                hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
                _fail(exc.format_message() + hint, ExitCode.USAGE)
            _fail(exc.format_message(), ExitCode.ERROR)
        except KeyboardInterrupt:
            _fail("interrupted", ExitCode.INTERRUPTED)
        except CliError as exc:
            if _LazyGroup.debug:
                raise
            _fail(exc.message, exc.code, exc.details)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                _silence_stdout()
                sys.exit(ExitCode.ERROR)
            if _LazyGroup.debug:
                raise
            _fail(_os_error_text(exc), ExitCode.ERROR)
        except ThreadStoreError as exc:
            if _LazyGroup.debug:
                raise
            _fail(str(exc), exit_code_for(exc))
        except Exception as exc:  # a bug: still one line, with the way to learn more
            if _LazyGroup.debug:
                raise
            _fail(
                f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)", ExitCode.ERROR
            )
        code = result if isinstance(result, int) else ExitCode.OK
        if standalone_mode:
            sys.exit(code)
        return code


def _fail(message: str, code: ExitCode, details: Sequence[str] = ()) -> NoReturn:
    click.echo(f"error: {field(message)}", err=True)
    for line in details:
        click.echo(f"  {field(line)}", err=True)
    sys.exit(code)


def _os_error_text(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _silence_stdout() -> None:
    """After a broken pipe (`codex-threads list | head`), stop Python's exit-time flush
    from printing a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


@click.group(
    "codex-threads",
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name="codex-threads")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Codex home folder to work on (default: $CODEX_HOME, else ~/.codex).",
)
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    envvar="CODEX_THREADS_STORE",
    help="Store to work on instead of a home: a path, local:PATH, "
    "postgresql://USER@HOST/DB?owner=NAME or memory: (env: CODEX_THREADS_STORE).",
)
@click.option(
    "--owner",
    metavar="NAME",
    envvar="CODEX_THREADS_OWNER",
    help="Whose threads, for PostgreSQL URLs without ?owner=NAME (env: CODEX_THREADS_OWNER).",
)
@click.option(
    "--debug",
    is_flag=True,
    envvar="CODEX_THREADS_DEBUG",
    help="Show a traceback when a command fails (env: CODEX_THREADS_DEBUG=1).",
)
@click.pass_context
def main(
    ctx: click.Context, home: Path | None, store_url: str | None, owner: str | None, debug: bool
) -> None:
    """Browse, search and manage Codex conversation threads.

    Works on the Codex home in $CODEX_HOME (else ~/.codex) unless --home or --store
    says otherwise. New here? Run `codex-threads demo`.

    \b
    Examples:
      codex-threads list --limit 10
      codex-threads show 01a1fbf9-e0e1          (any unique id prefix, or a name)
      codex-threads search "flaky test"
      codex-threads --home /tmp/other-home stats
      codex-threads --store 'postgresql://me@db/codex?owner=alice' list
    """
    _LazyGroup.debug = debug
    store_given = home is not None or (
        store_url is not None
        and ctx.get_parameter_source("store_url") is not click.core.ParameterSource.ENVIRONMENT
    )
    ctx.obj = CliContext(
        home=home, store_url=store_url, owner=owner, debug=debug, store_given=store_given
    )
