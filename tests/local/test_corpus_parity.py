"""The real Codex homes in ../shared/codex-corpus (0.169.0 and 0.171.0), read here and
compared with what each version's app-server answered (`codex-<version>-expected.json`):
every turn and every typed item field, in Codex's key order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from codex_thread_store import ListTurnsParams, SortDirection, TurnItemsView
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
    return home


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
