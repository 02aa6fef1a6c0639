"""Rename, archive, unarchive and delete in both directions between LocalThreadStore and
the real Codex CLI, in a home the CLI has already used (so Codex lists from its own
`state_5.sqlite`), plus the shared writer lock.

Each test gets its own home: one `codex exec` thread made by the CLI, one two-turn
thread written by this store through LiveThread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from codex_thread_store import (
    AgentMessageItem,
    ArchiveThreadParams,
    Conflict,
    DeleteThreadParams,
    ListThreadsParams,
    ListTurnsParams,
    ReadThreadParams,
    ResumeThreadParams,
    ThreadMetadataPatch,
    ThreadNotFound,
    TurnItemsView,
    UpdateThreadMetadataParams,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

from .codex_cli import AppServer, AppServerError, CodexCli
from .mock_responses import MockResponsesServer
from .test_local_store_interop import TURNS, write_two_turn_thread


@dataclass
class UsedHome:
    cli: CodexCli
    home: Path
    work: Path
    ours: str  # written by LocalThreadStore
    theirs: str  # written by `codex exec`

    def store(self) -> LocalThreadStore:
        return LocalThreadStore(LocalThreadStoreConfig(codex_home=self.home, refresh_interval_s=0))


@pytest.fixture
def used_home(tmp_path: Path, mock_server: MockResponsesServer, binary: Path) -> UsedHome:
    home, work = tmp_path / "codex-home", tmp_path / "work"
    work.mkdir()
    cli = CodexCli(home, mock_server, binary=binary)
    theirs = cli.exec("Made by the CLI [[reply: cli reply]]", cwd=work).thread_id
    assert theirs and (home / "state_5.sqlite").is_file()  # the CLI's DB is in use

    return UsedHome(cli, home, work, asyncio.run(write_two_turn_thread(home, work)), theirs)


def listed(app: AppServer, *, archived: bool = False) -> dict[str, dict[str, object]]:
    return {t["id"]: t for t in app.thread_list_all(archived=archived)}


def test_cli_lists_and_reads_our_thread_in_a_home_it_already_used(used_home: UsedHome) -> None:
    with used_home.cli.app_server() as app:
        threads = listed(app)
        assert set(threads) == {used_home.ours, used_home.theirs}
        assert threads[used_home.ours]["preview"] == TURNS[0][1]
        turns = app.thread_read(used_home.ours, include_turns=True)["thread"]["turns"]
    assert [t["id"] for t in turns] == [t[0] for t in TURNS]
    resumed = used_home.cli.exec_resume(
        used_home.ours, "And then? [[reply: then this]]", cwd=used_home.work
    )
    assert resumed.agent_messages == ["then this"]

    async def read_back() -> list[str]:
        async with used_home.store() as store:
            page = await store.list_turns(
                ListTurnsParams(thread_id=used_home.ours, items_view=TurnItemsView.FULL)
            )
            return [i.text for t in page.turns for i in t.items if isinstance(i, AgentMessageItem)]

    assert asyncio.run(read_back()) == [agent for _, _, agent in TURNS] + ["then this"]


def test_our_rename_archive_unarchive_delete_are_seen_by_the_cli(used_home: UsedHome) -> None:
    ours = used_home.ours

    async def act(step: str) -> None:
        async with used_home.store() as store:
            if step == "rename":
                await store.update_thread_metadata(
                    UpdateThreadMetadataParams(
                        thread_id=ours, patch=ThreadMetadataPatch(name="Parser work")
                    )
                )
            elif step == "archive":
                await store.archive_thread(ArchiveThreadParams(thread_id=ours))
            elif step == "unarchive":
                await store.unarchive_thread(ArchiveThreadParams(thread_id=ours))
            else:
                await store.delete_thread(DeleteThreadParams(thread_id=ours))

    asyncio.run(act("rename"))
    with used_home.cli.app_server() as app:
        assert app.thread_read(ours)["thread"]["name"] == "Parser work"
        assert listed(app)[ours]["name"] == "Parser work"

    asyncio.run(act("archive"))
    with used_home.cli.app_server() as app:
        assert ours not in listed(app)
        assert ours in listed(app, archived=True)

    asyncio.run(act("unarchive"))
    with used_home.cli.app_server() as app:
        assert ours in listed(app)
        assert ours not in listed(app, archived=True)
        turns = app.thread_read(ours, include_turns=True)["thread"]["turns"]
        assert len(turns) == len(TURNS)

    asyncio.run(act("delete"))
    with used_home.cli.app_server() as app:
        assert ours not in listed(app) and ours not in listed(app, archived=True)
        with pytest.raises(AppServerError):
            app.thread_read(ours)
    assert used_home.theirs in {t.stem[-36:] for t in used_home.home.rglob("rollout-*.jsonl")}


def test_cli_rename_archive_unarchive_delete_are_seen_by_the_store(used_home: UsedHome) -> None:
    theirs = used_home.theirs
    store = used_home.store()

    async def read(**options: bool) -> tuple[str | None, bool]:
        thread = await store.read_thread(ReadThreadParams(thread_id=theirs, **options))
        return thread.name, thread.is_archived

    async def ids(*, archived: bool) -> set[str]:
        page = await store.list_threads(ListThreadsParams(archived=archived))
        return {t.thread_id for t in page.items}

    async def scenario() -> None:
        async with store:
            assert await read() == (None, False)
            with used_home.cli.app_server() as app:
                app.request("thread/name/set", {"threadId": theirs, "name": "Named by Codex"})
            assert await read() == ("Named by Codex", False)

            with used_home.cli.app_server() as app:
                app.request("thread/archive", {"threadId": theirs})
            assert theirs in await ids(archived=True)
            assert theirs not in await ids(archived=False)
            assert await read(include_archived=True) == ("Named by Codex", True)

            with used_home.cli.app_server() as app:
                app.request("thread/unarchive", {"threadId": theirs})
            assert theirs in await ids(archived=False)
            assert await read() == ("Named by Codex", False)

            with used_home.cli.app_server() as app:
                app.request("thread/delete", {"threadId": theirs})
            with pytest.raises(ThreadNotFound):
                await store.read_thread(ReadThreadParams(thread_id=theirs, include_archived=True))
            assert theirs not in await ids(archived=False)

    asyncio.run(scenario())


def test_writer_lock_is_shared_with_the_cli(used_home: UsedHome) -> None:
    async def hold_ours_then_try_cli() -> str:
        async with used_home.store() as store:
            await store.resume_thread(ResumeThreadParams(thread_id=used_home.ours))
            try:
                refused = used_home.cli.exec_resume(
                    used_home.ours, "blocked? [[reply: no]]", cwd=used_home.work, check=False
                )
            finally:
                await store.shutdown_thread(used_home.ours)
            return refused.stderr + refused.stdout if refused.returncode else ""

    assert "active writer" in asyncio.run(hold_ours_then_try_cli())

    async def try_ours_while_cli_holds(app: AppServer) -> None:
        app.request("thread/resume", {"threadId": used_home.theirs})
        async with used_home.store() as store:
            with pytest.raises(Conflict, match="active writer"):
                await store.resume_thread(ResumeThreadParams(thread_id=used_home.theirs))

    with used_home.cli.app_server() as app:
        asyncio.run(try_ours_while_cli_holds(app))
