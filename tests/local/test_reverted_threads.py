"""Threads Codex 0.171 reverted (`thread/revert`): a thread continued in a new rollout
`rollout-<ts>-<thread id>_<rollout id>.jsonl` whose `history_base` keeps part of an older
one. Recorded with the real CLI (see tests/fixtures/codex-0.171.0/revert): the current
rollout is the newest by name, the older ones are never listed, turns follow the lineage,
and archive, unarchive and delete take every rollout of the thread along."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from msgspec import to_builtins

from builders import user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    DeleteThreadParams,
    ListThreadsParams,
    ReadThreadParams,
    ResumeThreadParams,
    SortDirection,
    ThreadNotFound,
)
from codex_thread_store.app_server import app_server_thread
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig
from codex_thread_store.local.doctor import examine
from codex_thread_store.types import ListTurnsParams, TurnItemsView

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codex-0.171.0" / "revert"
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "codex-corpus"
SCENARIOS = sorted(p.stem for p in FIXTURES.glob("*.json") if "." not in p.stem)
#: Fields Codex answers from its rollouts alone (times come from its DB when present).
FILE_FIELDS = [
    "id",
    "sessionId",
    "forkedFromId",
    "parentThreadId",
    "preview",
    "historyMode",
    "modelProvider",
    "createdAt",
    "path",
    "cwd",
    "cliVersion",
    "originator",
    "source",
    "threadSource",
    "name",
]


def recorded(scenario: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{scenario}.json").read_text())
    return data


def make_home(tmp_path: Path, scenario: str) -> tuple[Path, dict[str, Any]]:
    home = tmp_path / "home"
    expected = recorded(scenario)
    for rel, stored in expected["files"].items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / "rollouts" / stored, home / rel)
    text = json.dumps(expected).replace("${CODEX_HOME}", str(home))
    relocated: dict[str, Any] = json.loads(text)
    return home, relocated


def store_at(home: Path) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0.0))


async def all_turns(store: LocalThreadStore, thread_id: str, **extra: Any) -> list[Any]:
    turns: list[Any] = []
    cursor = None
    while True:
        page = await store.list_turns(
            ListTurnsParams(
                thread_id=thread_id,
                items_view=TurnItemsView.FULL,
                sort_direction=SortDirection.ASC,
                page_size=2,
                cursor=cursor,
                **extra,
            )
        )
        turns += to_builtins(page.turns)
        cursor = page.next_cursor
        if cursor is None:
            return turns


async def listed_ids(store: LocalThreadStore, *, archived: bool = False) -> list[str]:
    page = await store.list_threads(ListThreadsParams(page_size=100, archived=archived))
    return [t.thread_id for t in page.items]


def last_line(path: Path) -> dict[str, Any]:
    line: dict[str, Any] = json.loads(path.read_bytes().splitlines()[-1])
    return line


def rollouts(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("rollout-*.jsonl"))


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_a_reverted_thread_reads_as_codex_answers_it(tmp_path: Path, scenario: str) -> None:
    home, expected = make_home(tmp_path, scenario)
    thread_id = expected["thread_id"]
    async with store_at(home) as store:
        assert await listed_ids(store) == [thread_id]  # once, whatever its rollouts
        thread = await store.read_thread(ReadThreadParams(thread_id=thread_id))
        turns = await all_turns(store, thread_id)
    ours = app_server_thread(thread)
    assert {k: ours[k] for k in FILE_FIELDS} == {k: expected["read"][k] for k in FILE_FIELDS}
    assert turns == expected["turns_list"]
    assert turns == expected["read_turns"]


async def test_the_newest_name_wins_whatever_the_file_times(tmp_path: Path) -> None:
    # Codex ignores mtimes (and which file references which): an original touched last
    # does not undo the revert.
    home, expected = make_home(tmp_path, "third")
    original = home / next(iter(expected["files"]))
    os.utime(original, (2_000_000_000, 2_000_000_000))
    async with store_at(home) as store:
        thread = await store.read_thread(ReadThreadParams(thread_id=expected["thread_id"]))
        turns = await all_turns(store, expected["thread_id"])
    assert thread.rollout_path == expected["read"]["path"]
    assert turns == expected["turns_list"]


async def test_a_revert_made_while_the_store_is_open_is_picked_up(tmp_path: Path) -> None:
    home, expected = make_home(tmp_path, "after-turns")
    thread_id = expected["thread_id"]
    head = home / expected["read"]["path"]
    held = head.read_bytes()
    head.unlink()  # the store first sees the thread before its revert
    async with store_at(home) as store:
        before = await all_turns(store, thread_id)
        head.write_bytes(held)  # Codex reverts
        listed = await listed_ids(store)
        thread = await store.read_thread(ReadThreadParams(thread_id=thread_id))
        after = await all_turns(store, thread_id)
    assert len(before) == 3  # T1, T2 and T3, which the revert drops
    assert listed == [thread_id]
    assert thread.rollout_path == str(head)
    assert after == expected["turns_list"]


async def test_archive_and_unarchive_move_every_rollout_of_the_thread(tmp_path: Path) -> None:
    home, expected = make_home(tmp_path, "before-t2-orphan")  # the orphan moves too
    thread_id = expected["thread_id"]
    names = sorted(Path(rel).name for rel in expected["files"])
    async with store_at(home) as store:
        await store.archive_thread(ArchiveThreadParams(thread_id=thread_id))
        archived_files = rollouts(home)
        archived_ids = await listed_ids(store, archived=True)
        archived_turns = await all_turns(store, thread_id, include_archived=True)
        await store.unarchive_thread(ArchiveThreadParams(thread_id=thread_id))
        back = await store.read_thread(ReadThreadParams(thread_id=thread_id))
        back_turns = await all_turns(store, thread_id)
    assert archived_files == [f"archived_sessions/{n}" for n in names]
    assert archived_ids == [thread_id]
    assert archived_turns == expected["turns_list"]
    assert rollouts(home) == sorted(expected["files"])  # each under its own name's date
    assert back.rollout_path == expected["read"]["path"]
    assert back_turns == expected["turns_list"]
    async with store_at(home) as reopened:  # and a rebuilt index agrees
        assert await listed_ids(reopened) == [thread_id]
        assert await listed_ids(reopened, archived=True) == []


async def test_delete_removes_every_rollout_so_nothing_comes_back(tmp_path: Path) -> None:
    home, expected = make_home(tmp_path, "third")
    thread_id = expected["thread_id"]
    async with store_at(home) as store:
        await store.delete_thread(DeleteThreadParams(thread_id=thread_id))
        assert await listed_ids(store) == []
    assert rollouts(home) == []
    shutil.rmtree(home / "codex-thread-store")
    async with store_at(home) as rebuilt:
        assert await listed_ids(rebuilt) == []
        with pytest.raises(ThreadNotFound):
            await rebuilt.read_thread(ReadThreadParams(thread_id=thread_id))


async def test_a_turn_appended_here_goes_to_the_current_rollout(tmp_path: Path) -> None:
    home, expected = make_home(tmp_path, "before-t5")
    thread_id = expected["thread_id"]
    head = Path(expected["read"]["path"])
    others = {rel: (home / rel).read_bytes() for rel in expected["files"]}
    last_ordinal = last_line(head)["ordinal"]
    async with store_at(home) as store:
        await store.resume_thread(ResumeThreadParams(thread_id=thread_id))
        await store.append_items(
            AppendThreadItemsParams(thread_id=thread_id, items=[user_message("after the revert")])
        )
        await store.shutdown_thread(thread_id)
        turns = await all_turns(store, thread_id)
    added = last_line(head)
    assert added["ordinal"] == last_ordinal + 1
    for rel, data in others.items():  # older rollouts are never written
        if home / rel != head:
            assert (home / rel).read_bytes() == data
    assert turns[: len(expected["turns_list"])] == expected["turns_list"]


def test_doctor_does_not_take_a_revert_for_a_duplicate(tmp_path: Path) -> None:
    home, _ = make_home(tmp_path, "third")
    report = examine(home)
    assert [f.kind for f in report.findings if f.kind == "duplicate_thread"] == []
    copy = home / "archived_sessions"
    copy.mkdir()
    original = next(home.rglob("rollout-*-01a235d3-04e3-7e23-bf3b-12e2ae6184f2.jsonl"))
    shutil.copyfile(original, copy / original.name)  # a real duplicate: same rollout twice
    again = examine(home)
    assert [f.kind for f in again.findings if f.kind == "duplicate_thread"] == ["duplicate_thread"]


async def test_codex_projection_covers_every_rollout_of_a_reverted_thread(tmp_path: Path) -> None:
    """Codex reads each lineage segment from its own rows: a home whose projection was
    lost gets the rows Codex had for the current rollout and for the older ones."""
    home, _ = make_home(tmp_path, "third")
    empty_projection(home / "thread_history_1.sqlite")
    theirs = json.loads((FIXTURES / "third.codex-projection.json").read_text())

    async with store_at(home) as store:
        await store.list_threads(ListThreadsParams())  # first use catches lagging rows up

    for table in ("thread_history_projection_state", "thread_turns", "thread_items"):
        assert theirs[table], table
        assert projection_rows(home / "thread_history_1.sqlite", table) == sorted(
            theirs[table], key=lambda r: json.dumps(r, sort_keys=True)
        ), table


def empty_projection(db: Path) -> None:
    """Codex's projection database as Codex creates it (its schema, from the 0.171.0
    corpus home), without any row."""
    source = CORPUS / "codex-0.171.0-home" / "thread_history_1.sqlite"
    assert source.is_file(), f"{CORPUS} must sit beside the checkout (see README)"
    shutil.copyfile(source, db)
    conn = sqlite3.connect(db)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        conn.execute(f"DELETE FROM {table}")
    conn.commit()
    conn.close()


def projection_rows(db: Path, table: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        found = [dict(zip(columns, r, strict=True)) for r in conn.execute(f"SELECT * FROM {table}")]
    finally:
        conn.close()
    return sorted(found, key=lambda r: json.dumps(r, sort_keys=True))


async def test_codex_archiving_a_reverted_thread_is_seen(tmp_path: Path) -> None:
    home, expected = make_home(tmp_path, "before-t5")
    thread_id = expected["thread_id"]
    async with store_at(home) as store:
        assert await listed_ids(store) == [thread_id]
        archived = home / "archived_sessions"
        archived.mkdir()
        for rel in expected["files"]:  # as Codex archives: every rollout, flat
            (home / rel).rename(archived / Path(rel).name)
        assert await listed_ids(store) == []
        assert await listed_ids(store, archived=True) == [thread_id]
        thread = await store.read_thread(
            ReadThreadParams(thread_id=thread_id, include_archived=True)
        )
        turns = await all_turns(store, thread_id, include_archived=True)
    assert thread.rollout_path == str(archived / Path(expected["read"]["path"]).name)
    assert turns == expected["turns_list"]
