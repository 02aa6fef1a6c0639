"""The command line's pure helpers: store URLs, short ids, transcripts, turn counting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_thread_store import RolloutItem
from codex_thread_store.cli.exit_codes import CliError, ExitCode
from codex_thread_store.cli.open_store import StoreSpec, parse_store_url, resolve_spec
from codex_thread_store.cli.resolve import short_ids
from codex_thread_store.local.layout import CodexHome
from codex_thread_store.local.turn_count import count_turns
from codex_thread_store.transcript import Entry, fold, transcript_entries


def test_store_urls(tmp_path: Path) -> None:
    assert parse_store_url("memory:") == StoreSpec("memory")
    assert parse_store_url(f"local:{tmp_path}") == StoreSpec("local", tmp_path)
    assert parse_store_url(f"local://{tmp_path}") == StoreSpec("local", tmp_path)
    assert parse_store_url(str(tmp_path)) == StoreSpec("local", tmp_path)
    relative = parse_store_url("some/home")
    assert relative.home == Path(os.getcwd()) / "some" / "home"
    for bad in ("local:", "postgres://u@h/db", "s3://bucket"):
        with pytest.raises(CliError) as caught:
            parse_store_url(bad)
        assert caught.value.code == ExitCode.USAGE


def test_default_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path))
    assert resolve_spec(None, None) == StoreSpec("local", tmp_path)
    monkeypatch.delenv("CODEX_HOME")
    assert resolve_spec(None, None).home == Path.home() / ".codex"
    assert resolve_spec(tmp_path / "x", None).home == tmp_path / "x"


def test_short_ids_are_unique_prefixes() -> None:
    ids = sorted(
        [
            "01a1fbf9-bfe6-7df0-af08-970e62e1ed1a",
            "01a1fbf9-bfe6-7df0-af08-970e62e1ed1b",
            "01a1fbf9-d036-7bb1-9679-9b7ac1de66b1",
            "01a1fbfa-0613-77e1-9854-1d0affd3e0e7",
        ]
    )
    short = short_ids(ids, ids)
    assert short == {
        ids[0]: ids[0],
        ids[1]: ids[1],
        ids[2]: "01a1fbf9-d",  # never ends on the hyphen
        ids[3]: "01a1fbfa",
    }
    for tid, prefix in short.items():
        assert [other for other in ids if other.startswith(prefix)] == [tid]
    assert short_ids([ids[3]], ids, minimum=12) == {ids[3]: ids[3][:12]}


def test_fold() -> None:
    text = "\n".join(f"line {n}" for n in range(1, 8))
    assert fold(text, 3) == "line 1\nline 2\nline 3\n… 4 more lines"
    assert fold(text, 6) == "\n".join(f"line {n}" for n in range(1, 7)) + "\n… 1 more line"
    assert fold(text, 7) == text
    assert fold("x" * 300, 2, max_line_chars=10) == "x" * 9 + "…"


def test_transcript_shows_each_tool_call_once() -> None:
    items = [
        RolloutItem.event_msg({"type": "user_message", "message": "hi"}),
        RolloutItem.response_item(
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        ),
        RolloutItem.response_item(
            {
                "type": "function_call",
                "name": "exec_command",
                "arguments": '{"cmd": "ls"}',
                "call_id": "c1",
            }
        ),
        RolloutItem.event_msg(
            {"type": "exec_command_end", "call_id": "c1", "command": ["ls"], "exit_code": 0}
        ),
        RolloutItem.response_item({"type": "function_call_output", "call_id": "c1", "output": "a"}),
        RolloutItem.event_msg(
            {
                "type": "exec_command_end",
                "call_id": "c2",
                "command": ["bash", "-lc", "false"],
                "aggregated_output": "",
                "exit_code": 1,
            }
        ),
        RolloutItem.event_msg({"type": "agent_message", "message": "done"}),
        RolloutItem.event_msg({"type": "turn_aborted", "reason": "interrupted"}),
    ]
    assert transcript_entries(items) == [
        Entry("user", "hi"),
        Entry("tool_call", "$ ls", "exec_command"),
        Entry("tool_output", "a"),
        Entry("tool_output", "$ false\n(exit code 1)", "shell"),
        Entry("assistant", "done"),
        Entry("note", "turn aborted (interrupted)"),
    ]


def test_transcript_falls_back_to_response_messages() -> None:
    items = [
        RolloutItem.response_item(
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "x"}],
            }
        ),
        RolloutItem.response_item(
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q"}]}
        ),
        RolloutItem.response_item(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "a"}],
            }
        ),
    ]
    assert transcript_entries(items) == [Entry("user", "q"), Entry("assistant", "a")]


def _write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


META = (
    '{"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta","payload":'
    '{"id":"01a1fbf9-bfe6-7df0-af08-970e62e1ed1a","timestamp":"2026-01-01T00:00:00.000Z"}}'
)


def _event(payload: str) -> str:
    return '{"timestamp":"2026-01-01T00:00:01.000Z","type":"event_msg","payload":' + payload + "}"


def test_count_turns(tmp_path: Path) -> None:
    home = CodexHome(tmp_path)
    started = _write(
        tmp_path / "a.jsonl",
        META,
        _event('{"type":"task_started","turn_id":"t1"}'),
        _event('{"type":"user_message","message":"mentions task_started in text"}'),
        _event('{"type":"task_complete","turn_id":"t1"}'),
        _event('{"type":"task_started","turn_id":"t2"}'),
        _event('{"type":"agent_message","message":"hi"}'),
    )
    assert count_turns(home, started) == 2
    legacy = _write(
        tmp_path / "b.jsonl",
        META,
        _event('{"type":"user_message","message":"one"}'),
        _event('{"type":"task_complete"}'),
        _event('{"type":"user_message","message":"two"}'),
    )
    assert count_turns(home, legacy) == 2
    with open(legacy, "a") as fh:
        fh.write(_event('{"type":"user_message","message":"torn')[:40])  # no newline
    assert count_turns(home, legacy) == 2
    assert count_turns(home, tmp_path / "missing.jsonl") == 0
