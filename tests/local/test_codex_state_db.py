"""Codex's own `state_5.sqlite`: kept in step when present, never created, never migrated.

Most tests run on a copy of the real 0.169.0 home in ../shared/codex-corpus, whose
state DB has Codex's full schema and rows.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    Conflict,
    CreateThreadParams,
    DeleteThreadParams,
    ListThreadsParams,
    ReadThreadParams,
    SearchThreadsParams,
    ThreadMetadataPatch,
    ThreadPersistenceMetadata,
    UpdateThreadMetadataParams,
)
from codex_thread_store.importer import import_rollout, parse_import
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig, codex_db

CORPUS_HOME = Path(__file__).resolve().parents[2].parent / "shared" / "codex-corpus"
CORPUS_HOME = CORPUS_HOME / "codex-0.169.0-home"
CORPUS_PREFIX = "/home/harness/.codex"
FORK_PARENT = "01a1fbf9-d036-7bb1-9679-9b7ac1de66b1"
FORK = "01a1fbf9-dae0-7602-8ab8-2a4d6bb5f1df"
PLAIN = "01a1fbf9-ffc0-7df3-bdfb-0aab4cba7aba"


def corpus_home(tmp_path: Path) -> Path:
    """A writable copy of the corpus whose `rollout_path`s point into the copy."""
    home = tmp_path / "home"
    shutil.copytree(CORPUS_HOME, home, ignore=shutil.ignore_patterns("*-shm"))
    with closing(sqlite3.connect(home / "state_5.sqlite")) as conn, conn:
        conn.execute(
            "UPDATE threads SET rollout_path = ? || substr(rollout_path, ?)",
            (str(home), len(CORPUS_PREFIX) + 1),
        )
    return home


def store_at(home: Path) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0.0))


def codex_row(home: Path, thread_id: str) -> dict[str, Any] | None:
    with closing(sqlite3.connect(home / "state_5.sqlite")) as conn:
        cursor = conn.execute("SELECT * FROM threads WHERE id = ?", (thread_id,))
        row = cursor.fetchone()
        columns = [d[0] for d in cursor.description]
        return None if row is None else dict(zip(columns, row, strict=True))


def is_file(path: str) -> bool:
    return Path(path).is_file()


def list_rollouts(home: Path) -> list[Path]:
    return sorted(home.rglob("rollout-*.jsonl"))


def codex_files(home: Path) -> list[Path]:
    return [*home.glob("state_*.sqlite*"), *home.glob("thread_history_*.sqlite*")]


def schema_of(db: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


async def new_thread(store: LocalThreadStore, thread_id: str, *texts: str) -> None:
    await store.create_thread(
        CreateThreadParams(
            thread_id=thread_id,
            metadata=ThreadPersistenceMetadata(cwd="/work", model_provider="mock"),
        )
    )
    await store.persist_thread(thread_id)
    if texts:
        await store.append_items(
            AppendThreadItemsParams(thread_id=thread_id, items=[user_message(t) for t in texts])
        )
    await store.flush_thread(thread_id)


async def patch(store: LocalThreadStore, thread_id: str, **fields: Any) -> None:
    await store.update_thread_metadata(
        UpdateThreadMetadataParams(
            thread_id=thread_id, patch=ThreadMetadataPatch(**fields), include_archived=True
        )
    )


async def test_no_codex_database_is_ever_created(tmp_path: Path) -> None:
    async with store_at(tmp_path) as store:
        await new_thread(store, tid(1), "hello")
        await patch(store, tid(1), name="named", preview="hello")
        await store.archive_thread(ArchiveThreadParams(thread_id=tid(1)))
        await store.unarchive_thread(ArchiveThreadParams(thread_id=tid(1)))
        await store.delete_thread(DeleteThreadParams(thread_id=tid(1)))
    assert not codex_files(tmp_path)


async def test_materialized_thread_gets_a_row_with_codex_encodings(tmp_path: Path) -> None:
    home = corpus_home(tmp_path)
    schema = schema_of(home / "state_5.sqlite")
    async with store_at(home) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1)))
        assert codex_row(home, tid(1)) is None  # lazy: no file, no row (as Codex)
        await store.shutdown_thread(tid(1))
        assert codex_row(home, tid(1)) is None

        await new_thread(store, tid(2), "Fix the parser")
        await patch(store, tid(2), preview="Fix the parser", first_user_message="Fix the parser")
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(2)))
        await store.shutdown_thread(tid(2))
    row = codex_row(home, tid(2))
    assert row is not None
    assert row["rollout_path"] == thread.rollout_path and Path(row["rollout_path"]).is_absolute()
    assert row["source"] == thread.source.to_db_text() == "cli"
    assert row["model_provider"] == "mock" and row["cwd"] == "/work"
    assert row["preview"] == "Fix the parser" and row["first_user_message"] == "Fix the parser"
    assert row["created_at_ms"] == int(thread.created_at.timestamp() * 1000)
    assert row["created_at"] == row["created_at_ms"] // 1000
    assert row["archived"] == 0 and row["archived_at"] is None
    # The home's Codex writes paginated history, so a thread created without a mode is too.
    assert row["history_mode"] == "paginated" and row["name"] is None
    assert row["sandbox_policy"] and row["approval_mode"]  # NOT NULL columns got defaults
    assert schema_of(home / "state_5.sqlite") == schema  # never migrated or altered


async def test_rename_archive_unarchive_reach_codex_row_and_keep_foreign_columns(
    tmp_path: Path,
) -> None:
    home = corpus_home(tmp_path)
    before = codex_row(home, PLAIN)
    assert before is not None
    async with store_at(home) as store:
        await patch(store, PLAIN, name="Line counter")
        row = codex_row(home, PLAIN)
        assert row is not None and row["name"] == "Line counter"
        lines = (home / "session_index.jsonl").read_text().splitlines()
        assert json.loads(lines[-1])["thread_name"] == "Line counter"
        # Columns we did not change keep Codex's values.
        for column in ("sandbox_policy", "approval_mode", "title", "tokens_used", "originator"):
            assert row[column] == before[column], column

        await store.archive_thread(ArchiveThreadParams(thread_id=PLAIN))
        row = codex_row(home, PLAIN)
        assert row is not None and row["archived"] == 1 and row["archived_at"] is not None
        assert Path(row["rollout_path"]).parent == home / "archived_sessions"
        assert is_file(row["rollout_path"])

        await store.unarchive_thread(ArchiveThreadParams(thread_id=PLAIN))
        row = codex_row(home, PLAIN)
        assert row is not None and row["archived"] == 0 and row["archived_at"] is None
        assert Path(row["rollout_path"]).is_relative_to(home / "sessions")
        assert is_file(row["rollout_path"])
        assert row["updated_at_ms"] > before["updated_at_ms"]

        await patch(store, PLAIN, name=None)
        row = codex_row(home, PLAIN)
        assert row is not None and row["name"] is None


async def test_delete_removes_row_projection_and_receipts(tmp_path: Path) -> None:
    home = corpus_home(tmp_path)
    history = home / "thread_history_1.sqlite"

    def projected(thread_id: str) -> int:
        with closing(sqlite3.connect(history)) as conn:
            return int(
                conn.execute(
                    "SELECT count(*) FROM thread_turns WHERE thread_id = ?", (thread_id,)
                ).fetchone()[0]
            )

    assert projected(PLAIN) > 0
    with closing(sqlite3.connect(home / "state_5.sqlite")) as conn, conn:
        conn.execute(
            "INSERT OR REPLACE INTO thread_read_receipts (thread_id, revision) VALUES (?, 'r1')",
            (PLAIN,),
        )
    async with store_at(home) as store:
        await store.delete_thread(DeleteThreadParams(thread_id=PLAIN))
    assert codex_row(home, PLAIN) is None
    assert projected(PLAIN) == 0
    with closing(sqlite3.connect(home / "state_5.sqlite")) as conn:
        receipts = conn.execute(
            "SELECT count(*) FROM thread_read_receipts WHERE thread_id = ?", (PLAIN,)
        ).fetchone()[0]
    assert receipts == 0
    assert codex_row(home, FORK) is not None  # nothing else touched


async def test_delete_refused_while_a_paginated_fork_references_the_file(tmp_path: Path) -> None:
    home = corpus_home(tmp_path)
    async with store_at(home) as store:
        with pytest.raises(Conflict, match="forked history"):
            await store.delete_thread(DeleteThreadParams(thread_id=FORK_PARENT))
        # Nothing was removed by the refused delete.
        assert (await store.read_thread(ReadThreadParams(thread_id=FORK_PARENT))).thread_id
        assert codex_row(home, FORK_PARENT) is not None
        await store.delete_thread(DeleteThreadParams(thread_id=FORK))
        await store.delete_thread(DeleteThreadParams(thread_id=FORK_PARENT))
        ids = {t.thread_id for t in (await store.list_threads(ListThreadsParams())).items}
    assert FORK_PARENT not in ids and FORK not in ids
    assert codex_row(home, FORK_PARENT) is None


async def test_older_codex_schema_gets_only_the_columns_it_has(tmp_path: Path) -> None:
    """A 0.1xx-era `threads` table without `name`, `originator`, `history_mode`, ...."""
    with closing(sqlite3.connect(tmp_path / "state_5.sqlite")) as conn, conn:
        conn.execute(
            "CREATE TABLE threads (id TEXT PRIMARY KEY, rollout_path TEXT NOT NULL,"
            " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, source TEXT NOT NULL,"
            " model_provider TEXT NOT NULL, cwd TEXT NOT NULL, title TEXT NOT NULL,"
            " sandbox_policy TEXT NOT NULL, approval_mode TEXT NOT NULL,"
            " tokens_used INTEGER NOT NULL DEFAULT 0, archived INTEGER NOT NULL DEFAULT 0,"
            " archived_at INTEGER, git_sha TEXT, git_branch TEXT, git_origin_url TEXT)"
        )
    async with store_at(tmp_path) as store:
        await new_thread(store, tid(1), "hi")
        await patch(store, tid(1), name="kept in session_index only", preview="hi")
        await store.shutdown_thread(tid(1))
    row = codex_row(tmp_path, tid(1))
    assert row is not None and row["title"] == "" and row["archived"] == 0
    assert "name" not in row


async def test_locked_codex_database_never_fails_our_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    home = corpus_home(tmp_path)
    monkeypatch.setattr(codex_db, "BUSY_TIMEOUT_MS", 1)
    holder = sqlite3.connect(home / "state_5.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # Codex mid-transaction
    try:
        async with store_at(home) as store:
            with caplog.at_level(logging.WARNING, logger="codex_thread_store.local.codex_db"):
                await patch(store, PLAIN, name="while locked")
            thread = await store.read_thread(ReadThreadParams(thread_id=PLAIN))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert thread.name == "while locked"  # our index and session_index have it
    assert "could not" in caplog.text and PLAIN in caplog.text


async def test_renames_by_codex_in_session_index_are_noticed(tmp_path: Path) -> None:
    home = corpus_home(tmp_path)
    async with store_at(home) as store:
        assert (await store.read_thread(ReadThreadParams(thread_id=PLAIN))).name is None
        with (home / "session_index.jsonl").open("a") as fh:  # what Codex appends
            fh.write(
                json.dumps({"id": PLAIN, "thread_name": "From Codex", "updated_at": "x"}) + "\n"
            )
        listed = {t.thread_id: t for t in (await store.list_threads(ListThreadsParams())).items}
    assert listed[PLAIN].name == "From Codex"


async def test_codex_appending_to_an_old_rollout_is_noticed_through_its_row(
    tmp_path: Path,
) -> None:
    """An append changes no folder's mtime; Codex's `updated_at_ms` bump reveals it."""
    home = corpus_home(tmp_path)
    async with store_at(home) as store:
        await store.list_threads(ListThreadsParams())
        path = next(home.glob(f"sessions/*/*/*/rollout-*-{PLAIN}.jsonl"))
        # Make the day folder old news: three newer day folders exist.
        for day in ("27", "28", "29"):
            (home / "sessions" / "2099" / "12" / day).mkdir(parents=True)
        with path.open("a") as fh:
            fh.write(
                json.dumps(
                    {
                        "timestamp": "2099-01-01T00:00:00.000Z",
                        "type": "event_msg",
                        "payload": {"type": "user_message", "message": "late words"},
                    }
                )
                + "\n"
            )
        with closing(sqlite3.connect(home / "state_5.sqlite")) as conn, conn:
            conn.execute(
                "UPDATE threads SET updated_at_ms = updated_at_ms + 100000 WHERE id = ?",
                (PLAIN,),
            )
        hits = await store.search_threads(SearchThreadsParams(search_term="late words"))
    assert [h.thread.thread_id for h in hits.items] == [PLAIN]


async def test_imported_rollout_gets_a_codex_row(tmp_path: Path) -> None:
    source = tmp_path / "elsewhere"
    async with store_at(source) as store:
        await new_thread(store, tid(9), "Imported words")
        await patch(store, tid(9), preview="Imported words")
        await store.shutdown_thread(tid(9))
    [rollout] = list_rollouts(source)
    home = corpus_home(tmp_path)
    async with store_at(home) as store:
        await import_rollout(store, parse_import(rollout.read_bytes(), rollout.name))
    row = codex_row(home, tid(9))
    assert row is not None and row["preview"] == "Imported words"
    assert is_file(row["rollout_path"])


async def test_an_archive_cut_short_before_codex_row_is_finished_on_the_next_open(
    tmp_path: Path,
) -> None:
    """A kill -9 between moving the rollout and updating Codex's row: the files are the
    truth, and the next open brings Codex's row in line (else Codex cannot see it)."""
    home = corpus_home(tmp_path)
    async with store_at(home) as store:  # the store knows the thread where it was
        await store.list_threads(ListThreadsParams())
    [rollout] = [p for p in list_rollouts(home) if PLAIN in p.name]
    moved = home / "archived_sessions" / rollout.name
    rollout.rename(moved)  # the first step of an archive, then the process died

    async with store_at(home) as store:
        archived = await store.list_threads(ListThreadsParams(archived=True))
        assert PLAIN in [t.thread_id for t in archived.items]
    row = codex_row(home, PLAIN)
    assert row is not None and row["archived"] == 1 and row["rollout_path"] == str(moved)


async def test_an_import_cut_short_before_codex_row_is_finished_on_the_next_open(
    tmp_path: Path,
) -> None:
    source = tmp_path / "elsewhere"
    async with store_at(source) as store:
        await new_thread(store, tid(9), "Imported words")
        await store.shutdown_thread(tid(9))
    [rollout] = list_rollouts(source)
    home = corpus_home(tmp_path)
    async with store_at(home) as store:
        await store.list_threads(ListThreadsParams())
    target = home / "sessions" / "2026" / "12" / "01" / rollout.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(rollout, target)  # the file landed; the process died before the row

    async with store_at(home) as store:
        await store.list_threads(ListThreadsParams())
    row = codex_row(home, tid(9))
    assert row is not None and row["rollout_path"] == str(target) and row["archived"] == 0


async def test_a_delete_cut_short_after_the_files_leaves_no_thread_listed(
    tmp_path: Path,
) -> None:
    """A process killed after removing the rollout, before removing the rows: the next
    refresh sees the file gone and drops the row (no ghost thread)."""
    home = corpus_home(tmp_path)

    class Killed(BaseException):
        pass

    def killed(*args: object, **kwargs: object) -> None:
        raise Killed

    async with store_at(home) as store:
        store.codex_history.delete = killed  # type: ignore[method-assign]
        with pytest.raises(Killed):
            await store.delete_thread(DeleteThreadParams(thread_id=PLAIN))
    assert [p for p in list_rollouts(home) if PLAIN in p.name] == []

    async with store_at(home) as store:
        page = await store.list_threads(ListThreadsParams(page_size=100))
        assert PLAIN not in [t.thread_id for t in page.items]
