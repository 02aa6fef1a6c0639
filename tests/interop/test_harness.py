"""The interop harness, proven against the real Codex CLI binary (``openai-codex-cli-bin``).

Reads ``../shared/codex-corpus/`` (beside the checkout): the 0.169.0 home
``codex-0.169.0-home``, ``codex-0.169.0-manifest.json`` and ``codex-0.169.0-expected.json``.
Every Codex process talks only to a :class:`MockResponsesServer` on 127.0.0.1.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import socket
import subprocess
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .codex_cli import (
    CODEX_BIN_ENV,
    AppServer,
    AppServerError,
    CodexCli,
    codex_version,
    copy_codex_home,
    find_codex,
)
from .mock_responses import MockResponsesServer, plan_reply

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "codex-corpus"
CORPUS_HOME = CORPUS / "codex-0.169.0-home"
MANIFEST = CORPUS / "codex-0.169.0-manifest.json"
EXPECTED = CORPUS / "codex-0.169.0-expected.json"

PINNED_VERSION = "0.163.0"  # keep in step with pyproject.toml's [interop] extra

# Keys the 0.169.0 app-server emits and the pinned 0.163.0 one does not (docs/interop.md).
NEWER_THREAD_KEYS = frozenset({"attachedToThreadId"})
NEWER_ITEM_KEYS = frozenset({"moderation", "startedAtMs", "completedAtMs"})

ROLLOUT_NAME = re.compile(
    r"rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-(?P<id>[0-9a-f]{8}-[0-9a-f-]{27})\.jsonl"
)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _strip_newer_keys(value: Any) -> Any:
    """Drop the fields only newer app-servers emit, so 0.163.0 and 0.169.0 answers compare."""
    if isinstance(value, list):
        return [_strip_newer_keys(item) for item in value]
    if isinstance(value, dict):
        drop: frozenset[str] = frozenset()
        if "sessionId" in value and "cliVersion" in value:
            drop = NEWER_THREAD_KEYS
        elif value.get("type") in {"userMessage", "agentMessage", "commandExecution"}:
            drop = NEWER_ITEM_KEYS
        return {k: _strip_newer_keys(v) for k, v in value.items() if k not in drop}
    return value


def _placeholder_home(value: Any, home: Path) -> Any:
    """Write the home's path as ``${CODEX_HOME}``, as codex-0.169.0-expected.json does."""
    return json.loads(json.dumps(value).replace(str(home), "${CODEX_HOME}"))


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def codex_binary() -> Path:
    return find_codex()


@pytest.fixture(scope="module")
def binary_version(codex_binary: Path) -> str:
    return codex_version(codex_binary)


@pytest.fixture(scope="module")
def mock_server() -> Iterator[MockResponsesServer]:
    with MockResponsesServer() as server:
        yield server
        assert server.outbound_attempts == [], "a Codex process tried to leave 127.0.0.1"


@pytest.fixture(scope="module")
def exec_run(
    tmp_path_factory: pytest.TempPathFactory,
    mock_server: MockResponsesServer,
    codex_binary: Path,
) -> dict[str, Any]:
    """One ``codex exec`` in a fresh home; shared by the read-only tests below."""
    root = tmp_path_factory.mktemp("exec-run")
    workdir = root / "work"
    workdir.mkdir()
    (workdir / "README.md").write_text("demo\n", encoding="utf-8")
    cli = CodexCli(root / "codex-home", mock_server, binary=codex_binary)
    before = len(mock_server.response_requests)
    prompt = "Summarize this folder. [[reply: It holds one README.]]"
    result = cli.exec(prompt, cwd=workdir)
    return {
        "cli": cli,
        "result": result,
        "prompt": prompt,
        "reply": "It holds one README.",
        "workdir": workdir,
        "requests": mock_server.response_requests[before:],
    }


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    assert CORPUS_HOME.is_dir(), f"{CORPUS} must sit beside the checkout (see README)"
    return {"manifest": _load(MANIFEST), "expected": _load(EXPECTED)}


@pytest.fixture(scope="module")
def corpus_app(
    tmp_path_factory: pytest.TempPathFactory,
    corpus: dict[str, Any],
    mock_server: MockResponsesServer,
    codex_binary: Path,
) -> Iterator[dict[str, Any]]:
    """A relocated copy of the 0.169.0 corpus home, with one app-server running on it."""
    home = tmp_path_factory.mktemp("corpus") / "codex-home"
    rewritten = copy_codex_home(CORPUS_HOME, home, old_prefix=corpus["manifest"]["codex_home"])
    cli = CodexCli(home, mock_server, binary=codex_binary)
    with cli.app_server() as app:
        yield {"home": home, "app": app, "rewritten": rewritten, **corpus}


# -- the mock alone (no binary) --------------------------------------------------------------


def _user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def test_mock_reply_conventions() -> None:
    env = _user("<environment_context>\n  <cwd>/x</cwd>\n</environment_context>")
    assert plan_reply({"input": [env, _user("hi [[reply: Hello!]]")]}, 1) == {"text": "Hello!"}
    assert plan_reply({"input": [_user("Two\n  lines")]}, 7) == {"text": "Mock reply #7: Two lines"}

    body: dict[str, Any] = {
        "input": [_user("run [[shell: echo a]] [[shell: echo b]]")],
        "tools": [{"type": "function", "name": "exec_command"}],
    }
    first = plan_reply(body, 1)["tool_call"]
    assert (first["name"], json.loads(first["arguments"])) == ("exec_command", {"cmd": "echo a"})
    body["input"] += [
        {"type": "function_call", "call_id": first["call_id"], "name": "exec_command"},
        {"type": "function_call_output", "call_id": first["call_id"], "output": "Output:\na\n"},
    ]
    assert json.loads(plan_reply(body, 2)["tool_call"]["arguments"]) == {"cmd": "echo b"}
    body["input"] += [
        {"type": "function_call", "call_id": "c2", "name": "exec_command"},
        {"type": "function_call_output", "call_id": "c2", "output": "Output:\nb\n"},
    ]
    assert plan_reply(body, 3) == {"text": "Mock reply #3: ran 2 command(s). Last output: b"}


def test_mock_serves_sse_and_refuses_outbound() -> None:
    with MockResponsesServer() as server:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(
            f"{server.base_url}/responses",
            data=json.dumps({"input": [_user("ping [[reply: pong]]")], "stream": True}).encode(),
            headers={"content-type": "application/json"},
        )
        with opener.open(request, timeout=5) as response:
            assert response.headers["content-type"] == "text/event-stream"
            body = response.read()
        events = _parse_sse(body)
        assert [name for name, _ in events] == [
            "response.created",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.output_item.done",
            "response.completed",
        ]
        assert all(data["type"] == name for name, data in events)
        assert events[-2][1]["item"]["content"] == [
            {"type": "output_text", "text": "pong", "annotations": []}
        ]
        assert events[-1][1]["response"]["usage"]["total_tokens"] > 0
        [seen] = server.response_requests
        assert seen.user_text == "ping [[reply: pong]]"
        assert seen.reply_text == "pong"

        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
            status_line = sock.recv(1024).split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 403")
        assert server.outbound_attempts == ["CONNECT example.com:443"]


def _parse_sse(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in body.decode().split("\n\n"):
        if frame:
            event_line, data_line = frame.split("\n")
            assert event_line.startswith("event: ") and data_line.startswith("data: ")
            events.append((event_line[7:], json.loads(data_line[6:])))
    return events


# -- codex exec against the mock ---------------------------------------------------------------


def test_binary_is_the_pinned_version(binary_version: str) -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pin = f"openai-codex-cli-bin=={PINNED_VERSION}"
    assert pin in pyproject["project"]["optional-dependencies"]["interop"]
    assert importlib.metadata.version("openai-codex-cli-bin") == PINNED_VERSION
    if os.environ.get(CODEX_BIN_ENV):
        pytest.skip(f"${CODEX_BIN_ENV} selects another codex ({binary_version})")
    assert binary_version == PINNED_VERSION


def test_exec_writes_a_rollout_and_calls_the_mock(
    exec_run: dict[str, Any], binary_version: str
) -> None:
    result, cli = exec_run["result"], exec_run["cli"]
    thread_id = result.thread_id
    assert thread_id and result.agent_messages == [exec_run["reply"]]

    [rollout] = cli.rollout_files()
    match = ROLLOUT_NAME.fullmatch(rollout.name)
    assert match and match["id"] == thread_id
    day = rollout.name[len("rollout-") :][:10]  # sessions/YYYY/MM/DD/rollout-YYYY-MM-DDT...
    assert rollout.parent.relative_to(cli.codex_home / "sessions").parts == tuple(day.split("-"))
    first = json.loads(rollout.read_text(encoding="utf-8").splitlines()[0])
    assert first["type"] == "session_meta"
    assert first["payload"]["id"] == thread_id
    assert first["payload"]["cli_version"] == binary_version
    assert (cli.codex_home / "state_5.sqlite").is_file()

    [request] = exec_run["requests"]
    assert request.path == "/v1/responses"
    assert request.headers["thread-id"] == thread_id
    assert request.headers["originator"] == "codex_exec"
    assert request.user_text == exec_run["prompt"]
    assert request.body["model"] == "mock-model"


def test_app_server_lists_and_reads_the_exec_thread(exec_run: dict[str, Any]) -> None:
    cli, thread_id = exec_run["cli"], exec_run["result"].thread_id
    with cli.app_server() as app:
        assert app.initialize_result is not None
        assert app.initialize_result["codexHome"] == str(cli.codex_home)
        [listed] = app.thread_list_all()
        read = app.thread_read(thread_id, include_turns=True)["thread"]
        with pytest.raises(AppServerError) as error:
            app.thread_read("not-a-thread-id")
    assert error.value.code == -32600

    assert listed["id"] == thread_id
    assert listed["preview"] == exec_run["prompt"]
    assert (listed["source"], listed["modelProvider"]) == ("exec", "mock")
    assert listed["cwd"] == str(exec_run["workdir"])
    assert listed["turns"] == []

    [turn] = read["turns"]
    assert turn["status"] == "completed"
    texts = [
        (item["type"], item.get("text") or item["content"][0]["text"]) for item in turn["items"]
    ]
    assert texts == [("userMessage", exec_run["prompt"]), ("agentMessage", exec_run["reply"])]


def test_exec_resume_appends_a_turn_with_a_tool_call(
    tmp_path: Path, mock_server: MockResponsesServer, codex_binary: Path
) -> None:
    cli = CodexCli(tmp_path / "codex-home", mock_server, binary=codex_binary)
    first = cli.exec("Start. [[reply: started]]", cwd=tmp_path)
    resumed = cli.exec_resume(first.thread_id or "", "-v: list [[shell: echo resumed-ok]]")
    assert resumed.thread_id == first.thread_id
    assert resumed.agent_messages[-1].endswith("ran 1 command(s). Last output: resumed-ok")
    assert len(cli.rollout_files()) == 1

    with cli.app_server() as app:
        turns = app.thread_read(first.thread_id or "", include_turns=True)["thread"]["turns"]
    assert [[item["type"] for item in turn["items"]] for turn in turns] == [
        ["userMessage", "agentMessage"],
        ["userMessage", "commandExecution", "agentMessage"],
    ]
    assert turns[1]["items"][1]["aggregatedOutput"] == "resumed-ok\n"


def test_failed_exec_reports_its_exit_code(
    tmp_path: Path, mock_server: MockResponsesServer, codex_binary: Path
) -> None:
    cli = CodexCli(tmp_path / "codex-home", mock_server, binary=codex_binary)
    missing = "01a1fbf9-0000-7000-8000-000000000000"
    result = cli.exec_resume(missing, "hello", check=False)
    assert result.returncode == 1
    assert f"no rollout found for thread id {missing}" in result.stderr
    with pytest.raises(subprocess.CalledProcessError):
        result.check()


# -- the 0.169.0 corpus through the pinned app-server --------------------------------------------


def test_corpus_relocation_rewrites_every_rollout_path(corpus_app: dict[str, Any]) -> None:
    assert corpus_app["expected"]["relocate"] == "state_5.sqlite: 12 of 12 rollout paths rewritten"
    assert corpus_app["rewritten"] == 12


def test_corpus_initialize(corpus_app: dict[str, Any], binary_version: str) -> None:
    app: AppServer = corpus_app["app"]
    answer = _placeholder_home(app.initialize_result, corpus_app["home"])
    expected = dict(corpus_app["expected"]["initialize"])
    assert answer.pop("userAgent").startswith(f"codex-thread-store-interop/{binary_version} ")
    expected.pop("userAgent")
    assert answer == expected


def test_corpus_thread_list_matches_expected(corpus_app: dict[str, Any]) -> None:
    app: AppServer = corpus_app["app"]
    expected = corpus_app["expected"]["list"]
    params = corpus_app["expected"]["list_params"]
    manifest = corpus_app["manifest"]

    page = app.thread_list(**params)
    assert [t["id"] for t in page["data"]] == expected["created_at"]["ids"]
    assert len(page["data"]) == 11 and page["nextCursor"] is None
    assert _placeholder_home(_strip_newer_keys(page["data"]), corpus_app["home"]) == (
        _strip_newer_keys(expected["created_at"]["threads"])
    )

    archived = app.thread_list(archived=True, **params)["data"]
    assert [t["id"] for t in archived] == [manifest["roles"]["archived"]]
    assert _placeholder_home(_strip_newer_keys(archived), corpus_app["home"]) == (
        _strip_newer_keys(expected["archived"]["threads"])
    )

    by_updated = app.thread_list(sortKey="updated_at", **params)["data"]
    assert [t["id"] for t in by_updated] == expected["updated_at"]["ids"]
    ascending = app.thread_list(sortDirection="asc", **params)["data"]
    assert [t["id"] for t in ascending] == expected["created_at_asc"]["ids"]

    pages, cursor = [], None
    while True:
        page = app.thread_list(**{**params, "limit": 5, "cursor": cursor})
        pages.append([t["id"] for t in page["data"]])
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert pages == expected["paged_5"]


def test_corpus_thread_read_and_turns_match_expected(corpus_app: dict[str, Any]) -> None:
    app: AppServer = corpus_app["app"]
    home = corpus_app["home"]
    for thread_id, expected in corpus_app["expected"]["threads"].items():
        read = _placeholder_home(app.thread_read(thread_id, include_turns=True), home)
        assert _strip_newer_keys(read) == _strip_newer_keys(expected["read"]), thread_id

        turns = app.thread_turns_list(thread_id, itemsView="full")
        assert turns["nextCursor"] is None
        assert _strip_newer_keys(_placeholder_home(turns["data"], home)) == (
            _strip_newer_keys(expected["turns_list"]["data"])
        ), thread_id

    roles = corpus_app["manifest"]["roles"]
    renamed = app.thread_read(roles["renamed"])["thread"]
    assert renamed["name"] == "Renamed: unicode check ✓"
    forked = app.thread_read(roles["forked"])["thread"]
    assert forked["forkedFromId"] == roles["fork_parent"]
