"""The real Codex homes in ../shared/codex-corpus (0.169.0 and 0.171.0), read here and
compared with what each version's app-server answered (`codex-<version>-expected.json`):
every turn and every typed item field, in Codex's key order."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from codex_thread_store import (
    ListThreadsParams,
    ListTurnsParams,
    ReadThreadParams,
    SortDirection,
    ThreadSortKey,
    TurnItemsView,
)
from codex_thread_store.app_server import app_server_thread
from codex_thread_store.codec import to_builtins
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "codex-corpus"
VERSIONS = ["0.169.0", "0.171.0"]


def expected(version: str) -> dict[str, Any]:
    path = CORPUS / f"codex-{version}-expected.json"
    assert path.is_file(), f"{CORPUS} must sit beside the checkout (see README)"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def corpus_home(tmp_path: Path, version: str) -> Path:
    home = tmp_path / "home"
    shutil.copytree(CORPUS / f"codex-{version}-home", home, ignore=shutil.ignore_patterns("*-shm"))
    relocate_codex_rows(home)
    return home


def relocate_codex_rows(home: Path) -> None:
    """Codex's rows name the recording machine's home; point them at the copy (as anyone
    moving a home would), so the rows and the files agree."""
    conn = sqlite3.connect(home / "state_5.sqlite")
    for thread_id, path in conn.execute("SELECT id, rollout_path FROM threads").fetchall():
        found = next(home.rglob(Path(path).name), None)
        if found is not None:
            conn.execute(
                "UPDATE threads SET rollout_path = ? WHERE id = ?", (str(found), thread_id)
            )
    conn.commit()
    conn.close()


async def all_turns(store: LocalThreadStore, thread_id: str, direction: SortDirection) -> list[Any]:
    turns: list[Any] = []
    cursor = None
    while True:
        page = await store.list_turns(
            ListTurnsParams(
                thread_id=thread_id,
                include_archived=True,
                items_view=TurnItemsView.FULL,
                sort_direction=direction,
                page_size=2,  # several pages, so paging is part of what is compared
                cursor=cursor,
            )
        )
        turns += page.turns
        cursor = page.next_cursor
        if cursor is None:
            return turns


@pytest.mark.parametrize("version", VERSIONS)
async def test_every_turn_and_item_matches_the_app_server(tmp_path: Path, version: str) -> None:
    """`thread/read` (includeTurns) and `thread/turns/list` (full items, newest first)."""
    recorded = expected(version)
    home = corpus_home(tmp_path, version)
    compared = 0
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        for thread_id, answers in recorded["threads"].items():
            ours = to_builtins(await all_turns(store, thread_id, SortDirection.ASC))
            theirs = answers["read"]["thread"]["turns"]
            assert ours == theirs, thread_id
            # Same keys in the same order, as Codex serializes them.
            assert json.dumps(ours) == json.dumps(theirs), thread_id
            newest_first = to_builtins(await all_turns(store, thread_id, SortDirection.DESC))
            assert newest_first == answers["turns_list"]["data"], thread_id
            compared += sum(len(t["items"]) for t in theirs)
    assert compared > 30  # the corpora really hold items to compare


def relocated(value: Any, home: Path) -> Any:
    """A recorded answer with `${CODEX_HOME}` pointing at the copy."""
    return json.loads(json.dumps(value).replace("${CODEX_HOME}", str(home)))


async def listed(store: LocalThreadStore, **params: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        page = await store.list_threads(ListThreadsParams(cursor=cursor, **params))
        pages.append([app_server_thread(t, listed=True) for t in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize("version", VERSIONS)
async def test_listings_match_the_app_server_field_for_field(tmp_path: Path, version: str) -> None:
    """`thread/list` with every source kind and provider: each order, the archived listing,
    pages of five, and every field of every listed thread."""
    recorded = expected(version)
    home = corpus_home(tmp_path, version)
    listings = recorded["list"]
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        runs = {
            "created_at": await listed(store, page_size=100),
            "updated_at": await listed(store, page_size=100, sort_key=ThreadSortKey.UPDATED_AT),
            "created_at_asc": await listed(store, page_size=100, sort_direction=SortDirection.ASC),
            "archived": await listed(store, page_size=100, archived=True),
        }
        paged = await listed(store, page_size=5)
    for name, pages in runs.items():
        threads = [t for page in pages for t in page]
        assert [t["id"] for t in threads] == listings[name]["ids"], name
        if "threads" in listings[name]:
            assert [len(p) for p in pages] == listings[name]["page_sizes"], name
            assert threads == relocated(listings[name]["threads"], home), name
    assert [[t["id"] for t in page] for page in paged] == listings["paged_5"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_reads_match_the_app_server_field_for_field(tmp_path: Path, version: str) -> None:
    """`thread/read` with its turns: the whole `Thread` object, field for field."""
    recorded = expected(version)
    home = corpus_home(tmp_path, version)
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        for thread_id, answers in recorded["threads"].items():
            thread = await store.read_thread(
                ReadThreadParams(thread_id=thread_id, include_archived=True)
            )
            turns = await all_turns(store, thread_id, SortDirection.ASC)
            ours = app_server_thread(thread, turns=turns)
            assert ours == relocated(answers["read"]["thread"], home), thread_id
            assert list(ours) == list(answers["read"]["thread"]), thread_id  # key order
