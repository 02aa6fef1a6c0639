"""Threads the real Codex 0.171.0 reverted (`thread/revert`, which only the npm build has):
this store reads them as Codex does, a turn appended here shows in Codex's read at once,
and archive, unarchive and delete done here are what Codex sees, with every rollout of
the thread moved or removed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from codex_thread_store import (
    ArchiveThreadParams,
    DeleteThreadParams,
    ListThreadsParams,
    ThreadManager,
)

from .codex_cli import CodexCli, find_npm_codex
from .mock_responses import MockResponsesServer
from .shapes import TurnWriter, Written
from .test_parity_interop import assert_codex_reads_what_we_read, store_of


@pytest.fixture
def reverted(tmp_path: Path, mock_server: MockResponsesServer) -> tuple[CodexCli, str, Path]:
    """A three-turn Codex thread reverted before its last turn, then one more Codex turn."""
    home, work = tmp_path / "codex-home", tmp_path / "work"
    work.mkdir()
    cli = CodexCli(home, mock_server, binary=find_npm_codex())
    thread_id = cli.exec("First [[reply: one]]", cwd=work).thread_id
    assert thread_id is not None
    cli.exec_resume(thread_id, "Second [[shell: echo two]]", cwd=work)
    cli.exec_resume(thread_id, "Third [[reply: three]]", cwd=work)
    with cli.app_server() as app:
        turns = app.thread_read(thread_id, include_turns=True)["thread"]["turns"]
        app.request("thread/resume", {"threadId": thread_id, "excludeTurns": True})
        app.request("thread/revert", {"threadId": thread_id, "beforeTurnId": turns[2]["id"]})
    cli.exec_resume(thread_id, "Fourth [[reply: four]]", cwd=work)
    assert len(cli.rollout_files()) == 2  # the original and the revert's own
    return cli, thread_id, work


def rollout_names(home: Path) -> list[str]:
    return sorted(p.name for p in home.rglob("rollout-*.jsonl"))


def test_a_reverted_thread_reads_here_as_in_codex(
    reverted: tuple[CodexCli, str, Path],
) -> None:
    cli, thread_id, _ = reverted
    with cli.app_server() as app:
        assert [t["id"] for t in app.thread_list_all()] == [thread_id]
        texts = [
            item["content"][0]["text"]
            for turn in app.thread_read(thread_id, include_turns=True)["thread"]["turns"]
            for item in turn["items"]
            if item["type"] == "userMessage"
        ]
        assert [t.split(" [[")[0] for t in texts] == ["First", "Second", "Fourth"]
        assert_codex_reads_what_we_read(app, cli.codex_home, Written({"r": thread_id}, "paginated"))

    async def listed() -> list[str]:
        async with store_of(cli.codex_home) as store:
            page = await store.list_threads(ListThreadsParams())
            return [t.thread_id for t in page.items]

    assert asyncio.run(listed()) == [thread_id]


def test_a_turn_appended_here_to_a_reverted_thread_shows_in_codex_at_once(
    reverted: tuple[CodexCli, str, Path],
) -> None:
    cli, thread_id, work = reverted
    files = rollout_names(cli.codex_home)

    async def append_turn() -> None:
        async with store_of(cli.codex_home) as store:
            manager = ThreadManager(store, collect_git=False)
            live = await manager.resume_thread(thread_id)
            turn = TurnWriter(thread_id, True, "ours-1", str(work)).user("Added here")
            await live.append_items(turn.agent("Answered here"))
            await manager.aclose()

    asyncio.run(append_turn())
    assert rollout_names(cli.codex_home) == files  # appended to the current rollout
    with cli.app_server() as app:
        turns = app.thread_read(thread_id, include_turns=True)["thread"]["turns"]
        assert turns[-1]["id"] == "ours-1"
        assert turns[-1]["items"][-1]["text"] == "Answered here"
        assert_codex_reads_what_we_read(app, cli.codex_home, Written({"r": thread_id}, "paginated"))


def test_archive_unarchive_and_delete_here_take_every_rollout_along(
    reverted: tuple[CodexCli, str, Path],
) -> None:
    cli, thread_id, _ = reverted
    home = cli.codex_home
    names = rollout_names(home)
    params = ArchiveThreadParams(thread_id=thread_id)

    async def run(step: str) -> None:
        async with store_of(home) as store:
            if step == "archive":
                await store.archive_thread(params)
            elif step == "unarchive":
                await store.unarchive_thread(params)
            else:
                await store.delete_thread(DeleteThreadParams(thread_id=thread_id))

    asyncio.run(run("archive"))
    assert sorted(p.name for p in (home / "archived_sessions").iterdir()) == names
    with cli.app_server() as app:
        assert [t["id"] for t in app.thread_list_all(archived=True)] == [thread_id]
        assert app.thread_list_all() == []
    asyncio.run(run("unarchive"))
    with cli.app_server() as app:
        assert [t["id"] for t in app.thread_list_all()] == [thread_id]
        assert_codex_reads_what_we_read(app, home, Written({"r": thread_id}, "paginated"))
    asyncio.run(run("delete"))
    assert rollout_names(home) == []
    with cli.app_server() as app:
        assert app.thread_list_all() == []
        assert app.thread_list_all(archived=True) == []
