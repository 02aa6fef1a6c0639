"""`copy_threads` between stores (local home ⇄ PostgreSQL, memory → PostgreSQL) and
`open_store` URLs. The PostgreSQL side is the tests' throwaway server (`pg_server.py`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from builders import (
    agent_message,
    append,
    archive,
    at,
    create_params,
    history,
    patch,
    set_times,
    tid,
    user_message,
)
from codex_thread_store import (
    GitInfoPatch,
    InMemoryThreadStore,
    InvalidRequest,
    ListThreadsParams,
    ReadThreadParams,
    ResumeThreadParams,
    SessionSource,
    StoredThread,
    ThreadStore,
    UpdateThreadMetadataParams,
)
from codex_thread_store.copy import CopyEvent, copy_threads
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig
from codex_thread_store.open_store import open_store
from codex_thread_store.postgres import PostgresThreadStore
from pg_server import shared_server

THREADS = 6


@pytest.fixture
def pg_url() -> str:
    dsn = shared_server().create_database("codex_copy")
    return f"{dsn}&owner=copy-{uuid.uuid4().hex}"


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalThreadStore]:
    async with LocalThreadStore(LocalThreadStoreConfig(codex_home=tmp_path / "home")) as store:
        yield store


@pytest.fixture
async def postgres(pg_url: str) -> AsyncIterator[ThreadStore]:
    async with open_store(pg_url) as store:
        yield store


async def seed(store: ThreadStore) -> None:
    """Threads with every kind of state a copy must carry."""
    for n in range(1, THREADS + 1):
        source = SessionSource.exec() if n == 2 else SessionSource.cli()
        parent = tid(1) if n == 3 else None
        await store.create_thread(create_params(tid(n), source=source, parent_thread_id=parent))
        await store.persist_thread(tid(n))
        await append(
            store, tid(n), user_message(f"question {n}"), agent_message(f"answer number {n}")
        )
        await store.shutdown_thread(tid(n))
        await patch(store, tid(n), preview=f"question {n}", first_user_message=f"question {n}")
        await set_times(store, tid(n), created=at(n), updated=at(100 + n))
    await patch(store, tid(1), name="The first thread", git_info=GitInfoPatch(branch="main"))
    await patch(store, tid(2), title="A title the thread derived")
    await patch(store, tid(4), name="renamed twice")
    await patch(store, tid(4), name="renamed thrice")
    await archive(store, tid(5))
    await archive(store, tid(6))


Summary = tuple[object, ...]


async def threads_of(store: ThreadStore) -> dict[str, Summary]:
    """Per thread: name, archived, title, preview and times."""
    out: dict[str, Summary] = {}
    for archived in (False, True):
        page = await store.list_threads(ListThreadsParams(page_size=100, archived=archived))
        for t in page.items:
            out[t.thread_id] = (
                t.name,
                t.is_archived,
                t.title,
                t.preview,
                t.created_at,
                t.updated_at,
            )
    return out


async def test_local_home_to_postgres_copies_everything_exactly(
    local: LocalThreadStore, postgres: ThreadStore
) -> None:
    await seed(local)
    events: list[CopyEvent] = []

    report = await copy_threads(local, postgres, progress=events.append)

    assert report.ok, report.summary()
    assert (report.total, report.copied, report.skipped) == (THREADS, THREADS, 0)
    assert await threads_of(postgres) == await threads_of(local)
    for n in range(1, THREADS + 1):
        read = ReadThreadParams(thread_id=tid(n), include_archived=True)
        mine, theirs = await local.read_thread(read), await postgres.read_thread(read)
        assert theirs == msgspec.structs.replace(mine, rollout_path=None)
        assert await history(postgres, tid(n), include_archived=True) == await history(
            local, tid(n), include_archived=True
        )
    copying = [e for e in events if e.phase == "copying"]
    assert [e.done for e in copying] == list(range(1, THREADS + 1))
    assert events[-1].phase == "done"


async def test_rerun_after_an_interruption_finishes_and_then_copies_nothing(
    local: LocalThreadStore, postgres: ThreadStore
) -> None:
    await seed(local)

    class Interrupted(Exception):
        pass

    def stop_after_two(event: CopyEvent) -> None:
        if event.phase == "copying" and event.done == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        await copy_threads(local, postgres, progress=stop_after_two, jobs=1)
    assert len(await threads_of(postgres)) == 2

    resumed = await copy_threads(local, postgres)
    again = await copy_threads(local, postgres)

    assert resumed.ok and (resumed.copied, resumed.skipped) == (THREADS - 2, 2)
    assert again.ok and (again.copied, again.skipped) == (0, THREADS)
    assert await threads_of(postgres) == await threads_of(local)


async def test_a_changed_source_thread_is_replaced_on_the_next_copy(
    local: LocalThreadStore, postgres: ThreadStore
) -> None:
    await seed(local)
    await copy_threads(local, postgres)
    await patch(local, tid(2), name="renamed after the copy")
    await local.resume_thread(ResumeThreadParams(thread_id=tid(3)))
    await append(local, tid(3), user_message("one more turn"))
    await local.shutdown_thread(tid(3))

    report = await copy_threads(local, postgres)

    assert report.ok and report.replaced == 2 and report.skipped == THREADS - 2
    assert await history(postgres, tid(3)) == await history(local, tid(3))
    assert await threads_of(postgres) == await threads_of(local)


async def test_postgres_back_to_a_local_home(postgres: ThreadStore, tmp_path: Path) -> None:
    await seed(postgres)

    async with open_store(f"local:{tmp_path / 'back'}") as home:
        report = await copy_threads(postgres, home)
        assert report.ok, report.summary()
        names_and_archived = {k: v[:2] for k, v in (await threads_of(postgres)).items()}
        assert {k: v[:2] for k, v in (await threads_of(home)).items()} == names_and_archived
        # A set title is carried; an unset one the home derives from the history, as
        # Codex backfills it.
        titles = {t: v[2] for t, v in (await threads_of(home)).items()}
        assert titles[tid(2)] == "A title the thread derived"
        assert titles[tid(3)] == "question 3"
        for n in range(1, THREADS + 1):
            assert await history(home, tid(n), include_archived=True) == await history(
                postgres, tid(n), include_archived=True
            )
        # Resumable into a local home too: a partly fixed-up thread is finished.
        await patch(home, tid(4), name="drifted", include_archived=True)
        rerun = await copy_threads(postgres, home)
        assert rerun.ok and rerun.replaced == 1
        assert (await home.read_thread(ReadThreadParams(thread_id=tid(4)))).name == (
            "renamed thrice"
        )


async def test_memory_store_to_postgres(postgres: ThreadStore) -> None:
    memory = InMemoryThreadStore()
    await seed(memory)

    report = await copy_threads(memory, postgres, jobs=3)

    assert report.ok and report.copied == THREADS
    assert await threads_of(postgres) == await threads_of(memory)


async def test_open_store_understands_every_kind_of_location(tmp_path: Path, pg_url: str) -> None:
    assert isinstance(open_store("memory:"), InMemoryThreadStore)
    for url in (f"local:{tmp_path}", f"local://{tmp_path}", str(tmp_path)):
        store = open_store(url)
        assert isinstance(store, LocalThreadStore)
        assert store.home.root == tmp_path
    pg = open_store(pg_url.split("&owner=")[0], owner="explicit")
    assert isinstance(pg, PostgresThreadStore) and pg.owner == "explicit"
    await pg.aclose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "not supported"),
        ("local:", "names no folder"),
        ("postgresql://h/db", "needs an owner"),
    ],
)
def test_open_store_rejects_bad_locations(url: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        open_store(url)


async def test_copy_of_an_empty_store_is_ok(postgres: ThreadStore) -> None:
    report = await asyncio.wait_for(copy_threads(InMemoryThreadStore(), postgres), 60)

    assert report.ok and report.total == 0


async def test_verification_reports_what_differs_in_the_target() -> None:
    class ForgetsNames(InMemoryThreadStore):
        async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
            patch = params.patch.without("name", "title")
            return await super().update_thread_metadata(
                msgspec.structs.replace(params, patch=patch)
            )

    source = InMemoryThreadStore()
    await seed(source)

    report = await copy_threads(source, ForgetsNames())

    assert not report.ok and not report.failed
    assert report.verified == THREADS - 2
    assert set(report.mismatches) == {tid(1), tid(4)}
    assert report.mismatches[tid(4)] == "named None in the target, 'renamed thrice' in the source"
