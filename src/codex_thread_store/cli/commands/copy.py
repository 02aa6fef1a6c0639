"""`codex-threads copy`: every thread of one store into another (e.g. a home into PostgreSQL).

The work is `codex_thread_store.copy.copy_threads`; this module picks the two stores,
draws its progress events as bars (on a terminal) and prints the report.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType

import click
import msgspec

from ...copy import CopyEvent, CopyReport
from ..console import emit_json
from ..context import CliContext, pass_cli
from ..exit_codes import CliError, ExitCode
from ..safe_text import field

__all__ = ["CopySummary", "copy_command"]

_SHOWN = 10
_RERUN_HINT = "run the same command again to retry: threads already copied are skipped"


class CopySummary(msgspec.Struct, kw_only=True):
    """The `--json` shape of `copy`: the `CopyReport`, with both stores named (URLs
    without passwords). `ok` is true when every thread was verified in the target."""

    source: str = msgspec.field(name="from")
    target: str = msgspec.field(name="to")
    ok: bool
    total: int
    copied: int
    replaced: int
    skipped: int
    verified: int
    items: int
    failed: dict[str, str]
    """Thread id -> why it could not be copied."""
    mismatches: dict[str, str]
    """Thread id -> what differs in the target after the copy."""

    @classmethod
    def of(cls, report: CopyReport, source: str, target: str) -> CopySummary:
        return cls(
            source=source,
            target=target,
            ok=report.ok,
            total=report.total,
            copied=report.copied,
            replaced=report.replaced,
            skipped=report.skipped,
            verified=report.verified,
            items=report.items,
            failed=dict(sorted(report.failed.items())),
            mismatches=dict(sorted(report.mismatches.items())),
        )


class _ProgressBars:
    """`CopyEvent`s drawn with `progress_bar`: one bar per phase (listing, copying,
    verifying), each replacing the last; nothing at all when output is piped."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._phase: str | None = None
        self._update: Callable[[int, int], None] | None = None

    def __enter__(self) -> _ProgressBars:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def __call__(self, event: CopyEvent) -> None:
        from ..progress import progress_bar

        if event.phase == "done":
            self._stack.close()
            return
        if event.phase != self._phase:
            self._stack.close()
            self._phase = event.phase
            self._update = self._stack.enter_context(progress_bar(event.phase, unit="threads"))
        if event.phase != "listing" and self._update is not None:  # listing: total unknown
            self._update(event.done, event.total)


@click.command("copy")
@click.option(
    "--from",
    "source",
    metavar="HOME_OR_URL",
    help="Store to copy from: a home path, local:PATH, postgresql://...?owner=NAME or memory: "
    "(default: the store --home/--store select, else $CODEX_HOME or ~/.codex).",
)
@click.option(
    "--to",
    "target",
    metavar="URL",
    required=True,
    help="Store to copy into: postgresql://...?owner=NAME, a home path (made if missing), "
    "local:PATH or memory:.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Threads copied at once.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (CopySummary).")
@pass_cli
@click.pass_context
def copy_command(
    ctx: click.Context,
    cli: CliContext,
    source: str | None,
    target: str,
    jobs: int,
    as_json: bool,
) -> None:
    """Copy every thread from one store to another, then verify the copy.

    History (with item times), metadata, names and archived state, active and archived
    threads alike. Afterwards every thread is checked in the target (item count,
    archived state, name). Exits 5 when a thread failed or differs.

    Resumable: the target is the checkpoint. Re-running skips threads already there
    unchanged and replaces partial or outdated ones, so after an interruption or a
    failure run the same command again; after a success it copies nothing.

    Into PostgreSQL each thread is written exactly, in one transaction; into a home the
    rollout is copied byte for byte. A PostgreSQL URL without ?owner=NAME takes the
    global --owner NAME (given before `copy`).

    \b
    Examples:
      codex-threads copy --from ~/.codex --to 'postgresql://me@db/codex?owner=alice'
      codex-threads --home ~/.codex copy --to 'postgresql://me@db/codex?owner=alice'
      codex-threads copy --from 'postgresql://me@db/codex?owner=alice' --to ./restored
    """
    from ...copy import copy_threads
    from ..open_store import connection_errors, open_store

    if source is not None and cli.store_given:
        raise CliError(
            "name the source once: --from, or --home/--store before `copy`", ExitCode.USAGE
        )
    source_spec = cli.spec if source is None else cli.parse(source, "--from")
    target_spec = cli.parse(target, "--to")
    if source_spec == target_spec:
        raise CliError(
            f"--from and --to are the same store ({source_spec.describe()})", ExitCode.USAGE
        )
    source_store = open_store(source_spec, create=False)
    target_store = open_store(target_spec, create=True)

    async def body(progress: _ProgressBars) -> CopyReport:
        async with source_store, target_store:
            return await copy_threads(source_store, target_store, progress=progress, jobs=jobs)

    try:
        with connection_errors(debug=cli.debug), _ProgressBars() as progress:
            report = asyncio.run(body(progress))
    except KeyboardInterrupt:
        raise CliError(f"interrupted; {_RERUN_HINT}", ExitCode.INTERRUPTED) from None
    summary = CopySummary.of(report, source_spec.describe(), target_spec.describe())
    if as_json:
        emit_json(summary)
    else:
        _print_summary(summary, report)
    if not report.ok:
        ctx.exit(ExitCode.PROBLEMS)


def _print_summary(summary: CopySummary, report: CopyReport) -> None:
    click.echo(f"copied {summary.source} -> {summary.target}")
    click.echo(report.summary())
    for title, problems in (("failed", summary.failed), ("differ", summary.mismatches)):
        if not problems:
            continue
        click.echo(f"{title} ({len(problems)}):")
        for thread_id, why in list(problems.items())[:_SHOWN]:
            click.echo(f"  {thread_id}: {field(why)}")
        if len(problems) > _SHOWN:
            click.echo(f"  ... and {len(problems) - _SHOWN} more (see --json)")
    if not report.ok:
        click.echo(_RERUN_HINT)
