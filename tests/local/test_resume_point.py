"""Resuming a paginated thread with its history in hand reads only the rollout's tail for
the next ordinal (a long thread's resume used to parse the file twice), and the lines
appended after it carry dense ordinals all the same."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from codex_thread_store import Conversation
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig, rollout_files
from codex_thread_store.local.rollout_files import last_ordinal


def write(path: Path, ordinals: list[int | None], pad: int = 0) -> None:
    lines = []
    for n in ordinals:
        line = {
            "timestamp": "2026-12-02T10:00:00.000Z",
            "type": "event_msg",
            "payload": {"type": "agent_message", "message": "x" * pad},
        }
        if n is not None:
            line["ordinal"] = n
        lines.append(json.dumps(line))
    path.write_text("\n".join(lines) + "\n")


def test_last_ordinal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.jsonl"
    write(path, [0, 1, 2, None])
    assert last_ordinal(path) == 2
    write(path, [None, None])
    assert last_ordinal(path) is None
    assert last_ordinal(tmp_path / "missing.jsonl") is None
    # A window that starts mid-line skips the cut piece and still finds the ordinals.
    write(path, list(range(50)), pad=100)
    monkeypatch.setattr(rollout_files, "_TAIL_BYTES", 1000)
    assert last_ordinal(path) == 49
    # A last line longer than the window: no whole line in it, the caller reads it all.
    write(path, [0, 1], pad=5000)
    assert last_ordinal(path) is None


async def test_appends_after_a_resume_continue_the_ordinals(tmp_path: Path) -> None:
    config = LocalThreadStoreConfig(codex_home=tmp_path / "home", history_mode="paginated")
    async with LocalThreadStore(config) as store:
        convo = await Conversation.start(store)
        await convo.append(
            [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
        )
        await convo.close()
        again = await Conversation.resume(store, convo.thread_id)
        await again.append([{"role": "user", "content": "c"}])
        path = Path(again.live.local_rollout_path() or "")
        await again.close()
    text = await asyncio.to_thread(path.read_text)
    ordinals = [json.loads(raw).get("ordinal") for raw in text.splitlines()]
    assert len(ordinals) > 5
    assert ordinals == list(range(len(ordinals)))
