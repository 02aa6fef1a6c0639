"""`RolloutRecorder`: dense ordinals, what each durability mode syncs, and a closed writer
(mutation testing found these untested; see ../shared/test-gaps.md)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from builders import user_message
from codex_thread_store import Conflict
from codex_thread_store.local import recorder as recorder_module
from codex_thread_store.local.recorder import Durability, RolloutRecorder
from codex_thread_store.local.rollout_files import read_rollout

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def recorder(
    tmp_path: Path, durability: Durability = "flush", *, ordinal: int | None = 0
) -> RolloutRecorder:
    return RolloutRecorder(
        tmp_path / "rollout.jsonl",
        materialized=False,
        next_ordinal=ordinal,
        durability=durability,
        max_item_bytes=1 << 20,
    )


def test_a_multi_item_append_gets_dense_distinct_ordinals(tmp_path: Path) -> None:
    rec = recorder(tmp_path, ordinal=7)
    rec.write(rec.encode([user_message("a")], NOW), counts_as_items=False)
    rec.persist()
    rec.write(rec.encode([user_message("b"), user_message("c"), user_message("d")], NOW))
    rec.write(rec.encode([user_message("e")], NOW))
    rec.close(flush=True)

    assert [line.ordinal for line in read_rollout(rec.path).lines] == [7, 8, 9, 10, 11]


class Syncs:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = os.fsync

        def fsync(fd: int) -> None:
            self.count += 1
            real(fd)

        monkeypatch.setattr(recorder_module.os, "fsync", fsync)


@pytest.mark.parametrize(
    ("durability", "on_append", "on_flush"),
    [("os", 0, 0), ("flush", 0, 1), ("append", 1, 1)],
)
def test_each_durability_mode_syncs_what_it_promises(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    durability: Durability,
    on_append: int,
    on_flush: int,
) -> None:
    rec = recorder(tmp_path, durability)
    rec.write(rec.encode([user_message("meta")], NOW), counts_as_items=False)
    rec.persist()
    syncs = Syncs(monkeypatch)

    rec.write(rec.encode([user_message("a")], NOW))
    after_append = syncs.count
    rec.flush()

    assert (after_append, syncs.count - after_append) == (on_append, on_flush)
    rec.close(flush=False)


def test_a_closed_writer_releases_its_file_and_refuses_more_writes(tmp_path: Path) -> None:
    rec = recorder(tmp_path)
    rec.write(rec.encode([user_message("a")], NOW))
    rec.persist()
    fd = rec._fd
    assert fd is not None

    rec.close(flush=True)

    with pytest.raises(OSError):
        os.fstat(fd)  # the descriptor is gone
    with pytest.raises(Conflict, match="closed"):
        rec.write(rec.encode([user_message("b")], NOW))
    assert len(read_rollout(rec.path).lines) == 1
