"""Behaviour that depends on a terminal, through the installed script on a pseudo-terminal:
the delete confirmation, rich tables and highlighting, and progress bars (shown on a
terminal, absent when piped)."""

from __future__ import annotations

from pathlib import Path

from codex_thread_store.cli.exit_codes import ExitCode
from codex_thread_store.cli.resolve import short_ids
from codex_thread_store.demo import DemoHome

from .conftest import Cli
from .terminal import run_on_terminal, run_piped, strip_ansi

PROMPT = "? This cannot be undone [y/N]: "


def test_delete_asks_and_no_keeps_the_thread(cli: Cli, demo: DemoHome) -> None:
    run = run_on_terminal(
        ["--home", str(demo.home), "delete", "Parser flake"], answers=[(PROMPT, "n\n")]
    )
    assert f"Delete thread {demo.parser} (Parser flake){PROMPT}" in run.output
    assert run.code == ExitCode.ERROR
    assert "error: not deleted" in run.output
    assert cli.json("show", demo.parser)["thread"]["thread_id"] == demo.parser


def test_delete_asks_and_yes_deletes(cli: Cli, demo: DemoHome) -> None:
    run = run_on_terminal(
        ["--home", str(demo.home), "delete", demo.triage], answers=[(PROMPT, "y\n")]
    )
    assert run.code == 0, run.output
    assert f"deleted {demo.triage}" in run.output
    assert cli("show", demo.triage).exit_code == ExitCode.NOT_FOUND


def test_delete_with_yes_does_not_ask(cli: Cli, demo: DemoHome) -> None:
    run = run_on_terminal(["--home", str(demo.home), "delete", demo.triage, "--yes"])
    assert run.code == 0
    assert PROMPT not in run.output


def test_list_is_a_table_with_short_ids_on_a_terminal(shared_demo: DemoHome) -> None:
    run = run_on_terminal(["--home", str(shared_demo.home), "list"], columns=160)
    assert run.code == 0
    assert "\x1b[" in run.output  # styled
    text = strip_ansi(run.output)
    header = text.splitlines()[0].split()
    assert header == ["id", "name", "/", "preview", "source", "provider", "cwd", "updated", "turns"]
    short = short_ids(shared_demo.thread_ids, sorted(shared_demo.thread_ids))
    assert f"\n{short[shared_demo.parser]} " in text
    assert shared_demo.parser not in text  # full ids only when piped


def test_search_highlights_matches_on_a_terminal(shared_demo: DemoHome) -> None:
    run = run_on_terminal(["--home", str(shared_demo.home), "search", "FLAKY"])
    assert run.code == 0
    assert "\x1b[1;30;43mflaky\x1b[0m" in run.output


def test_show_on_a_terminal(shared_demo: DemoHome) -> None:
    run = run_on_terminal(["--home", str(shared_demo.home), "show", "Parser flake"])
    assert run.code == 0
    text = strip_ansi(run.output)
    assert "turn 1/2 · completed" in text
    assert "… 2 more lines" in text


def test_json_on_a_terminal_is_indented(shared_demo: DemoHome) -> None:
    run = run_on_terminal(["--home", str(shared_demo.home), "list", "--json"])
    assert run.code == 0
    assert '\n  "items": [' in strip_ansi(run.output).replace("\r\n", "\n")


def test_progress_shows_on_a_terminal(cli: Cli, demo: DemoHome, tmp_path: Path) -> None:
    home = ["--home", str(demo.home)]
    reindex = run_on_terminal([*home, "reindex"])
    assert reindex.code == 0
    assert "reindexing" in reindex.output and "6/6" in strip_ansi(reindex.output)
    doctor = run_on_terminal([*home, "doctor"])
    assert doctor.code == 0
    assert "checking" in doctor.output
    exported = tmp_path / "t.jsonl"
    cli.ok("export", demo.triage, "--format", "jsonl", "-o", str(exported))
    imported = run_on_terminal([*home, "import", "--new-id", str(exported)])
    assert imported.code == 0
    assert "importing" in imported.output


def test_progress_is_quiet_when_piped(demo: DemoHome, tmp_path: Path) -> None:
    home = ["--home", str(demo.home)]
    reindex = run_piped([*home, "reindex"])
    assert reindex.returncode == 0
    assert reindex.stderr == b""
    doctor = run_piped([*home, "doctor"])
    assert doctor.returncode == 0 and doctor.stderr == b""
    assert b"\x1b[" not in doctor.stdout
    stats = run_piped([*home, "stats"])
    assert stats.returncode == 0 and stats.stderr == b""


def test_demo_names_its_own_folder(tmp_path: Path) -> None:
    run = run_piped(["demo"], TMPDIR=str(tmp_path))
    assert run.returncode == 0, run.stderr
    out = run.stdout.decode()
    (made,) = tmp_path.iterdir()
    assert made.name.startswith("codex-threads-demo-")
    assert out.startswith(f"Made a demo Codex home with 6 threads in {made}\n")
    for step in ("$ codex-threads list\n", '$ codex-threads search "flaky"\n'):
        assert step in out
    assert '$ codex-threads show "Parser flake"\n' in out
    assert "Try next:\n" in out and f"codex-threads --home {made} stats" in out
