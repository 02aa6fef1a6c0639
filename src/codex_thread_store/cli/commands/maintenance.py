"""Home maintenance: `reindex` (rebuild our index) and `doctor` (check, and repair)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from ..console import emit_json
from ..context import CliContext, pass_cli
from ..exit_codes import ExitCode
from ..safe_text import field

if TYPE_CHECKING:
    from ...local import LocalThreadStore
    from ...local.doctor import Finding, HomeCheck

__all__ = ["doctor_command", "reindex_command"]

_SHOWN_PER_KIND = 10


@click.command("reindex")
@click.option(
    "--check", is_flag=True, help="Only report whether the index is up to date (writes nothing)."
)
@click.option("--json", "as_json", is_flag=True, help="With --check: print the findings as JSON.")
@pass_cli
@click.pass_context
def reindex_command(ctx: click.Context, cli: CliContext, check: bool, as_json: bool) -> None:
    """Rebuild the home's index from its rollout files.

    Names and metadata edits are kept. The index is derived data, rebuilt automatically
    when it is missing or damaged; run this after copying rollouts in by hand. --check
    exits 5 when a rebuild would change something.

    \b
    Examples:
      codex-threads reindex
      codex-threads reindex --check
    """
    from ..progress import progress_bar

    home = cli.local_home("reindex")
    if check:
        from ...local.doctor import INDEX_KINDS, examine

        with progress_bar("checking", unit="files") as progress:
            report = examine(home, progress=progress)
        report.findings = [f for f in report.findings if f.kind in INDEX_KINDS]
        if as_json:
            emit_json(report)
        else:
            _print_findings(report.findings, repaired=False)
            if not report.findings:
                click.echo(f"index up to date: {report.index_rows:,} threads")
            else:
                click.echo(f"a reindex would fix {len(report.findings)} problem(s)")
        if report.findings:
            ctx.exit(ExitCode.PROBLEMS)
        return
    started = time.monotonic()
    with progress_bar("reindexing", unit="files") as progress:

        async def body(store: LocalThreadStore) -> int:
            return await store.reindex()

        count = cli.run_local("reindex", body, progress=progress)
    click.echo(f"reindexed {count:,} rollout files in {time.monotonic() - started:.1f}s")


@click.command("doctor")
@click.option("--repair", is_flag=True, help="Fix what is safe to fix, and say what was done.")
@click.option("--json", "as_json", is_flag=True, help="Print the report (HomeCheck) as JSON.")
@pass_cli
@click.pass_context
def doctor_command(ctx: click.Context, cli: CliContext, repair: bool, as_json: bool) -> None:
    """Check a Codex home for damage; --repair fixes what is safe.

    Looks for torn and malformed lines, rollouts missing from the index, index rows
    without files, and disagreement with Codex's own database (state_5.sqlite).

    Read-only unless --repair, which cuts torn last lines (saving the bytes under
    codex-thread-store/doctor/), drops index rows whose file is gone, rebuilds the
    index, and writes or removes Codex's rows to match the rollouts; malformed lines
    are reported, never changed. Exits 5 when problems remain.

    \b
    Examples:
      codex-threads doctor
      codex-threads doctor --repair
    """
    from ...local.doctor import examine
    from ...local.doctor_repair import repair as repair_home
    from ..progress import progress_bar

    home = cli.local_home("doctor")
    with progress_bar("checking", unit="files") as progress:
        report = examine(home, progress=progress)
    if repair and any(f.fixable for f in report.findings):
        with progress_bar("repairing", unit="files") as progress:
            report = asyncio.run(repair_home(home, report, progress=progress))
    if as_json:
        emit_json(report)
    else:
        _print_report(report, repair)
    if report.remaining:
        ctx.exit(ExitCode.PROBLEMS)


def _print_report(report: HomeCheck, repair: bool) -> None:
    db = "" if report.codex_db_rows is None else f", {report.codex_db_rows:,} Codex DB rows"
    click.echo(
        f"checked {field(report.home)}: {report.rollout_files:,} rollout files, "
        f"{report.index_rows:,} index rows{db}"
    )
    _print_findings(report.findings, repaired=repair)
    remaining = report.remaining
    if not report.findings:
        click.echo("no problems found")
    elif not remaining:
        click.echo(f"repaired all {len(report.findings)} problem(s)")
    else:
        fixable = sum(1 for f in remaining if f.fixable)
        hint = f"; {fixable} can be fixed with --repair" if fixable and not repair else ""
        click.echo(f"{len(remaining)} problem(s) remain{hint}")


def _print_findings(findings: Sequence[Finding], *, repaired: bool) -> None:
    by_kind: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_kind[finding.kind].append(finding)
    for kind, group in by_kind.items():
        click.echo(f"{kind} ({len(group)}):")
        for finding in group[:_SHOWN_PER_KIND]:
            where = field(finding.path or finding.thread_id or "")
            done = f" -> repaired: {finding.repaired}" if repaired and finding.repaired else ""
            done = field(done)
            click.echo(
                f"  {where}: {field(finding.detail)}{done}"
                if where
                else f"  {field(finding.detail)}{done}"
            )
        if len(group) > _SHOWN_PER_KIND:
            click.echo(f"  ... and {len(group) - _SHOWN_PER_KIND} more (see --json)")
