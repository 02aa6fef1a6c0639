"""`codex-threads mcp`: the real command in a subprocess, driven by the MCP SDK's own client.

Every test starts `python -m codex_thread_store --home HOME mcp` (or `mcp --home HOME`)
and talks to it over stdio with `mcp.Client`, against a home written through the public
API: `build_demo_home`, plus one long thread made with `ThreadManager`. One test serves a
PostgreSQL store instead (`--store postgresql://...?owner=X`), written with `Conversation`.

(This folder has no `__init__.py` on purpose: a package named `mcp` here would shadow
the MCP SDK for every test that imports it.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent

from codex_thread_store import (
    Conversation,
    CreateThreadParams,
    RolloutItem,
    ThreadManager,
    ThreadPersistenceMetadata,
)
from codex_thread_store.cli import main
from codex_thread_store.demo import DemoHome, build_demo_home
from codex_thread_store.open_store import open_store

TOOLS = {"list_threads", "search_threads", "read_thread", "find_in_thread"}
UNKNOWN_ID = "00000000-0000-7000-8000-00000000beef"
LONG_TURNS = 30
LONG_MESSAGE = 9_000  # longer than read_thread shows of one message (6000 characters)


# -- the home ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    demo: DemoHome
    long_thread: str
    """A thread of LONG_TURNS turns whose every answer is LONG_MESSAGE characters, with
    the word `needle` near its end."""

    @property
    def path(self) -> Path:
        return self.demo.home

    @property
    def active(self) -> set[str]:
        return {*self.demo.thread_ids, self.long_thread} - {self.demo.archived}


def _event(kind: str, **fields: Any) -> RolloutItem:
    return RolloutItem.event_msg({"type": kind, **fields})


def _long_answer(n: int) -> str:
    return "x" * (LONG_MESSAGE - 38) + f" needle {n:02d} " + "y" * 27


async def _add_long_thread(home: Path) -> str:
    async with open_store(str(home)) as store:
        manager = ThreadManager(store, collect_git=False)
        try:
            live = await manager.start_thread(
                CreateThreadParams(metadata=ThreadPersistenceMetadata(cwd="/work/demo/long"))
            )
            items: list[RolloutItem] = []
            for n in range(1, LONG_TURNS + 1):
                turn = f"turn-{n}"
                items += [
                    _event("task_started", turn_id=turn, model_context_window=None),
                    _event(
                        "user_message",
                        message=f"Question {n} about the haystack",
                        images=None,
                        local_images=[],
                        text_elements=[],
                    ),
                    _event("agent_message", message=_long_answer(n)),
                    _event("task_complete", turn_id=turn, last_agent_message="done"),
                ]
            await live.append_items(items)
            await live.flush()
            await manager.close_thread(live.thread_id)
            return live.thread_id
        finally:
            await manager.aclose()


async def _build(path: Path) -> Home:
    demo = await build_demo_home(path)
    return Home(demo=demo, long_thread=await _add_long_thread(path))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A home the tests only read (the server never writes threads)."""
    return asyncio.run(_build(tmp_path_factory.mktemp("mcp") / "home"))


# -- the server -------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve(args: Sequence[str], log: Path, *, mode: str = "auto") -> AsyncIterator[Client]:
    """A `codex-threads ARGS` subprocess (an `mcp` command line) and a client connected to
    it (`mode` "legacy": the initialize handshake, as Codex does); the server's stderr goes
    to `log`."""
    argv = ["-m", "codex_thread_store", *args]
    params = StdioServerParameters(command=sys.executable, args=argv, cwd=str(log.parent))
    with log.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:
            yield client


@contextlib.asynccontextmanager
async def session(home: Home, tmp_path: Path) -> AsyncIterator[Client]:
    """`serve` on the shared home; the server must not have logged a traceback."""
    log = tmp_path / "server-stderr.log"
    async with serve(["--home", str(home.path), "mcp"], log) as client:
        yield client
    assert "Traceback" not in log.read_text()


def text(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def call(client: Client, tool: str, **arguments: Any) -> tuple[str, dict[str, Any]]:
    """A successful call: its text and its structured content."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    assert isinstance(result.structured_content, dict)
    return text(result), result.structured_content


async def fail(client: Client, tool: str, **arguments: Any) -> str:
    """A call that must end in a tool error (not a protocol error): its text."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, text(result)
    return text(result)


# -- the tools --------------------------------------------------------------------------


async def test_tools_are_listed_with_descriptions_and_schemas(home: Home, tmp_path: Path) -> None:
    async with session(home, tmp_path) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(listed) == TOOLS
        required = {
            "list_threads": set(),
            "search_threads": {"query"},
            "read_thread": {"thread_id"},
            "find_in_thread": {"thread_id", "query"},
        }
        for name, tool in listed.items():
            assert tool.description and len(tool.description) > 80, name
            schema = tool.input_schema
            assert schema["type"] == "object"
            assert set(schema.get("required", [])) == required[name], name
            assert schema["properties"], name
            for prop, spec in schema["properties"].items():
                assert spec.get("description"), (name, prop)
            # Plain types only: Codex turns an `anyOf` into a string for the model.
            assert "anyOf" not in json.dumps(schema) and "$ref" not in json.dumps(schema)
            assert tool.output_schema is not None and tool.output_schema["type"] == "object"
            assert tool.annotations is not None and tool.annotations.read_only_hint is True
        limit = listed["list_threads"].input_schema["properties"]["limit"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)
        detail = listed["read_thread"].input_schema["properties"]["detail"]
        assert detail["enum"] == ["messages", "all"]
        assert client.instructions is not None and "Read-only" in client.instructions


async def test_list_pages_through_every_active_thread(home: Home, tmp_path: Path) -> None:
    async with session(home, tmp_path) as client:
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            args: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            shown, page = await call(client, "list_threads", **args)
            pages += 1
            assert 1 <= len(page["threads"]) <= 2 and page["archived"] is False
            for thread in page["threads"]:
                assert thread["thread_id"] in shown
                assert thread["archived_at"] is None
            seen += [t["thread_id"] for t in page["threads"]]
            cursor = page["next_cursor"]
            if cursor is None:
                assert "more:" not in shown
                break
            assert f'cursor="{cursor}"' in shown
            assert pages < 10
        assert len(seen) == len(set(seen))
        assert set(seen) == home.active
        assert pages == 3  # 6 active threads, 2 a page

        shown, page = await call(client, "list_threads")
        assert [t["thread_id"] for t in page["threads"]] == seen  # newest update first
        assert page["next_cursor"] is None
        parser = next(t for t in page["threads"] if t["thread_id"] == home.demo.parser)
        assert parser["name"] == parser["label"] == "Parser flake"
        assert parser["cwd"] == "/work/demo/parser-service"
        assert f"{home.demo.parser}  Parser flake" in shown


async def test_list_archived_and_filters(home: Home, tmp_path: Path) -> None:
    async with session(home, tmp_path) as client:
        shown, page = await call(client, "list_threads", archived=True)
        assert [t["thread_id"] for t in page["threads"]] == [home.demo.archived]
        assert page["threads"][0]["archived_at"] is not None
        assert "1 archived thread," in shown and "tomllib" in shown

        _, page = await call(client, "list_threads", cwd="/work/demo/parser-service/")
        assert {t["thread_id"] for t in page["threads"]} == {
            home.demo.parser,
            home.demo.fork,
            home.demo.subagent,
        }
        shown, page = await call(client, "list_threads", cwd="/nowhere")
        assert page["threads"] == [] and "No active threads in /nowhere." in shown

        # Optional strings may come as null or empty.
        _, every = await call(client, "list_threads", cursor=None, cwd=None, limit=100)
        _, same = await call(client, "list_threads", cursor="", cwd="", limit=100)
        assert every == same and len(every["threads"]) == len(home.active)

        _, by_created = await call(client, "list_threads", sort="created", limit=100)
        created = [t["created_at"] for t in by_created["threads"]]
        assert len(created) == len(home.active)
        assert created == sorted(created, reverse=True)


async def test_search_finds_the_right_thread(home: Home, tmp_path: Path) -> None:
    async with session(home, tmp_path) as client:
        shown, found = await call(client, "search_threads", query="release notes")
        assert [h["thread"]["thread_id"] for h in found["hits"]] == [home.demo.release_notes]
        assert home.demo.release_notes in shown and "match:" in shown

        _, found = await call(client, "search_threads", query="interleave")
        assert home.demo.parser in [h["thread"]["thread_id"] for h in found["hits"]]
        hit = next(h for h in found["hits"] if h["thread"]["thread_id"] == home.demo.parser)
        assert "interleave" in hit["snippet"]

        shown, found = await call(client, "search_threads", query="tomllib")
        assert found["hits"] == []
        assert 'No active thread matches "tomllib".' in shown
        assert "archived=true" in shown
        _, found = await call(client, "search_threads", query="tomllib", archived=True)
        assert [h["thread"]["thread_id"] for h in found["hits"]] == [home.demo.archived]

        _, first = await call(client, "search_threads", query="buffer", limit=1)
        assert len(first["hits"]) == 1 and first["next_cursor"]
        _, second = await call(
            client, "search_threads", query="buffer", cursor=first["next_cursor"]
        )
        assert second["hits"]
        assert first["hits"][0]["thread"]["thread_id"] not in {
            h["thread"]["thread_id"] for h in second["hits"]
        }


async def test_read_returns_the_turns_text(home: Home, tmp_path: Path) -> None:
    async with session(home, tmp_path) as client:
        shown, thread = await call(client, "read_thread", thread_id=home.demo.parser)
        assert thread["thread"]["thread_id"] == home.demo.parser
        assert thread["total_turns"] == 2 and thread["next_start_turn"] is None
        assert [t["turn"] for t in thread["turns"]] == [1, 2]
        first = thread["turns"][0]
        assert first["status"] == "completed"
        assert [e["kind"] for e in first["entries"]] == ["user", "assistant"]
        assert first["entries"][0]["text"].startswith("test_parallel_parse is flaky")
        assert "module-level `_buffer`" in first["entries"][1]["text"]
        for expected in (
            "Thread " + home.demo.parser + ": Parser flake",
            "Turns 1-2 of 2 (detail: messages)",
            "test_parallel_parse is flaky",
            "Make the buffer per-parse and add a regression test.",
            "All 42 tests pass.",
        ):
            assert expected in shown
        assert "$ pytest" not in shown  # commands only with detail="all"

        shown, thread = await call(
            client, "read_thread", thread_id=home.demo.parser, detail="all", start_turn=-1
        )
        assert [t["turn"] for t in thread["turns"]] == [2]
        assert "$ pytest -q\n  42 passed in 4.01s" in shown
        kinds = [e["kind"] for e in thread["turns"][0]["entries"]]
        assert kinds == ["user", "tool_output", "tool_output", "assistant"]

        shown, thread = await call(client, "read_thread", thread_id=home.demo.parser, max_turns=1)
        assert [t["turn"] for t in thread["turns"]] == [1]
        assert thread["next_start_turn"] == 2
        assert "start_turn=2; 1 turn left" in shown

        # Archived threads are read too, and ids are accepted in upper case.
        shown, thread = await call(client, "read_thread", thread_id=home.demo.archived.upper())
        assert thread["thread"]["archived_at"] is not None
        assert "Could we switch the config loader to tomllib?" in shown


async def test_read_is_bounded(home: Home, tmp_path: Path) -> None:
    async with session(home, tmp_path) as client:
        shown, thread = await call(client, "read_thread", thread_id=home.long_thread)
        assert thread["total_turns"] == LONG_TURNS
        # Each answer is cut, and the default budget (20000 characters) stops at 3 turns.
        assert len(thread["turns"]) == 3 and thread["next_start_turn"] == 4
        answers = [t["entries"][1] for t in thread["turns"]]
        assert [a["omitted_chars"] for a in answers] == [LONG_MESSAGE - 6_000] * 3
        assert "needle" not in shown
        assert f"{LONG_MESSAGE - 6_000} more characters cut" in shown
        assert len(shown) < 20_000 + 2_000

        shown, thread = await call(
            client, "read_thread", thread_id=home.long_thread, start_turn=4, max_chars=200_000
        )
        assert [t["turn"] for t in thread["turns"]] == list(range(4, 14))  # max_turns: 10
        assert thread["next_start_turn"] == 14

        # One turn over the whole budget is shown cut to it, and reading goes on after it.
        _, thread = await call(client, "read_thread", thread_id=home.long_thread, max_chars=1_000)
        assert len(thread["turns"]) == 1
        assert [e["kind"] for e in thread["turns"][0]["entries"]] == ["user"]
        assert thread["turns"][0]["omitted_entries"] == 1
        assert thread["next_start_turn"] == 2


async def test_find_in_thread_returns_each_hit_with_context(home: Home, tmp_path: Path) -> None:
    async with session(home, tmp_path) as client:
        shown, found = await call(
            client, "find_in_thread", thread_id=home.demo.parser, query="_buffer", context_chars=40
        )
        assert found["total"] == 5 and found["next_offset"] is None
        assert [(h["turn"], h["entry"]) for h in found["hits"]] == [
            (1, 3),
            (1, 4),
            (1, 4),
            (1, 4),
            (1, 5),
        ]
        last = found["hits"][-1]
        assert last["kind"] == "assistant" and last["match"] == "_buffer"
        assert last["before"].endswith("in a module-level `")
        assert last["after"].startswith("` that parallel parses share")
        assert len(last["before"]) <= 41 and len(last["after"]) <= 41  # 40 and an ellipsis
        assert '5 occurrences of "_buffer"' in shown
        assert "[5] turn 1, entry 5 · assistant:" in shown
        assert "module-level `**_buffer**` that parallel" in shown
        assert "[1] turn 1, entry 3 · tool output (shell · exit code 1):" in shown

        # Case is ignored unless asked; the whole entry is searched, even what read_thread cuts.
        _, found = await call(
            client, "find_in_thread", thread_id=home.demo.parser, query="PARSER/CACHE"
        )
        assert found["total"] == 4
        _, found = await call(
            client,
            "find_in_thread",
            thread_id=home.demo.parser,
            query="PARSER/CACHE",
            case_sensitive=True,
        )
        assert found["total"] == 0

        shown, found = await call(
            client, "find_in_thread", thread_id=home.long_thread, query="needle", context_chars=5
        )
        assert found["total"] == LONG_TURNS and len(found["hits"]) == 20
        assert found["next_offset"] == 20
        assert found["hits"][0]["offset"] > 6_000
        assert found["hits"][0]["after"] == " 01 y…"
        assert "(more: call find_in_thread with offset=20)" in shown
        _, rest = await call(
            client, "find_in_thread", thread_id=home.long_thread, query="needle", offset=20
        )
        assert [h["turn"] for h in rest["hits"]] == list(range(21, LONG_TURNS + 1))
        assert rest["next_offset"] is None


async def test_find_in_thread_says_when_nothing_matched(home: Home, tmp_path: Path) -> None:
    async with session(home, tmp_path) as client:
        shown, found = await call(
            client, "find_in_thread", thread_id=home.demo.parser, query="no such phrase"
        )
        assert found["total"] == 0 and found["hits"] == []
        assert shown.startswith(f'No occurrence of "no such phrase" in thread {home.demo.parser}')
        assert "searched 2 turns" in shown


async def test_bad_ids_and_arguments_are_tool_errors(home: Home, tmp_path: Path) -> None:
    async with session(home, tmp_path) as client:
        for tool in ("read_thread", "find_in_thread"):
            shown = await fail(client, tool, thread_id=UNKNOWN_ID, query="x")
            assert f"no thread {UNKNOWN_ID}" in shown
            shown = await fail(client, tool, thread_id="01a1fbf9", query="x")
            assert "'01a1fbf9' is not a thread id" in shown and "full id" in shown
            shown = await fail(client, tool, query="x")
            assert "thread_id" in shown and "required" in shown.lower()

        assert "limit" in await fail(client, "list_threads", limit=0)
        assert "limit" in await fail(client, "list_threads", limit=101)
        assert "sort" in await fail(client, "list_threads", sort="sideways")
        assert "absolute" in await fail(client, "list_threads", cwd="relative/dir")
        assert "not valid" in await fail(client, "list_threads", cursor="garbage")
        assert "query" in await fail(client, "search_threads", query="   ")
        assert "query" in await fail(client, "search_threads")
        shown = await fail(client, "read_thread", thread_id=home.demo.parser, start_turn=3)
        assert "past the last turn: the thread has 2 turns" in shown
        assert "not 0" in await fail(
            client, "read_thread", thread_id=home.demo.parser, start_turn=0
        )
        assert "detail" in await fail(
            client, "read_thread", thread_id=home.demo.parser, detail="everything"
        )
        assert "context_chars" in await fail(
            client, "find_in_thread", thread_id=home.demo.parser, query="x", context_chars=5000
        )
        unknown = await client.call_tool("no_such_tool", {})
        assert unknown.is_error and "no_such_tool" in text(unknown)

        # The server is still there.
        _, page = await call(client, "list_threads", limit=1)
        assert len(page["threads"]) == 1


# -- a PostgreSQL store -----------------------------------------------------------------

#: Threads written to PostgreSQL: name, the user's question, the assistant's answer.
PG_THREADS = (
    (
        "Flamingo colours",
        "Why are flamingos pink?",
        "Flamingos are pink from the carotenoids in the shrimp and algae they eat; "
        "a flamingo fed without them turns pale.",
    ),
    (
        "Owl hearing",
        "How do owls hunt in the dark?",
        "By ear: an owl's ears sit at different heights, so it hears where a mouse is in the dark.",
    ),
)


@pytest.fixture
def pg_url() -> str:
    """A store URL for a fresh owner in the shared throwaway PostgreSQL server: empty."""
    from pg_server import conformance_dsn

    return f"{conformance_dsn()}&owner=mcp-{uuid.uuid4().hex}"


async def _write_pg_threads(url: str) -> dict[str, str]:
    """`PG_THREADS` written through the public API: thread id by name."""
    ids: dict[str, str] = {}
    async with open_store(url) as store:
        for name, question, answer in PG_THREADS:
            convo = await Conversation.start(store, name=name, cwd="/work/birds")
            await convo.append(
                [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
            )
            await convo.close()
            ids[name] = convo.thread_id
    return ids


async def test_the_server_reads_a_postgresql_store(pg_url: str, tmp_path: Path) -> None:
    ids = await _write_pg_threads(pg_url)
    flamingo, owl = ids["Flamingo colours"], ids["Owl hearing"]
    log = tmp_path / "server-stderr.log"
    async with serve(["--store", pg_url, "mcp"], log) as client:
        shown, page = await call(client, "list_threads")
        assert len(page["threads"]) == len(PG_THREADS) and page["next_cursor"] is None
        assert {t["thread_id"]: t["name"] for t in page["threads"]} == {
            flamingo: "Flamingo colours",
            owl: "Owl hearing",
        }
        assert {t["cwd"] for t in page["threads"]} == {"/work/birds"}
        assert f"{flamingo}  Flamingo colours" in shown and f"{owl}  Owl hearing" in shown

        shown, found = await call(client, "search_threads", query="carotenoids")
        assert [h["thread"]["thread_id"] for h in found["hits"]] == [flamingo]
        assert "carotenoids" in found["hits"][0]["snippet"] and flamingo in shown
        _, found = await call(client, "search_threads", query="mouse dark")
        assert [h["thread"]["thread_id"] for h in found["hits"]] == [owl]

        shown, thread = await call(client, "read_thread", thread_id=owl)
        assert thread["thread"]["thread_id"] == owl and thread["total_turns"] == 1
        assert thread["next_start_turn"] is None
        assert len(thread["turns"]) == 1 and thread["turns"][0]["status"] == "completed"
        _, question, answer = PG_THREADS[1]
        entries = thread["turns"][0]["entries"]
        assert [(e["kind"], e["text"]) for e in entries] == [
            ("user", question),
            ("assistant", answer),
        ]
        assert f"Thread {owl}: Owl hearing" in shown and "an owl's ears" in shown

        shown, found = await call(client, "find_in_thread", thread_id=flamingo, query="PINK")
        assert found["total"] == 2 and found["next_offset"] is None
        assert [(h["turn"], h["entry"], h["kind"]) for h in found["hits"]] == [
            (1, 1, "user"),
            (1, 2, "assistant"),
        ]
        assert [h["match"] for h in found["hits"]] == ["pink", "pink"]
        assert '2 occurrences of "PINK"' in shown and "Flamingos are **pink** from" in shown
        shown, found = await call(client, "find_in_thread", thread_id=owl, query="flamingo")
        assert found["total"] == 0 and "No occurrence" in shown
    assert "Traceback" not in log.read_text()


# -- read-only --------------------------------------------------------------------------


def _thread_files(home: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of the home but our own rebuildable index folder: bytes and mtime."""
    own = home / "codex-thread-store"
    return {
        str(p.relative_to(home)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(home.rglob("*"))
        if p.is_file() and own not in p.parents and not p.name.endswith(".lock")
    }


async def test_the_server_writes_no_thread(tmp_path: Path) -> None:
    built = await _build(tmp_path / "home")
    before = _thread_files(built.path)
    rollouts = [name for name in before if name.endswith(".jsonl") and "rollout-" in name]
    assert len(rollouts) == len(built.active) + 1
    log = tmp_path / "server-stderr.log"
    # `mcp --home PATH` (options after the command, as MCP configurations write them),
    # and the initialize handshake Codex uses.
    async with serve(["mcp", "--home", str(built.path)], log, mode="legacy") as c:
        for tool in TOOLS:
            await c.call_tool(tool, {"thread_id": UNKNOWN_ID, "query": "x"})
        for thread_id in (*built.demo.thread_ids, built.long_thread):
            await call(c, "read_thread", thread_id=thread_id, detail="all", max_turns=50)
            await call(c, "find_in_thread", thread_id=thread_id, query="e")
        for archived in (False, True):
            await call(c, "list_threads", archived=archived, limit=100)
            await call(c, "search_threads", query="buffer", archived=archived)
    assert "Traceback" not in log.read_text()
    assert _thread_files(built.path) == before


# -- the command ------------------------------------------------------------------------


def _run(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = f"{prelude}\nfrom codex_thread_store.cli import main\nmain()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def test_without_the_sdk_the_command_says_what_to_install(home: Home) -> None:
    ran = _run("--home", str(home.path), "mcp", prelude="import sys; sys.modules['mcp'] = None")
    assert ran.returncode == 1, ran.stderr
    assert "needs the MCP Python SDK" in ran.stderr
    assert "pip install 'codex-thread-store[mcp]'" in ran.stderr
    assert ran.stdout == ""


def test_a_missing_home_is_an_error(tmp_path: Path) -> None:
    ran = _run("--home", str(tmp_path / "nowhere"), "mcp")
    assert ran.returncode == 3, ran.stderr
    assert "no Codex home at" in ran.stderr and ran.stdout == ""


def test_the_store_given_twice_is_a_usage_error(home: Home) -> None:
    path = str(home.path)
    result = CliRunner().invoke(main, ["--home", path, "mcp", "--home", path])
    assert result.exit_code == 2
    assert "either before `mcp` or after it" in result.stderr
    result = CliRunner().invoke(main, ["mcp", "--home", path, "--store", "memory:"])
    assert result.exit_code == 2
    assert "either --home or --store" in result.stderr


def test_the_library_does_not_import_the_sdk() -> None:
    code = (
        "import json, sys\nimport codex_thread_store, codex_thread_store.cli\n"
        "from codex_thread_store.cli.app import main\nmain.get_command(None, 'mcp')\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(ran.stdout)
    assert "codex_thread_store.cli.commands.mcp" in loaded
    assert not [m for m in loaded if m.split(".")[0] in {"mcp", "mcp_types", "pydantic"}]
