"""Bad input never corrupts stored data: it gets a typed error (`InvalidRequest`,
`ThreadNotFound`, `ResourceExhausted`, ...) or, for damaged rollout content, is skipped
and counted while everything around it keeps working.

Covers `read_thread_by_rollout_path` with hostile paths, malformed thread ids on every
id-taking operation, oversized and unencodable items, and rollouts holding garbage lines.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from builders import agent_message, tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    Conflict,
    CreateThreadParams,
    DeleteThreadParams,
    InvalidRequest,
    ListItemsParams,
    ListThreadsParams,
    ListTurnsParams,
    LoadThreadHistoryParams,
    PermissionDenied,
    ReadThreadByRolloutPathParams,
    ReadThreadParams,
    ResourceExhausted,
    ResumeThreadParams,
    RolloutItem,
    RolloutLine,
    SearchThreadsParams,
    StoredThread,
    ThreadMetadataPatch,
    ThreadNotFound,
    ThreadPersistenceMetadata,
    ThreadRelationFilter,
    ThreadStore,
    ThreadStoreError,
    UpdateThreadMetadataParams,
    encode_line,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig
from codex_thread_store.local.doctor import examine
from codex_thread_store.local.rollout_files import read_rollout

INDEX_NAME = "codex-thread-store-index.sqlite"


# -- helpers ---------------------------------------------------------------------------
def store_at(home: Path, **options: Any) -> LocalThreadStore:
    return LocalThreadStore(LocalThreadStoreConfig(codex_home=home, **options))


async def write_thread(home: Path, thread_id: str, *texts: str, **options: Any) -> Path:
    """Create a thread holding one user message per text, close it, return its rollout."""
    async with store_at(home, **options) as store:
        await store.create_thread(
            CreateThreadParams(thread_id=thread_id, metadata=ThreadPersistenceMetadata(cwd="/w"))
        )
        await store.persist_thread(thread_id)
        if texts:
            await store.append_items(
                AppendThreadItemsParams(thread_id=thread_id, items=[user_message(t) for t in texts])
            )
        await store.shutdown_thread(thread_id)
        thread = await store.read_thread(ReadThreadParams(thread_id=thread_id))
    assert thread.rollout_path is not None
    return Path(thread.rollout_path)


def texts_of(items: list[RolloutItem]) -> list[str]:
    """The `message` of every user/agent message event, in order."""
    return [
        item.payload["message"]
        for item in items
        if item.type == "event_msg"
        and item.payload_type in ("user_message", "agent_message")
        and isinstance(item.payload.get("message"), str)
    ]


def data_files(home: Path) -> dict[str, bytes]:
    """Every rollout and name-index byte of a home (symlinks recorded by target).

    Our own state folder and Codex's writer-lock folder are left out: the index is
    compared separately and lock files come and go with writers.
    """
    out: dict[str, bytes] = {}
    for root, dirs, files in os.walk(home):
        rel_root = Path(root).relative_to(home)
        if rel_root.parts[:1] in (("codex-thread-store",), ("thread-writer-locks",)):
            continue
        for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
            path = Path(root) / name
            key = str(rel_root / name)
            out[key] = (
                b"->" + os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            )
    return out


def index_files(home: Path) -> dict[str, bytes]:
    state = home / "codex-thread-store"
    return {
        p.name: p.read_bytes()
        for p in sorted(state.glob(INDEX_NAME + "*"))
        if p.name in (INDEX_NAME, INDEX_NAME + "-wal")
    }


async def all_ids(store: ThreadStore, **params: Any) -> list[str]:
    page = await store.list_threads(ListThreadsParams(page_size=100, **params))
    assert page.next_cursor is None
    return [t.thread_id for t in page.items]


def lexists(path: Path) -> bool:
    return os.path.lexists(path)


async def by_path(store: ThreadStore, path: str | Path, **params: Any) -> StoredThread:
    return await store.read_thread_by_rollout_path(
        ReadThreadByRolloutPathParams(rollout_path=str(path), **params)
    )


# == read_thread_by_rollout_path ========================================================
class Homes:
    """A home holding tid(1) ("hello"), and a second home outside it holding tid(2)."""

    def __init__(self, home: Path, inside: Path, outside_home: Path, outside: Path) -> None:
        self.home = home
        self.inside = inside  # tid(1)'s rollout
        self.outside_home = outside_home
        self.outside = outside  # tid(2)'s rollout, in the other home

    @property
    def day(self) -> Path:
        return self.inside.parent


@pytest.fixture
async def homes(tmp_path: Path) -> Homes:
    home = tmp_path / "home"
    inside = await write_thread(home, tid(1), "hello")
    outside_home = tmp_path / "outside"
    outside = await write_thread(outside_home, tid(2), "secret")
    return Homes(home, inside, outside_home, outside)


async def test_a_valid_path_inside_the_home_reads_the_thread_with_history(homes: Homes) -> None:
    async with store_at(homes.home) as store:
        thread = await by_path(store, homes.inside, include_history=True)
    assert thread.thread_id == tid(1)
    assert thread.rollout_path == str(homes.inside)
    assert thread.history is not None
    assert texts_of(thread.history.items) == ["hello"]


async def test_relative_and_non_canonical_spellings_resolve_against_the_home(
    homes: Homes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative paths are relative to the Codex home (not the process cwd), and any
    spelling that resolves to the same file inside the home names the same thread."""
    rel = homes.inside.relative_to(homes.home)
    # A decoy with the same relative layout under the cwd: a cwd-relative reading would
    # find tid(2) there.
    decoy = tmp_path / "decoy"
    (decoy / rel).parent.mkdir(parents=True)
    (decoy / rel).write_bytes(homes.outside.read_bytes())
    monkeypatch.chdir(decoy)
    year = rel.parts[1]
    spellings = [
        str(rel),
        f"./{rel}",
        f"sessions/{year}/../{Path(*rel.parts[1:])}",
        str(homes.home / "sessions" / ".." / rel),
        str(homes.home) + "//" + str(rel),
    ]
    (homes.home / "sessions" / "alias").symlink_to(homes.day, target_is_directory=True)
    spellings.append(str(homes.home / "sessions" / "alias" / homes.inside.name))
    async with store_at(homes.home) as store:
        for spelling in spellings:
            thread = await by_path(store, spelling)
            assert thread.thread_id == tid(1), spelling
            assert thread.rollout_path == str(homes.inside), spelling


def _escapes(h: Homes) -> dict[str, str]:
    rel_out = h.outside.relative_to(h.outside_home)
    return {
        "dotdot-relative": f"sessions/../../outside/{rel_out}",
        "dotdot-absolute": str(h.home / "sessions" / ".." / ".." / "outside" / rel_out),
        "dotdot-deep": "sessions/" + "../" * 30 + str(h.outside).lstrip("/"),
        "absolute-outside": str(h.outside),
        "home-root-file": "session_index.jsonl",
        "index-file": f"codex-thread-store/{INDEX_NAME}",
        "home-root": str(h.home),
        "empty": "",
        "dot": ".",
        "etc-passwd": "/etc/passwd",
    }


@pytest.mark.parametrize(
    "kind",
    [
        "dotdot-relative",
        "dotdot-absolute",
        "dotdot-deep",
        "absolute-outside",
        "home-root-file",
        "index-file",
        "home-root",
        "empty",
        "dot",
        "etc-passwd",
    ],
)
async def test_paths_escaping_the_sessions_folders_are_invalid_requests(
    homes: Homes, kind: str
) -> None:
    raw = _escapes(homes)[kind]
    before_home, before_out = data_files(homes.home), data_files(homes.outside_home)
    async with store_at(homes.home) as store:
        with pytest.raises(InvalidRequest):
            await by_path(store, raw, include_history=True, include_archived=True)
        assert await all_ids(store) == [tid(1)]  # the outside thread was not pulled in
    assert data_files(homes.home) == before_home
    assert data_files(homes.outside_home) == before_out


async def test_a_rollout_that_is_a_link_is_read_but_never_written_moved_or_deleted_through(
    homes: Homes,
) -> None:
    """A link in the home to another home's rollout of the thread its name says: it is
    read like any rollout, but resume refuses it, archive and unarchive move the link
    itself, and delete removes only the link. The target is never touched."""
    link = homes.day / homes.outside.name
    link.symlink_to(homes.outside)
    before_out = data_files(homes.outside_home)
    async with store_at(homes.home) as store:
        assert (await by_path(store, link, include_history=True)).thread_id == tid(2)
        with pytest.raises(PermissionDenied, match="symbolic link"):
            await store.resume_thread(ResumeThreadParams(thread_id=tid(2)))
        await store.archive_thread(ArchiveThreadParams(thread_id=tid(2)))
        archived = homes.home / "archived_sessions" / link.name
        assert archived.is_symlink() and not link.exists()
        await store.unarchive_thread(ArchiveThreadParams(thread_id=tid(2)))
        assert link.is_symlink()
        await store.delete_thread(DeleteThreadParams(thread_id=tid(2)))
        assert not lexists(link)
        assert (await by_path(store, homes.inside)).thread_id == tid(1)
    assert data_files(homes.outside_home) == before_out


async def test_a_link_to_another_thread_s_rollout_is_never_listed(homes: Homes) -> None:
    link = homes.day / homes.inside.name.replace(tid(1), tid(3))  # says tid(3), holds tid(2)
    link.symlink_to(homes.outside)
    async with store_at(homes.home) as store:
        assert await all_ids(store) == [tid(1)]
        with pytest.raises(InvalidRequest):
            await by_path(store, link)
    kinds = {f.kind for f in examine(homes.home).findings}
    assert "foreign_link" in kinds


async def test_a_day_folder_that_is_a_link_works_like_any_day_folder(homes: Homes) -> None:
    """A relocated day folder (a link to another disk) holds the home's threads."""
    linked_day = homes.home / "sessions" / "2020" / "01" / "02"
    linked_day.parent.mkdir(parents=True)
    linked_day.symlink_to(homes.outside.parent, target_is_directory=True)
    before_out = data_files(homes.outside_home)
    async with store_at(homes.home) as store:
        assert sorted(await all_ids(store)) == [tid(1), tid(2)]
        listed = (await store.read_thread(ReadThreadParams(thread_id=tid(2)))).rollout_path
        assert listed == str(linked_day / homes.outside.name)
        assert (await by_path(store, listed)).thread_id == tid(2)
        assert (await by_path(store, f"sessions/2020/01/02/{homes.outside.name}")).thread_id == tid(
            2
        )
    assert data_files(homes.outside_home) == before_out  # reading touched nothing


@pytest.mark.parametrize("kind", ["text-file", "garbage-rollout", "directory", "missing"])
async def test_paths_to_things_that_are_not_rollouts_are_invalid_requests(
    homes: Homes, kind: str
) -> None:
    if kind == "text-file":
        target = homes.day / "notes.txt"
        target.write_text("not a rollout\n")
    elif kind == "garbage-rollout":  # a rollout name, but no session_meta inside
        target = homes.day / homes.inside.name.replace(tid(1), tid(9))
        target.write_bytes(b"garbage\n[1]\n")
    elif kind == "directory":
        target = homes.day
    else:
        target = homes.day / homes.inside.name.replace(tid(1), tid(8))
    before = data_files(homes.home)
    async with store_at(homes.home) as store:
        with pytest.raises(InvalidRequest):
            await by_path(store, target)
        assert await all_ids(store) == [tid(1)]
    assert data_files(homes.home) == before


async def test_archived_rollout_path_needs_include_archived(homes: Homes) -> None:
    async with store_at(homes.home) as store:
        await store.archive_thread(ArchiveThreadParams(thread_id=tid(1)))
        archived = homes.home / "archived_sessions" / homes.inside.name
        with pytest.raises(ThreadNotFound):
            await by_path(store, archived)
        thread = await by_path(store, archived, include_archived=True)
        assert thread.thread_id == tid(1) and thread.is_archived
        # The old active path no longer names a rollout.
        with pytest.raises(InvalidRequest):
            await by_path(store, homes.inside, include_archived=True)


async def test_path_with_a_nul_byte_is_an_invalid_request(homes: Homes) -> None:
    async with store_at(homes.home) as store:
        with pytest.raises(InvalidRequest):
            await by_path(store, "sessions/2026/01/01/rollout\x00.jsonl")
        assert (await by_path(store, homes.inside)).thread_id == tid(1)


async def test_path_through_a_symlink_loop_is_an_invalid_request(homes: Homes) -> None:
    loop = homes.home / "sessions" / "loop"
    loop.symlink_to(loop)
    async with store_at(homes.home) as store:
        with pytest.raises(InvalidRequest):
            await by_path(store, loop / "rollout.jsonl")


async def test_a_symlink_loop_under_sessions_does_not_break_listing(homes: Homes) -> None:
    loop = homes.home / "sessions" / "loop"
    loop.symlink_to(loop)
    try:
        async with store_at(homes.home) as store:
            assert await all_ids(store) == [tid(1)]
    finally:
        gc.collect()  # report a leaked scandir iterator here, not in a later test


async def test_rollout_path_the_store_returned_reads_back_when_the_home_is_a_symlink(
    tmp_path: Path,
) -> None:
    """`codex_home` may be spelled through a symlink (e.g. `/var` -> `/private/var`, or a
    dotfiles link): the path `read_thread` reports must be accepted by
    `read_thread_by_rollout_path`, and so must the fully resolved spelling."""
    real = tmp_path / "real-home"
    real.mkdir()
    link = tmp_path / "home-link"
    link.symlink_to(real, target_is_directory=True)
    path = await write_thread(link, tid(1), "hello")
    async with store_at(link) as store:
        assert (await by_path(store, path)).thread_id == tid(1)
        assert (await by_path(store, path.resolve())).thread_id == tid(1)
        assert (await by_path(store, path.relative_to(link))).thread_id == tid(1)


# == malformed thread ids ==============================================================
BAD_IDS = [
    "not-a-uuid",
    "",
    " ",
    "../x",
    "../../etc/passwd",
    f"../{tid(1)}",
    f"{tid(1)}/../{tid(2)}",
    f"sessions/{tid(1)}",
    "{" + tid(1) + "}",
    "urn:uuid:" + tid(1),
    tid(1).replace("-", ""),
    " " + tid(1),
    tid(1) + "\n",
    tid(1) + "\x00",
    tid(1)[:-1] + "g",
    tid(1) + "0",
]

ID_OPERATIONS: dict[str, Callable[[str], Any]] = {
    "create": lambda bad: CreateThreadParams(thread_id=bad),
    "create.session_id": lambda bad: CreateThreadParams(session_id=bad),
    "create.parent": lambda bad: CreateThreadParams(parent_thread_id=bad),
    "create.forked_from": lambda bad: CreateThreadParams(forked_from_id=bad),
    "resume": lambda bad: ResumeThreadParams(thread_id=bad),
    "append": lambda bad: AppendThreadItemsParams(thread_id=bad, items=[user_message("x")]),
    "load_history": lambda bad: LoadThreadHistoryParams(thread_id=bad),
    "read": lambda bad: ReadThreadParams(thread_id=bad),
    "update": lambda bad: UpdateThreadMetadataParams(
        thread_id=bad, patch=ThreadMetadataPatch(name="n")
    ),
    "archive": lambda bad: ArchiveThreadParams(thread_id=bad),
    "delete": lambda bad: DeleteThreadParams(thread_id=bad),
    "list_turns": lambda bad: ListTurnsParams(thread_id=bad),
    "list_items": lambda bad: ListItemsParams(thread_id=bad),
    "relation": lambda bad: ListThreadsParams(
        relation_filter=ThreadRelationFilter.descendants_of(bad)
    ),
}


@pytest.mark.parametrize("operation", list(ID_OPERATIONS))
def test_every_params_type_rejects_every_malformed_id(operation: str) -> None:
    build = ID_OPERATIONS[operation]
    build(tid(3))  # a canonical id is fine
    for bad in BAD_IDS:
        with pytest.raises(InvalidRequest):
            build(bad)


async def test_raw_id_operations_on_malformed_ids_are_typed_errors_and_write_nothing(
    tmp_path: Path,
) -> None:
    """`persist/flush/shutdown/discard_thread` take a bare string: a malformed id there
    is a typed error (or, for the idempotent discard, a no-op) and touches no file."""
    home = tmp_path / "home"
    await write_thread(home, tid(1), "keep me")
    before = data_files(home)
    lock_dir = home / "thread-writer-locks"
    locks_before = sorted(p.name for p in lock_dir.iterdir()) if lock_dir.exists() else []
    async with store_at(home) as store:
        for bad in BAD_IDS:
            for op in (store.persist_thread, store.flush_thread, store.shutdown_thread):
                with pytest.raises((InvalidRequest, ThreadNotFound)):
                    await op(bad)
            await store.discard_thread(bad)
            assert store.rollout_path_of(bad) is None
        assert await all_ids(store) == [tid(1)]
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
        assert texts_of(history.items) == ["keep me"]
    assert data_files(home) == before
    locks_after = sorted(p.name for p in lock_dir.iterdir()) if lock_dir.exists() else []
    assert locks_after == locks_before
    assert not (tmp_path / "x.lock").exists() and not (home / "x.lock").exists()


async def test_upper_case_id_is_rejected_so_one_uuid_never_becomes_two_threads(
    store: ThreadStore,
) -> None:
    """Stores compare ids as strings: an upper-case spelling is refused with the canonical
    one in the message, so one UUID can never name two threads."""
    upper = tid(0xABC).upper()
    with pytest.raises(InvalidRequest, match=tid(0xABC)):
        CreateThreadParams(thread_id=upper)
    with pytest.raises(InvalidRequest):
        ReadThreadParams(thread_id=upper)
    await store.create_thread(CreateThreadParams(thread_id=tid(0xABC)))
    with pytest.raises(Conflict):
        await store.create_thread(CreateThreadParams(thread_id=tid(0xABC)))


async def test_a_rollout_whose_session_meta_id_is_not_a_uuid_never_lists_an_unusable_id(
    tmp_path: Path,
) -> None:
    """A foreign file claims the id `../../evil`: every thread the listing returns must
    be addressable by id (readable with `read_thread`)."""
    home = tmp_path / "home"
    good = await write_thread(home, tid(1), "good")
    meta = json.loads(good.read_bytes().split(b"\n")[0])
    meta["payload"]["id"] = meta["payload"]["session_id"] = "../../evil"
    evil = good.with_name(good.name.replace(tid(1), tid(6)))
    evil.write_bytes(json.dumps(meta).encode() + b"\n")
    async with store_at(home) as store:
        listed = await all_ids(store)
        assert tid(1) in listed
        for thread_id in listed:
            thread = await store.read_thread(ReadThreadParams(thread_id=thread_id))
            assert thread.thread_id == thread_id


# == oversized and unencodable items =====================================================
STAMP = "2026-01-01T00:00:00.000Z"  # every written timestamp has this length


def line_size(item: RolloutItem) -> int:
    return len(encode_line(RolloutLine(STAMP, item)))


async def _live_thread_with_history(home: Path, limit: int) -> LocalThreadStore:
    store = store_at(home, max_item_bytes=limit)
    await store.create_thread(
        CreateThreadParams(thread_id=tid(1), metadata=ThreadPersistenceMetadata(cwd="/w"))
    )
    await store.persist_thread(tid(1))
    await store.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("one"), agent_message("a")])
    )
    await store.flush_thread(tid(1))
    await store.update_thread_metadata(
        UpdateThreadMetadataParams(thread_id=tid(1), patch=ThreadMetadataPatch(name="named"))
    )
    return store


@pytest.mark.parametrize("position", ["alone", "first", "middle", "last"])
async def test_oversized_item_is_resource_exhausted_and_changes_no_byte(
    tmp_path: Path, position: str
) -> None:
    home = tmp_path / "home"
    store = await _live_thread_with_history(home, limit=2048)
    try:
        huge = user_message("x" * 4096)
        small = [user_message("s1"), user_message("s2")]
        batch = {
            "alone": [huge],
            "first": [huge, *small],
            "middle": [small[0], huge, small[1]],
            "last": [*small, huge],
        }[position]
        thread_before = await store.read_thread(ReadThreadParams(thread_id=tid(1)))
        files_before, index_before = data_files(home), index_files(home)
        assert index_before  # the index exists and is compared

        with pytest.raises(ResourceExhausted):
            await store.append_items(AppendThreadItemsParams(thread_id=tid(1), items=batch))

        assert data_files(home) == files_before
        assert index_files(home) == index_before
        await store.flush_thread(tid(1))
        assert data_files(home) == files_before  # nothing was queued either
        after = await store.read_thread(ReadThreadParams(thread_id=tid(1), include_history=True))
        assert msgspec.structs.replace(after, history=None) == thread_before
        assert after.history is not None and texts_of(after.history.items) == ["one", "a"]
        search = await store.search_threads(SearchThreadsParams(search_term="s1"))
        assert search.items == []  # the refused batch's text is not searchable

        # The thread still takes items, and nothing of the refused call reappears.
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("two")])
        )
        await store.shutdown_thread(tid(1))
    finally:
        await store.aclose()
    async with store_at(home) as fresh:
        history = await fresh.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
    assert texts_of(history.items) == ["one", "a", "two"]


async def test_item_limit_is_exact_on_the_encoded_line(tmp_path: Path) -> None:
    fits = user_message("y" * 500)
    limit = line_size(fits)
    async with store_at(tmp_path / "home", max_item_bytes=limit) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1)))
        await store.persist_thread(tid(1))
        await store.append_items(AppendThreadItemsParams(thread_id=tid(1), items=[fits]))
        with pytest.raises(ResourceExhausted):
            await store.append_items(
                AppendThreadItemsParams(thread_id=tid(1), items=[user_message("y" * 501)])
            )
        await store.flush_thread(tid(1))
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
        assert texts_of(history.items) == ["y" * 500]
        await store.shutdown_thread(tid(1))


async def test_oversized_item_on_a_lazy_thread_creates_no_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with store_at(home, max_item_bytes=2048) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1)))
        with pytest.raises(ResourceExhausted):
            await store.append_items(
                AppendThreadItemsParams(thread_id=tid(1), items=[user_message("z" * 5000)])
            )
        await store.flush_thread(tid(1))
        assert list(home.rglob("rollout-*")) == []
        await store.shutdown_thread(tid(1))  # nothing but session_meta: it vanishes
        with pytest.raises(ThreadNotFound):
            await store.read_thread(ReadThreadParams(thread_id=tid(1)))
    assert list(home.rglob("rollout-*")) == []


async def test_refused_batch_consumes_no_ordinal_in_a_paginated_thread(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with store_at(home, max_item_bytes=2048) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1), history_mode="paginated"))
        await store.persist_thread(tid(1))
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("a")])
        )
        with pytest.raises(ResourceExhausted):
            await store.append_items(
                AppendThreadItemsParams(
                    thread_id=tid(1), items=[user_message("b"), user_message("c" * 5000)]
                )
            )
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("d")])
        )
        await store.shutdown_thread(tid(1))
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(1)))
    assert thread.rollout_path is not None
    lines = read_rollout(Path(thread.rollout_path)).lines
    assert [line.ordinal for line in lines] == list(range(len(lines)))
    assert texts_of([line.item for line in lines]) == ["a", "d"]


async def test_a_limit_below_the_session_meta_size_refuses_create_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with store_at(home, max_item_bytes=64) as store:
        with pytest.raises(ResourceExhausted):
            await store.create_thread(CreateThreadParams(thread_id=tid(1)))
        with pytest.raises(ThreadNotFound):
            await store.read_thread(ReadThreadParams(thread_id=tid(1)))
        assert await all_ids(store) == []
    assert list(home.rglob("rollout-*")) == []
    # Nothing was left locked or half-created: a normal store can create the same id.
    await write_thread(home, tid(1), "fine")


UNENCODABLE: dict[str, RolloutItem] = {
    "lone-surrogate": user_message("bad \ud800 text"),
    "python-object": RolloutItem.event_msg(
        {"type": "user_message", "message": "m", "extra": object()}
    ),
}


@pytest.mark.parametrize("kind", list(UNENCODABLE))
async def test_unencodable_item_is_a_typed_error_and_changes_nothing(
    tmp_path: Path, kind: str
) -> None:
    home = tmp_path / "home"
    store = await _live_thread_with_history(home, limit=1 << 20)
    try:
        await store.flush_thread(tid(1))  # earlier appends' search text reaches the index
        files_before, index_before = data_files(home), index_files(home)
        with pytest.raises(ThreadStoreError):
            await store.append_items(
                AppendThreadItemsParams(
                    thread_id=tid(1), items=[user_message("ok"), UNENCODABLE[kind]]
                )
            )
        assert index_files(home) == index_before
        await store.flush_thread(tid(1))  # nothing of the refused call was buffered
        assert data_files(home) == files_before
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
        assert texts_of(history.items) == ["one", "a"]
    finally:
        await store.aclose()


async def test_unencodable_name_is_a_typed_error_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = await _live_thread_with_history(home, limit=1 << 20)
    try:
        await store.flush_thread(tid(1))
        files_before, index_before = data_files(home), index_files(home)
        with pytest.raises(ThreadStoreError):
            await store.update_thread_metadata(
                UpdateThreadMetadataParams(
                    thread_id=tid(1), patch=ThreadMetadataPatch(name="bad \udc80 name")
                )
            )
        assert data_files(home) == files_before
        assert index_files(home) == index_before
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(1)))
        assert thread.name == "named"
    finally:
        await store.aclose()


# == damaged rollout content ==============================================================
def _line(message: str, *, kind: str = "user_message") -> bytes:
    return json.dumps(
        {"timestamp": STAMP, "type": "event_msg", "payload": {"type": kind, "message": message}},
        separators=(",", ":"),
    ).encode()


GARBAGE_LINES: dict[str, bytes] = {
    "invalid-utf8": b'{"timestamp":"'
    + STAMP.encode()
    + b'","type":"event_msg","payload":\xff\xfe}',
    "invalid-utf8-in-string": b'{"timestamp":"t","type":"x","payload":{"m":"\xc3\x28"}}',
    "not-json": b"this is not json at all",
    "truncated-json": _line("cut")[:30],
    "json-array": b"[1,2,3]",
    "json-string": b'"a string"',
    "json-number": b"42",
    "json-null": b"null",
    "no-timestamp": b'{"type":"event_msg","payload":{"type":"user_message","message":"x"}}',
    "no-type": b'{"timestamp":"' + STAMP.encode() + b'","payload":{}}',
    "numeric-type": b'{"timestamp":"' + STAMP.encode() + b'","type":7,"payload":{}}',
    "bool-ordinal": b'{"timestamp":"'
    + STAMP.encode()
    + b'","ordinal":true,"type":"event_msg","payload":{}}',
    "nul-bytes": b"\x00" * 64,
}


async def test_garbage_lines_are_skipped_and_counted_and_appends_never_glue(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    path = await write_thread(home, tid(1), "one")
    torn = _line("torn")[:-7]  # a crash mid-write: no closing brace, no newline
    with path.open("ab") as fh:
        for raw in GARBAGE_LINES.values():
            fh.write(raw + b"\n")
        fh.write(b"\n   \n")  # blank lines: skipped, not counted
        fh.write(_line("two") + b"\r\n")  # CRLF ending: still a good line
        fh.write(torn)
    damaged = path.read_bytes()

    result = read_rollout(path)
    assert result.malformed == len(GARBAGE_LINES)
    assert result.torn_tail
    assert texts_of([line.item for line in result.lines]) == ["one", "two"]

    async with store_at(home) as store:
        assert await all_ids(store) == [tid(1)]
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(1), include_history=True))
        assert thread.history is not None
        assert texts_of(thread.history.items) == ["one", "two"]
        turns = await store.list_turns(ListTurnsParams(thread_id=tid(1)))
        assert [t.id for t in turns.turns]  # user messages open turns in old files
        assert (await by_path(store, path)).thread_id == tid(1)
        assert path.read_bytes() == damaged  # reading never rewrites

        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("three")])
        )
        await store.shutdown_thread(tid(1))

    after = path.read_bytes()
    # Only the torn fragment went; every garbage line before it is kept byte for byte.
    kept = damaged[: len(damaged) - len(torn)]
    assert after.startswith(kept)
    appended = after[len(kept) :]
    assert appended.endswith(b"\n") and appended.count(b"\n") == 1
    assert json.loads(appended)["payload"]["message"] == "three"
    result = read_rollout(path)
    assert result.malformed == len(GARBAGE_LINES) and not result.torn_tail
    async with store_at(home) as store:
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
        assert texts_of(history.items) == ["one", "two", "three"]
        assert await store.reindex() == 1  # a full rebuild copes with the garbage too
        assert await all_ids(store) == [tid(1)]


@pytest.mark.parametrize("tail", ["nul-run", "half-line", "invalid-utf8", "lone-brace"])
async def test_every_kind_of_torn_tail_is_cut_before_the_next_append(
    tmp_path: Path, tail: str
) -> None:
    home = tmp_path / "home"
    path = await write_thread(home, tid(1), "one")
    fragment = {
        "nul-run": b"\x00" * 300,  # what a crash can leave on a delayed-allocation fs
        "half-line": _line("half")[:40],
        "invalid-utf8": b'{"timestamp":"\xff\xfe',
        "lone-brace": b"{",
    }[tail]
    clean = path.read_bytes()
    with path.open("ab") as fh:
        fh.write(fragment)
    async with store_at(home) as store:
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
        assert texts_of(history.items) == ["one"]
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("2")])
        )
        await store.shutdown_thread(tid(1))
    data = path.read_bytes()
    assert data.startswith(clean)
    appended = data[len(clean) :]  # the fragment is gone, the new line starts clean
    assert appended.endswith(b"\n") and appended.count(b"\n") == 1
    assert json.loads(appended)["payload"]["message"] == "2"
    assert read_rollout(path).malformed == 0


async def test_an_unterminated_but_complete_last_line_is_not_lost_by_the_next_append(
    tmp_path: Path,
) -> None:
    """A last line that decodes but lacks its newline (written by another tool, or a
    file cut exactly before the newline) is history to readers, so the writer must keep
    it too: readers and the appender must agree on what the file holds."""
    home = tmp_path / "home"
    path = await write_thread(home, tid(1), "one")
    with path.open("ab") as fh:
        fh.write(_line("unterminated"))
    async with store_at(home) as store:
        before = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
        visible = texts_of(before.items)
        assert visible[0] == "one"
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("after")])
        )
        await store.shutdown_thread(tid(1))
        after = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
    assert texts_of(after.items) == [*visible, "after"]
    assert read_rollout(path).malformed == 0


async def test_garbage_before_the_session_meta_does_not_hide_the_thread(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = await write_thread(home, tid(1), "one")
    path.write_bytes(b"\xff\xfe garbage\n[]\n" + path.read_bytes())
    async with store_at(home) as store:
        assert await all_ids(store) == [tid(1)]
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
        assert history.items[0].type == "session_meta"
        assert texts_of(history.items) == ["one"]
    assert read_rollout(path).malformed == 2


@pytest.mark.parametrize("content", ["empty", "only-garbage", "only-torn", "meta-missing"])
async def test_unreadable_rollout_files_are_skipped_and_listing_still_works(
    tmp_path: Path, content: str
) -> None:
    home = tmp_path / "home"
    good = await write_thread(home, tid(1), "one")
    bad = good.with_name(good.name.replace(tid(1), tid(5)))
    bad.write_bytes(
        {
            "empty": b"",
            "only-garbage": b"\xff\n{not json}\n[1]\n",
            "only-torn": b'{"timestamp":"' + STAMP.encode(),
            "meta-missing": _line("orphan message") + b"\n",
        }[content]
    )
    before = bad.read_bytes()
    async with store_at(home) as store:
        assert await all_ids(store) == [tid(1)]
        with pytest.raises(ThreadNotFound):
            await store.read_thread(ReadThreadParams(thread_id=tid(5)))
        with pytest.raises(InvalidRequest):
            await by_path(store, bad)
        await store.reindex()
        assert await all_ids(store) == [tid(1)]
        history = await store.load_history(LoadThreadHistoryParams(thread_id=tid(1)))
        assert texts_of(history.items) == ["one"]
    assert bad.read_bytes() == before  # skipped files are left alone
