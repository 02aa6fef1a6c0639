"""Threads written by LocalThreadStore, read and resumed by the real Codex CLI.

Drives the pinned `codex` binary (see docs/interop.md) against a mock Responses
server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from codex_thread_store import (
    AgentMessageItem,
    CreateThreadParams,
    ListTurnsParams,
    ThreadManager,
    ThreadPersistenceMetadata,
    TurnItemsView,
    UserMessageItem,
)
from codex_thread_store.local import LocalThreadStore

from .codex_cli import CodexCli
from .mock_responses import MockResponsesServer
from .shapes import TurnWriter

TURNS = [
    ("01a1fc20-0000-7000-8000-000000000001", "Explain the parser", "It is recursive descent."),
    ("01a1fc20-0000-7000-8000-000000000002", "Add a test for it", "Added test_parser.py."),
]


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory, mock_server: MockResponsesServer, binary: Path
) -> Any:
    """A fresh home with one two-turn thread written through LiveThread on LocalThreadStore."""
    root = tmp_path_factory.mktemp("local-interop")
    home, work = root / "codex-home", root / "work"
    work.mkdir()
    cli = CodexCli(home, mock_server, binary=binary)
    thread_id = asyncio.run(write_two_turn_thread(home, work))
    return {"cli": cli, "home": home, "work": work, "thread_id": thread_id}


async def write_two_turn_thread(home: Path, work: Path) -> str:
    """The `TURNS` thread, written through LiveThread on LocalThreadStore; returns its id."""
    async with LocalThreadStore(codex_home=home) as store:
        manager = ThreadManager(store, collect_git=False)
        live = await manager.start_thread(
            CreateThreadParams(
                thread_source="user",
                metadata=ThreadPersistenceMetadata(cwd=str(work), model_provider="mock"),
            )
        )
        await live.persist()
        paginated = store.default_history_mode() == "paginated"
        for turn_id, user, agent in TURNS:
            writer = TurnWriter(live.thread_id, paginated, turn_id, str(work))
            await live.append_items(writer.user(user).agent(agent))
        await manager.aclose()
        return live.thread_id


def test_app_server_lists_and_reads_every_turn(written: Any) -> None:
    cli: CodexCli = written["cli"]
    with cli.app_server() as app:
        listed = app.thread_list()["data"]
        assert [t["id"] for t in listed] == [written["thread_id"]]
        assert listed[0]["preview"] == TURNS[0][1]
        assert listed[0]["cwd"] == str(written["work"])
        read = app.request("thread/read", {"threadId": written["thread_id"], "includeTurns": True})
    turns = read["thread"]["turns"]
    assert [t["id"] for t in turns] == [t[0] for t in TURNS]
    assert [t["status"] for t in turns] == ["completed", "completed"]
    for turn, (_, user, agent) in zip(turns, TURNS, strict=True):
        texts = [
            (item["type"], item.get("text") or item["content"][0]["text"]) for item in turn["items"]
        ]
        assert texts == [("userMessage", user), ("agentMessage", agent)]


def test_exec_resume_appends_a_turn_that_the_store_reads_back(written: Any) -> None:
    cli: CodexCli = written["cli"]
    result = cli.exec_resume(
        written["thread_id"], "One more thing [[reply: resumed fine]]", cwd=written["work"]
    )
    assert result.returncode == 0

    async def read_back() -> tuple[list[str], list[str]]:
        async with LocalThreadStore(codex_home=written["home"]) as store:
            page = await store.list_turns(
                ListTurnsParams(thread_id=written["thread_id"], items_view=TurnItemsView.FULL)
            )
        items = [item for turn in page.turns for item in turn.items]
        users = [
            " ".join(getattr(part, "text", "") for part in i.content)
            for i in items
            if isinstance(i, UserMessageItem)
        ]
        agents = [i.text for i in items if isinstance(i, AgentMessageItem)]
        return users, agents

    users, agents = asyncio.run(read_back())
    assert users[:2] == [TURNS[0][1], TURNS[1][1]]
    assert users[-1] == "One more thing [[reply: resumed fine]]"
    assert agents[-1] == "resumed fine"
