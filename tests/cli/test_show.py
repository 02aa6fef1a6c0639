"""`codex-threads show`: id resolution (full, prefix, name), the transcript, `--json`."""

from __future__ import annotations

import json

from codex_thread_store.cli.commands.show import ShowResult
from codex_thread_store.cli.exit_codes import ExitCode
from codex_thread_store.cli.resolve import short_ids
from codex_thread_store.codec import decode_json
from codex_thread_store.demo import DemoHome

from .conftest import Cli


def shown_id(cli: Cli, text: str) -> str:
    return str(cli.json("show", text)["thread"]["thread_id"])


def test_full_id_prefix_and_name_resolve(ro_cli: Cli, shared_demo: DemoHome) -> None:
    d = shared_demo
    assert shown_id(ro_cli, d.parser) == d.parser
    assert shown_id(ro_cli, d.parser.upper()) == d.parser
    unique = short_ids([d.triage], sorted(d.thread_ids))[d.triage]
    assert shown_id(ro_cli, unique) == d.triage
    assert shown_id(ro_cli, d.triage[:-1]) == d.triage
    assert shown_id(ro_cli, "Parser flake") == d.parser
    assert shown_id(ro_cli, "  pArSeR FLAKE ") == d.parser
    assert shown_id(ro_cli, d.archived) == d.archived  # archived threads resolve too


def test_ambiguous_prefix_lists_the_candidates(ro_cli: Cli, shared_demo: DemoHome) -> None:
    prefix = shared_demo.parser[:4]  # every demo id starts with the same time bits
    result = ro_cli("show", prefix)
    assert result.exit_code == ExitCode.NOT_FOUND
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"error: {prefix!r} is ambiguous: it matches 6 threads; use more characters of the id:"
    )
    listed = [line.split()[0] for line in lines[1:]]
    assert listed == sorted(shared_demo.thread_ids)
    assert "  " + shared_demo.parser + "  Parser flake" in lines
    assert result.stdout == ""


def test_no_match_is_not_found(ro_cli: Cli, shared_demo: DemoHome) -> None:
    for text in ("ffffffff", "Nobody's thread", shared_demo.parser[:-4] + "0000"):
        result = ro_cli("show", text)
        assert result.exit_code == ExitCode.NOT_FOUND, text
        assert result.stderr.startswith(f"error: no thread matches {text!r}")
    empty = ro_cli("show", " ")
    assert empty.exit_code == ExitCode.USAGE


def test_plain_transcript(ro_cli: Cli, shared_demo: DemoHome) -> None:
    out = ro_cli.ok("show", "Parser flake").stdout
    head, _, transcript = out.partition("\n\n")
    facts = dict(line.split(": ", 1) for line in head.splitlines())
    assert facts["id"] == shared_demo.parser
    assert facts["name"] == "Parser flake"
    assert facts["cwd"] == "/work/demo/parser-service"
    assert facts["tokens"] == "9,100"
    assert "── turn 1/2 · completed · " in transcript
    assert "── turn 2/2 · completed · " in transcript
    assert "you:\n  test_parallel_parse is flaky" in transcript
    assert "output shell · exit code 1:\n  $ pytest tests/test_parser.py -q --count 20\n" in (
        transcript
    )
    assert "output shell:\n  $ grep -n _buffer parser/cache.py\n" in transcript
    assert "thinking:\n  Flaky under parallel runs" in transcript
    assert (
        "output patch:\n  patch applied: /work/demo/parser-service/parser/cache.py, "
        "/work/demo/parser-service/tests/test_parser.py"
    ) in transcript
    assert "assistant:\n  Done: each parse now owns its buffer" in transcript


def test_tool_output_is_folded_unless_full(ro_cli: Cli) -> None:
    folded = ro_cli.ok("show", "Parser flake").stdout
    assert "  … 2 more lines\n" in folded
    assert "1 failed, 19 passed in 3.12s" not in folded
    full = ro_cli.ok("show", "Parser flake", "--full").stdout
    assert "more line" not in full
    assert "  1 failed, 19 passed in 3.12s\n" in full


def test_last_turns(ro_cli: Cli) -> None:
    out = ro_cli.ok("show", "Parser flake", "--turns", "1").stdout
    assert "turn 1/2" not in out
    assert "── turn 2/2 · completed" in out
    none = ro_cli.ok("show", "Parser flake", "--turns", "0").stdout
    assert "(no turns)" in none
    more = ro_cli.json("show", "Parser flake", "--turns", "5")
    assert len(more["turns"]) == 2


def test_json_shape(ro_cli: Cli, shared_demo: DemoHome) -> None:
    out = ro_cli.ok("show", shared_demo.parser, "--json").stdout
    result = decode_json(out.encode(), ShowResult)
    assert result.thread.thread_id == shared_demo.parser
    assert [t.status.value for t in result.turns] == ["completed", "completed"]
    assert [t.id for t in result.turns] == ["turn-1", "turn-2"]
    raw = json.loads(out)
    assert set(raw) == {"thread", "turns"}
    assert raw["turns"][0]["itemsView"] == "full"  # Codex's app-server `Turn`, as is
    types = [item["type"] for item in raw["turns"][0]["items"]]
    assert types == [
        "userMessage",
        "reasoning",
        "commandExecution",
        "commandExecution",
        "agentMessage",
    ]
    failing = raw["turns"][0]["items"][2]
    assert (failing["exitCode"], failing["status"], failing["durationMs"]) == (1, "failed", 3120)
    last = ro_cli.json("show", shared_demo.parser, "--turns", "1")
    assert [t["id"] for t in last["turns"]] == ["turn-2"]


def test_subagent_and_fork_metadata(ro_cli: Cli, shared_demo: DemoHome) -> None:
    sub = ro_cli.ok("show", shared_demo.subagent).stdout
    assert f"parent: {shared_demo.parser}\n" in sub
    assert "agent: Ada (reviewer)\n" in sub
    fork = ro_cli.ok("show", shared_demo.fork).stdout
    assert f"forked from: {shared_demo.parser}\n" in fork
    archived = ro_cli.ok("show", shared_demo.archived).stdout
    assert "\narchived: " in archived
