"""Codex's paginated-history projection (`thread_history_1.sqlite`) kept in step by the
local store: the rows are byte for byte those Codex 0.171.0 writes for the same lines."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from builders import tid
from codex_thread_store import (
    AppendThreadItemsParams,
    CreateThreadParams,
    DeleteThreadParams,
    ListThreadsParams,
    ListTurnsParams,
    ResumeThreadParams,
    RolloutItem,
    ThreadPersistenceMetadata,
    TurnItemsView,
)
from codex_thread_store.codec import to_builtins
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig, codex_history
from codex_thread_store.local.codex_history import CodexHistoryDb
from codex_thread_store.local.layout import rollout_id_of

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "codex-corpus"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codex-0.171.0"
TABLES = ("thread_history_projection_state", "thread_turns", "thread_items")
CORPUS_THREAD = "01a23560-5bbf-7b23-bab4-24165a18a88d"


def rows(db: Path, table: str, rollout_id: str | None = None) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        sql = f"SELECT * FROM {table}"
        args: tuple[str, ...] = ()
        if rollout_id is not None:
            sql += " WHERE thread_id = ?"
            args = (rollout_id,)
        found = [dict(zip(columns, r, strict=True)) for r in conn.execute(sql, args)]
    finally:
        conn.close()
    return sorted(found, key=lambda r: json.dumps(r, sort_keys=True))


def size_of(path: Path) -> int:
    return path.stat().st_size


def without_map_order(row: dict[str, Any]) -> dict[str, Any]:
    """Codex writes `agentsStates` (a Rust HashMap) in no fixed order: compare it as a map."""
    if "agentsStates" in str(row.get("item_json", "")):
        return {**row, "item_json": json.loads(row["item_json"])}
    return row


def home_with_empty_projection(tmp_path: Path) -> Path:
    """A copy of the 0.171.0 corpus home whose Codex projection has no rows left."""
    home = tmp_path / "home"
    shutil.copytree(
        CORPUS / "codex-0.171.0-home", home, ignore=shutil.ignore_patterns("*-shm", "*-wal")
    )
    conn = sqlite3.connect(home / "thread_history_1.sqlite")
    for table in (*TABLES, "thread_realtime_items"):
        conn.execute(f"DELETE FROM {table}")
    conn.commit()
    conn.close()
    return home


async def test_a_home_whose_projection_was_lost_is_projected_as_codex_had_it(
    tmp_path: Path,
) -> None:
    original = CORPUS / "codex-0.171.0-home" / "thread_history_1.sqlite"
    home = home_with_empty_projection(tmp_path)

    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        await store.list_threads(ListThreadsParams())  # first use catches lagging rows up

    for table in TABLES:
        theirs = rows(original, table)
        assert theirs, table
        assert rows(home / "thread_history_1.sqlite", table) == theirs, table


@pytest.mark.parametrize(
    "case",
    sorted(p.name.removesuffix(".rollout.jsonl") for p in FIXTURES.glob("*.rollout.jsonl")),
)
def test_recorded_lines_project_exactly_as_codex_did(tmp_path: Path, case: str) -> None:
    recorded = json.loads((FIXTURES / f"{case}.codex.json").read_text())
    home = home_with_empty_projection(tmp_path)
    rollout = tmp_path / f"rollout-2026-12-02T06-10-37-{recorded['rollout_id']}.jsonl"
    shutil.copy(FIXTURES / f"{case}.rollout.jsonl", rollout)
    db = CodexHistoryDb(home)

    assert db.catch_up(recorded["rollout_id"], rollout)
    db.close()

    got = home / "thread_history_1.sqlite"
    for table, key in (
        ("thread_history_projection_state", "state"),
        ("thread_turns", "turns"),
        ("thread_items", "items"),
    ):
        ours = [without_map_order(r) for r in rows(got, table, recorded["rollout_id"])]
        theirs = sorted(
            (without_map_order(r) for r in recorded[key]),
            key=lambda r: json.dumps(r, sort_keys=True),
        )
        assert sorted(ours, key=lambda r: json.dumps(r, sort_keys=True)) == theirs, table


ANSWERED = sorted(
    p.name.removesuffix(".codex.json")
    for p in FIXTURES.glob("*.codex.json")
    if "turns_list" in json.loads(p.read_text())
)


@pytest.mark.parametrize("case", ANSWERED)
async def test_recorded_turn_pages_match_the_app_server(tmp_path: Path, case: str) -> None:
    assert len(ANSWERED) >= 3  # the fixtures really hold answers
    recorded = json.loads((FIXTURES / f"{case}.codex.json").read_text())
    home = tmp_path / "home"
    day = home / "sessions" / "2026" / "12" / "02"
    day.mkdir(parents=True)
    shutil.copy(
        FIXTURES / f"{case}.rollout.jsonl",
        day / f"rollout-2026-12-02T06-10-37-{recorded['rollout_id']}.jsonl",
    )
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        for view, answer in recorded["turns_list"].items():
            page = await store.list_turns(
                ListTurnsParams(
                    thread_id=recorded["rollout_id"],
                    items_view=TurnItemsView(view),
                    page_size=100,
                    sort_direction="desc",  # type: ignore[arg-type]
                )
            )
            ours = to_builtins(page.turns)
            assert [without_map_order(t) for t in ours] == [without_map_order(t) for t in answer], (
                view
            )


def item_completed(thread_id: str, turn_id: str, item: dict[str, Any], at_ms: int) -> RolloutItem:
    return RolloutItem.event_msg(
        {
            "type": "item_completed",
            "thread_id": thread_id,
            "turn_id": turn_id,
            "item": item,
            "started_at_ms": at_ms,
            "completed_at_ms": at_ms + 5,
        }
    )


def a_turn(thread_id: str, turn_id: str, question: str, answer: str) -> list[RolloutItem]:
    return [
        RolloutItem.event_msg(
            {"type": "task_started", "turn_id": turn_id, "started_at": 1_800_000_000}
        ),
        item_completed(
            thread_id,
            turn_id,
            {
                "type": "UserMessage",
                "id": f"{turn_id}-u",
                "content": [{"type": "text", "text": question, "text_elements": []}],
            },
            1_800_000_000_000,
        ),
        item_completed(
            thread_id,
            turn_id,
            {
                "type": "CommandExecution",
                "id": f"{turn_id}-c",
                "command": ["/bin/bash", "-lc", "false"],
                "cwd": "file:///w",
                "parsed_cmd": [],
                "source": "agent",
                "status": "failed",
                "aggregated_output": "boom",
                "exit_code": 1,
                "duration": {"secs": 1, "nanos": 0},
            },
            1_800_000_000_100,
        ),
        item_completed(
            thread_id,
            turn_id,
            {
                "type": "AgentMessage",
                "id": f"{turn_id}-a",
                "content": [{"type": "Text", "text": answer}],
            },
            1_800_000_000_200,
        ),
        RolloutItem.event_msg(
            {
                "type": "task_complete",
                "turn_id": turn_id,
                "started_at": 1_800_000_000,
                "completed_at": 1_800_000_001,
                "duration_ms": 1000,
            }
        ),
    ]


def rebuilt_by_catch_up(tmp_path: Path, rollout: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows a fresh projection of `rollout` holds (what Codex writes for its lines)."""
    fresh = home_with_empty_projection(tmp_path / "fresh")
    db = CodexHistoryDb(fresh)
    assert db.catch_up(rollout_id_of(rollout), rollout)
    db.close()
    return {t: rows(fresh / "thread_history_1.sqlite", t, rollout_id_of(rollout)) for t in TABLES}


async def test_paginated_writes_keep_codex_projection_in_step(tmp_path: Path) -> None:
    home = home_with_empty_projection(tmp_path)
    config = LocalThreadStoreConfig(codex_home=home)
    async with LocalThreadStore(config) as store:
        await store.create_thread(
            CreateThreadParams(
                thread_id=tid(1),
                history_mode="paginated",
                metadata=ThreadPersistenceMetadata(cwd="/w"),
            )
        )
        await store.persist_thread(tid(1))
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=a_turn(tid(1), "t1", "q1", "a1"))
        )
        await store.flush_thread(tid(1))  # a barrier: the rows are there now
        rollout = Path(store.rollout_path_of(tid(1)) or "")
        db = home / "thread_history_1.sqlite"

        (state,) = rows(db, "thread_history_projection_state", tid(1))
        assert state["next_rollout_byte_offset"] == size_of(rollout)
        assert state["next_rollout_ordinal"] == 6  # session_meta + 5 lines
        (turn,) = rows(db, "thread_turns", tid(1))
        assert (turn["status"], turn["first_user_item_id"], turn["final_agent_item_id"]) == (
            "completed",
            "t1-u",
            "t1-a",
        )

        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=a_turn(tid(1), "t2", "q2", "a2"))
        )
        await store.shutdown_thread(tid(1))

    assert {t: rows(db, t, tid(1)) for t in TABLES} == rebuilt_by_catch_up(tmp_path, rollout)
    assert len(rows(db, "thread_items", tid(1))) == 6


async def test_a_turn_appended_to_a_codex_made_thread_is_projected_after_codex_rows(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    shutil.copytree(
        CORPUS / "codex-0.171.0-home", home, ignore=shutil.ignore_patterns("*-shm", "*-wal")
    )
    db = home / "thread_history_1.sqlite"
    before = {t: rows(db, t, CORPUS_THREAD) for t in TABLES}
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        await store.resume_thread(ResumeThreadParams(thread_id=CORPUS_THREAD))
        await store.append_items(
            AppendThreadItemsParams(
                thread_id=CORPUS_THREAD, items=a_turn(CORPUS_THREAD, "t-ours", "q", "a")
            )
        )
        await store.shutdown_thread(CORPUS_THREAD)
        rollout = Path(
            store.rollout_path_of(CORPUS_THREAD) or next(home.rglob(f"*{CORPUS_THREAD}.jsonl"))
        )

    after = {t: rows(db, t, CORPUS_THREAD) for t in TABLES}
    assert [r for r in after["thread_turns"] if r not in before["thread_turns"]] != []
    # Codex's own rows are untouched, ours follow them, and the whole equals a projection
    # of the file from scratch.
    assert all(r in after["thread_items"] for r in before["thread_items"])
    assert after == rebuilt_by_catch_up(tmp_path, rollout)
    (state,) = after["thread_history_projection_state"]
    assert state["next_rollout_byte_offset"] == size_of(rollout)


async def test_without_codex_database_nothing_is_created(tmp_path: Path) -> None:
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=tmp_path)) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1), history_mode="paginated"))
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=a_turn(tid(1), "t1", "q", "a"))
        )
        await store.shutdown_thread(tid(1))

    assert not (tmp_path / "thread_history_1.sqlite").exists()
    assert not (tmp_path / "state_5.sqlite").exists()


async def test_an_older_projection_schema_is_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    conn = sqlite3.connect(home / "thread_history_1.sqlite")
    conn.executescript(
        "CREATE TABLE thread_turns (thread_id TEXT, turn_id TEXT, rollout_ordinal INTEGER,"
        " status TEXT, PRIMARY KEY (thread_id, turn_id));"
        "CREATE TABLE thread_items (thread_id TEXT, turn_id TEXT, item_id TEXT,"
        " rollout_ordinal INTEGER, item_json TEXT);"
        "CREATE TABLE thread_history_projection_state (thread_id TEXT PRIMARY KEY,"
        " next_rollout_byte_offset INTEGER, next_rollout_ordinal INTEGER);"
    )
    conn.close()
    schema = (
        sqlite3.connect(home / "thread_history_1.sqlite")
        .execute("SELECT sql FROM sqlite_master ORDER BY name")
        .fetchall()
    )

    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1), history_mode="paginated"))
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=a_turn(tid(1), "t1", "q", "a"))
        )
        await store.shutdown_thread(tid(1))

    check = sqlite3.connect(home / "thread_history_1.sqlite")
    assert check.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert check.execute("SELECT count(*) FROM thread_turns").fetchone() == (0,)


async def test_a_locked_projection_never_fails_the_append_and_catches_up_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codex_history, "BUSY_TIMEOUT_MS", 10)
    home = home_with_empty_projection(tmp_path)
    db = home / "thread_history_1.sqlite"
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1), history_mode="paginated"))
        await store.persist_thread(tid(1))
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # Codex (or anyone) holds the write lock
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=a_turn(tid(1), "t1", "q", "a"))
        )
        await store.flush_thread(tid(1))  # durable; the projection could not be written
        blocker.execute("ROLLBACK")
        blocker.close()
        assert rows(db, "thread_turns", tid(1)) == []
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=a_turn(tid(1), "t2", "q", "a"))
        )
        await store.shutdown_thread(tid(1))  # the next barrier catches up everything
        rollout = next(home.rglob(f"*{tid(1)}.jsonl"))

    assert [r["turn_id"] for r in rows(db, "thread_turns", tid(1))] == ["t1", "t2"]
    assert {t: rows(db, t, tid(1)) for t in TABLES} == rebuilt_by_catch_up(tmp_path, rollout)


async def test_delete_removes_the_projection(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(
        CORPUS / "codex-0.171.0-home", home, ignore=shutil.ignore_patterns("*-shm", "*-wal")
    )
    db = home / "thread_history_1.sqlite"
    assert rows(db, "thread_items", CORPUS_THREAD)

    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        await store.delete_thread(DeleteThreadParams(thread_id=CORPUS_THREAD))

    for table in TABLES:
        assert rows(db, table, CORPUS_THREAD) == []
    assert rows(db, "thread_items")  # other threads keep theirs


async def test_lines_codex_cannot_decode_are_skipped_and_never_stop_the_store(
    tmp_path: Path,
) -> None:
    """A lone surrogate escape, NaN and JSON nested thousands deep: Codex and the store's
    reader reject these lines, so the projection skips them (only its checkpoint moves)
    and opening the home never fails on them."""
    home = home_with_empty_projection(tmp_path)
    rollout_id = "01a23560-aaaa-7b23-bab4-24165a18a88d"
    meta = {
        "timestamp": "2026-01-01T00:00:00Z",
        "ordinal": 0,
        "type": "session_meta",
        "payload": {
            "id": rollout_id,
            "timestamp": "2026-01-01T00:00:00Z",
            "cwd": "/w",
            "originator": "x",
            "cli_version": "0.171.0",
            "source": "cli",
            "model_provider": "mock",
            "history_mode": "paginated",
        },
    }
    started = (
        '{"timestamp":"2026-01-01T00:00:01Z","ordinal":1,"type":"event_msg",'
        '"payload":{"type":"task_started","turn_id":"t1"}}'
    )

    def agent(ordinal: int, text: str) -> str:
        return (
            f'{{"timestamp":"2026-01-01T00:00:02Z","ordinal":{ordinal},"type":"event_msg",'
            f'"payload":{{"type":"item_completed","thread_id":"{rollout_id}","turn_id":"t1",'
            f'"started_at_ms":5,"item":{{"type":"AgentMessage","id":"a{ordinal}",'
            f'"content":[{{"type":"Text","text":{text}}}]}}}}}}'
        )

    deep = "[" * 3000 + "]" * 3000
    lines = [
        json.dumps(meta),
        started,
        agent(2, '"bad \\ud800 surrogate"'),
        agent(3, "NaN"),
        agent(4, deep),
        agent(5, '"a readable one"'),
    ]
    day = home / "sessions" / "2026" / "01" / "01"
    day.mkdir(parents=True)
    rollout = day / f"rollout-2026-01-01T00-00-00-{rollout_id}.jsonl"
    rollout.write_text("\n".join(lines) + "\n")

    for _ in range(2):  # and again: nothing was left half-done
        async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
            page = await store.list_threads(ListThreadsParams(page_size=100))
            assert rollout_id in [t.thread_id for t in page.items]

    db = home / "thread_history_1.sqlite"
    (state,) = rows(db, "thread_history_projection_state", rollout_id)
    assert state["next_rollout_byte_offset"] == size_of(rollout)
    assert [r["item_id"] for r in rows(db, "thread_items", rollout_id)] == ["a5"]


async def test_lines_written_before_the_store_closes_without_a_shutdown_are_projected(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    shutil.copytree(
        CORPUS / "codex-0.171.0-home", home, ignore=shutil.ignore_patterns("*-shm", "*-wal")
    )
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        await store.resume_thread(ResumeThreadParams(thread_id=CORPUS_THREAD))
        await store.append_items(
            AppendThreadItemsParams(
                thread_id=CORPUS_THREAD, items=a_turn(CORPUS_THREAD, "t-late", "q", "a")
            )
        )
        rollout = Path(store.rollout_path_of(CORPUS_THREAD) or "")
        # no shutdown: leaving the block discards the writer

    (state,) = rows(
        home / "thread_history_1.sqlite", "thread_history_projection_state", CORPUS_THREAD
    )
    assert state["next_rollout_byte_offset"] == size_of(rollout)
    turns = [
        r["turn_id"] for r in rows(home / "thread_history_1.sqlite", "thread_turns", CORPUS_THREAD)
    ]
    assert "t-late" in turns
