"""The typed turn view (`protocol/items`): the one derivation of Codex's v2 `Turn` and
`ThreadItem`s from rollout lines, checked against what the real Codex 0.171.0 app-server
answered for the same lines (`tests/fixtures/codex-0.171.0`), its schema, and the rules the
recorded cases do not pin down on their own."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from codex_thread_store.codec import to_builtins
from codex_thread_store.protocol import RolloutItem, RolloutLine, decode_line
from codex_thread_store.protocol.items import (
    CommandExecutionItem,
    ItemShapeError,
    McpToolCallItem,
    ThreadHistoryView,
    UnknownThreadItem,
    thread_item_from_core,
)
from codex_thread_store.protocol.items.shell import redact_secrets, shlex_join

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codex-0.171.0"
LEGACY = sorted(
    p.name.removesuffix(".rollout.jsonl") for p in (FIXTURES / "legacy").glob("*.rollout.jsonl")
)
SCHEMA = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "codex-reference"
    / "app-server-schema-0.171.0"
    / "codex_app_server_protocol.v2.schemas.json"
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


def lines_of(path: Path) -> list[RolloutLine]:
    out = []
    for raw in path.read_bytes().splitlines():
        try:
            out.append(decode_line(raw))
        except ValueError:
            continue  # the reader skips what does not decode, as Codex does
    return out


def with_minted_ids_masked(turns: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """Codex mints a fresh UUIDv7 for a hook prompt whose line has no id (at every read):
    such ids cannot match, everything else must."""
    for turn in turns:
        for item in turn["items"]:
            if item["type"] == "hookPrompt" and UUID.match(item["id"]) and item["id"] not in source:
                item["id"] = "<minted>"
    return turns


@pytest.mark.parametrize("case", LEGACY)
def test_legacy_replay_matches_the_app_server(case: str) -> None:
    rollout = FIXTURES / "legacy" / f"{case}.rollout.jsonl"
    recorded = json.loads((FIXTURES / "legacy" / f"{case}.codex.json").read_text())
    view = ThreadHistoryView.of_lines("legacy", lines_of(rollout))
    text = rollout.read_text()

    ours = with_minted_ids_masked(to_builtins(view.turns("full")), text)
    assert ours == with_minted_ids_masked(recorded["read_turns"], text)
    if "turns_list" in recorded:  # the default page: newest first, summary view
        summary = with_minted_ids_masked(to_builtins(view.turns("summary")), text)
        assert list(reversed(summary)) == with_minted_ids_masked(recorded["turns_list"], text)


def test_there_are_legacy_cases_to_replay() -> None:
    assert len(LEGACY) > 60


@pytest.fixture(scope="module")
def turn_validator() -> jsonschema.Draft7Validator:
    assert SCHEMA.is_file(), f"expected the 0.171.0 app-server schema at {SCHEMA}"
    document = json.loads(SCHEMA.read_text())
    return jsonschema.Draft7Validator({**document, "$ref": "#/definitions/Turn"})


def every_recorded_turn() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for path in sorted((FIXTURES / "legacy").glob("*.rollout.jsonl")):
        view = ThreadHistoryView.of_lines("legacy", lines_of(path))
        out += [(path.name, t) for t in to_builtins(view.turns("full"))]
    for path in sorted(FIXTURES.glob("*.rollout.jsonl")):
        view = ThreadHistoryView.of_lines("paginated", lines_of(path))
        out += [(path.name, t) for t in to_builtins(view.turns("full"))]
    return out


def test_every_turn_we_derive_is_valid_under_codex_schema(
    turn_validator: jsonschema.Draft7Validator,
) -> None:
    turns = every_recorded_turn()
    assert len(turns) > 100
    kinds = {item["type"] for _, turn in turns for item in turn["items"]}
    assert len(kinds) >= 15  # nearly the whole ThreadItem union is exercised
    passed_through = []
    for name, turn in turns:
        # An item type 0.171 does not know passes through as it was written; the schema
        # cannot describe it.
        known = [i for i in turn["items"] if i["type"][:1].islower()]
        passed_through += [i["type"] for i in turn["items"] if not i["type"][:1].islower()]
        errors = [e.message for e in turn_validator.iter_errors({**turn, "items": known})]
        assert errors == [], name
    assert passed_through == ["Sleep"]  # the one such item in the recorded cases


# -- conversions the recorded cases rely on ---------------------------------------------------


@pytest.mark.parametrize(
    ("words", "joined"),
    [
        (["/bin/bash", "-lc", "ls -la"], "/bin/bash -lc 'ls -la'"),
        (
            ["bash", "-lc", "echo 'hi there' && ls $HOME"],
            "bash -lc \"echo 'hi there' && ls \"'$HOME'",
        ),
        (["git", "commit", "-m", ""], "git commit -m ''"),
        (["printf", "^caret"], "printf '^caret'"),
        (["echo", "café"], "echo 'café'"),
        (["a\0b"], "<command included NUL byte>"),
        (["plain", "x+y:z@w/v.1_2-3"], "plain x+y:z@w/v.1_2-3"),
    ],
)
def test_commands_are_joined_as_codex_quotes_them(words: list[str], joined: str) -> None:
    assert shlex_join(words) == joined


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("echo sk-" + "a" * 24, "echo [REDACTED_SECRET]"),
        (
            "curl -H 'Authorization: Bearer abcdefghijklmnop1234'",
            "curl -H 'Authorization: Bearer [REDACTED_SECRET]'",
        ),
        ("export AKIAABCDEFGHIJKLMNOP", "export [REDACTED_SECRET]"),
        ("echo token=supersecretvalue", "echo token=[REDACTED_SECRET]"),
        ("echo password: 'hunter2hunter2'", "echo password: '[REDACTED_SECRET]'"),
        ("echo token=short", "echo token=short"),
    ],
)
def test_secrets_in_commands_are_redacted(text: str, redacted: str) -> None:
    assert redact_secrets(text) == redacted


def core_command(**fields: Any) -> dict[str, Any]:
    return {
        "type": "CommandExecution",
        "id": "c1",
        "command": ["/bin/bash", "-lc", "make"],
        "cwd": "file:///work/a%20b",
        "parsed_cmd": [{"type": "read", "cmd": "cat x", "name": "x", "path": "src/x"}],
        "source": "user_shell",
        "status": "failed",
        "aggregated_output": "",
        "exit_code": 2,
        "duration": {"secs": 1, "nanos": 999_999},
        **fields,
    }


def test_a_command_item_as_codex_shows_it() -> None:
    item = thread_item_from_core(core_command())

    assert isinstance(item, CommandExecutionItem)
    assert item.cwd == "/work/a b"  # the file:// URI as a path
    assert item.source == "userShell" and item.status == "failed"
    assert item.aggregated_output is None  # empty output is no output
    assert (item.exit_code, item.duration_ms) == (2, 1000)  # truncated to whole ms
    assert to_builtins(item.command_actions) == [
        {"type": "read", "command": "cat x", "name": "x", "path": "/work/a b/src/x"}
    ]


@pytest.mark.parametrize(
    "broken",
    [
        {"source": "robot"},
        {"status": "exploded"},
        {"command": "not a list"},
        {"duration": {"secs": 1}},
        {"parsed_cmd": [{"type": "teleport", "cmd": "x"}]},
    ],
)
def test_an_item_codex_cannot_decode_is_refused(broken: dict[str, Any]) -> None:
    with pytest.raises(ItemShapeError):
        thread_item_from_core(core_command(**broken))


def test_an_unknown_item_type_passes_through_untouched() -> None:
    raw = {"type": "Hologram", "id": "h1", "beams": [1, 2.5, {"x": None}]}

    item = thread_item_from_core(raw)

    assert isinstance(item, UnknownThreadItem)
    assert (item.type, item.id) == ("Hologram", "h1")
    assert to_builtins([item]) == [raw]


def test_mcp_call_keys_codex_omits_when_absent_are_omitted() -> None:
    core = {
        "type": "McpToolCall",
        "id": "m1",
        "server": "s",
        "tool": "t",
        "arguments": None,
        "status": "completed",
    }
    item = thread_item_from_core(core)
    with_uri = thread_item_from_core({**core, "mcpAppResourceUri": "ui://x", "connectorId": "c"})

    assert isinstance(item, McpToolCallItem) and isinstance(with_uri, McpToolCallItem)
    assert "mcpAppResourceUri" not in to_builtins(item)
    assert to_builtins(with_uri)["mcpAppResourceUri"] == "ui://x"
    assert to_builtins(with_uri)["appContext"]["resourceUri"] == "ui://x"


# -- turn lifecycles the recorded cases leave implicit -----------------------------------------


def legacy(*payloads: dict[str, Any]) -> list[RolloutLine]:
    meta = RolloutItem(
        "session_meta", {"id": "01a2355f-0000-7000-8000-000000000001", "timestamp": "t"}
    )
    return [RolloutLine("2026-01-01T00:00:00.000Z", meta)] + [
        RolloutLine("2026-01-01T00:00:01.000Z", RolloutItem.event_msg(p)) for p in payloads
    ]


def user(text: str) -> dict[str, Any]:
    return {"type": "user_message", "message": text, "images": None, "local_images": []}


def test_a_turn_closed_by_turn_complete_and_one_ended_without_times() -> None:
    turns = to_builtins(
        ThreadHistoryView.of_lines(
            "legacy",
            legacy(
                {"type": "turn_started", "turn_id": "a", "started_at": 10},
                user("q"),
                {"type": "turn_complete", "turn_id": "a"},  # no completed_at, no duration
                user("after"),
            ),
        ).turns()
    )

    assert [(t["id"], t["status"]) for t in turns] == [
        ("a", "completed"),
        ("rollout-4", "completed"),
    ]
    assert (turns[0]["startedAt"], turns[0]["completedAt"], turns[0]["durationMs"]) == (
        10,
        None,
        None,
    )


def test_an_aborted_last_turn_and_items_after_an_abort() -> None:
    view = ThreadHistoryView.of_lines(
        "legacy",
        legacy(
            {"type": "task_started", "turn_id": "a"},
            user("q"),
            {"type": "turn_aborted", "turn_id": "a", "reason": "interrupted"},
            {"type": "agent_message", "message": "late"},
        ),
    )

    turns = to_builtins(view.turns())
    assert [(t["id"], t["status"]) for t in turns] == [
        ("a", "interrupted"),
        ("rollout-4", "completed"),
    ]
    assert [i["text"] for i in turns[1]["items"]] == ["late"]  # the abort closed turn "a"


def test_an_open_turn_is_in_progress_only_while_a_writer_runs_it() -> None:
    lines = legacy({"type": "task_started", "turn_id": "a"}, user("q"))

    assert (
        to_builtins(ThreadHistoryView.of_lines("legacy", lines).turns())[0]["status"]
        == "interrupted"
    )
    running = ThreadHistoryView.of_lines("legacy", lines, running=True)
    assert to_builtins(running.turns())[0]["status"] == "inProgress"


def test_item_times_are_unset_only_where_codex_stores_them_apart() -> None:
    view = ThreadHistoryView.of_lines("legacy", legacy(user("q")))
    (turn,) = view.turns()
    (item,) = turn.items

    assert to_builtins(item)["startedAtMs"] is None  # present, null: as the app-server says
    stored = msgspec.structs.replace(
        item, started_at_ms=msgspec.UNSET, completed_at_ms=msgspec.UNSET
    )
    assert "startedAtMs" not in to_builtins(stored)  # as Codex's projection stores it


@pytest.mark.parametrize(
    "bad",
    [
        {"images": 5},
        {"images": "a.png"},
        {"images": [5]},
        {"local_images": {"a": 1}},
        {"image_details": [3]},
        {"text_elements": [{"byte_range": {"start": "0", "end": 1}}]},
        {"text_elements": 7},
    ],
)
def test_a_user_message_codex_cannot_decode_is_skipped_whole(bad: dict[str, Any]) -> None:
    """Codex's serde decoding refuses the whole event: it is neither a crash nor split
    into one image per character."""
    view = ThreadHistoryView.of_lines(
        "legacy", legacy(user("first"), {**user("broken"), **bad}, user("last"))
    )

    turns = to_builtins(view.turns())
    texts = [i["content"][0]["text"] for t in turns for i in t["items"]]
    assert texts == ["first", "last"]
    assert [t["id"] for t in turns] == ["rollout-1", "rollout-2"]  # the bad one never counted


def paginated(*payloads: dict[str, Any]) -> list[RolloutLine]:
    thread_id = "01a2355f-0000-7000-8000-000000000002"
    meta = RolloutItem("session_meta", {"id": thread_id, "timestamp": "t"})
    return [RolloutLine("2026-01-01T00:00:00.000Z", meta, 0)] + [
        RolloutLine("2026-01-01T00:00:01.000Z", RolloutItem.event_msg(p), n)
        for n, p in enumerate(payloads, start=1)
    ]


def completed(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "item_completed",
        "thread_id": "01a2355f-0000-7000-8000-000000000002",
        "turn_id": "t1",
        "started_at_ms": 5,
        "item": item,
    }


def test_an_unknown_item_type_never_takes_the_place_of_a_known_item() -> None:
    view = ThreadHistoryView.of_lines(
        "paginated",
        paginated(
            {"type": "task_started", "turn_id": "t1"},
            completed({"type": "Reasoning", "id": "r1", "summary_text": ["s"]}),
            completed({"type": "FutureThing", "id": "r1"}),
            completed({"type": "FutureThing", "id": "x9"}),
            {"type": "task_complete", "turn_id": "t1"},
        ),
    )

    items = to_builtins(view.turns("full"))[0]["items"]
    assert [(i["type"], i["id"]) for i in items] == [("reasoning", "r1"), ("FutureThing", "x9")]
