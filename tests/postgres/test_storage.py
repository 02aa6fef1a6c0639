"""What the PostgreSQL store keeps and how: append-only rows, exact item bytes, large
items, migrations, configuration and schemas."""

from __future__ import annotations

import pytest

from builders import append, history, new_thread, now, patch, read, tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    Internal,
    InvalidRequest,
    LoadThreadHistoryParams,
    ReadThreadParams,
    ResourceExhausted,
    RolloutItem,
    ThreadNotFound,
)
from codex_thread_store.postgres import PostgresThreadStoreConfig
from codex_thread_store.postgres.migrations import MIGRATIONS
from codex_thread_store.timeutil import to_ms

from .helpers import StoreMaker, sql


def row_versions(dsn: str, owner: str, table: str) -> dict[object, tuple[str, str]]:
    key = "seq" if table == "thread_items" else "thread_id"
    rows = sql(
        dsn,
        f"SELECT {key}, ctid::text, xmin::text FROM {table} WHERE owner = %s",
        (owner,),
    )
    return {k: (ctid, xmin) for k, ctid, xmin in rows}


async def test_appends_never_rewrite_stored_rows(
    make_store: StoreMaker, shared_dsn: str, owner: str
) -> None:
    store = make_store()
    await new_thread(store, tid(1))
    await append(store, tid(1), *(user_message(f"m{n}") for n in range(5)))
    items_before = row_versions(shared_dsn, owner, "thread_items")
    thread_before = row_versions(shared_dsn, owner, "threads")

    for n in range(3):
        await append(store, tid(1), user_message(f"later {n}"))

    items_after = row_versions(shared_dsn, owner, "thread_items")
    assert {k: items_after[k] for k in items_before} == items_before
    assert len(items_after) == len(items_before) + 3
    assert row_versions(shared_dsn, owner, "threads") == thread_before


async def test_item_bytes_and_key_order_survive(make_store: StoreMaker) -> None:
    store = make_store()
    await new_thread(store, tid(1))
    odd = RolloutItem("future_kind", {"z": 1, "a": [2, {"y": None, "b": "ü"}]}, {"meta": {"k": 1}})

    await append(store, tid(1), odd)

    (loaded,) = (await history(store, tid(1)))[1:]
    assert loaded.encode() == odd.encode()


async def test_a_large_item_round_trips_and_the_limit_is_enforced(make_store: StoreMaker) -> None:
    limit = 12 * 1024 * 1024
    store = make_store(max_item_bytes=limit)
    await new_thread(store, tid(1))
    big = user_message("x" * (limit - 1024))

    await append(store, tid(1), big)
    with pytest.raises(ResourceExhausted, match="over the"):
        await store.append_items(
            AppendThreadItemsParams(thread_id=tid(1), items=[user_message("y" * limit)])
        )

    assert (await history(store, tid(1)))[1:] == [big]


async def test_item_times_are_kept(make_store: StoreMaker) -> None:
    store = make_store()
    await new_thread(store, tid(1))
    before = to_ms(now())
    await append(store, tid(1), user_message("timed"))
    after = to_ms(now())

    created = (await read(store, tid(1))).created_at
    # Another store instance reads them back from the rows, not from process state.
    loaded = await make_store().load_history(LoadThreadHistoryParams(thread_id=tid(1)))

    assert loaded.item_created_at_ms is not None and len(loaded.item_created_at_ms) == 2
    meta_ms, appended_ms = loaded.item_created_at_ms
    assert meta_ms == to_ms(created)  # the session_meta is written at creation
    assert before <= appended_ms <= after


async def test_reopening_a_migrated_database_applies_nothing(
    make_store: StoreMaker, fresh_dsn: str
) -> None:
    await make_store(dsn=fresh_dsn).open()
    applied = sql(fresh_dsn, "SELECT version, applied_at FROM schema_migrations")

    await make_store(dsn=fresh_dsn).open()

    assert sql(fresh_dsn, "SELECT version, applied_at FROM schema_migrations") == applied
    assert [v for v, _ in applied] == [m.version for m in MIGRATIONS]


async def test_a_database_from_a_newer_library_is_refused(
    make_store: StoreMaker, fresh_dsn: str
) -> None:
    await make_store(dsn=fresh_dsn).open()
    sql(
        fresh_dsn,
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')",
    )

    with pytest.raises(Internal, match="upgrade codex-thread-store"):
        await make_store(dsn=fresh_dsn).open()


async def test_two_schemas_in_one_database_are_separate_stores(
    make_store: StoreMaker, fresh_dsn: str
) -> None:
    first = make_store(dsn=fresh_dsn, schema="team_a")
    second = make_store(dsn=fresh_dsn, schema="team_b")
    await new_thread(first, tid(1))

    with pytest.raises(ThreadNotFound):
        await second.read_thread(ReadThreadParams(thread_id=tid(1)))
    await new_thread(second, tid(1))
    assert (await read(first, tid(1))).thread_id == tid(1)


def test_url_carries_owner_schema_and_limits_but_libpq_gets_the_rest() -> None:
    config = PostgresThreadStoreConfig.from_url(
        "postgresql://me:pw@db.example:6543/threads?sslmode=require&owner=alice"
        "&schema=codex_x&max_item_bytes=1048576&lease_ttl_s=9"
    )

    assert config.owner == "alice"
    assert config.schema == "codex_x"
    assert config.max_item_bytes == 1048576
    assert config.lease_ttl_s == 9 and config.lease_renew_interval_s == 3
    assert config.conninfo == "postgresql://me:pw@db.example:6543/threads?sslmode=require"
    assert "pw" not in config.describe()


def test_explicit_owner_wins_over_the_url() -> None:
    config = PostgresThreadStoreConfig.from_url("postgres://h/db?owner=url", owner="arg")

    assert config.owner == "arg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://h/db", "needs an owner"),
        ("postgresql://h/db?owner=%20", "needs an owner"),
        ("mysql://h/db?owner=a", "not a PostgreSQL URL"),
        ("postgresql://h/db?owner=a&schema=Bad-Name", "not a plain lower-case"),
        ("postgresql://h/db?owner=a&max_item_bytes=lots", "not a number"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        PostgresThreadStoreConfig.from_url(url)


async def test_a_version_1_schema_is_migrated_and_keeps_its_threads(
    make_store: StoreMaker, fresh_dsn: str
) -> None:
    """Migration 2 adds the derived `title` apart from the name: a database made by the
    first release gets the column, its renamed threads read back untouched, and a title
    the first release stored as the name (it equals the first request) moves to `title`."""
    store = make_store(dsn=fresh_dsn)
    await new_thread(store, tid(1))
    await append(store, tid(1), user_message("kept"))
    await patch(store, tid(1), name="named before")
    await new_thread(store, tid(2))
    await append(store, tid(2), user_message("fix the parser"))
    await patch(store, tid(2), name="fix the parser", first_user_message="fix the parser")
    await store.aclose()
    sql(fresh_dsn, "ALTER TABLE threads DROP COLUMN title")  # as the first release left it
    sql(fresh_dsn, "DELETE FROM schema_migrations WHERE version = 2")

    reopened = make_store(dsn=fresh_dsn)
    before = await read(reopened, tid(1))
    derived = await read(reopened, tid(2))
    titled = await patch(reopened, tid(1), title="derived")

    assert sql(fresh_dsn, "SELECT max(version) FROM schema_migrations") == [(2,)]
    assert (before.name, before.title) == ("named before", None)
    assert (titled.name, titled.title) == ("named before", "derived")
    assert (derived.name, derived.title) == (None, "fix the parser")
    assert sql(fresh_dsn, "SELECT count(*) FROM thread_names WHERE thread_id = %s", (tid(2),)) == [
        (0,)
    ]
    assert (await history(reopened, tid(1)))[1:] == [user_message("kept")]
