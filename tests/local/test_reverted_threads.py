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
    Conflict,
    CreateThreadParams,
    DeleteThreadParams,
    ForkPointParams,
    ListThreadsParams,
    ReadThreadParams,
    ResumeThreadParams,
    RolloutItem,
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


async def test_a_source_a_reverted_fork_still_reads_cannot_be_deleted(tmp_path: Path) -> None:
    """After Codex reverts a turn of a fork, the fork's current rollout references only
    its own older rollout, which references the source: the source must stay."""
    home = tmp_path / "home"
    source, fork = "01a23600-0000-7000-8000-000000000001", "01a23600-0000-7000-8000-000000000002"
    async with store_at(home) as store:
        await store.create_thread(CreateThreadParams(thread_id=source, history_mode="paginated"))
        await store.persist_thread(source)
        await store.append_items(AppendThreadItemsParams(thread_id=source, items=turn("s1")))
        await store.shutdown_thread(source)
        base = await store.fork_point(ForkPointParams(thread_id=source))
        await store.create_thread(
            CreateThreadParams(
                thread_id=fork, forked_from_id=source, history_mode="paginated", history_base=base
            )
        )
        await store.persist_thread(fork)
        await store.append_items(
            AppendThreadItemsParams(thread_id=fork, items=turn("f1") + turn("f2"))
        )
        await store.shutdown_thread(fork)
        fork_rollout = Path(
            (await store.read_thread(ReadThreadParams(thread_id=fork))).rollout_path or ""
        )
    revert_before(fork_rollout, fork, "f2")  # as Codex's thread/revert writes it

    async with store_at(home) as store:
        assert await turn_ids(store, fork) == ["s1", "f1"]
        with pytest.raises(Conflict, match="still references it"):
            await store.delete_thread(DeleteThreadParams(thread_id=source))
        assert await turn_ids(store, fork) == ["s1", "f1"]
        assert (await store.read_thread(ReadThreadParams(thread_id=fork))).forked_from_id == source


def turn(turn_id: str) -> list[RolloutItem]:
    return [
        RolloutItem.event_msg({"type": "task_started", "turn_id": turn_id}),
        RolloutItem.event_msg({"type": "task_complete", "turn_id": turn_id}),
    ]


async def turn_ids(store: LocalThreadStore, thread_id: str) -> list[str]:
    page = await store.list_turns(
        ListTurnsParams(thread_id=thread_id, items_view=TurnItemsView.NOT_LOADED, page_size=50)
    )
    return [t.id for t in page.turns]


def revert_before(rollout: Path, thread_id: str, turn_id: str) -> Path:
    """Write the rollout Codex's `thread/revert` makes: the thread continued in a new file
    whose base ends where `turn_id` starts (no `forked_from_id` repeated)."""
    data = rollout.read_bytes()
    offset = 0
    for raw in data.splitlines(keepends=True):
        value = json.loads(raw)
        if (
            value["payload"].get("type") == "task_started"
            and value["payload"]["turn_id"] == turn_id
        ):
            cut_ordinal, cut_offset = value["ordinal"], offset
            break
        offset += len(raw)
    meta = json.loads(data.splitlines()[0])
    meta["ordinal"] = cut_ordinal
    meta["payload"].pop("forked_from_id", None)
    meta["payload"]["history_base"] = {
        "thread_id": thread_id,
        "end_ordinal_exclusive": cut_ordinal,
        "end_byte_offset": cut_offset,
    }
    head = (
        rollout.parent
        / f"rollout-2099-01-01T00-00-00-{thread_id}_01a23600-0000-7000-8000-0000000000ff.jsonl"
    )
    head.write_text(json.dumps(meta) + "\n")
    return head


async def test_codex_row_names_the_current_rollout_when_file_names_disagree(
    tmp_path: Path,
) -> None:
    """File names carry local time: after a clock change a revert's name can sort before
    the original's. Codex then goes by its row, and so does this store (appends, archive
    and unarchive included), never writing a name-order guess back into that row."""
    home, expected = make_home(tmp_path, "after-turns")
    thread_id = expected["thread_id"]
    head = Path(expected["read"]["path"])
    early = head.with_name(head.name.replace("T08-16-05", "T07-16-05"))  # a DST fall-back
    rename(head, early)
    shutil.copyfile(CORPUS / "codex-0.171.0-home" / "state_5.sqlite", home / "state_5.sqlite")
    async with store_at(home) as store:  # Codex's row for the thread, as Codex has it
        assert await store.sync_codex_row(thread_id)
    set_codex_rollout_path(home, thread_id, early)
    drop_index(home)

    async with store_at(home) as store:
        thread = await store.read_thread(ReadThreadParams(thread_id=thread_id))
        assert thread.rollout_path == str(early)
        assert await all_turns(store, thread_id) == expected["turns_list"]
        await store.archive_thread(ArchiveThreadParams(thread_id=thread_id))
        await store.unarchive_thread(ArchiveThreadParams(thread_id=thread_id))
        await store.resume_thread(ResumeThreadParams(thread_id=thread_id))
        await store.append_items(
            AppendThreadItemsParams(thread_id=thread_id, items=[user_message("appended")])
        )
        await store.shutdown_thread(thread_id)
    assert codex_rollout_path(home, thread_id) == str(early)
    assert last_line(early)["payload"]["message"] == "appended"


def rename(path: Path, to: Path) -> None:
    path.rename(to)


def drop_index(home: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{LocalThreadStoreConfig(codex_home=home).index_path}{suffix}").unlink(
            missing_ok=True
        )


def codex_rollout_path(home: Path, thread_id: str) -> str:
    conn = sqlite3.connect(home / "state_5.sqlite")
    try:
        (path,) = conn.execute(
            "SELECT rollout_path FROM threads WHERE id = ?", (thread_id,)
        ).fetchone()
    finally:
        conn.close()
    return str(path)


def set_codex_rollout_path(home: Path, thread_id: str, path: Path) -> None:
    conn = sqlite3.connect(home / "state_5.sqlite")
    try:
        changed = conn.execute(
            "UPDATE threads SET rollout_path = ? WHERE id = ?", (str(path), thread_id)
        )
        assert changed.rowcount == 1
        conn.commit()
    finally:
        conn.close()
