"""What this store writes, as the real Codex CLI sees it: both the pinned PyPI build and
the newest npm build list, read (every turn and typed item, compared with this store's own
view) and `exec resume` threads of every shape, in a fresh home and in a home the CLI
already used; a turn this store appends to a Codex-made paginated thread shows in Codex's
read at once; and Codex's own projection of our paginated threads equals ours, row for row.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from codex_thread_store import (
    ListThreadsParams,
    ListTurnsParams,
    ReadThreadParams,
    ThreadManager,
    TurnItemsView,
)
from codex_thread_store.app_server import app_server_thread
from codex_thread_store.codec import to_builtins
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

from .codex_cli import AppServer, CodexCli, codex_version, find_npm_codex
from .mock_responses import MockResponsesServer
from .shapes import TurnWriter, Written, write_every_shape

# Codex's row for a thread it back-filled takes `updatedAt`/`recencyAt` from the file's
# mtime, not from its last line: the two may fall in different seconds.
WITHIN_A_SECOND = frozenset({"updatedAt", "recencyAt"})


def store_of(home: Path) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0))


async def our_view(home: Path, thread_id: str) -> dict[str, Any]:
    """`thread/read` with turns as this store answers it."""
    async with store_of(home) as store:
        thread = await store.read_thread(
            ReadThreadParams(thread_id=thread_id, include_archived=True)
        )
        page = await store.list_turns(
            ListTurnsParams(
                thread_id=thread_id,
                include_archived=True,
                items_view=TurnItemsView.FULL,
                page_size=100,
            )
        )
    return app_server_thread(thread, turns=page.turns)


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where `ours` disagrees with a field Codex answered. Fields an older Codex does not
    have yet (0.163.0 has no `rootTurnId`, no item times...) are ours alone; every field
    it does answer must be equal."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        out = []
        for key, value in theirs.items():
            if key not in ours:
                out.append(f"{path}.{key}: missing")
            elif key in WITHIN_A_SECOND and path == "":
                if abs(ours[key] - value) > 1:
                    out.append(f"{path}.{key}: {ours[key]!r} != {value!r}")
            else:
                out += differences(ours[key], value, f"{path}.{key}")
        return out
    if isinstance(theirs, list) and isinstance(ours, list):
        if len(theirs) != len(ours):
            return [f"{path}: {len(ours)} entries, Codex has {len(theirs)}"]
        return [
            d
            for i, (o, t) in enumerate(zip(ours, theirs, strict=True))
            for d in differences(o, t, f"{path}[{i}]")
        ]
    return [] if ours == theirs else [f"{path}: {ours!r} != {theirs!r}"]


def assert_codex_reads_what_we_read(app: AppServer, home: Path, written: Written) -> None:
    listed = {t["id"] for t in app.thread_list_all()}
    archived = {t["id"] for t in app.thread_list_all(archived=True)}
    for shape, thread_id in written.ids.items():
        assert thread_id in (archived if shape == "archived" else listed), shape
        theirs = app.thread_read(thread_id, include_turns=True)["thread"]
        ours = asyncio.run(our_view(home, thread_id))
        assert theirs["turns"], shape  # something to compare: every shape has turns
        assert differences(ours, theirs) == [], shape


def assert_exec_resume_appends(cli: CodexCli, home: Path, work: Path, written: Written) -> None:
    for shape, thread_id in written.ids.items():
        if shape == "archived":
            continue
        reply = f"resumed {shape}"
        cli.exec_resume(thread_id, f"Go on [[reply: {reply}]]", cwd=work)

        async def last_turn(thread_id: str = thread_id) -> list[Any]:
            async with store_of(home) as store:
                page = await store.list_turns(
                    ListTurnsParams(
                        thread_id=thread_id, items_view=TurnItemsView.FULL, page_size=100
                    )
                )
            return to_builtins(page.turns[-1].items)

        items = asyncio.run(last_turn())
        assert [i["type"] for i in items] == ["userMessage", "agentMessage"], shape
        assert items[-1]["text"] == reply, shape


# -- a fresh home ----------------------------------------------------------------------------


def test_a_fresh_home_reads_fully_in_codex(
    tmp_path: Path, mock_server: MockResponsesServer, binary: Path
) -> None:
    """No Codex has opened the home: the store writes legacy history, which every Codex
    reads in full as soon as it first opens the home."""
    home, work = tmp_path / "codex-home", tmp_path / "work"
    work.mkdir()
    written = asyncio.run(write_every_shape(home, work))
    assert written.history_mode == "legacy"
    cli = CodexCli(home, mock_server, binary=binary)
    with cli.app_server() as app:
        assert_codex_reads_what_we_read(app, home, written)
    assert_exec_resume_appends(cli, home, work, written)


def test_paginated_threads_in_a_fresh_home_read_fully_once_the_store_sees_codex_db(
    tmp_path: Path, mock_server: MockResponsesServer, binary: Path
) -> None:
    """Forced paginated history in a home without Codex's projection database: Codex reads
    no turns (it projects only threads it writes) until this store, next opened beside
    the database Codex created, projects them."""
    home, work = tmp_path / "codex-home", tmp_path / "work"
    work.mkdir()
    written = asyncio.run(write_every_shape(home, work, history_mode="paginated"))
    cli = CodexCli(home, mock_server, binary=binary)
    with cli.app_server() as app:
        before = app.thread_read(written.ids["plain"], include_turns=True)["thread"]["turns"]
    assert before == []  # Codex's own behaviour, documented in docs/local-store.md
    assert (home / "thread_history_1.sqlite").exists()

    async def open_store() -> None:
        async with store_of(home) as store:
            await store.list_threads(ListThreadsParams())  # first use catches projections up

    asyncio.run(open_store())
    with cli.app_server() as app:
        assert_codex_reads_what_we_read(app, home, written)
    assert_exec_resume_appends(cli, home, work, written)


# -- a home the CLI already used -------------------------------------------------------------


def test_a_used_home_reads_every_shape_at_once(
    tmp_path: Path, mock_server: MockResponsesServer, binary: Path
) -> None:
    home, work = tmp_path / "codex-home", tmp_path / "work"
    work.mkdir()
    cli = CodexCli(home, mock_server, binary=binary)
    theirs = cli.exec("Made by the CLI [[shell: echo from-cli]]", cwd=work).thread_id
    assert theirs is not None
    written = asyncio.run(write_every_shape(home, work))
    assert written.history_mode == "paginated"  # what this home's Codex writes
    with cli.app_server() as app:
        assert_codex_reads_what_we_read(app, home, written)
        assert_codex_reads_what_we_read(app, home, Written({"cli": theirs}, "paginated"))
    assert_exec_resume_appends(cli, home, work, written)


def test_a_turn_appended_to_a_codex_thread_shows_in_codex_at_once(
    tmp_path: Path, mock_server: MockResponsesServer, binary: Path
) -> None:
    home, work = tmp_path / "codex-home", tmp_path / "work"
    work.mkdir()
    cli = CodexCli(home, mock_server, binary=binary)
    theirs = cli.exec("Made by the CLI [[reply: first]]", cwd=work).thread_id
    assert theirs is not None

    async def append_turn() -> None:
        async with store_of(home) as store:
            manager = ThreadManager(store, collect_git=False)
            live = await manager.resume_thread(theirs)
            turn = TurnWriter(theirs, True, "ours-1", str(work)).user("Added here").tools()
            await live.append_items(turn.agent("Answered here"))
            await manager.aclose()

    asyncio.run(append_turn())
    with cli.app_server() as app:  # no Codex writer ran in between
        turns = app.thread_read(theirs, include_turns=True)["thread"]["turns"]
        assert [t["id"] for t in turns][-1] == "ours-1"
        assert turns[-1]["items"][-1]["text"] == "Answered here"
        assert_codex_reads_what_we_read(app, home, Written({"cli": theirs}, "paginated"))


def projection_rows(home: Path, rollout_id: str, below: int) -> dict[str, list[Any]]:
    conn = sqlite3.connect(f"file:{home / 'thread_history_1.sqlite'}?mode=ro", uri=True)
    try:
        return {
            table: sorted(
                conn.execute(
                    f"SELECT * FROM {table} WHERE thread_id = ? AND rollout_ordinal < ?",
                    (rollout_id, below),
                ).fetchall(),
                key=repr,
            )
            for table in ("thread_turns", "thread_items")
        }
    finally:
        conn.close()


def test_codex_projects_our_threads_exactly_as_we_did(
    tmp_path: Path, mock_server: MockResponsesServer
) -> None:
    """Codex 0.171.0 rebuilds the projection of our paginated threads (its `thread/resume`
    catches a thread up from scratch): the rows equal the ones this store wrote."""
    binary = find_npm_codex()
    assert codex_version(binary) == "0.171.0"
    home, work = tmp_path / "codex-home", tmp_path / "work"
    work.mkdir()
    cli = CodexCli(home, mock_server, binary=binary)
    cli.exec("Made by the CLI [[reply: first]]", cwd=work)
    written = asyncio.run(write_every_shape(home, work))
    assert written.history_mode == "paginated"
    checkpoints: dict[str, int] = {}
    copy = tmp_path / "rebuilt" / "codex-home"
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("*.lock"))
    conn = sqlite3.connect(copy / "thread_history_1.sqlite")
    for thread_id in written.ids.values():
        ((checkpoints[thread_id],),) = conn.execute(
            "SELECT next_rollout_ordinal FROM thread_history_projection_state WHERE thread_id = ?",
            (thread_id,),
        ).fetchall()
        for table in ("thread_turns", "thread_items", "thread_history_projection_state"):
            conn.execute(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))
    conn.commit()
    conn.close()
    live = {s: t for s, t in written.ids.items() if s != "archived"}
    with CodexCli(copy, mock_server, binary=binary).app_server() as app:
        for thread_id in live.values():
            app.request("thread/resume", {"threadId": thread_id})
    for shape, thread_id in live.items():
        ours = projection_rows(home, thread_id, checkpoints[thread_id])
        theirs = projection_rows(copy, thread_id, checkpoints[thread_id])
        assert ours["thread_items"], shape  # something to compare
        assert theirs == ours, shape
