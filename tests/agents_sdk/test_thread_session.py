"""`ThreadSession` with the real OpenAI Agents SDK (`Runner.run`, a scripted model, no
network) on every store: several turns with a tool call, a new session object (and, on
the stores that outlive a process, a new process) resuming it, pop and clear; the thread
is then an ordinary one that `codex-threads` shows."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from agents import RunConfig, Runner
from agents.memory import SessionSettings
from click.testing import CliRunner

from codex_thread_store import (
    ListTurnsParams,
    ReadThreadParams,
    ThreadStore,
    TurnItemsView,
    new_thread_id,
    open_store,
)
from codex_thread_store.agents_sdk import ThreadSession, thread_id_for
from codex_thread_store.cli import main

from .fake_model import ScriptedModel, call, reply, weather_agent

HERE = Path(__file__).resolve().parent
OFFLINE = RunConfig(tracing_disabled=True)


def texts(items: list[dict[str, Any]]) -> list[str]:
    """What each item says, compactly: `user:...`, `assistant:...`, `call:name`, `output:...`."""
    out = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            content = item["content"]
            text = content if isinstance(content, str) else content[0]["text"]
            out.append(f"{item['role']}:{text}")
        elif kind == "function_call":
            out.append(f"call:{item['name']}")
        elif kind == "function_call_output":
            out.append(f"output:{item['output']}")
    return out


async def two_turns(session: ThreadSession) -> ScriptedModel:
    model = ScriptedModel(
        [
            [call("get_weather", {"city": "Paris"}, "c1")],
            [reply("It is sunny in Paris.", 1)],
            [reply("You are welcome.", 2)],
        ]
    )
    agent = weather_agent(model)
    first = await Runner.run(agent, "Weather in Paris?", session=session, run_config=OFFLINE)
    assert first.final_output == "It is sunny in Paris."
    second = await Runner.run(agent, "Thanks!", session=session, run_config=OFFLINE)
    assert second.final_output == "You are welcome."
    return model


EXPECTED = [
    "user:Weather in Paris?",
    "call:get_weather",
    "output:sunny in Paris",
    "assistant:It is sunny in Paris.",
    "user:Thanks!",
    "assistant:You are welcome.",
]


async def test_runner_keeps_the_conversation_in_the_thread(store: ThreadStore) -> None:
    session = ThreadSession(new_thread_id(), store)
    model = await two_turns(session)
    # The model saw the whole first turn, tool call included, on the second run.
    assert texts(model.inputs[-1]) == EXPECTED[:5]
    assert texts(await session.get_items()) == EXPECTED
    assert texts(await session.get_items(limit=2)) == EXPECTED[-2:]
    await session.close()

    again = ThreadSession(session.session_id, store)
    assert texts(await again.get_items()) == EXPECTED
    page = await store.list_turns(
        ListTurnsParams(thread_id=again.thread_id, items_view=TurnItemsView.FULL)
    )
    assert [turn.status for turn in page.turns] == ["completed", "completed"]
    thread = await store.read_thread(ReadThreadParams(thread_id=again.thread_id))
    assert thread.preview == "Weather in Paris?"
    await again.close()


async def test_pop_and_clear(store: ThreadStore) -> None:
    session = ThreadSession(new_thread_id(), store)
    await two_turns(session)
    popped = await session.pop_item()
    assert popped is not None and texts([popped]) == ["assistant:You are welcome."]
    assert texts(await session.get_items()) == EXPECTED[:-1]
    await session.close()
    again = ThreadSession(session.session_id, store)
    assert texts(await again.get_items()) == EXPECTED[:-1]
    await again.clear_session()
    assert await again.get_items() == []
    assert await again.pop_item() is None
    model = ScriptedModel([[reply("Hello again.", 3)]])
    await Runner.run(weather_agent(model), "Hi", session=again, run_config=OFFLINE)
    assert texts(model.inputs[-1]) == ["user:Hi"]  # nothing from before the clear
    await again.close()
    third = ThreadSession(session.session_id, store)
    assert texts(await third.get_items()) == ["user:Hi", "assistant:Hello again."]
    await third.close()


async def test_session_settings_limit_is_the_default(store: ThreadStore) -> None:
    session = ThreadSession(new_thread_id(), store, session_settings=SessionSettings(limit=1))
    await two_turns(session)
    assert texts(await session.get_items()) == EXPECTED[-1:]
    assert len(await session.get_items(limit=3)) == 3
    await session.close()


async def test_a_name_is_a_stable_thread(store: ThreadStore) -> None:
    session = ThreadSession("user-42", store)
    assert session.thread_id == thread_id_for("user-42") != "user-42"
    await session.add_items([{"role": "user", "content": "hi"}])
    await session.close()
    thread = await store.read_thread(ReadThreadParams(thread_id=session.thread_id))
    assert thread.name == "user-42"
    again = ThreadSession("user-42", store)
    assert await again.get_items() == [{"role": "user", "content": "hi"}]
    await again.close()


def run_turn_in_new_process(url: str, session_id: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    result = subprocess.run(
        [sys.executable, str(HERE / "resume_in_process.py"), url, session_id],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def store_url(kind: str, tmp_path: Path) -> str:
    if kind == "local":
        return str(tmp_path / "home")
    from pg_server import conformance_dsn

    return f"{conformance_dsn()}&owner=sdk-{uuid.uuid4().hex}"


@pytest.mark.parametrize("kind", ["local", "postgres"])
def test_a_new_process_resumes_the_session(kind: str, tmp_path: Path) -> None:
    url = store_url(kind, tmp_path)
    session_id = new_thread_id()

    async def first_process() -> None:
        async with open_store(url) as store:
            session = ThreadSession(session_id, store, name="Weather chat", model="mock-model")
            await two_turns(session)
            await session.close()

    asyncio.run(first_process())
    seen = run_turn_in_new_process(url, session_id)
    assert seen["model_saw"] == [*EXPECTED, "user:And tomorrow?"]
    assert seen["items"] == [*EXPECTED, "user:And tomorrow?", "assistant:Sunny again."]
    if kind != "local":
        return
    home = tmp_path / "home"
    shown = CliRunner().invoke(main, ["--home", str(home), "show", session_id])
    assert shown.exit_code == 0, shown.output
    for text in ("Weather in Paris?", "It is sunny in Paris.", "And tomorrow?", "Sunny again."):
        assert text in shown.output
    listed = CliRunner().invoke(main, ["--home", str(home), "list"])
    assert "Weather chat" in listed.output


@pytest.mark.parametrize("bad", [{"type": "computer_call", "call_id": "x"}, "text"])
async def test_an_item_codex_cannot_keep_fails_the_add(store: ThreadStore, bad: Any) -> None:
    from codex_thread_store import InvalidRequest

    session = ThreadSession(new_thread_id(), store)
    with pytest.raises(InvalidRequest, match="item 1"):
        await session.add_items([{"role": "user", "content": "hi"}, bad])
    assert await session.get_items() == []
    await session.close()


async def test_sessions_of_one_thread_share_its_writer(store: ThreadStore) -> None:
    # Web apps make a session per request: they must not fight over the thread's writer.
    thread_id = new_thread_id()
    first, second = ThreadSession(thread_id, store), ThreadSession(thread_id, store)
    await first.add_items([{"role": "user", "content": "one"}])
    await second.add_items([{"role": "assistant", "content": "two"}])
    assert texts(await first.get_items()) == ["user:one", "assistant:two"]
    await first.close()
    await second.add_items([{"role": "user", "content": "three"}])  # still open for it
    await second.close()
    third = ThreadSession(thread_id, store)  # every session closed: the writer was released
    assert texts(await third.get_items()) == ["user:one", "assistant:two", "user:three"]
    await third.close()
    await third.close()  # closing twice is harmless


async def test_limits_read_as_sqlite_session_reads_them(store: ThreadStore) -> None:
    session = ThreadSession(new_thread_id(), store)
    await session.add_items([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert await session.get_items(limit=0) == []
    assert len(await session.get_items(limit=-1)) == 2
    assert len(await session.get_items(limit=5)) == 2
    await session.close()


async def test_an_upper_case_thread_id_is_the_thread_not_a_name(store: ThreadStore) -> None:
    thread_id = new_thread_id()
    session = ThreadSession(thread_id.upper(), store)
    await session.add_items([{"role": "user", "content": "hi"}])
    await session.close()
    thread = await store.read_thread(ReadThreadParams(thread_id=thread_id))
    assert thread.name is None


async def test_a_session_is_an_async_context_manager(store: ThreadStore) -> None:
    thread_id = new_thread_id()
    async with ThreadSession(thread_id, store) as session:
        await session.add_items([{"role": "user", "content": "hi"}])
    async with ThreadSession(thread_id, store) as again:  # the writer was released
        await again.add_items([{"role": "assistant", "content": "hello"}])
        assert len(await again.get_items()) == 2


async def test_a_new_session_records_its_metadata(store: ThreadStore) -> None:
    session = ThreadSession(
        new_thread_id(),
        store,
        name="Support chat",
        cwd="/srv/bot",
        model="gpt-5",
        model_provider="azure",
        thread_source="support-bot",
    )
    await session.add_items([{"role": "user", "content": "my order is late"}])
    await session.add_items([{"role": "assistant", "content": "Sorry, checking."}])
    await session.close()
    thread = await store.read_thread(ReadThreadParams(thread_id=session.thread_id))
    assert (thread.name, thread.cwd, thread.model, thread.model_provider) == (
        "Support chat",
        "/srv/bot",
        "gpt-5",
        "azure",
    )
    assert thread.thread_source == "support-bot"
    assert thread.preview == "my order is late"
