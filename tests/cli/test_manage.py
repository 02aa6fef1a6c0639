"""rename, archive, unarchive, delete (without a terminal) and fork."""

from __future__ import annotations

import json

from codex_thread_store.cli.exit_codes import ExitCode
from codex_thread_store.codec import decode_json
from codex_thread_store.demo import DemoHome
from codex_thread_store.types import StoredThread

from .conftest import Cli


def test_rename_and_clear(cli: Cli, demo: DemoHome) -> None:
    result = cli.ok("rename", demo.triage[:-2], "  Nightly triage  ")
    assert result.stdout == f"renamed {demo.triage} to 'Nightly triage'\n"
    assert cli.json("show", "nightly TRIAGE")["thread"]["name"] == "Nightly triage"
    index = (demo.home / "session_index.jsonl").read_text()
    assert '"thread_name":"Nightly triage"' in index  # where Codex reads names
    cleared = cli.ok("rename", "Nightly triage", "--clear", "--json").stdout
    assert decode_json(cleared.encode(), StoredThread).name is None
    assert cli("show", "Nightly triage").exit_code == ExitCode.NOT_FOUND


def test_rename_usage_errors(cli: Cli, demo: DemoHome) -> None:
    assert cli("rename", demo.parser).exit_code == ExitCode.USAGE
    assert cli("rename", demo.parser, "x", "--clear").exit_code == ExitCode.USAGE
    blank = cli("rename", demo.parser, "   ")
    assert blank.exit_code == ExitCode.USAGE
    assert "--clear" in blank.stderr
    assert cli.json("show", demo.parser)["thread"]["name"] == "Parser flake"


def test_rename_an_archived_thread(cli: Cli, demo: DemoHome) -> None:
    cli.ok("rename", demo.archived, "Old idea")
    assert cli.json("show", "old idea")["thread"]["thread_id"] == demo.archived


def test_archive_and_unarchive(cli: Cli, demo: DemoHome) -> None:
    assert cli.ok("archive", "Parser flake").stdout == f"archived {demo.parser}\n"
    assert demo.parser not in [r[0] for r in cli.rows("list")]
    assert demo.parser in [r[0] for r in cli.rows("list", "--archived")]
    assert list((demo.home / "archived_sessions").glob(f"*{demo.parser}.jsonl"))
    again = cli.ok("archive", demo.parser)
    assert again.stdout == f"already archived: {demo.parser}\n"
    restored = json.loads(cli.ok("unarchive", demo.parser, "--json").stdout)
    assert restored["archived_at"] is None
    assert demo.parser in [r[0] for r in cli.rows("list")]
    assert cli.ok("unarchive", demo.parser).stdout == f"not archived: {demo.parser}\n"


def test_delete_needs_yes_without_a_terminal(cli: Cli, demo: DemoHome) -> None:
    refused = cli("delete", demo.triage, input="y\n")
    assert refused.exit_code == ExitCode.USAGE
    assert refused.stderr == (
        "error: refusing to delete without confirmation (stdin is not a terminal); pass --yes\n"
    )
    assert cli.json("show", demo.triage)["thread"]["thread_id"] == demo.triage

    done = cli.ok("delete", demo.triage, "--yes")
    assert done.stdout == f"deleted {demo.triage}\n"
    assert cli("show", demo.triage).exit_code == ExitCode.NOT_FOUND
    assert not list(demo.home.glob(f"**/*{demo.triage}*.jsonl"))
    assert cli("delete", demo.triage, "-y").exit_code == ExitCode.NOT_FOUND


def test_fork_last_turns(cli: Cli, demo: DemoHome) -> None:
    out = cli.ok("fork", "Parser flake", "--last-turns", "1", "--name", "Second try", "--json")
    fork = decode_json(out.stdout.encode(), StoredThread)
    assert fork.forked_from_id == demo.parser
    assert fork.name == "Second try"
    shown = cli.json("show", "Second try")
    assert [t["id"] for t in shown["turns"]] == ["turn-2"]
    whole = cli.ok("fork", demo.parser).stdout
    assert whole.startswith(f"forked {demo.parser} -> ")
    new_id = whole.split(" -> ")[1].strip()
    assert len(cli.json("show", new_id)["turns"]) == 2
    assert cli("fork", demo.parser, "--last-turns", "0").exit_code == ExitCode.USAGE


def test_fork_an_archived_thread(cli: Cli, demo: DemoHome) -> None:
    fork = json.loads(cli.ok("fork", demo.archived, "--json").stdout)
    assert fork["forked_from_id"] == demo.archived
    assert fork["archived_at"] is None
