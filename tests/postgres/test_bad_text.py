"""Values PostgreSQL cannot take (text with NUL) are the caller's error, typed
`InvalidRequest`, and nothing is written (issue: hardening, finding 8)."""

from __future__ import annotations

import pytest

from builders import tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    CreateThreadParams,
    InvalidRequest,
    ReadThreadParams,
    ThreadMetadataPatch,
    ThreadNotFound,
    ThreadPersistenceMetadata,
    UpdateThreadMetadataParams,
)
from codex_thread_store.postgres import PostgresThreadStoreConfig

from .helpers import StoreMaker


def test_an_owner_with_nul_is_an_invalid_request(shared_dsn: str) -> None:
    with pytest.raises(InvalidRequest, match="NUL"):
        PostgresThreadStoreConfig(conninfo=shared_dsn, owner="alice\x00bob")


async def test_a_name_with_nul_is_an_invalid_request_and_changes_nothing(
    make_store: StoreMaker,
) -> None:
    store = make_store()
    await store.create_thread(CreateThreadParams(thread_id=tid(1)))
    await store.persist_thread(tid(1))
    await store.append_items(AppendThreadItemsParams(thread_id=tid(1), items=[user_message("x")]))
    await store.shutdown_thread(tid(1))

    with pytest.raises(InvalidRequest, match="cannot store"):
        await store.update_thread_metadata(
            UpdateThreadMetadataParams(thread_id=tid(1), patch=ThreadMetadataPatch(name="a\x00b"))
        )

    assert (await store.read_thread(ReadThreadParams(thread_id=tid(1)))).name is None


async def test_a_thread_created_with_nul_in_its_cwd_is_refused_whole(
    make_store: StoreMaker,
) -> None:
    store = make_store()
    with pytest.raises(InvalidRequest):
        await store.create_thread(
            CreateThreadParams(thread_id=tid(2), metadata=ThreadPersistenceMetadata(cwd="/a\x00"))
        )
        await store.persist_thread(tid(2))
    with pytest.raises(ThreadNotFound):
        await store.read_thread(ReadThreadParams(thread_id=tid(2)))
