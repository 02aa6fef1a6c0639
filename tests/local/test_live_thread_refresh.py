"""A refresh never re-reads the rollout of a thread this store is writing: its writer
indexes it as it writes, and re-reading a growing file at every refresh made a long
session's appends quadratic (100,000 items took 150 s instead of 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_thread_store import Conversation, ListThreadsParams, ReadThreadParams
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig, maintenance


async def test_refresh_skips_the_files_of_live_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned: list[str] = []
    real = maintenance.scan_file

    def counting(home: Any, path: Path, **options: Any) -> Any:
        scanned.append(path.name)
        return real(home, path, **options)

    monkeypatch.setattr(maintenance, "scan_file", counting)
    config = LocalThreadStoreConfig(codex_home=tmp_path / "home", refresh_interval_s=0)
    async with LocalThreadStore(config) as store:
        convo = await Conversation.start(store, name="long")
        for n in range(5):
            await convo.append(
                [{"role": "user", "content": f"q{n}"}, {"role": "assistant", "content": f"a{n}"}]
            )
            await store.list_threads(ListThreadsParams())  # a refresh
        assert not [name for name in scanned if convo.thread_id in name]
        thread = await store.read_thread(ReadThreadParams(thread_id=convo.thread_id))
        assert thread.name == "long" and thread.preview == "q0"
        await convo.close()
    # Once the writer is gone, a new store indexes the file like any other.
    async with LocalThreadStore(config) as store:
        page = await store.list_threads(ListThreadsParams())
        assert [t.thread_id for t in page.items] == [convo.thread_id]
