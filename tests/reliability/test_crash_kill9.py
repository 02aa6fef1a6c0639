"""kill -9 a writer at random points: every acknowledged item survives, in order, once.

Each iteration starts a child Python process that opens a `LocalThreadStore` on one
shared home, creates (first time) or resumes one of a few threads, and appends items in
a loop, printing `ack <marker>` after each successful `flush_thread`. The parent reads
the pipe until it has seen a random number of acknowledgements, then SIGKILLs the
child: in half the iterations at once, in the other half once the child reports that a
"bomb" (one 8 MiB write) is under way in the kernel, so the kill tears a line exactly
as a crash mid-write does. Then a fresh store in the parent must show that:

- the home opens (index intact, or rebuilt) and lists every thread created so far;
- the thread's history holds every acknowledged item, in order, with no duplicates,
  no holes and no glued or damaged lines (a torn *final* line is allowed: it is a
  write the kill cut short, never acknowledged);
- the thread can be resumed and appended to, and the new line starts cleanly.

Set `CRASH_SEED` to replay a run; the seed is in every failure message.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    ListThreadsParams,
    ReadThreadParams,
    ResumeThreadParams,
    RolloutItem,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig
from codex_thread_store.local.rollout_files import read_rollout

ITERATIONS = 100
THREADS = 4
MAX_ACKS = 12
BIG_SIZES = (3_000, 70_000, 300_000)  # multi-page writes can be cut short by SIGKILL
BOMB = (8, 1 << 20)  # 8 lines of 1 MiB in one write, killed while the kernel copies it

CHILD = r"""
import asyncio, os, random, sys, threading
from pathlib import Path
from codex_thread_store import (
    AppendThreadItemsParams, CreateThreadParams, ResumeThreadParams, RolloutItem,
    ThreadPersistenceMetadata,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

home, thread_id, tag, mode, seed, durability = sys.argv[1:7]
sizes = [int(s) for s in sys.argv[7].split(",")]
bomb_at, bomb_items, bomb_size = (int(s) for s in sys.argv[8].split(","))
rng = random.Random(int(seed))
out = sys.stdout
real_write = os.write


def announcing_write(fd, data):
    # Tell the parent once a multi-megabyte write is under way (the file has started to
    # grow but the call has not returned), so its SIGKILL lands while the kernel is still
    # copying: a torn line, as in a real crash.
    if len(data) < 1 << 20:
        return real_write(fd, data)
    before = os.fstat(fd).st_size
    done = threading.Event()

    def watch():
        while not done.is_set() and os.fstat(fd).st_size == before:
            pass
        out.write("writing\n")
        out.flush()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return real_write(fd, data)
    finally:
        done.set()
        watcher.join()


os.write = announcing_write


def big_output(marker, size):
    unit = "<" + marker + ">"
    return (unit * (size // len(unit) + 1))[:size]


async def main():
    store = LocalThreadStore(
        LocalThreadStoreConfig(codex_home=Path(home), durability=durability)
    )
    if mode == "create":
        await store.create_thread(
            CreateThreadParams(
                thread_id=thread_id, metadata=ThreadPersistenceMetadata(cwd="/crash")
            )
        )
        await store.persist_thread(thread_id)
    else:
        await store.resume_thread(ResumeThreadParams(thread_id=thread_id))
    out.write("ready\n")
    out.flush()
    seq = 0
    while True:
        marker = f"{tag}-{seq}"
        items = [
            RolloutItem.event_msg(
                {"type": "user_message", "message": marker, "images": None,
                 "local_images": [], "text_elements": []}
            )
        ]
        if seq == bomb_at:
            outputs = [(n, bomb_size) for n in range(bomb_items)]
        elif rng.random() < 0.35:
            outputs = [(0, rng.choice(sizes))]
        else:
            outputs = []
        for n, size in outputs:
            items.append(
                RolloutItem.response_item(
                    {"type": "function_call_output", "call_id": f"{marker}:{size}:{n}",
                     "output": big_output(marker, size)}
                )
            )
        await store.append_items(AppendThreadItemsParams(thread_id=thread_id, items=items))
        await store.flush_thread(thread_id)
        out.write(f"ack {marker}\n")
        out.flush()
        seq += 1


asyncio.run(main())
"""


def big_output(marker: str, size: int) -> str:
    unit = "<" + marker + ">"
    return (unit * (size // len(unit) + 1))[:size]


def message_of(item: RolloutItem) -> str | None:
    if item.type == "event_msg" and item.payload_type == "user_message":
        message = item.payload.get("message")
        return message if isinstance(message, str) else None
    return None


class Crasher:
    def __init__(self, tmp_path: Path, seed: int) -> None:
        self.tmp_path = tmp_path
        self.home = tmp_path / "home"
        self.seed = seed
        self.rng = random.Random(seed)
        self.thread_ids = [tid(0xC0 + n) for n in range(THREADS)]
        self.known: dict[str, list[str]] = {t: [] for t in self.thread_ids}
        self.created: list[str] = []
        self.torn_tails = 0
        self.bombs = 0

    def run_and_kill(self, i: int, thread_id: str, mode: str, target: int) -> list[str]:
        """Start a writer, read `target` acknowledgements off its pipe, SIGKILL it.

        Half the kills land right after an acknowledgement; the other half right after
        the child announces that a bomb (one multi-megabyte write) entered the kernel.
        """
        err_path = self.tmp_path / f"child-{i}.err"
        durability = self.rng.choice(["os", "flush"])
        bomb = self.rng.random() < 0.5
        argv = [
            sys.executable,
            "-c",
            CHILD,
            str(self.home),
            thread_id,
            f"c{i}",
            mode,
            str(self.rng.randrange(2**32)),
            durability,
            ",".join(map(str, BIG_SIZES)),
            ",".join(map(str, (target if bomb else -1, *BOMB))),
        ]
        with err_path.open("wb") as err:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err
            )
        assert proc.stdout is not None
        acked: list[str] = []
        try:
            first = proc.stdout.readline()
            assert first == b"ready\n", self.why(i, f"child did not start: {first!r}", err_path)
            while len(acked) < target:
                line = proc.stdout.readline()
                assert line.startswith(b"ack "), self.why(i, f"child died: {line!r}", err_path)
                acked.append(line[4:].decode().strip())
            if bomb:
                line = proc.stdout.readline()
                assert line == b"writing\n", self.why(i, f"no bomb: {line!r}", err_path)
                self.bombs += 1
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL, self.why(
            i, f"child exited by itself ({proc.returncode})", err_path
        )
        return acked

    def why(self, i: int, text: str, err_path: Path | None = None) -> str:
        stderr = err_path.read_text(errors="replace")[-3000:] if err_path else ""
        return f"CRASH_SEED={self.seed} iteration {i}: {text}\n{stderr}"

    async def verify(self, i: int, thread_id: str, acked: list[str]) -> None:
        tag = f"c{i}"
        prev = self.known[thread_id]
        async with LocalThreadStore(LocalThreadStoreConfig(codex_home=self.home)) as store:
            page = await store.list_threads(ListThreadsParams(page_size=100))
            assert sorted(t.thread_id for t in page.items) == sorted(self.created), self.why(
                i, "listing lost or invented threads"
            )
            thread = await store.read_thread(
                ReadThreadParams(thread_id=thread_id, include_history=True)
            )
            assert thread.rollout_path is not None and thread.history is not None
            path = Path(thread.rollout_path)
            raw = read_rollout(path)
            assert raw.malformed == 0, self.why(i, f"{raw.malformed} damaged or glued lines")
            self.torn_tails += raw.torn_tail

            items = thread.history.items
            metas = [n for n, item in enumerate(items) if item.type == "session_meta"]
            assert metas == [0], self.why(i, f"session_meta at {metas}")
            assert items[0].payload["id"] == thread_id
            markers = [m for m in map(message_of, items) if m is not None]
            assert markers[: len(prev)] == prev, self.why(i, "earlier history changed")
            new = markers[len(prev) :]
            assert new == [f"{tag}-{n}" for n in range(len(new))], self.why(
                i, f"items out of order, duplicated or missing: {new}"
            )
            assert new[: len(acked)] == acked, self.why(
                i, f"acknowledged {acked}, history has {new}"
            )
            current = None  # outputs follow the user message of their own batch
            for item in items:
                current = message_of(item) or current
                if item.type == "response_item" and item.payload_type == "function_call_output":
                    marker, size, _ = item.payload["call_id"].split(":")
                    assert marker == current, self.why(i, f"output of {marker} after {current}")
                    assert item.payload["output"] == big_output(marker, int(size)), self.why(
                        i, f"output of {marker} damaged"
                    )

            # The crashed thread resumes, and the new line is never glued to a fragment.
            own = f"p{i}"
            await store.resume_thread(ResumeThreadParams(thread_id=thread_id))
            await store.append_items(
                AppendThreadItemsParams(thread_id=thread_id, items=[user_message(own)])
            )
            await store.shutdown_thread(thread_id)
            after = await store.read_thread(
                ReadThreadParams(thread_id=thread_id, include_history=True)
            )
            assert after.history is not None
            now = [m for m in map(message_of, after.history.items) if m is not None]
            assert now == [*markers, own], self.why(i, "append after the crash went wrong")
            raw = read_rollout(path)
            assert raw.malformed == 0 and not raw.torn_tail, self.why(i, "append glued a line")
        self.known[thread_id] = now


def test_kill9_never_loses_or_duplicates_an_acknowledged_item(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(2**32)))
    crasher = Crasher(tmp_path, seed)
    with asyncio.Runner() as runner:
        for i in range(ITERATIONS):
            thread_id = crasher.thread_ids[i % THREADS]
            mode = "resume" if thread_id in crasher.created else "create"
            target = crasher.rng.randint(0, MAX_ACKS)
            acked = crasher.run_and_kill(i, thread_id, mode, target)
            if mode == "create":
                crasher.created.append(thread_id)
            runner.run(crasher.verify(i, thread_id, acked))
    total = sum(len(v) for v in crasher.known.values())
    assert total >= ITERATIONS  # at least the parent's own line per iteration
    # The run really exercised crashes mid-write (torn final lines), not only kills
    # between writes.
    assert crasher.bombs > 0 and crasher.torn_tails > 0, (crasher.bombs, crasher.torn_tails)
