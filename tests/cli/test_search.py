"""`codex-threads search`: matches, piped rows, snippets and the JSON shapes."""

from __future__ import annotations

import json

from codex_thread_store.cli.exit_codes import ExitCode
from codex_thread_store.codec import decode_json
from codex_thread_store.demo import DemoHome
from codex_thread_store.types import StoredThreadSearchResult, ThreadSearchPage

from .conftest import Cli


def test_rows_are_id_label_snippet(ro_cli: Cli, shared_demo: DemoHome) -> None:
    rows = {row[0]: row for row in ro_cli.rows("search", "flaky")}
    assert set(rows) == {shared_demo.parser, shared_demo.release_notes}
    assert rows[shared_demo.parser][1] == "Parser flake"
    assert "flaky" in rows[shared_demo.parser][2]
    assert "Fixed a flaky parser test" in rows[shared_demo.release_notes][2]


def test_every_word_must_match_in_any_case(ro_cli: Cli, shared_demo: DemoHome) -> None:
    assert [r[0] for r in ro_cli.rows("search", "CHECKOUT timeout")] == [shared_demo.triage]
    assert ro_cli.rows("search", "checkout parser") == []


def test_archived_threads_are_searched_apart(ro_cli: Cli, shared_demo: DemoHome) -> None:
    assert ro_cli.rows("search", "tomllib") == []
    assert [r[0] for r in ro_cli.rows("search", "tomllib", "--archived")] == [shared_demo.archived]


def test_json_is_a_search_page(ro_cli: Cli, shared_demo: DemoHome) -> None:
    out = ro_cli.ok("search", "buffer", "--json").stdout
    page = decode_json(out.encode(), ThreadSearchPage)
    found = {r.thread.thread_id for r in page.items}
    assert shared_demo.parser in found and shared_demo.subagent in found
    assert all("buffer" in r.snippet.lower() for r in page.items)
    assert set(json.loads(out)) == {"items", "next_cursor"}
    lines = ro_cli.ok("search", "buffer", "--jsonl").stdout.splitlines()
    results = [decode_json(line.encode(), StoredThreadSearchResult) for line in lines]
    assert {r.thread.thread_id for r in results} == found


def test_paging(ro_cli: Cli) -> None:
    every = [r[0] for r in ro_cli.rows("search", "buffer")]
    assert len(every) >= 3
    first = ro_cli.json("search", "buffer", "--limit", "1")
    assert [r["thread"]["thread_id"] for r in first["items"]] == every[:1]
    rest = ro_cli.json("search", "buffer", "--limit", "1", "--cursor", first["next_cursor"])
    assert [r["thread"]["thread_id"] for r in rest["items"]] == every[1:2]
    assert [r[0] for r in ro_cli.rows("search", "buffer", "--limit", "1", "--all")] == every


def test_empty_term_is_a_usage_error(ro_cli: Cli) -> None:
    result = ro_cli("search", "   ")
    assert result.exit_code == ExitCode.USAGE
    assert "search_term must not be empty" in result.stderr
