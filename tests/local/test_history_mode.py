"""Which history mode a thread created without one gets in a Codex home: what that home's
Codex writes (paginated where it keeps its projection database or paginated threads),
legacy otherwise, and whatever `LocalThreadStoreConfig.history_mode` says when it is set."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from builders import tid
from codex_thread_store import CreateThreadParams, InvalidRequest, ReadThreadParams
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "codex-corpus"


async def mode_of_new_thread(home: Path, **config: object) -> str:
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home, **config)) as store:  # type: ignore[arg-type]
        await store.create_thread(CreateThreadParams(thread_id=tid(1)))
        await store.persist_thread(tid(1))
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(1)))
        await store.shutdown_thread(tid(1))
    return thread.history_mode


def state_db(home: Path, *modes: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(home / "state_5.sqlite")
    conn.execute("CREATE TABLE threads (id TEXT PRIMARY KEY, history_mode TEXT)")
    for n, mode in enumerate(modes):
        conn.execute("INSERT INTO threads VALUES (?, ?)", (f"t{n}", mode))
    conn.commit()
    conn.close()


async def test_a_home_no_codex_opened_gets_legacy(tmp_path: Path) -> None:
    assert await mode_of_new_thread(tmp_path) == "legacy"


async def test_a_home_with_codex_projection_database_gets_paginated(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(
        CORPUS / "codex-0.171.0-home", home, ignore=shutil.ignore_patterns("*-shm", "*-wal")
    )
    assert await mode_of_new_thread(home) == "paginated"


async def test_a_state_database_with_paginated_threads_gets_paginated(tmp_path: Path) -> None:
    state_db(tmp_path, "legacy", "paginated")
    assert await mode_of_new_thread(tmp_path) == "paginated"


async def test_an_older_codex_state_database_gets_legacy(tmp_path: Path) -> None:
    state_db(tmp_path, "legacy", "legacy")
    assert await mode_of_new_thread(tmp_path) == "legacy"


@pytest.mark.parametrize("mode", ["legacy", "paginated"])
async def test_the_configured_mode_wins(tmp_path: Path, mode: str) -> None:
    state_db(tmp_path, "paginated" if mode == "legacy" else "legacy")
    assert await mode_of_new_thread(tmp_path, history_mode=mode) == mode


async def test_an_explicit_mode_on_the_thread_wins_over_the_home(tmp_path: Path) -> None:
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=tmp_path)) as store:
        await store.create_thread(CreateThreadParams(thread_id=tid(1), history_mode="paginated"))
        await store.persist_thread(tid(1))
        thread = await store.read_thread(ReadThreadParams(thread_id=tid(1)))
        await store.shutdown_thread(tid(1))
    assert thread.history_mode == "paginated"


def test_an_unknown_configured_mode_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="history_mode"):
        LocalThreadStoreConfig(history_mode="sideways")  # type: ignore[arg-type]
