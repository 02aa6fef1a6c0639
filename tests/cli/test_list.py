"""`codex-threads list`: piped rows, filters, sort, paging, and the JSON shapes."""

from __future__ import annotations

import json

from codex_thread_store.cli.exit_codes import ExitCode
from codex_thread_store.codec import decode_json
from codex_thread_store.demo import DemoHome
from codex_thread_store.types import StoredThread, ThreadPage

from .conftest import Cli


def ids(cli: Cli, *args: str) -> list[str]:
    return [row[0] for row in cli.rows("list", *args)]


def test_piped_rows_are_tab_separated_with_full_ids(ro_cli: Cli, shared_demo: DemoHome) -> None:
    rows = ro_cli.rows("list")
    assert all(len(row) == 7 for row in rows)
    by_id = {row[0]: row for row in rows}
    active = set(shared_demo.thread_ids) - {shared_demo.archived}
    assert set(by_id) == active
    parser = by_id[shared_demo.parser]
    assert parser[1:5] == ["Parser flake", "cli", "openai", "/work/demo/parser-service"]
    assert parser[5].endswith("Z") and "T" in parser[5]  # RFC 3339 UTC when piped
    assert by_id[shared_demo.triage][2:4] == ["exec/nightly-triage", "ollama"]
    assert by_id[shared_demo.subagent][2] == "subAgent"


def test_turns_column_counts_turns(ro_cli: Cli, shared_demo: DemoHome) -> None:
    turns = {row[0]: row[6] for row in ro_cli.rows("list")}
    assert turns[shared_demo.parser] == "2"
    assert turns[shared_demo.fork] == "2"  # the copied last turn, plus its own
    assert turns[shared_demo.subagent] == "1"


def test_sort_and_direction(ro_cli: Cli, shared_demo: DemoHome) -> None:
    created = [
        shared_demo.parser,
        shared_demo.fork,
        shared_demo.subagent,
        shared_demo.release_notes,
        shared_demo.triage,
    ]
    assert ids(ro_cli, "--sort", "created", "--asc") == created
    assert ids(ro_cli, "--sort", "created") == created[::-1]
    page = ro_cli.json("list", "--sort", "updated")
    stamps = [t["updated_at"] for t in page["items"]]
    assert stamps == sorted(stamps, reverse=True)
    page = ro_cli.json("list", "--sort", "recency", "--asc")
    stamps = [t["recency_at"] for t in page["items"]]
    assert stamps == sorted(stamps)


def test_filters(ro_cli: Cli, shared_demo: DemoHome) -> None:
    d = shared_demo
    assert set(ids(ro_cli, "--cwd", "/work/demo/app")) == {d.release_notes, d.triage}
    assert set(ids(ro_cli, "--source", "exec")) == {d.release_notes, d.triage}
    assert set(ids(ro_cli, "--source", "cli")) == {d.parser, d.fork}
    assert ids(ro_cli, "--source", "subAgent") == [d.subagent]
    assert set(ids(ro_cli, "--source", "subAgent", "--source", "exec")) == {
        d.subagent,
        d.release_notes,
        d.triage,
    }
    assert ids(ro_cli, "--provider", "ollama") == [d.triage]
    assert ids(ro_cli, "--archived") == [d.archived]
    assert ids(ro_cli, "--search", "RELEASE notes") == [d.release_notes]
    assert ids(ro_cli, "--cwd", "/nowhere") == []


def test_relation_filters_resolve_prefixes_and_names(ro_cli: Cli, shared_demo: DemoHome) -> None:
    d = shared_demo
    assert ids(ro_cli, "--children-of", "parser FLAKE") == [d.subagent]
    assert ids(ro_cli, "--descendants-of", d.parser[:13]) == [d.subagent]
    assert ids(ro_cli, "--children-of", d.subagent) == []
    both = ro_cli("list", "--children-of", d.parser, "--descendants-of", d.parser)
    assert both.exit_code == ExitCode.USAGE
    missing = ro_cli("list", "--children-of", "nobody")
    assert missing.exit_code == ExitCode.NOT_FOUND


def test_json_is_a_thread_page(ro_cli: Cli, shared_demo: DemoHome) -> None:
    out = ro_cli.ok("list", "--json").stdout
    page = decode_json(out.encode(), ThreadPage)
    assert {t.thread_id for t in page.items} == set(shared_demo.thread_ids) - {shared_demo.archived}
    assert page.next_cursor is None
    raw = json.loads(out)
    assert set(raw) == {"items", "next_cursor"}
    first = raw["items"][0]
    for key in ("thread_id", "session_id", "preview", "created_at", "source", "cwd"):
        assert key in first
    assert out.count("\n") == 1  # piped: one compact line


def test_jsonl_is_one_stored_thread_per_line(ro_cli: Cli) -> None:
    lines = ro_cli.ok("list", "--jsonl").stdout.splitlines()
    assert len(lines) == 5
    threads = [decode_json(line.encode(), StoredThread) for line in lines]
    assert [t.thread_id for t in threads] == ids(ro_cli)


def test_json_and_jsonl_exclude_each_other(ro_cli: Cli) -> None:
    result = ro_cli("list", "--json", "--jsonl")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == "error: pass either --json or --jsonl, not both\n"


def test_limit_cursor_and_all(ro_cli: Cli) -> None:
    every = ids(ro_cli)
    first = ro_cli.json("list", "--limit", "2")
    assert [t["thread_id"] for t in first["items"]] == every[:2]
    assert first["next_cursor"]
    second = ro_cli.json("list", "--limit", "2", "--cursor", first["next_cursor"])
    assert [t["thread_id"] for t in second["items"]] == every[2:4]
    assert ids(ro_cli, "--limit", "2", "--all") == every
    assert ro_cli.json("list", "--limit", "2", "--all")["next_cursor"] is None
    assert ro_cli("list", "--limit", "0").exit_code == ExitCode.USAGE


def test_cursor_from_another_sort_is_refused(ro_cli: Cli) -> None:
    cursor = ro_cli.json("list", "--limit", "1")["next_cursor"]
    result = ro_cli("list", "--limit", "1", "--sort", "created", "--cursor", cursor)
    assert result.exit_code == ExitCode.USAGE
    assert "cursor" in result.stderr


def test_unknown_source_kind_lists_the_valid_ones(ro_cli: Cli) -> None:
    result = ro_cli("list", "--source", "clii")
    assert result.exit_code == ExitCode.USAGE
    assert "unknown source kind 'clii'" in result.stderr
    assert "'subAgent'" in result.stderr


def test_empty_listing_prints_nothing_when_piped(ro_cli: Cli) -> None:
    result = ro_cli.ok("list", "--provider", "nobody")
    assert result.stdout == ""
    assert result.stderr == ""
