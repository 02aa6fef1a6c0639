"""Threads written by LocalThreadStore, read and resumed by the real Codex CLI.

Drives the pinned `codex` binary (see docs/interop.md) against a mock Responses
server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_thread_store import (
    CreateThreadParams,
    ListTurnsParams,
    ReadThreadParams,
    RolloutItem,
    ThreadManager,
    ThreadPersistenceMetadata,
    TurnItemsView,
)
from codex_thread_store.local import LocalThreadStore
from codex_thread_store.protocol import agent_message_text, user_message

from .codex_cli import CodexCli, find_codex
from .mock_responses import MockResponsesServer


def _turn(turn_id: str, user: str, agent: str) -> list[RolloutItem]:
    return [
        RolloutItem.event_msg({"type": "task_started", "turn_id": turn_id}),
        RolloutItem.response_item(
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": user}]}
        ),
        RolloutItem.event_msg(
            {"type": "user_message", "message": user, "images": None, "local_images": []}
        ),
        RolloutItem.response_item(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": agent}],
            }
        ),
        RolloutItem.event_msg({"type": "agent_message", "message": agent}),
        RolloutItem.event_msg(
            {"type": "task_complete", "turn_id": turn_id, "last_agent_message": agent}
        ),
    ]


TURNS = [
    ("01a1fc20-0000-7000-8000-000000000001", "Explain the parser", "It is recursive descent."),
    ("01a1fc20-0000-7000-8000-000000000002", "Add a test for it", "Added test_parser.py."),
]


@pytest.fixture(scope="module")
def mock_server() -> Iterator[MockResponsesServer]:
    with MockResponsesServer() as server:
        yield server
        assert server.outbound_attempts == [], "a Codex process tried to leave 127.0.0.1"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, mock_server: MockResponsesServer) -> Any:
    """A fresh home with one two-turn thread written through LiveThread on LocalThreadStore."""
    root = tmp_path_factory.mktemp("local-interop")
    home, work = root / "codex-home", root / "work"
    work.mkdir()
    cli = CodexCli(home, mock_server, binary=find_codex())
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
        for turn_id, user, agent in TURNS:
            await live.append_items(_turn(turn_id, user, agent))
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
            thread = await store.read_thread(
                ReadThreadParams(thread_id=written["thread_id"], include_history=True)
            )
            assert thread.history is not None
            page = await store.list_turns(
                ListTurnsParams(thread_id=written["thread_id"], items_view=TurnItemsView.FULL)
            )
            users = [
                m.text
                for turn in page.turns
                for m in (user_message(i) for i in turn.items)
                if m is not None
            ]
            agents = [t for turn in page.turns for t in map(agent_message_text, turn.items) if t]
            return users, agents

    users, agents = asyncio.run(read_back())
    assert users[:2] == [TURNS[0][1], TURNS[1][1]]
    assert users[-1] == "One more thing [[reply: resumed fine]]"
    assert agents[-1] == "resumed fine"
