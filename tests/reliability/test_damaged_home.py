"""Nothing the store reads can wedge a home (issue: hardening, findings 4 and 7).

A damaged index is moved aside and rebuilt (the operation that met the damage is run
again); undecodable rollout lines, names and journal lines are skipped and counted; the
doctor reports each of these and repairs what is safe. A metadata write that cannot be
saved whole leaves nothing behind.
"""

from __future__ import annotations

import errno
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    CreateThreadParams,
    InvalidRequest,
    ListThreadsParams,
    PermissionDenied,
    ReadThreadParams,
    RolloutItem,
    SearchThreadsParams,
    ThreadMetadataPatch,
    ThreadPersistenceMetadata,
    ThreadStoreError,
    UpdateThreadMetadataParams,
)
from codex_thread_store.local import (
    LocalThreadStore,
    LocalThreadStoreConfig,
    index,
    index_queries,
    journal,
)
from codex_thread_store.local import names as names_module
from codex_thread_store.local.doctor import examine
from codex_thread_store.local.doctor_repair import repair
from codex_thread_store.memory import InMemoryThreadStore

THREADS = 6


def store_at(home: Path) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0.0))


async def make_home(home: Path) -> None:
    async with store_at(home) as store:
        for n in range(1, THREADS + 1):
            await store.create_thread(
                CreateThreadParams(thread_id=tid(n), metadata=ThreadPersistenceMetadata(cwd="/w"))
            )
            await store.persist_thread(tid(n))
            await store.append_items(
                AppendThreadItemsParams(
                    thread_id=tid(n), items=[user_message(f"question {n} about needles " * 20)]
                )
            )
            await store.shutdown_thread(tid(n))
            patch = ThreadMetadataPatch(name=f"thread {n}")
            await store.update_thread_metadata(
                UpdateThreadMetadataParams(thread_id=tid(n), patch=patch)
            )


async def everything_works(home: Path) -> None:
    """List, search and read every thread, with names."""
    async with store_at(home) as store:
        page = await store.list_threads(ListThreadsParams(page_size=100))
        assert sorted(t.thread_id for t in page.items) == [tid(n) for n in range(1, THREADS + 1)]
        found = await store.search_threads(SearchThreadsParams(search_term="needles"))
        assert len(found.items) == THREADS
        for n in range(1, THREADS + 1):
            thread = await store.read_thread(ReadThreadParams(thread_id=tid(n)))
            assert thread.name == f"thread {n}"


def index_path(home: Path) -> Path:
    return LocalThreadStoreConfig(codex_home=home).index_path


def drop_index(home: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index_path(home)}{suffix}").unlink(missing_ok=True)


def damage_pages(path: Path, seed: int, count: int = 300) -> None:
    """Random bytes over the file's pages after the first (its header stays intact, so
    opening it looks fine), with the WAL folded in first."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    rnd = random.Random(seed)
    for _ in range(count):
        data[rnd.randrange(len(data) // 3, len(data))] = rnd.randrange(256)
    path.write_bytes(bytes(data))


def kinds(home: Path) -> list[str]:
    return sorted({f.kind for f in examine(home).findings})


# -- a damaged index ------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(1, 9))
async def test_an_index_with_damaged_pages_never_stops_a_command(tmp_path: Path, seed: int) -> None:
    home = tmp_path / "home"
    await make_home(home)
    damage_pages(index_path(home), seed)

    await everything_works(home)

    assert kinds(home) == []  # the rebuilt index is healthy


async def test_the_damage_those_seeds_do_is_real(tmp_path: Path) -> None:
    """The test above has something to heal: doctor sees most of those files as damaged."""
    damaged = 0
    for seed in range(1, 9):
        home = tmp_path / f"home-{seed}"
        await make_home(home)
        damage_pages(index_path(home), seed)
        damaged += "index" in kinds(home)
    assert damaged >= 6


async def test_damage_found_in_the_middle_of_an_operation_heals_and_the_operation_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    await make_home(home)
    real = index_queries.list_threads
    calls = {"n": 0}

    def damaged_once(conn: sqlite3.Connection, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(conn, *args, **kwargs)

    monkeypatch.setattr(index_queries, "list_threads", damaged_once)
    async with store_at(home) as store:
        page = await store.list_threads(ListThreadsParams(page_size=100))
    assert len(page.items) == THREADS
    assert calls["n"] == 2
    assert len(list(index_path(home).parent.glob("*.corrupt-*"))) == 1


async def test_rows_that_no_longer_decode_are_damage_too(tmp_path: Path) -> None:
    home = tmp_path / "home"
    await make_home(home)
    conn = sqlite3.connect(index_path(home))
    conn.execute("UPDATE threads SET data = X'FFFE00' WHERE thread_id = ?", (tid(2),))
    conn.commit()
    conn.close()
    assert "index" in kinds(home)  # doctor sees what quick_check does not

    await everything_works(home)


async def test_a_thread_being_written_survives_the_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    await make_home(home)
    async with store_at(home) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(99)))  # not on disk yet
        await store.update_thread_metadata(
            UpdateThreadMetadataParams(thread_id=tid(99), patch=ThreadMetadataPatch(name="new"))
        )
        real = index.get_thread
        calls = {"n": 0}

        def damaged_once(conn: sqlite3.Connection, thread_id: str) -> Any:
            calls["n"] += 1
            if calls["n"] == 1:
                raise sqlite3.DatabaseError("file is not a database")
            return real(conn, thread_id)

        monkeypatch.setattr(index, "get_thread", damaged_once)
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(99)))
        assert thread.name == "new"
        await store.persist_thread(tid(99))
        await store.shutdown_thread(tid(99))
        assert (await store.read_thread(ReadThreadParams(thread_id=tid(99)))).name == "new"


async def test_doctor_repair_and_reindex_work_on_a_damaged_index(tmp_path: Path) -> None:
    home = tmp_path / "home"
    await make_home(home)
    damage_pages(index_path(home), 1)
    check = examine(home)
    assert "index" in {f.kind for f in check.findings}

    await repair(home, check)
    async with store_at(home) as store:
        assert await store.reindex() == THREADS

    assert kinds(home) == []
    await everything_works(home)


# -- damaged lines ------------------------------------------------------------------


async def test_a_line_nested_a_thousand_deep_is_skipped_and_reported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    await make_home(home)
    rollout = sorted(home.rglob("rollout-*.jsonl"))[0]
    deep = "[" * 1000 + "]" * 1000
    with rollout.open("a") as fh:
        fh.write(f'{{"timestamp":"2026-01-01T00:00:00.000Z","type":"x","payload":{deep}}}\n')
    drop_index(home)  # a rebuild reads every line

    await everything_works(home)
    assert "malformed_lines" in kinds(home)
    async with store_at(home) as store:
        assert await store.reindex() == THREADS


async def test_items_nested_too_deep_are_refused_before_anything_is_written() -> None:
    nested: Any = []
    for _ in range(1000):
        nested = [nested]
    store = InMemoryThreadStore()
    with pytest.raises(InvalidRequest, match="nests lists and objects more than 100 deep"):
        await store.append_items(
            AppendThreadItemsParams(
                thread_id=tid(1), items=[RolloutItem("response_item", {"x": nested})]
            )
        )


@pytest.mark.parametrize("damage", ["bad utf-8", "a folder"])
async def test_a_damaged_names_file_never_stops_listing(tmp_path: Path, damage: str) -> None:
    home = tmp_path / "home"
    await make_home(home)
    session_index = home / "session_index.jsonl"
    if damage == "a folder":
        session_index.unlink()
        session_index.mkdir()
    else:
        with session_index.open("ab") as fh:
            fh.write(b'{"id":"x","thread_name":"\xff\xfe"}\n\xff\xff\n')

    async with store_at(home) as store:
        page = await store.list_threads(ListThreadsParams(page_size=100))
        assert len(page.items) == THREADS
        with pytest.raises(ThreadStoreError) if damage == "a folder" else _no_error():
            await store.update_thread_metadata(
                UpdateThreadMetadataParams(thread_id=tid(1), patch=ThreadMetadataPatch(name="z"))
            )
    assert "names_damaged" in kinds(home)


class _no_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


async def test_a_damaged_journal_is_reported_and_repaired(tmp_path: Path) -> None:
    home = tmp_path / "home"
    await make_home(home)
    path = LocalThreadStoreConfig(codex_home=home).journal_path
    with path.open("ab") as fh:
        fh.write(b"\xff\x00garbage{[\n" + b'{"thread_id":"zz","patch":{"name":5}}\n' + b"[" * 5000)
        fh.write(b"\n")
    drop_index(home)

    await everything_works(home)  # names replayed from every readable patch
    check = examine(home)
    assert [f.kind for f in check.findings] == ["journal_damaged"]
    await repair(home, check)
    assert journal.damaged_lines(path) == 0
    assert kinds(home) == []
    await everything_works(home)


# -- metadata writes: all or nothing -----------------------------------------------------


async def name_everywhere(home: Path, thread_id: str) -> tuple[str | None, ...]:
    """The thread's name as the index, the journal, Codex's names file and a rebuilt
    index have it."""
    async with store_at(home) as store:
        live = (await store.read_thread(ReadThreadParams(thread_id=thread_id))).name
    journaled = journal.merged_patches(LocalThreadStoreConfig(codex_home=home).journal_path)
    patch = journaled.get(thread_id)
    in_journal = None if patch is None else patch.name
    in_names = names_module.read_names(home / "session_index.jsonl").get(thread_id)
    drop_index(home)
    async with store_at(home) as rebuilt:
        after_rebuild = (await rebuilt.read_thread(ReadThreadParams(thread_id=thread_id))).name
    return live, in_journal, in_names, after_rebuild  # type: ignore[return-value]


async def test_a_rename_codex_names_file_refuses_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    await make_home(home)

    def read_only(path: Path, line: bytes, *, fsync: bool) -> int:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(names_module, "append_record", read_only)
    async with store_at(home) as store:
        with pytest.raises(PermissionDenied, match="nothing was changed"):
            await store.update_thread_metadata(
                UpdateThreadMetadataParams(thread_id=tid(1), patch=ThreadMetadataPatch(name="z"))
            )
    monkeypatch.undo()
    assert await name_everywhere(home, tid(1)) == ("thread 1",) * 4


async def test_a_rename_the_journal_refuses_takes_back_the_name_codex_would_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    await make_home(home)
    real = journal.append_record

    def journal_full(path: Path, line: bytes, *, fsync: bool) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal, "append_record", journal_full)
    async with store_at(home) as store:
        with pytest.raises(ThreadStoreError, match="nothing was changed"):
            await store.update_thread_metadata(
                UpdateThreadMetadataParams(thread_id=tid(1), patch=ThreadMetadataPatch(name="z"))
            )
    monkeypatch.setattr(journal, "append_record", real)
    assert await name_everywhere(home, tid(1)) == ("thread 1",) * 4


async def test_a_rename_the_index_refuses_takes_back_both_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    await make_home(home)
    real = index.upsert_thread

    def index_full(conn: sqlite3.Connection, *args: Any, **kwargs: Any) -> None:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
        raise error

    async with store_at(home) as store:
        monkeypatch.setattr(index, "upsert_thread", index_full)
        with pytest.raises(ThreadStoreError, match="disk is full"):
            await store.update_thread_metadata(
                UpdateThreadMetadataParams(thread_id=tid(1), patch=ThreadMetadataPatch(name="z"))
            )
        monkeypatch.setattr(index, "upsert_thread", real)
    assert await name_everywhere(home, tid(1)) == ("thread 1",) * 4


async def test_a_temporary_file_of_a_killed_import_is_reported_and_removed(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    await make_home(home)
    day = sorted(home.rglob("rollout-*.jsonl"))[0].parent
    leftover = day / ".rollout-2026-01-01T00-00-00-x.jsonl.import-999999999.tmp"
    leftover.write_bytes(b"")  # a process killed before it renamed its copy

    check = examine(home)
    assert [f.kind for f in check.findings] == ["leftover_temp"]
    await repair(home, check)
    assert not leftover.exists()
    assert kinds(home) == []


async def test_a_line_too_long_to_decode_is_skipped_and_the_thread_still_reads(
    tmp_path: Path,
) -> None:
    """A 70 MB line (over the 64 MiB readers decode): decoding it would take several
    times its size in memory, so it is skipped like any unreadable line."""
    home = tmp_path / "home"
    await make_home(home)
    rollout = sorted(home.rglob("rollout-*.jsonl"))[0]
    huge = '{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"x","t":"'
    with rollout.open("a") as fh:
        fh.write(huge + "y" * (70 * 1024 * 1024) + '"}}\n')
    drop_index(home)

    await everything_works(home)
    assert "malformed_lines" in kinds(home)


def test_a_store_cannot_be_set_to_write_lines_readers_would_skip() -> None:
    with pytest.raises(InvalidRequest, match="max_item_bytes"):
        LocalThreadStoreConfig(max_item_bytes=65 * 1024 * 1024)
