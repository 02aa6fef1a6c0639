"""LocalThreadStore specifics: the on-disk format, crash leftovers, the index, writer locks,
and reading the real Codex 0.169.0 home in ../shared/codex-corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    Conflict,
    CreateThreadParams,
    ListThreadsParams,
    LoadThreadHistoryParams,
    ReadThreadParams,
    ResumeThreadParams,
    SearchThreadsParams,
    SortDirection,
    ThreadMetadataPatch,
    ThreadPersistenceMetadata,
    ThreadSortKey,
    UpdateThreadMetadataParams,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "codex-corpus"
CORPUS_HOME = CORPUS / "codex-0.169.0-home"
EXPECTED = CORPUS / "codex-0.169.0-expected.json"


def rollouts(home: Path) -> list[Path]:
    return sorted(home.rglob("rollout-*.jsonl"))


def store_at(home: Path, **options: object) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home, **options))  # type: ignore[arg-type]


async def write_thread(home: Path, thread_id: str, *texts: str) -> Path:
    async with store_at(home) as store:
        await store.create_thread(
            CreateThreadParams(thread_id=thread_id, metadata=ThreadPersistenceMetadata(cwd="/w"))
        )
        await store.persist_thread(thread_id)
        await store.append_items(
            AppendThreadItemsParams(thread_id=thread_id, items=[user_message(t) for t in texts])
        )
        await store.shutdown_thread(thread_id)
        thread = await store.read_thread(ReadThreadParams(thread_id=thread_id))
    assert thread.rollout_path is not None
    return Path(thread.rollout_path)


async def test_rollout_is_compact_jsonl_with_session_meta_first(tmp_path: Path) -> None:
    path = await write_thread(tmp_path, tid(1), "hello")
    assert path.parent.parent.parent.parent == tmp_path / "sessions"
    assert path.name.startswith("rollout-") and path.name.endswith(f"-{tid(1)}.jsonl")
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.split(b"\n")[:-1]
    first = json.loads(lines[0])
    assert list(first) == ["timestamp", "type", "payload"]
    assert first["type"] == "session_meta" and first["payload"]["id"] == tid(1)
    assert all(b": " not in line and b", " not in line for line in lines)  # compact
    assert json.loads(lines[1])["payload"]["message"] == "hello"


async def test_no_file_until_persist(tmp_path: Path) -> None:
    async with store_at(tmp_path) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1)))
        assert rollouts(tmp_path) == []
        await store.persist_thread(tid(1))
        assert len(rollouts(tmp_path)) == 1
        await store.shutdown_thread(tid(1))


async def test_torn_last_line_is_ignored_and_repaired_before_the_next_append(
    tmp_path: Path,
) -> None:
    path = await write_thread(tmp_path, tid(1), "before crash")
    with path.open("ab") as fh:
        fh.write(b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","pay')  # torn
    async with store_at(tmp_path) as store:
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
        assert history.items[1:] == [user_message("before crash")]
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("after crash")])
        )
        await store.shutdown_thread(tid(1))
    for line in path.read_bytes().split(b"\n")[:-1]:
        json.loads(line)  # every remaining line parses: nothing glued onto the fragment
    async with store_at(tmp_path) as store:
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
    assert history.items[1:] == [user_message("before crash"), user_message("after crash")]


async def test_malformed_lines_are_skipped_not_fatal(tmp_path: Path) -> None:
    path = await write_thread(tmp_path, tid(1), "one")
    with path.open("ab") as fh:
        fh.write(b"not json at all\n\xff\xfe invalid utf-8\n[1,2,3]\n")
        fh.write(
            json.dumps(
                {
                    "timestamp": "t",
                    "type": "event_msg",
                    "payload": {"type": "user_message", "message": "two"},
                }
            ).encode()
            + b"\n"
        )
    async with store_at(tmp_path) as store:
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
    assert [i.payload["message"] for i in history.items[1:]] == ["one", "two"]


@pytest.mark.parametrize("damage", ["delete", "truncate", "garbage"])
async def test_damaged_index_is_rebuilt_and_loses_no_thread(tmp_path: Path, damage: str) -> None:
    for n in range(1, 6):
        await write_thread(tmp_path, tid(n), f"message {n}")
    index = tmp_path / "codex-thread-store" / "codex-thread-store-index.sqlite"
    assert index.exists()
    if damage == "delete":
        index.unlink()
    elif damage == "truncate":
        index.write_bytes(index.read_bytes()[:100])
    else:
        index.write_bytes(b"\x00garbage" * 1000)
    seen: list[tuple[int, int]] = []
    async with store_at(tmp_path, progress=lambda d, t: seen.append((d, t))) as store:
        page = await store.list_threads(ListThreadsParams(sort_key=ThreadSortKey.CREATED_AT))
        assert sorted(t.thread_id for t in page.items) == [tid(n) for n in range(1, 6)]
        assert store.rebuild_reason is not None
    assert seen and seen[-1] == (5, 5)
    if damage != "delete":  # the damaged file was moved aside, never deleted
        assert list(index.parent.glob("codex-thread-store-index.sqlite.corrupt-*"))


async def test_second_writer_in_another_store_instance_gets_conflict(tmp_path: Path) -> None:
    await write_thread(tmp_path, tid(1), "x")
    async with store_at(tmp_path) as first, store_at(tmp_path) as second:
        await first.resume_thread(ResumeThreadParams(thread_id=tid(1)))
        with pytest.raises(Conflict):
            await second.resume_thread(ResumeThreadParams(thread_id=tid(1)))
        await first.shutdown_thread(tid(1))
        await second.resume_thread(ResumeThreadParams(thread_id=tid(1)))  # free again
        await second.shutdown_thread(tid(1))


async def test_threads_written_by_another_process_are_noticed(tmp_path: Path) -> None:
    await write_thread(tmp_path, tid(1), "first")
    async with store_at(tmp_path, refresh_interval_s=0.0) as reader:
        assert [t.thread_id for t in (await reader.list_threads(ListThreadsParams())).items] == [
            tid(1)
        ]
        await write_thread(tmp_path, tid(2), "second")  # another store instance
        ids = {t.thread_id for t in (await reader.list_threads(ListThreadsParams())).items}
        assert ids == {tid(1), tid(2)}


async def test_patched_name_and_title_survive_a_rescan_of_the_grown_file(tmp_path: Path) -> None:
    """Neither is in the rollout; re-reading the file Codex grew keeps them."""
    path = await write_thread(tmp_path, tid(1), "first question")
    async with store_at(tmp_path, refresh_interval_s=0.0) as reader:
        patch = ThreadMetadataPatch(name="my name", title="a set title")
        await reader.update_thread_metadata(
            UpdateThreadMetadataParams(thread_id=tid(1), patch=patch)
        )
        line = json.loads(path.read_text().splitlines()[-1])
        line["payload"]["message"] = "more, written by Codex"
        with path.open("a") as rollout:  # Codex appends behind the store's back
            rollout.write(json.dumps(line) + "\n")

        listed = (await reader.list_threads(ListThreadsParams())).items
        found = await reader.search_threads(SearchThreadsParams(search_term="written by Codex"))

    assert [hit.thread.thread_id for hit in found.items] == [tid(1)]  # the file was re-read
    assert [(t.name, t.title) for t in listed] == [("my name", "a set title")]


def _corpus_copy(tmp_path: Path, *, with_codex_db: bool = False) -> Path:
    assert CORPUS_HOME.is_dir(), f"{CORPUS} must sit beside the checkout (see README)"
    home = tmp_path / "home"
    skip = "*-shm" if with_codex_db else "*.sqlite*"
    shutil.copytree(CORPUS_HOME, home, ignore=shutil.ignore_patterns(skip))
    return home


async def test_reads_the_real_codex_home_and_matches_the_cli_list_order(tmp_path: Path) -> None:
    """Reads data from ../shared/codex-corpus (a home written by Codex CLI 0.169.0)."""
    expected = json.loads(EXPECTED.read_text())
    # With Codex's state DB: it alone records the git update of the paginated `…f9f5`.
    home = _corpus_copy(tmp_path, with_codex_db=True)
    async with store_at(home) as store:
        page = await store.list_threads(ListThreadsParams(page_size=100))
        archived = await store.list_threads(ListThreadsParams(page_size=100, archived=True))
        by_updated = await store.list_threads(
            ListThreadsParams(page_size=100, sort_key=ThreadSortKey.UPDATED_AT)
        )
        ascending = await store.list_threads(
            ListThreadsParams(page_size=100, sort_direction=SortDirection.ASC)
        )
        ids = [t.thread_id for t in page.items]
        assert ids == expected["list"]["created_at"]["ids"]
        assert [t.thread_id for t in by_updated.items] == expected["list"]["updated_at"]["ids"]
        assert [t.thread_id for t in ascending.items] == expected["list"]["created_at_asc"]["ids"]
        assert [t.thread_id for t in archived.items] == expected["list"]["archived"]["ids"]
        for thread in page.items + archived.items:
            cli = expected["threads"][thread.thread_id]["read"]["thread"]
            assert thread.preview == cli["preview"]
            assert thread.name == cli["name"]
            assert thread.source.to_app_server() == cli["source"]
            assert thread.model_provider == cli["modelProvider"]
            assert thread.cwd == cli["cwd"].replace("${CODEX_HOME}", str(home))
            assert thread.forked_from_id == cli["forkedFromId"]
            assert thread.parent_thread_id == cli["parentThreadId"]
            assert thread.created_at.timestamp() // 1 == cli["createdAt"]
            assert thread.updated_at.timestamp() // 1 == cli["updatedAt"]
            assert thread.is_archived == (thread.thread_id in expected["list"]["archived"]["ids"])
            git = thread.git_info
            cli_git = cli["gitInfo"] or {}
            assert (git.commit_hash if git else None) == cli_git.get("sha")
            assert (git.branch if git else None) == cli_git.get("branch")
            assert (git.repository_url if git else None) == cli_git.get("originUrl")


async def test_search_sees_appended_text_before_any_flush_and_after_a_lost_index_write(
    tmp_path: Path,
) -> None:
    """Search text is indexed at barriers; before one, search still finds it, and a
    writer that died before its barrier leaves text the next store re-reads."""
    async with store_at(tmp_path) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1)))
        await store.persist_thread(tid(1))
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("zebra crossing")])
        )
        hits = await store.search_threads(SearchThreadsParams(search_term="zebra"))
        assert [h.thread.thread_id for h in hits.items] == [tid(1)]
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("walrus tusk")])
        )
        store._live[tid(1)].pending_text.clear()  # as if the process died before a barrier
        await store.discard_thread(tid(1))
    async with store_at(tmp_path, refresh_interval_s=0.0) as reopened:
        hits = await reopened.search_threads(SearchThreadsParams(search_term="walrus"))
    assert [h.thread.thread_id for h in hits.items] == [tid(1)]


async def test_file_name_session_meta_and_row_share_one_creation_instant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codex takes a thread's created time from the file name or the session_meta; taken
    from two clock reads, they could straddle a second and disagree."""
    from datetime import UTC, datetime

    from codex_thread_store.local import store as store_module

    instant = datetime(2026, 1, 1, 12, 0, 0, 999000, tzinfo=UTC)
    monkeypatch.setattr(store_module, "utc_now", lambda: instant)
    path = await write_thread(tmp_path, tid(1), "hi")

    local = instant.astimezone()
    assert f"rollout-{local:%Y-%m-%dT%H-%M-%S}-" in path.name
    meta = json.loads(path.read_text().splitlines()[0])
    assert meta["payload"]["timestamp"].startswith("2026-01-01T12:00:00.999")
