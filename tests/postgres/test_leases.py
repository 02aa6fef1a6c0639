"""One live writer per thread across processes: lease conflicts, takeover and fencing.

Two `PostgresThreadStore` instances on one database stand for two machines. A lease
that "expired" is made so with SQL (as if its holder stopped renewing: a crash, a
pause, a partition), so no test waits for a clock.
"""

from __future__ import annotations

import pytest

from builders import agent_message, append, create_params, history, tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    Conflict,
    DeleteThreadParams,
    ReadThreadParams,
    ResumeThreadParams,
    ThreadNotFound,
)
from codex_thread_store.postgres.leases import LeaseLost

from .helpers import StoreMaker, expire_lease, sql


def lease_row(dsn: str, owner: str, thread_id: str) -> tuple[int, object, bool]:
    ((token, writer, live),) = sql(
        dsn,
        "SELECT token, writer_id, expires_at > now() FROM writer_leases"
        " WHERE owner = %s AND thread_id = %s",
        (owner, thread_id),
    )
    return int(token), writer, bool(live)


async def test_second_writer_elsewhere_gets_conflict(make_store: StoreMaker) -> None:
    first, second = make_store(), make_store()
    await first.create_thread(create_params(tid(1)))
    await first.persist_thread(tid(1))

    with pytest.raises(Conflict, match="already has a live writer"):
        await second.resume_thread(ResumeThreadParams(thread_id=tid(1)))


async def test_second_create_of_the_same_id_elsewhere_is_a_conflict(
    make_store: StoreMaker,
) -> None:
    first, second = make_store(), make_store()
    await first.create_thread(create_params(tid(1)))

    with pytest.raises(Conflict):
        await second.create_thread(create_params(tid(1)))


async def test_shutdown_releases_the_lease_for_another_machine(make_store: StoreMaker) -> None:
    first, second = make_store(), make_store()
    await first.create_thread(create_params(tid(1)))
    await append(first, tid(1), user_message("from first"))
    await first.shutdown_thread(tid(1))

    await second.resume_thread(ResumeThreadParams(thread_id=tid(1)))
    await append(second, tid(1), agent_message("from second"))

    assert (await history(second, tid(1)))[1:] == [
        user_message("from first"),
        agent_message("from second"),
    ]


async def test_expired_lease_is_taken_over_and_the_old_writer_is_fenced(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    old, new = make_store(), make_store()
    await old.create_thread(create_params(tid(1)))
    await append(old, tid(1), user_message("before the takeover"))
    old_token, _, _ = lease_row(shared_dsn, owner, tid(1))
    expire_lease(shared_dsn, owner, tid(1))

    await new.resume_thread(ResumeThreadParams(thread_id=tid(1)))
    new_token, _, live = lease_row(shared_dsn, owner, tid(1))
    await append(new, tid(1), agent_message("from the new writer"))

    assert new_token > old_token and live
    with pytest.raises(Conflict, match="taken over"):
        await old.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("stale write")])
        )
    for op in (old.flush_thread, old.persist_thread):
        with pytest.raises(LeaseLost):
            await op(tid(1))
    assert (await history(new, tid(1)))[1:] == [
        user_message("before the takeover"),
        agent_message("from the new writer"),
    ]


async def test_fenced_writer_cannot_release_or_drop_the_new_writers_lease(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    old, new = make_store(), make_store()
    await old.create_thread(create_params(tid(1)))
    await old.persist_thread(tid(1))
    expire_lease(shared_dsn, owner, tid(1))
    await new.resume_thread(ResumeThreadParams(thread_id=tid(1)))
    new_token, new_writer, _ = lease_row(shared_dsn, owner, tid(1))

    with pytest.raises(Conflict):
        await old.shutdown_thread(tid(1))
    await old.discard_thread(tid(1))  # no-op: it holds nothing any more

    assert lease_row(shared_dsn, owner, tid(1)) == (new_token, new_writer, True)
    await append(new, tid(1), user_message("still the writer"))


async def test_a_stale_writer_learns_of_the_takeover_when_renewing(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    old = make_store(lease_renew_interval_s=None)
    new = make_store()
    await old.create_thread(create_params(tid(1)))
    await old.persist_thread(tid(1))
    await old.create_thread(create_params(tid(2)))
    await old.persist_thread(tid(2))
    expire_lease(shared_dsn, owner, tid(1))
    await new.resume_thread(ResumeThreadParams(thread_id=tid(1)))

    lost = await old.renew_leases()

    assert lost == {tid(1)}
    with pytest.raises(LeaseLost):
        await old.flush_thread(tid(1))
    await old.flush_thread(tid(2))  # the other lease was renewed and is still ours


async def test_renewal_extends_an_expired_lease_nobody_took(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    store = make_store(lease_renew_interval_s=None)
    await store.create_thread(create_params(tid(1)))
    await store.persist_thread(tid(1))
    expire_lease(shared_dsn, owner, tid(1))

    assert await store.renew_leases() == set()

    assert lease_row(shared_dsn, owner, tid(1))[2] is True
    await append(store, tid(1), user_message("still mine"))


async def test_an_append_renews_the_lease(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    store = make_store(lease_renew_interval_s=None)
    await store.create_thread(create_params(tid(1)))
    expire_lease(shared_dsn, owner, tid(1))

    await append(store, tid(1), user_message("keeps the lease alive"))

    assert lease_row(shared_dsn, owner, tid(1))[2] is True


async def test_a_crashed_writers_lazy_thread_is_invisible_and_its_id_reusable(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    crashed, other = make_store(), make_store()
    await crashed.create_thread(create_params(tid(1), model_provider="lost"))
    await crashed.append_items(
        AppendThreadItemsParams(thread_id=tid(1), items=[user_message("never flushed")])
    )

    # Codex writes no rollout before materializing; nobody else sees the thread.
    with pytest.raises(ThreadNotFound):
        await other.read_thread(ReadThreadParams(thread_id=tid(1)))
    with pytest.raises(Conflict):  # its writer is still alive
        await other.create_thread(create_params(tid(1)))

    expire_lease(shared_dsn, owner, tid(1))  # the writer's process died
    await other.create_thread(create_params(tid(1), model_provider="fresh"))
    await other.persist_thread(tid(1))

    items = await history(other, tid(1))
    assert [i.type for i in items] == ["session_meta"]
    assert items[0].payload["model_provider"] == "fresh"


async def test_resume_in_the_same_store_twice_is_a_conflict_without_a_new_lease(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    store = make_store()
    await store.create_thread(create_params(tid(1)))
    await store.persist_thread(tid(1))
    token, _, _ = lease_row(shared_dsn, owner, tid(1))

    with pytest.raises(Conflict):
        await store.resume_thread(ResumeThreadParams(thread_id=tid(1)))

    assert lease_row(shared_dsn, owner, tid(1))[0] == token


async def test_delete_fences_a_writer_in_another_process(make_store: StoreMaker) -> None:
    writer, admin = make_store(), make_store()
    await writer.create_thread(create_params(tid(1)))
    await writer.persist_thread(tid(1))

    await admin.delete_thread(DeleteThreadParams(thread_id=tid(1)))

    with pytest.raises(Conflict):
        await writer.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("into the void")])
        )
    with pytest.raises(ThreadNotFound):
        await admin.read_thread(ReadThreadParams(thread_id=tid(1)))


async def test_closing_a_store_releases_its_leases(make_store: StoreMaker) -> None:
    first, second = make_store(), make_store()
    await first.create_thread(create_params(tid(1)))
    await first.persist_thread(tid(1))
    await first.create_thread(create_params(tid(2)))  # lazy: leaves nothing behind

    await first.aclose()

    await second.resume_thread(ResumeThreadParams(thread_id=tid(1)))
    with pytest.raises(ThreadNotFound):
        await second.resume_thread(ResumeThreadParams(thread_id=tid(2)))
