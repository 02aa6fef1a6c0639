"""Agents SDK sessions kept by `ThreadSession`, read and resumed by the real Codex CLI:
the app-server lists the thread with its preview and shows every turn, and `exec resume`
sends the model the same context the SDK sees, after `pop_item` and `clear_session` too."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from agents import RunConfig, Runner

from agents_sdk.fake_model import ScriptedModel, call, reply, weather_agent
from codex_thread_store import new_thread_id
from codex_thread_store.agents_sdk import ThreadSession
from codex_thread_store.local import LocalThreadStore

from .codex_cli import CodexCli
from .mock_responses import MockResponsesServer

OFFLINE = RunConfig(tracing_disabled=True)


async def write_session(home: Path, work: Path, mode: str, then: str) -> str:
    """Two SDK turns (the first with a tool call) in a new thread of history `mode`; then
    `pop`, `clear` (and one more turn) or nothing. Returns the thread id."""
    async with LocalThreadStore(codex_home=home) as store:
        session = ThreadSession(
            new_thread_id(),
            store,
            cwd=str(work),
            model="mock-model",
            model_provider="mock",
            history_mode=mode,
        )
        model = ScriptedModel(
            [
                [call("get_weather", {"city": "Paris"}, "c1")],
                [reply("It is sunny in Paris.", 1)],
                [reply("You are welcome.", 2)],
                [reply("Hello again.", 3)],
            ]
        )
        agent = weather_agent(model)
        await Runner.run(agent, "Weather in Paris?", session=session, run_config=OFFLINE)
        await Runner.run(agent, "Thanks!", session=session, run_config=OFFLINE)
        if then == "pop":
            await session.pop_item()
        elif then == "clear":
            await session.clear_session()
            await Runner.run(agent, "Hi", session=session, run_config=OFFLINE)
        await session.close()
        return session.thread_id


@pytest.fixture(params=["legacy", "paginated"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def codex_for(
    tmp_path: Path, mock_server: MockResponsesServer, binary: Path
) -> tuple[CodexCli, Path, Path]:
    """A home this Codex build has already used (with Codex's own databases, which a
    paginated thread needs for Codex to see its turns)."""
    home, work = tmp_path / "codex-home", tmp_path / "work"
    work.mkdir()
    cli = CodexCli(home, mock_server, binary=binary)
    cli.exec("Say hi [[reply: hi]]", cwd=work)
    return cli, home, work


def test_app_server_shows_the_sessions_turns(
    tmp_path: Path, mock_server: MockResponsesServer, binary: Path, mode: str
) -> None:
    cli, home, work = codex_for(tmp_path, mock_server, binary)
    thread_id = asyncio.run(write_session(home, work, mode, then="nothing"))
    with cli.app_server() as app:
        listed = app.thread_list()["data"]
        (ours,) = [t for t in listed if t["id"] == thread_id]
        assert ours["preview"] == "Weather in Paris?"
        read = app.request("thread/read", {"threadId": thread_id, "includeTurns": True})
    turns = read["thread"]["turns"]
    assert [t["status"] for t in turns] == ["completed", "completed"]
    said = [
        [
            (item["type"], item.get("text") or item["content"][0]["text"])
            for item in turn["items"]
            if item["type"] in ("userMessage", "agentMessage")
        ]
        for turn in turns
    ]
    assert said == [
        [("userMessage", "Weather in Paris?"), ("agentMessage", "It is sunny in Paris.")],
        [("userMessage", "Thanks!"), ("agentMessage", "You are welcome.")],
    ]


def model_context(body: dict[str, Any]) -> list[str]:
    """What the model was sent, compactly (Codex's own context messages left out)."""
    out = []
    for item in body.get("input") or []:
        kind = item.get("type")
        if kind == "message" and item.get("role") in ("user", "assistant"):
            text = " ".join(part.get("text", "") for part in item.get("content") or [])
            if not text.lstrip().startswith("<"):
                out.append(f"{item['role']}:{text}")
        elif kind == "function_call":
            out.append(f"call:{item['name']}")
        elif kind == "function_call_output":
            output = item.get("output")
            out.append(f"output:{output if isinstance(output, str) else json.dumps(output)}")
    return out


@pytest.mark.parametrize(
    "then, expected",
    [
        (
            "nothing",
            [
                "user:Weather in Paris?",
                "call:get_weather",
                "output:sunny in Paris",
                "assistant:It is sunny in Paris.",
                "user:Thanks!",
                "assistant:You are welcome.",
            ],
        ),
        (
            "pop",
            [
                "user:Weather in Paris?",
                "call:get_weather",
                "output:sunny in Paris",
                "assistant:It is sunny in Paris.",
                "user:Thanks!",
            ],
        ),
        ("clear", ["user:Hi", "assistant:Hello again."]),
    ],
)
def test_exec_resume_sends_the_model_what_the_sdk_sees(
    tmp_path: Path,
    mock_server: MockResponsesServer,
    binary: Path,
    mode: str,
    then: str,
    expected: list[str],
) -> None:
    cli, home, work = codex_for(tmp_path, mock_server, binary)
    thread_id = asyncio.run(write_session(home, work, mode, then))
    mock_server.clear()
    result = cli.exec_resume(thread_id, "One more [[reply: ok]]", cwd=work)
    assert result.returncode == 0
    (first, *_) = mock_server.response_requests
    assert model_context(first.body) == [*expected, "user:One more [[reply: ok]]"]
