"""`codex_thread_store.sync`: the same operations, blocking, from a plain script and from
inside a running event loop (as in Jupyter), with the async API's typed errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from codex_thread_store import ListThreadsParams, ReadThreadParams, ThreadNotFound, sync

MESSAGES = [
    {"role": "user", "content": "Remember the milk"},
    {"role": "assistant", "content": "Noted."},
]


@pytest.fixture(params=["memory", "local", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory:"
    if request.param == "local":
        return str(tmp_path / "home")
    from pg_server import conformance_dsn

    return f"{conformance_dsn()}&owner=sync-{uuid.uuid4().hex}"


def test_a_script_persists_and_reads_back(url: str) -> None:
    with sync.open_store(url) as store:
        convo = sync.start_conversation(store, name="Shopping")
        convo.append(MESSAGES)
        assert convo.items() == MESSAGES
        assert len(convo) == 2
        thread_id = convo.thread_id
        convo.close()
        page = store.list_threads(ListThreadsParams())
        assert [t.thread_id for t in page.items] == [thread_id]
        assert store.read_thread(ReadThreadParams(thread_id=thread_id)).name == "Shopping"
        again = sync.resume_conversation(store, thread_id)
        assert again.pop() == MESSAGES[-1]
        again.close()


def test_errors_are_the_typed_errors(tmp_path: Path) -> None:
    with sync.open_store("memory:") as store, pytest.raises(ThreadNotFound):
        store.read_thread(ReadThreadParams(thread_id="01a23648-8f19-7195-8962-100bacc9b6f8"))


async def test_it_works_inside_a_running_loop(tmp_path: Path) -> None:
    # As in a notebook cell: a loop is running in this thread, and the calls still block.
    with sync.open_store(str(tmp_path / "home")) as store:
        convo = sync.open_conversation(store, "01a23648-8f19-7195-8962-100bacc9b6f8")
        convo.append(MESSAGES[:1])
        assert convo.items() == MESSAGES[:1]
        convo.close()


def test_a_fresh_interpreter_exits_cleanly(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from codex_thread_store import sync
        store = sync.open_store({str(tmp_path / "home")!r})
        convo = sync.start_conversation(store)
        convo.append({MESSAGES!r})
        print(len(convo.items()))
        convo.close()
        store.close()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"
    assert result.stderr == ""


def test_a_store_from_another_loop_is_refused() -> None:
    from codex_thread_store import InMemoryThreadStore

    with pytest.raises(TypeError, match=r"sync\.open_store"):
        sync.start_conversation(InMemoryThreadStore())  # type: ignore[arg-type]


def test_a_live_thread_closes_through_shutdown(tmp_path: Path) -> None:
    from codex_thread_store import CreateThreadParams, LiveThread

    with sync.open_store(str(tmp_path / "home")) as store:
        live = sync.Blocking(
            sync.run(LiveThread.create(store.wrapped, CreateThreadParams(), collect_git=False))
        )
        live.close()
        assert live.is_closed
