"""`codex-threads` on a PostgreSQL store, and `copy` between stores, through the real
entry point.

The server is the tests' throwaway PostgreSQL (`pg_server.py`); every test gets its own
owner in one shared database, so each starts from an empty store. Unreachable servers
are a closed localhost port with `connect_timeout=1`, so they fail in about a second.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from codex_thread_store import ResumeThreadParams
from codex_thread_store.cli import main
from codex_thread_store.cli.exit_codes import ExitCode
from codex_thread_store.demo import DemoHome
from codex_thread_store.open_store import open_store
from pg_server import shared_server

from .conftest import Cli
from .terminal import run_on_terminal, run_piped, strip_ansi

DATABASE = "codex_cli"
SUMMARY_KEYS = {
    "from",
    "to",
    "ok",
    "total",
    "copied",
    "replaced",
    "skipped",
    "verified",
    "items",
    "failed",
    "mismatches",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CODEX_THREADS_STORE", "CODEX_THREADS_OWNER", "CODEX_THREADS_DEBUG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def pg_dsn() -> str:
    """The shared database, without an owner."""
    return shared_server().create_database(DATABASE)


@pytest.fixture
def pg_url(pg_dsn: str) -> str:
    """A store URL with an owner of its own: an empty store for this test."""
    return f"{pg_dsn}&owner=cli-{uuid.uuid4().hex}"


@pytest.fixture
def unreachable() -> str:
    """A PostgreSQL URL (with a password) whose port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://me:s3cret@127.0.0.1:{port}/codex?owner=alice&connect_timeout=1"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def ok(*args: str) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


@dataclass
class StoreCli:
    """Runs `codex-threads --store URL ...`."""

    url: str

    def __call__(self, *args: str) -> Result:
        return invoke("--store", self.url, *args)

    def ok(self, *args: str) -> Result:
        return ok("--store", self.url, *args)

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)


def threads(run: Cli | StoreCli) -> list[dict[str, Any]]:
    """Every thread, active then archived, as `list --json` prints them, without the
    rollout path (a home's own file; other stores have none)."""
    items = run.json("list", "--all")["items"] + run.json("list", "--all", "--archived")["items"]
    for item in items:
        item.pop("rollout_path")
    return list(items)


def archive_times_dropped(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items without their archive time (a copy into a home archives anew) and with the
    last-write times to the second: a live writer stamps them when it sends its metadata,
    a copy from the lines it wrote a moment before."""
    return [
        {
            **item,
            "archived_at": item["archived_at"] is not None,
        }
        for item in items
    ]


def copy(source: str | Path, target: str, *extra: str) -> Result:
    return invoke("copy", "--from", str(source), "--to", target, *extra)


def one_error_line(result: Result) -> str:
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


# -- copy -------------------------------------------------------------------------------


def test_copy_a_home_into_postgres_then_again_skips_everything(
    shared_demo: DemoHome, pg_url: str
) -> None:
    home = Cli(shared_demo.home)

    first = copy(shared_demo.home, pg_url)

    assert first.exit_code == 0, first.stderr
    assert first.stderr == ""  # piped: no progress bars
    lines = first.stdout.splitlines()
    assert lines[0] == f"copied {shared_demo.home} -> {pg_url}"
    assert lines[1].startswith("6 threads (")
    assert lines[1].endswith("6 copied, 0 replaced, 0 already there; 6/6 verified")
    assert len(lines) == 2
    assert threads(StoreCli(pg_url)) == threads(home)

    again = copy(shared_demo.home, pg_url, "--json")

    assert again.exit_code == 0 and again.stderr == ""
    summary = json.loads(again.stdout)
    assert set(summary) == SUMMARY_KEYS
    assert summary["from"] == str(shared_demo.home) and summary["to"] == pg_url
    assert summary["ok"] is True
    assert (summary["total"], summary["copied"], summary["replaced"]) == (6, 0, 0)
    assert (summary["skipped"], summary["verified"]) == (6, 6)
    assert summary["items"] > 6
    assert summary["failed"] == {} and summary["mismatches"] == {}


def test_copy_from_postgres_into_a_new_home(
    shared_demo: DemoHome, pg_url: str, tmp_path: Path
) -> None:
    ok("copy", "--from", str(shared_demo.home), "--to", pg_url)
    back = tmp_path / "restored"

    result = ok("copy", "--from", pg_url, "--to", str(back), "--jobs", "2")

    assert "6 copied" in result.stdout
    restored, original = Cli(back), Cli(shared_demo.home)
    # Into a home the archive time becomes the copy time (see copy.py); the rest is exact.
    assert archive_times_dropped(threads(restored)) == archive_times_dropped(threads(original))
    shown = [run.json("show", "Parser flake")["turns"] for run in (restored, original)]
    assert shown[0] == shown[1]
    assert restored.ok("doctor").stdout.endswith("no problems found\n")


def test_copy_takes_its_source_from_home_and_its_owner_from_the_option(
    shared_demo: DemoHome, pg_dsn: str
) -> None:
    owner = f"cli-{uuid.uuid4().hex}"

    result = ok("--home", str(shared_demo.home), "--owner", owner, "copy", "--to", pg_dsn)

    assert result.stdout.splitlines()[0] == (f"copied {shared_demo.home} -> {pg_dsn}&owner={owner}")
    assert threads(StoreCli(f"{pg_dsn}&owner={owner}")) == threads(Cli(shared_demo.home))


def test_a_failed_thread_exits_5_and_a_rerun_finishes_the_copy(demo: DemoHome, pg_url: str) -> None:
    home = Cli(demo.home)
    ok("copy", "--from", str(demo.home), "--to", pg_url)
    home.ok("rename", demo.parser, "Renamed in the home")
    # A live writer of that thread in PostgreSQL: the copy may not replace it meanwhile.
    loop = asyncio.new_event_loop()
    writer = open_store(pg_url)
    try:
        loop.run_until_complete(writer.resume_thread(ResumeThreadParams(thread_id=demo.parser)))

        blocked = copy(demo.home, pg_url)

        assert blocked.exit_code == ExitCode.PROBLEMS
        lines = blocked.stdout.splitlines()
        assert lines[1].endswith("5 already there; 5/6 verified; 1 failed")
        assert lines[2] == "failed (1):"
        assert lines[3].startswith(f"  {demo.parser}: thread-store conflict:")
        assert lines[4] == (
            "run the same command again to retry: threads already copied are skipped"
        )
        summary = json.loads(copy(demo.home, pg_url, "--json").stdout)
        assert summary["ok"] is False and list(summary["failed"]) == [demo.parser]
    finally:
        loop.run_until_complete(writer.aclose())
        loop.close()

    rerun = copy(demo.home, pg_url)

    assert rerun.exit_code == 0, rerun.stdout
    assert "0 copied, 1 replaced, 5 already there; 6/6 verified" in rerun.stdout
    assert StoreCli(pg_url).json("show", demo.parser)["thread"]["name"] == "Renamed in the home"


def test_copy_progress_is_drawn_on_a_terminal_only(shared_demo: DemoHome, pg_url: str) -> None:
    args = ["copy", "--from", str(shared_demo.home), "--to", pg_url]

    run = run_on_terminal(args)

    assert run.code == 0, run.output
    text = strip_ansi(run.output)
    assert "copying" in text and "6/6" in text
    assert "6 copied" in text
    piped = run_piped(args)
    assert piped.returncode == 0
    assert piped.stderr == b""
    assert b"6 already there" in piped.stdout


def test_copy_help_says_it_is_resumable() -> None:
    text = " ".join(ok("copy", "--help").stdout.split())
    assert "Resumable" in text
    assert "run the same command again" in text
    assert "--jobs" in text and "--json" in text


def test_copy_usage_errors(shared_demo: DemoHome, pg_url: str, tmp_path: Path) -> None:
    home = str(shared_demo.home)
    cases = [
        (["copy", "--from", home, "--to", "s3://bucket/x"], "--to scheme 's3' is not supported"),
        (["copy", "--from", "ftp://host/x", "--to", pg_url], "--from scheme 'ftp' is not"),
        (["copy", "--from", pg_url, "--to", pg_url], "--from and --to are the same store"),
        (["--home", home, "copy", "--from", home, "--to", pg_url], "name the source once"),
        (["copy", "--from", home, "--to", pg_url, "--jobs", "0"], "--jobs"),
        (["copy", "--from", home], "Missing option '--to'"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == ExitCode.USAGE, args
        assert message in one_error_line(result)
    missing = invoke("copy", "--from", str(tmp_path / "no-such-home"), "--to", pg_url)
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert "no Codex home at" in one_error_line(missing)


# -- the other commands on a PostgreSQL store --------------------------------------------


def test_list_show_rename_archive_delete_on_postgres(shared_demo: DemoHome, pg_url: str) -> None:
    ok("copy", "--from", str(shared_demo.home), "--to", pg_url)
    pg, parser = StoreCli(pg_url), shared_demo.parser

    rows = [line.split("\t") for line in pg.ok("list").stdout.splitlines()]
    assert len(rows) == 5 and rows[-1][:2] == [parser, "Parser flake"]
    assert [t["thread_id"] for t in pg.json("list", "--archived")["items"]] == [
        shared_demo.archived
    ]
    shown = pg.ok("show", "parser FLAKE").stdout
    assert f"id: {parser}\nname: Parser flake\n" in shown
    assert "turn 2/2 · completed" in shown

    renamed = pg.json("rename", parser[:13], "Parser race")
    assert renamed["thread_id"] == parser and renamed["name"] == "Parser race"
    assert pg.json("show", "parser race")["thread"]["name"] == "Parser race"

    assert pg.json("archive", "Parser race")["archived_at"] is not None
    archived = {t["thread_id"] for t in pg.json("list", "--archived")["items"]}
    assert archived == {parser, shared_demo.archived}
    assert pg.json("unarchive", parser)["archived_at"] is None

    assert pg.ok("delete", parser, "--yes").stdout == f"deleted {parser}\n"
    gone = pg("show", parser)
    assert gone.exit_code == ExitCode.NOT_FOUND
    assert len(pg.json("list", "--all")["items"]) == 4

    stats = pg.json("stats")
    assert stats["total"]["threads"] == 5 and stats["total"]["bytes"] == 0
    # The home the threads came from is untouched.
    assert Cli(shared_demo.home).json("show", parser)["thread"]["name"] == "Parser flake"


def test_the_owner_scopes_what_a_command_sees(
    shared_demo: DemoHome, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = f"cli-{uuid.uuid4().hex}"
    ok("copy", "--from", str(shared_demo.home), "--to", f"{pg_dsn}&owner={owner}")
    expected = threads(Cli(shared_demo.home))

    assert threads(StoreCli(f"{pg_dsn}&owner={owner}")) == expected
    by_option = ok("--store", pg_dsn, "--owner", owner, "list", "--all", "--json")
    assert len(json.loads(by_option.stdout)["items"]) == 5
    other = f"{pg_dsn}&owner=cli-{uuid.uuid4().hex}"
    assert StoreCli(other).json("list", "--all")["items"] == []
    # The URL's own owner wins over --owner, which is for URLs without one.
    assert StoreCli(other).json("--owner", owner, "list", "--all")["items"] == []
    monkeypatch.setenv("CODEX_THREADS_OWNER", owner)
    assert threads(StoreCli(pg_dsn)) == expected
    monkeypatch.setenv("CODEX_THREADS_STORE", pg_dsn)
    assert len(json.loads(ok("list", "--all", "--json").stdout)["items"]) == 5


def test_commands_for_a_local_home_refuse_postgres(pg_url: str) -> None:
    for command in ("reindex", "doctor"):
        result = invoke("--store", pg_url, command)
        assert result.exit_code == ExitCode.USAGE
        assert one_error_line(result) == (
            f"error: `{command}` works on a local Codex home, not on {pg_url}; "
            "pass --home PATH or --store local:PATH\n"
        )


# -- errors ------------------------------------------------------------------------------


def test_a_url_without_an_owner_is_a_usage_error(shared_demo: DemoHome, pg_dsn: str) -> None:
    listed = invoke("--store", pg_dsn, "list")
    assert listed.exit_code == ExitCode.USAGE
    assert one_error_line(listed) == (
        f"error: --store {pg_dsn} names no owner (whose threads?); add ?owner=NAME to the "
        "URL, or pass --owner NAME (env: CODEX_THREADS_OWNER)\n"
    )
    copied = copy(shared_demo.home, pg_dsn)
    assert copied.exit_code == ExitCode.USAGE
    assert one_error_line(copied).startswith(f"error: --to {pg_dsn} names no owner")


def test_unknown_schemes_and_bad_parameters_are_usage_errors(pg_url: str) -> None:
    for url, message in [
        ("ftp://host/threads", "--store scheme 'ftp' is not supported; use a path, local:PATH"),
        ("mysql://me@db/codex?owner=a", "--store scheme 'mysql' is not supported"),
        (f"{pg_url}&schema=Not-An-Identifier", "is not a plain lower-case SQL identifier"),
        (f"{pg_url}&connect_timeout=soon", "connect_timeout='soon' is not a number"),
    ]:
        result = invoke("--store", url, "list")
        assert result.exit_code == ExitCode.USAGE, url
        assert message in one_error_line(result)


def test_an_unreachable_server_is_one_line_and_exit_6(
    unreachable: str, shared_demo: DemoHome, tmp_path: Path
) -> None:
    listed = invoke("--store", unreachable, "list")

    assert listed.exit_code == ExitCode.UNAVAILABLE
    line = one_error_line(listed)
    assert "could not reach PostgreSQL at postgresql://me:***@127.0.0.1:" in line
    assert "Connection refused" in line  # why connecting failed, from the driver
    assert "s3cret" not in line

    into = copy(shared_demo.home, unreachable)
    assert into.exit_code == ExitCode.UNAVAILABLE
    assert "could not reach PostgreSQL" in one_error_line(into)

    target = tmp_path / "new-home"
    out_of = copy(unreachable, str(target))
    assert out_of.exit_code == ExitCode.UNAVAILABLE
    assert "could not reach PostgreSQL" in one_error_line(out_of)
    assert not target.exists()  # the target is not touched before the source opens


def test_a_missing_database_says_so(pg_dsn: str) -> None:
    url = pg_dsn.replace(f"/{DATABASE}?", "/no_such_database?") + "&owner=a&connect_timeout=1"

    result = invoke("--store", url, "list")

    assert result.exit_code == ExitCode.UNAVAILABLE
    assert 'database "no_such_database" does not exist' in one_error_line(result)


def test_debug_shows_the_traceback(unreachable: str) -> None:
    piped = run_piped(["--debug", "--store", unreachable, "list"])
    assert piped.returncode == 1
    assert b"Traceback (most recent call last)" in piped.stderr
    assert b"StoreUnavailable" in piped.stderr
