"""Many processes on one Codex home at once.

- 8 worker processes run for 30 s on one home, each writing its own threads while
  listing, searching and reading everybody's. No process may ever see an exception
  (in particular SQLite's "database is locked"), and at the end every item every
  process acknowledged is there, in order, and the listing counts match.
- Two processes racing for the same thread's writer: exactly one gets `Conflict`.
- Processes opening a brand-new home together all work (the index is created once).

Processes are started together with a pipe barrier: each prints `ready`, the parent
answers `go` to all of them once every one is ready. Nothing waits on a clock.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    CreateThreadParams,
    ListThreadsParams,
    ReadThreadParams,
    RolloutItem,
    SearchThreadsParams,
    ThreadPersistenceMetadata,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

WORKERS = 8
DURATION_S = 30.0
EXIT_TIMEOUT_S = DURATION_S + 300  # a safety net against a hung worker, not a sync point

WORKER = r"""
import asyncio, json, random, sys, time, traceback
from collections import Counter
from pathlib import Path
from codex_thread_store import (
    AppendThreadItemsParams, CreateThreadParams, ListThreadsParams, ListTurnsParams,
    ReadThreadParams, RolloutItem, SearchThreadsParams, SortDirection,
    ThreadMetadataPatch, ThreadPersistenceMetadata, ThreadSortKey,
    UpdateThreadMetadataParams,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

home, worker, duration, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
print("ready", flush=True)
sys.stdin.readline()


def message(text):
    return RolloutItem.event_msg(
        {"type": "user_message", "message": text, "images": None, "local_images": [],
         "text_elements": []}
    )


def markers(items):
    return [i.payload["message"] for i in items
            if i.type == "event_msg" and i.payload_type == "user_message"]


async def main():
    errors, acked, names, ops = [], {}, {}, Counter()
    store = LocalThreadStore(
        LocalThreadStoreConfig(codex_home=Path(home), refresh_interval_s=0.0)
    )
    current, seen = None, []
    deadline = time.monotonic() + duration

    def fail(what, detail):
        errors.append(f"worker {worker} {what}: {detail}")

    async def new_thread():
        params = CreateThreadParams(metadata=ThreadPersistenceMetadata(cwd=f"/w{worker}"))
        await store.create_thread(params)
        await store.persist_thread(params.thread_id)
        acked[params.thread_id] = []
        if rng.random() < 0.5:
            name = f"worker{worker} thread{len(acked)}"
            await store.update_thread_metadata(UpdateThreadMetadataParams(
                thread_id=params.thread_id, patch=ThreadMetadataPatch(name=name)))
            names[params.thread_id] = name
        return params.thread_id

    async def step():
        nonlocal current, seen
        roll = rng.random()
        if current is None or len(acked[current]) >= rng.randint(10, 60):
            if current is not None:
                await store.shutdown_thread(current)
            current = await new_thread()
            ops["create"] += 1
        elif roll < 0.45:
            marker = f"w{worker}t{len(acked)}s{len(acked[current])}"
            await store.append_items(
                AppendThreadItemsParams(thread_id=current, items=[message(marker)]))
            await store.flush_thread(current)
            acked[current].append(marker)
            ops["append"] += 1
        elif roll < 0.65:
            own_before = set(acked)
            key = rng.choice(list(ThreadSortKey))
            direction = rng.choice(list(SortDirection))
            cursor, listed = None, []
            while True:
                page = await store.list_threads(ListThreadsParams(
                    page_size=rng.randint(3, 25), cursor=cursor, sort_key=key,
                    sort_direction=direction))
                listed += [t.thread_id for t in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
            seen = listed
            if key is ThreadSortKey.CREATED_AT:  # immutable key: a walk is exact
                if len(listed) != len(set(listed)):
                    fail("list", f"duplicates in one walk: {len(listed)} rows")
                missing = own_before - set(listed)
                if missing:
                    fail("list", f"own threads missing: {sorted(missing)}")
            ops["list"] += 1
        elif roll < 0.8:
            owned = [t for t in acked if acked[t]]
            if owned:
                target = rng.choice(owned)
                marker = rng.choice(acked[target])
                hits = await store.search_threads(SearchThreadsParams(search_term=marker))
                if [h.thread.thread_id for h in hits.items] != [target]:
                    fail("search", f"{marker} found {[h.thread.thread_id for h in hits.items]}")
            other = rng.randrange(8)
            await store.search_threads(SearchThreadsParams(search_term=f"w{other}t"))
            ops["search"] += 1
        elif roll < 0.95:
            pool = seen or list(acked)
            target = rng.choice(pool)
            thread = await store.read_thread(
                ReadThreadParams(thread_id=target, include_history=True))
            if target in acked:
                got = markers(thread.history.items)
                if got != acked[target]:
                    fail("read", f"{target}: acknowledged {acked[target]}, read {got}")
                if names.get(target) is not None and thread.name != names[target]:
                    fail("read", f"{target}: name {thread.name!r}, set {names[target]!r}")
            ops["read"] += 1
        else:
            pool = seen or list(acked)
            await store.list_turns(ListTurnsParams(thread_id=rng.choice(pool)))
            ops["turns"] += 1

    while time.monotonic() < deadline:
        try:
            await step()
        except Exception as exc:
            fail("exception", "".join(traceback.format_exception(exc))[-1500:])
            if len(errors) > 20:
                break
    try:
        if current is not None:
            await store.shutdown_thread(current)
        await store.aclose()
    except Exception as exc:
        fail("close", repr(exc))
    print(json.dumps({"errors": errors, "acked": acked, "names": names, "ops": ops}))


asyncio.run(main())
"""


def start_together(argvs: Sequence[list[str]], tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    """Start processes that print `ready`, then release them all at once with `go`."""
    procs = []
    for n, argv in enumerate(argvs):
        with (tmp_path / f"proc-{n}.err").open("wb") as err:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", *argv],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                )
            )
    for n, proc in enumerate(procs):
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == b"ready\n", f"process {n} did not start: {line!r}\n" + stderr_of(tmp_path, n)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    return procs


def stderr_of(tmp_path: Path, n: int) -> str:
    return (tmp_path / f"proc-{n}.err").read_text(errors="replace")[-3000:]


def finish(procs: list[subprocess.Popen[bytes]], tmp_path: Path) -> list[str]:
    outs = []
    for n, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=EXIT_TIMEOUT_S)
        assert proc.returncode == 0, f"process {n} exited {proc.returncode}\n" + stderr_of(
            tmp_path, n
        )
        outs.append(out.decode())
    return outs


async def initialise(home: Path) -> None:
    """Create the index once, as a first `codex-threads` run would."""
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        await store.list_threads(ListThreadsParams())


def history_markers(items: list[RolloutItem]) -> list[str]:
    return [
        i.payload["message"]
        for i in items
        if i.type == "event_msg" and i.payload_type == "user_message"
    ]


# -- eight processes, thirty seconds ------------------------------------------------------
async def check_home(home: Path, acked: dict[str, list[str]], names: dict[str, str]) -> None:
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        listed: list[str] = []
        cursor = None
        while True:
            page = await store.list_threads(ListThreadsParams(page_size=37, cursor=cursor))
            listed += [t.thread_id for t in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(listed) == len(set(listed)) == len(acked)
        assert set(listed) == set(acked)
        for thread_id, expected in acked.items():
            thread = await store.read_thread(
                ReadThreadParams(thread_id=thread_id, include_history=True)
            )
            assert thread.history is not None
            assert history_markers(thread.history.items) == expected, thread_id
            assert thread.name == names.get(thread_id), thread_id
        sample = random.Random(0).sample(sorted(acked), min(10, len(acked)))
        for thread_id in sample:
            if acked[thread_id]:
                hits = await store.search_threads(
                    SearchThreadsParams(search_term=acked[thread_id][-1])
                )
                assert [h.thread.thread_id for h in hits.items] == [thread_id]


def test_eight_processes_for_thirty_seconds_on_one_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    asyncio.run(initialise(home))
    seed = random.randrange(2**32)
    argvs = [[WORKER, str(home), str(n), str(DURATION_S), str(seed + n)] for n in range(WORKERS)]
    results = [json.loads(out) for out in finish(start_together(argvs, tmp_path), tmp_path)]

    errors = [e for r in results for e in r["errors"]]
    assert not [e for e in errors if "locked" in e], errors
    assert errors == []
    acked: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for result in results:
        assert not set(result["acked"]) & set(acked), "two workers wrote one thread"
        acked.update(result["acked"])
        names.update(result["names"])
        # Every worker did real work of every kind.
        assert {"create", "append", "list", "search", "read"} <= set(result["ops"]), result
    assert sum(len(v) for v in acked.values()) >= WORKERS
    asyncio.run(check_home(home, acked, names))


# -- two writers, one thread --------------------------------------------------------------
CONTENDER = r"""
import asyncio, sys
from pathlib import Path
from codex_thread_store import (
    AppendThreadItemsParams, Conflict, CreateThreadParams, ResumeThreadParams, RolloutItem,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

home, thread_id, how, label = sys.argv[1:5]
print("ready", flush=True)
sys.stdin.readline()


async def main():
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=Path(home))) as store:
        try:
            if how == "create":
                await store.create_thread(CreateThreadParams(thread_id=thread_id))
                await store.persist_thread(thread_id)
            else:
                await store.resume_thread(ResumeThreadParams(thread_id=thread_id))
        except Conflict:
            print("conflict", flush=True)
            sys.stdin.readline()
            return
        except Exception as exc:
            print("error " + repr(exc).replace("\n", " "), flush=True)
            sys.stdin.readline()
            return
        print("ok", flush=True)
        sys.stdin.readline()  # hold the writer until the other side has answered
        item = RolloutItem.event_msg(
            {"type": "user_message", "message": label, "images": None, "local_images": [],
             "text_elements": []}
        )
        await store.append_items(AppendThreadItemsParams(thread_id=thread_id, items=[item]))
        await store.shutdown_thread(thread_id)


asyncio.run(main())
"""


async def seed_thread(home: Path, thread_id: str) -> None:
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        await store.create_thread(
            CreateThreadParams(thread_id=thread_id, metadata=ThreadPersistenceMetadata(cwd="/w"))
        )
        await store.persist_thread(thread_id)
        await store.append_items(
            AppendThreadItemsParams(thread_id=thread_id, items=[user_message("seed")])
        )
        await store.shutdown_thread(thread_id)


async def read_markers(home: Path, thread_id: str) -> list[str]:
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
        thread = await store.read_thread(
            ReadThreadParams(thread_id=thread_id, include_history=True)
        )
    assert thread.history is not None
    return history_markers(thread.history.items)


@pytest.mark.parametrize("how", ["resume", "create"])
def test_two_processes_writing_one_thread_exactly_one_gets_conflict(
    tmp_path: Path, how: str
) -> None:
    home = tmp_path / "home"
    asyncio.run(initialise(home))
    expected: dict[str, list[str]] = {}
    for round_ in range(5):
        thread_id = tid(0x100 + round_)
        if how == "resume":
            asyncio.run(seed_thread(home, thread_id))
            expected[thread_id] = ["seed"]
        else:
            expected[thread_id] = []
        argvs = [[CONTENDER, str(home), thread_id, how, f"r{round_}-{n}"] for n in range(2)]
        procs = start_together(argvs, tmp_path)
        answers = []
        for proc in procs:
            assert proc.stdout is not None
            answers.append(proc.stdout.readline().decode().strip())
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"done\n")
            proc.stdin.flush()
        finish(procs, tmp_path)
        assert sorted(answers) == ["conflict", "ok"], (round_, answers)
        winner = f"r{round_}-{answers.index('ok')}"
        expected[thread_id].append(winner)
        for earlier, markers in expected.items():  # only the winner wrote, nothing else moved
            assert asyncio.run(read_markers(home, earlier)) == markers


# -- a brand-new home opened by many processes at once -----------------------------------
OPENER = r"""
import asyncio, json, sys, traceback
from pathlib import Path
from codex_thread_store import (
    AppendThreadItemsParams, CreateThreadParams, ListThreadsParams, RolloutItem,
    ThreadMetadataPatch, UpdateThreadMetadataParams,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

home, thread_id = sys.argv[1:3]
print("ready", flush=True)
sys.stdin.readline()


def error(exc):
    return "error " + traceback.format_exception(exc)[-1].strip()


async def main():
    store = LocalThreadStore(LocalThreadStoreConfig(codex_home=Path(home)))
    try:
        await store.create_thread(CreateThreadParams(thread_id=thread_id))
        await store.persist_thread(thread_id)
        item = RolloutItem.event_msg(
            {"type": "user_message", "message": "hello " + thread_id[-4:], "images": None,
             "local_images": [], "text_elements": []}
        )
        await store.append_items(AppendThreadItemsParams(thread_id=thread_id, items=[item]))
        await store.shutdown_thread(thread_id)
        # An explicit patch lives only in the shared index (and our journal).
        await store.update_thread_metadata(UpdateThreadMetadataParams(
            thread_id=thread_id, patch=ThreadMetadataPatch(preview="preview " + thread_id)))
        print("done", flush=True)
    except Exception as exc:
        print(error(exc), flush=True)
    sys.stdin.readline()  # every process has written (or failed): look at everybody's
    try:
        page = await store.list_threads(ListThreadsParams(page_size=100))
        print(json.dumps({t.thread_id: t.preview for t in page.items}), flush=True)
    except Exception as exc:
        print(error(exc), flush=True)
    try:
        await store.aclose()
    except Exception as exc:
        print(error(exc), flush=True)


asyncio.run(main())
"""


def test_processes_opening_a_brand_new_home_together_all_succeed(tmp_path: Path) -> None:
    """The first open creates the index. When several processes do it at the same time,
    none may fail, none may move aside an index another one is creating or using, and
    what each one writes to the index is seen by all the others."""
    for round_ in range(3):
        home = tmp_path / f"home-{round_}"
        home.mkdir()
        ids = [tid(0x200 + 16 * round_ + n) for n in range(WORKERS)]
        procs = start_together([[OPENER, str(home), i] for i in ids], tmp_path)
        answers = []
        for proc in procs:
            assert proc.stdout is not None
            answers.append(proc.stdout.readline().decode().strip())
        for proc in procs:  # second barrier: everybody has written (or failed)
            assert proc.stdin is not None
            proc.stdin.write(b"check\n")
            proc.stdin.flush()
        views = [out.strip() for out in finish(procs, tmp_path)]
        assert answers == ["done"] * WORKERS, (round_, answers)
        expected = {i: f"preview {i}" for i in ids}
        for n, view in enumerate(views):
            assert not view.startswith("error"), (round_, n, view)
            assert json.loads(view) == expected, (round_, n, view)
        state = home / "codex-thread-store"
        moved = sorted(
            p.name for p in state.iterdir() if ".old-" in p.name or ".corrupt-" in p.name
        )
        assert moved == [], (round_, moved)

        async def previews(home: Path = home) -> dict[str, str]:
            async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
                page = await store.list_threads(ListThreadsParams(page_size=100))
            return {t.thread_id: t.preview for t in page.items}

        assert asyncio.run(previews()) == expected


# -- the race behind lost search text, replayed deterministically ------------------------
async def test_a_refresh_racing_an_append_never_loses_acknowledged_search_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two stores on one home, as two processes would be. The reader's refresh reads the
    writer's rollout; before the reader writes back what it read, the writer appends and
    flushes "charlie"; later the writer appends and flushes again. Every acknowledged
    word must stay searchable (the eight-process test hits this interleaving by chance).

    The interleaving is forced by pausing the reader inside its read of the rollout
    (`codex_thread_store.local.scan.read_rollout`, which the refresh's `scan_file` uses).
    """
    from codex_thread_store.local import scan as scan_module

    home = tmp_path / "home"
    writer = LocalThreadStore(LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0.0))
    reader = LocalThreadStore(LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0.0))
    thread_id = tid(0x300)

    async def append(word: str) -> None:
        await writer.append_items(
            AppendThreadItemsParams(thread_id=thread_id, items=[user_message(word)])
        )
        await writer.flush_thread(thread_id)

    try:
        await writer.create_thread(CreateThreadParams(thread_id=thread_id))
        await writer.persist_thread(thread_id)
        await append("alpha")
        await reader.list_threads(ListThreadsParams())
        await writer.append_items(  # on disk, not yet flushed: the reader will rescan
            AppendThreadItemsParams(thread_id=thread_id, items=[user_message("bravo")])
        )
        rollout = writer.rollout_path_of(thread_id)
        assert rollout is not None

        loop = asyncio.get_running_loop()
        real_read = scan_module.read_rollout
        fired: list[bool] = []

        def read_then_let_the_writer_go_on(path: Path) -> object:
            result = real_read(path)  # the reader has read the file as it is now
            if str(path) == rollout and not fired:
                fired.append(True)
                asyncio.run_coroutine_threadsafe(append("charlie"), loop).result()
            return result

        monkeypatch.setattr(scan_module, "read_rollout", read_then_let_the_writer_go_on)
        await reader.list_threads(ListThreadsParams())
        monkeypatch.undo()
        assert fired, "the reader did not rescan the rollout"
        await append("delta")

        for store in (writer, reader):
            for word in ("alpha", "bravo", "charlie", "delta"):
                hits = await store.search_threads(SearchThreadsParams(search_term=word))
                assert [h.thread.thread_id for h in hits.items] == [thread_id], word
        await writer.shutdown_thread(thread_id)
    finally:
        await writer.aclose()
        await reader.aclose()
