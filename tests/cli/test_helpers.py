"""The command line's pure helpers: store URLs, short ids, transcripts, turn counting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_thread_store import (
    AgentMessageItem,
    CommandExecutionItem,
    ContextCompactionItem,
    FileChangeItem,
    McpToolCallItem,
    PlanItem,
    ReasoningItem,
    UnknownThreadItem,
    UserMessageItem,
)
from codex_thread_store.cli.exit_codes import CliError, ExitCode
from codex_thread_store.cli.open_store import StoreSpec, parse_store_url, resolve_spec
from codex_thread_store.cli.resolve import short_ids
from codex_thread_store.local.layout import CodexHome
from codex_thread_store.local.turn_count import count_turns
from codex_thread_store.protocol.items import (
    FileUpdateChange,
    LocalImageInput,
    McpToolCallError,
    PatchChangeKind,
    TextInput,
)
from codex_thread_store.transcript import Entry, fold, shown_command, transcript_entries


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


def _command(exit_code: int | None, status: str, output: str | None = None) -> CommandExecutionItem:
    return CommandExecutionItem(
        id=f"c{exit_code}{status}",
        command="/bin/bash -lc 'make test'",
        cwd="/w",
        status=status,
        command_actions=[],
        aggregated_output=output,
        exit_code=exit_code,
    )


def test_transcript_renders_every_kind_of_typed_item() -> None:
    items = [
        UserMessageItem(id="u", content=[TextInput(text="hi"), LocalImageInput(path="/tmp/a.png")]),
        ReasoningItem(id="r", summary=["thinking it over"]),
        _command(0, "completed", "ok\n"),
        FileChangeItem(
            id="p",
            changes=[
                FileUpdateChange(path="a.py", kind=PatchChangeKind(type="add"), diff="+x"),
                FileUpdateChange(path="b.py", kind=PatchChangeKind(type="delete"), diff="-y"),
            ],
            status="failed",
        ),
        McpToolCallItem(
            id="m",
            server="docs",
            tool="search",
            status="failed",
            arguments={"q": "x"},
            error=McpToolCallError(message="timed out"),
        ),
        PlanItem(id="pl", text="1. fix\n2. test"),
        AgentMessageItem(id="a", text="done"),
        ContextCompactionItem(id="cc"),
        UnknownThreadItem({"type": "hologram", "id": "h"}),
    ]
    assert transcript_entries(items) == [
        Entry("user", "hi\n[image]"),
        Entry("reasoning", "thinking it over"),
        Entry("tool_output", "$ make test\nok", "shell"),
        Entry("tool_output", "patch failed: a.py, b.py", "patch"),
        Entry("tool_call", '{"q": "x"}', "docs.search"),
        Entry("tool_output", "error: timed out", "docs.search"),
        Entry("plan", "1. fix\n2. test"),
        Entry("assistant", "done"),
        Entry("note", "context compacted"),
        Entry("note", "hologram item"),
    ]


@pytest.mark.parametrize(
    ("exit_code", "status", "title"),
    [
        (0, "completed", "shell"),
        (2, "failed", "shell · exit code 2"),
        (None, "failed", "shell · failed"),
        (None, "declined", "shell · declined"),
        (None, "inProgress", "shell · running"),
    ],
)
def test_a_command_says_how_it_ended(exit_code: int | None, status: str, title: str) -> None:
    (entry,) = transcript_entries([_command(exit_code, status)])
    assert entry == Entry("tool_output", "$ make test", title)


def test_shell_wrappers_are_unwrapped_but_other_commands_kept() -> None:
    assert shown_command("/bin/bash -lc 'ls -la'") == "ls -la"
    assert shown_command("bash -c 'echo \"hi\"'") == 'echo "hi"'
    assert shown_command("python -c 'print(1)'") == "python -c 'print(1)'"
    assert shown_command("unbalanced 'quote") == "unbalanced 'quote"


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
    assert count_turns(home, started, "legacy") == 2
    legacy = _write(
        tmp_path / "b.jsonl",
        META,
        _event('{"type":"user_message","message":"one"}'),
        _event('{"type":"task_complete"}'),
        _event('{"type":"user_message","message":"two"}'),
    )
    assert count_turns(home, legacy, "legacy") == 2
    with open(legacy, "a") as fh:
        fh.write(_event('{"type":"user_message","message":"torn')[:40])  # no newline
    assert count_turns(home, legacy, "legacy") == 2
    assert count_turns(home, tmp_path / "missing.jsonl", "legacy") == 0
