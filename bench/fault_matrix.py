"""The fault matrix: every fault the store is hardened against, tried many times.

    python bench/fault_matrix.py                 # 50 trials per fault (under a minute)
    python bench/fault_matrix.py --trials 200    # more of each
    python bench/fault_matrix.py --markdown out.md

For each fault it prints the trials, the items the store acknowledged, and how many of
those were then lost, duplicated or unreadable, and how many trials left the home
wedged (a list, search, read or reindex that failed). Every count but the first two
must be zero. Faults that need a real second file system, a real full disk or a
read-only mount run only as root (as CI does); otherwise they are reported as skipped.

What "acknowledged" means: `append_items` returned (for faults inside a live writer),
or `flush_thread` returned (for kill -9, where only a durable item counts). A caller
that got an error retries the same items, as an agent would: a duplicate would show.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from codex_thread_store import (  # noqa: E402
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    DeleteThreadParams,
    ListThreadsParams,
    LoadThreadHistoryParams,
    PermissionDenied,
    ReadThreadParams,
    ResumeThreadParams,
    RolloutItem,
    SearchThreadsParams,
    ThreadMetadataPatch,
    ThreadPersistenceMetadata,
    ThreadStoreError,
    Unavailable,
    UpdateThreadMetadataParams,
)
from codex_thread_store.local import (  # noqa: E402  # noqa: E402
    LocalThreadStore,
    LocalThreadStoreConfig,
    index,
    moves,
    rollout_files,
)
from codex_thread_store.local.rollout_files import read_rollout  # noqa: E402

THREAD = "01a23600-0000-7000-8000-00000000f001"


@dataclass
class Row:
    fault: str
    trials: int = 0
    acknowledged: int = 0
    lost: int = 0
    duplicated: int = 0
    unreadable: int = 0
    wedged: int = 0
    note: str = ""
    skipped: str | None = None

    def cells(self) -> list[str]:
        if self.skipped:
            return [self.fault, "skipped", "", "", "", "", "", self.skipped]
        return [
            self.fault,
            str(self.trials),
            str(self.acknowledged),
            str(self.lost),
            str(self.duplicated),
            str(self.unreadable),
            str(self.wedged),
            self.note,
        ]


@dataclass
class Tally:
    """What one trial acknowledged, and what the home shows afterwards."""

    acknowledged: list[str] = field(default_factory=list)


def store_at(home: Path, **options: object) -> LocalThreadStore:
    return LocalThreadStore(
        LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0.0, **options)
    )  # type: ignore[arg-type]


def message(text: str, size: int = 0) -> RolloutItem:
    return RolloutItem.event_msg(
        {"type": "user_message", "message": text + "x" * size, "images": None, "local_images": []}
    )


async def new_thread(store: LocalThreadStore, thread_id: str = THREAD) -> None:
    await store.create_thread(
        CreateThreadParams(thread_id=thread_id, metadata=ThreadPersistenceMetadata(cwd="/f"))
    )
    for attempt in range(10):  # the first write may meet the fault too: retried
        try:
            await store.persist_thread(thread_id)
            return
        except ThreadStoreError:
            if attempt == 9:
                raise


async def check_home(
    home: Path,
    row: Row,
    acknowledged: list[str],
    thread_id: str = THREAD,
    *,
    torn_tail_allowed: bool = False,
) -> None:
    """Reopen the home and count what the acknowledged items became (an unterminated last
    line is a write never acknowledged, when a kill may have cut it short)."""
    try:
        async with store_at(home) as store:
            page = await store.list_threads(ListThreadsParams(page_size=100, archived=False))
            archived = await store.list_threads(ListThreadsParams(page_size=100, archived=True))
            await store.search_threads(SearchThreadsParams(search_term="item"))
            known = {t.thread_id for t in [*page.items, *archived.items]}
            found: list[str] = []
            if thread_id in known:
                history = await store.load_history(
                    LoadThreadHistoryParams(thread_id=thread_id, include_archived=True)
                )
                found = [
                    str(i.payload["message"]).rstrip("x")
                    for i in history.items
                    if i.type == "event_msg" and i.payload_type == "user_message"
                ]
                thread = await store.read_thread(
                    ReadThreadParams(thread_id=thread_id, include_archived=True)
                )
                if thread.rollout_path:
                    result = read_rollout(Path(thread.rollout_path))
                    torn = result.torn_tail and not torn_tail_allowed
                    row.unreadable += result.malformed + (1 if torn else 0)
    except ThreadStoreError:
        row.wedged += 1
        return
    row.acknowledged += len(acknowledged)
    row.lost += len(set(acknowledged) - set(found))
    row.duplicated += len(found) - len(set(found))


# -- faults inside the writer -------------------------------------------------------------


class FaultyWrites:
    """The rollout appender's `os.write`: a failing call writes part of its buffer, then
    raises `code` (as a disk that fills mid-line does)."""

    def __init__(self, rng: random.Random, code: int, rate: float) -> None:
        self.rng, self.code, self.rate = rng, code, rate
        self.real = os.write
        self.broken = False

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        if self.broken:
            self.broken = False
            raise OSError(self.code, os.strerror(self.code))
        if len(data) > 1 and self.rng.random() < self.rate:
            self.broken = True  # this call writes a part; the next one fails
            return self.real(fd, bytes(data[: self.rng.randrange(1, len(data))]))
        return self.real(fd, data)


async def injected_write_errors(work: Path, trials: int, code: int) -> Row:
    row = Row(f"write fails mid-line ({errno.errorcode[code]})")
    for trial in range(trials):
        rng = random.Random(trial)
        home = work / f"inj-{code}-{trial}"
        faults = FaultyWrites(rng, code, 0.3)
        acknowledged: list[str] = []
        rollout_files.os.write = faults  # type: ignore[attr-defined]
        try:
            async with store_at(home) as store:
                await new_thread(store)
                for n in range(30):
                    text = f"item-{n}"
                    for _attempt in range(10):  # the caller retries, as an agent would
                        try:
                            await store.append_items(
                                AppendThreadItemsParams(
                                    thread_id=THREAD, items=[message(text, rng.randrange(5000))]
                                )
                            )
                            acknowledged.append(text)
                            break
                        except ThreadStoreError:
                            continue
                await store.shutdown_thread(THREAD)
        finally:
            rollout_files.os.write = faults.real  # type: ignore[attr-defined]
        row.trials += 1
        await check_home(home, row, acknowledged)
    return row


async def index_failures(work: Path, trials: int) -> Row:
    row = Row("index fails after the lines are durable")
    real = index.append_body
    for trial in range(trials):
        rng = random.Random(trial)
        home = work / f"idx-{trial}"

        def flaky(
            conn: sqlite3.Connection, thread_id: str, text: str, rng: random.Random = rng
        ) -> None:
            if rng.random() < 0.5:
                error = sqlite3.OperationalError("database or disk is full")
                error.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
                raise error
            real(conn, thread_id, text)

        acknowledged: list[str] = []
        index.append_body = flaky  # type: ignore[assignment]
        try:
            async with store_at(home) as store:
                await new_thread(store)
                for n in range(20):
                    await store.append_items(
                        AppendThreadItemsParams(thread_id=THREAD, items=[message(f"item-{n}")])
                    )
                    acknowledged.append(f"item-{n}")
                    await store.flush_thread(THREAD)  # never fails for the index's sake
                await store.shutdown_thread(THREAD)
        except ThreadStoreError:
            row.wedged += 1
        finally:
            index.append_body = real  # type: ignore[assignment]
        row.trials += 1
        await check_home(home, row, acknowledged)
    return row


# -- real faults (root) ------------------------------------------------------------------


def start(argv: list[str], **options: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, **options)  # type: ignore[call-overload,no-any-return]


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)


def umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / f"filler-{random.random()}"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 16, 1 << 12, 1 << 8, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


async def full_disk(work: Path, trials: int) -> Row:
    row = Row("disk full (a real tmpfs)")
    if os.geteuid() != 0:
        row.skipped = "needs root"
        return row
    for trial in range(trials):
        rng = random.Random(trial)
        disk = work / f"disk-{trial}"
        mount_tmpfs(disk, "4m")
        try:
            home = disk / "home"
            acknowledged: list[str] = []
            async with store_at(home) as store:
                await new_thread(store)
                fillers = [fill(disk)]
                for n in range(60):
                    text = f"item-{n}"
                    try:
                        await store.append_items(
                            AppendThreadItemsParams(
                                thread_id=THREAD, items=[message(text, rng.randrange(6000))]
                            )
                        )
                        acknowledged.append(text)
                    except ThreadStoreError:
                        if rng.random() < 0.3:  # some space comes back
                            os.truncate(fillers[0], max(fillers[0].stat().st_size - 20000, 0))
                for filler in fillers:
                    filler.unlink()
                await store.shutdown_thread(THREAD)
            row.trials += 1
            await check_home(home, row, acknowledged)
        finally:
            umount(disk)
    return row


KILL_CHILD = r"""
import asyncio, sys
from pathlib import Path
from codex_thread_store import (
    AppendThreadItemsParams, CreateThreadParams, ResumeThreadParams, RolloutItem,
    ThreadPersistenceMetadata,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig
home, thread_id, tag, create = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
async def main():
    store = LocalThreadStore(LocalThreadStoreConfig(codex_home=Path(home)))
    if create:
        meta = ThreadPersistenceMetadata(cwd="/k")
        await store.create_thread(CreateThreadParams(thread_id=thread_id, metadata=meta))
        await store.persist_thread(thread_id)
    else:
        await store.resume_thread(ResumeThreadParams(thread_id=thread_id))
    n = 0
    while True:
        text = f"item-{tag}-{n}"
        payload = {"type": "user_message", "message": text + "x" * (n * 997 % 200000),
                   "images": None, "local_images": []}
        item = RolloutItem.event_msg(payload)
        await store.append_items(AppendThreadItemsParams(thread_id=thread_id, items=[item]))
        await store.flush_thread(thread_id)
        print("ack", text, flush=True)
        n += 1
asyncio.run(main())
"""


async def kill_writers(work: Path, trials: int) -> Row:
    row = Row("kill -9 of a writer mid-append")
    home = work / "kill"
    acknowledged: list[str] = []
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for trial in range(trials):
        proc = start(
            [
                sys.executable,
                "-c",
                KILL_CHILD,
                str(home),
                THREAD,
                str(trial),
                "1" if trial == 0 else "0",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert proc.stdout is not None
        for _ in range(rng.randrange(1, 8)):
            line = proc.stdout.readline().decode().split()
            if len(line) == 2:
                acknowledged.append(line[1])
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        row.trials += 1
    await check_home(home, row, acknowledged, torn_tail_allowed=True)
    row.note = "one shared thread; a torn last line is a write never acknowledged"
    return row


class Killed(BaseException):
    pass


async def cross_device_moves(work: Path, trials: int) -> Row:
    row = Row("kill mid-archive across file systems")
    if os.geteuid() != 0:
        row.skipped = "needs root"
        return row
    for trial in range(trials):
        rng = random.Random(trial)
        disk = work / f"xdev-{trial}"
        mount_tmpfs(disk, "8m")
        try:
            home = work / f"xdev-home-{trial}"
            home.mkdir()
            (disk / "sessions").mkdir()
            (home / "sessions").symlink_to(disk / "sessions", target_is_directory=True)
            acknowledged = [f"item-{n}" for n in range(5)]
            async with store_at(home) as store:
                await new_thread(store)
                for text in acknowledged:
                    await store.append_items(
                        AppendThreadItemsParams(thread_id=THREAD, items=[message(text)])
                    )
                await store.shutdown_thread(THREAD)
            step = rng.choice(["copy", "rename", "unlink"])
            real = {
                "copyfile": moves.shutil.copyfile,
                "rename": moves.os.rename,
                "unlink": moves.os.unlink,
            }

            def crash(
                name: str, step: str = step, real: dict[str, Any] = real
            ) -> Callable[..., object]:
                target = {"copy": "copyfile", "rename": "rename", "unlink": "unlink"}[step]

                def wrapped(*args: object, **kwargs: object) -> object:
                    if name == target and (name != "rename" or ".move.tmp" in str(args[0])):
                        raise Killed
                    return real[name](*args, **kwargs)

                return wrapped

            moves.shutil.copyfile = crash("copyfile")  # type: ignore[assignment]
            moves.os.rename = crash("rename")  # type: ignore[assignment]
            moves.os.unlink = crash("unlink")  # type: ignore[assignment]
            try:
                async with store_at(home) as store:
                    await store.archive_thread(ArchiveThreadParams(thread_id=THREAD))
            except Killed:
                pass
            finally:
                moves.shutil.copyfile = real["copyfile"]  # type: ignore[assignment]
                moves.os.rename = real["rename"]  # type: ignore[assignment]
                moves.os.unlink = real["unlink"]  # type: ignore[assignment]
            row.trials += 1
            await check_home(home, row, acknowledged)
            copies = [
                *(home / "archived_sessions").glob("rollout-*"),
                *(disk / "sessions").rglob("rollout-*"),
            ]
            if len(copies) != 1:
                row.duplicated += 1  # two copies of the rollout, or none
            row.note = "crash before the copy, before its rename or before the source goes"
        finally:
            umount(disk)
    return row


# -- wedges -------------------------------------------------------------------------------


async def seeded_home(home: Path, threads: int = 4) -> list[str]:
    texts = []
    async with store_at(home) as store:
        for n in range(threads):
            thread_id = f"01a23600-0000-7000-8000-{n:012x}"
            await new_thread(store, thread_id)
            await store.append_items(
                AppendThreadItemsParams(thread_id=thread_id, items=[message(f"item-{n}")])
            )
            await store.shutdown_thread(thread_id)
            texts.append(f"item-{n}")
    return texts


async def commands_work(home: Path, threads: int) -> bool:
    try:
        async with store_at(home) as store:
            page = await store.list_threads(ListThreadsParams(page_size=100))
            await store.search_threads(SearchThreadsParams(search_term="item"))
            for thread in page.items:
                await store.read_thread(ReadThreadParams(thread_id=thread.thread_id))
            await store.reindex()
            return len(page.items) == threads
    except ThreadStoreError:
        return False


def damage_index(home: Path, rng: random.Random) -> None:
    path = LocalThreadStoreConfig(codex_home=home).index_path
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    for _ in range(300):
        data[rng.randrange(len(data) // 3, len(data))] = rng.randrange(256)
    path.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path, random.Random], None]] = {
    "index pages damaged": damage_index,
    "a line nested 1,000 deep": lambda home, rng: _append(
        home,
        rng,
        '{"timestamp":"2026-01-01T00:00:00Z","type":"x","payload":'
        + "[" * 1000
        + "]" * 1000
        + "}\n",
    ),
    "bad UTF-8 in session_index.jsonl": lambda home, rng: (
        home / "session_index.jsonl"
    ).write_bytes(b'{"id":"x","thread_name":"\xff"}\n\xff\xfe\n'),
    "a folder in place of session_index.jsonl": lambda home, rng: (
        home / "session_index.jsonl"
    ).mkdir(),
    "garbage in the metadata journal": lambda home, rng: _append_bytes(
        LocalThreadStoreConfig(codex_home=home).journal_path, b"\xff\x00{[\n" + b"[" * 5000 + b"\n"
    ),
    "a 70 MB line": lambda home, rng: _append(
        home,
        rng,
        '{"timestamp":"2026-01-01T00:00:00Z","type":"x","payload":"' + "y" * (70 << 20) + '"}\n',
    ),
}


def _append(home: Path, rng: random.Random, line: str) -> None:
    """Append to one of the home's rollouts, picked at random."""
    _append_bytes(rng.choice(sorted(home.rglob("rollout-*.jsonl"))), line.encode())


def _append_bytes(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


async def wedges(work: Path, trials: int) -> list[Row]:
    rows = []
    for name, damage in DAMAGE.items():
        row = Row(name)
        for trial in range(trials if name == "index pages damaged" else max(trials // 4, 3)):
            home = work / f"wedge-{len(rows)}-{trial}"
            texts = await seeded_home(home)
            damage(home, random.Random(trial))
            row.trials += 1
            row.acknowledged += len(texts)
            if not await commands_work(home, len(texts)):
                row.wedged += 1
        rows.append(row)
    return rows


HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.read()
"""


async def lock_held(work: Path, trials: int) -> Row:
    row = Row("another process holds the index write lock")
    home = work / "locked"
    texts = await seeded_home(home)
    config = LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0.0, lock_timeout_s=0.2)
    holder = start(
        [sys.executable, "-c", HOLD_LOCK, str(config.index_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    try:
        for _ in range(trials):
            row.trials += 1
            row.acknowledged += len(texts)
            try:
                async with LocalThreadStore(config) as store:
                    page = await store.list_threads(ListThreadsParams(page_size=100))
                    if len(page.items) != len(texts):
                        row.lost += 1
                    try:
                        await store.update_thread_metadata(
                            UpdateThreadMetadataParams(
                                thread_id=page.items[0].thread_id,
                                patch=ThreadMetadataPatch(name="n"),
                            )
                        )
                        row.note = "a write got through a held lock"
                    except Unavailable:
                        pass
            except ThreadStoreError:
                row.wedged += 1
    finally:
        holder.kill()
        holder.wait()
    row.note = row.note or "reads served; writes: typed Unavailable naming the holder"
    return row


async def read_only_home(work: Path, trials: int) -> Row:
    row = Row("read-only home (a read-only mount)")
    if os.geteuid() != 0:
        row.skipped = "needs root"
        return row
    disk = work / "ro"
    mount_tmpfs(disk, "16m")
    try:
        texts = await seeded_home(disk / "home")
        remount_read_only(disk)
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")
        for _ in range(trials):
            row.trials += 1
            row.acknowledged += len(texts)
            try:
                async with store_at(disk / "home") as store:
                    page = await store.list_threads(ListThreadsParams(page_size=100))
                    row.lost += len(texts) - len(page.items)
                    try:
                        await store.archive_thread(
                            ArchiveThreadParams(thread_id=page.items[0].thread_id)
                        )
                        row.note = "a write went through"
                    except PermissionDenied:
                        pass
            except ThreadStoreError:
                row.wedged += 1
    finally:
        umount(disk)
    row.note = row.note or "reads served (index in the user's cache); writes: PermissionDenied"
    return row


async def symlinked_rollouts(work: Path, trials: int) -> Row:
    row = Row("rollout links to a file outside the home")
    for trial in range(trials):
        home, outside = work / f"link-home-{trial}", work / f"link-out-{trial}"
        await seeded_home(home, 1)
        other = "01a23600-0000-7000-8000-0000000000aa"
        async with store_at(outside) as store:
            await new_thread(store, other)
            await store.append_items(
                AppendThreadItemsParams(thread_id=other, items=[message("item-out")])
            )
            await store.shutdown_thread(other)
        target = next(outside.rglob("rollout-*.jsonl"))
        before = target.read_bytes()
        link = next(home.rglob("rollout-*.jsonl")).parent / target.name
        link.symlink_to(target)
        row.trials += 1
        try:
            async with store_at(home) as store:
                for action in (
                    store.resume_thread(ResumeThreadParams(thread_id=other)),
                    store.archive_thread(ArchiveThreadParams(thread_id=other)),
                    store.unarchive_thread(ArchiveThreadParams(thread_id=other)),
                    store.delete_thread(DeleteThreadParams(thread_id=other)),
                ):
                    with contextlib.suppress(PermissionDenied):
                        await action
        except ThreadStoreError:
            row.wedged += 1
        row.acknowledged += 1
        if not target.exists() or target.read_bytes() != before:
            row.lost += 1
    row.note = "targets never written, moved or deleted"
    return row


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=50, help="trials per fault (default 50)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    trials = args.trials
    work = Path(tempfile.mkdtemp(prefix="fault-matrix-"))
    try:
        steps: list[Callable[[], Awaitable[Row | list[Row]]]] = [
            *(
                (lambda code=code: injected_write_errors(work, trials, code))
                for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)
            ),
            lambda: index_failures(work, trials),
            lambda: full_disk(work, max(trials // 4, 3)),
            lambda: kill_writers(work, trials * 2),
            lambda: cross_device_moves(work, trials),
            lambda: wedges(work, trials),
            lambda: lock_held(work, max(trials // 4, 3)),
            lambda: read_only_home(work, max(trials // 4, 3)),
            lambda: symlinked_rollouts(work, max(trials // 4, 3)),
        ]
        rows: list[Row] = []
        for step in steps:
            result = await step()
            for row in result if isinstance(result, list) else [result]:
                rows.append(row)
                print(" | ".join(row.cells()), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = [
        "fault",
        "trials",
        "acknowledged",
        "lost",
        "duplicated",
        "unreadable",
        "wedged",
        "note",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    bad = [
        r for r in rows if not r.skipped and (r.lost or r.duplicated or r.unreadable or r.wedged)
    ]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    asyncio.run(main())
