"""A two-minute tour of the Python API on the in-memory reference store.

Run it with `.venv/bin/python examples/quickstart.py`.
"""

from __future__ import annotations

import asyncio

from codex_thread_store import (
    CreateThreadParams,
    InMemoryThreadStore,
    ListThreadsParams,
    ListTurnsParams,
    RolloutItem,
    SearchThreadsParams,
    ThreadManager,
    ThreadMetadataPatch,
    ThreadPersistenceMetadata,
    TurnItemsView,
)


def turn(turn_id: str, user: str, agent: str) -> list[RolloutItem]:
    return [
        RolloutItem.event_msg({"type": "task_started", "turn_id": turn_id}),
        RolloutItem.event_msg(
            {"type": "user_message", "message": user, "images": None, "local_images": []}
        ),
        RolloutItem.event_msg({"type": "agent_message", "message": agent}),
        RolloutItem.event_msg({"type": "task_complete", "turn_id": turn_id}),
    ]


async def main() -> None:
    store = InMemoryThreadStore()
    manager = ThreadManager(store, collect_git=False)

    # Start a thread. LiveThread appends history first, then the metadata it implies.
    live = await manager.start_thread(
        CreateThreadParams(
            thread_source="automation",  # an app-owned feature label
            metadata=ThreadPersistenceMetadata(cwd="/home/me/project"),
        )
    )
    await live.persist()
    await live.append_items(turn("t1", "Fix the flaky parser test", "Done: it raced."))
    await live.append_items(turn("t2", "Now add a regression test", "Added test_parser_race."))
    await live.flush()

    # Rename it through the one entry point for metadata mutations.
    await manager.set_thread_name(live.thread_id, "Parser flake")
    # Fork the last turn into a new thread.
    fork = await manager.fork_thread(live.thread_id, last_n_turns=1)

    page = await store.list_threads(ListThreadsParams(page_size=10))
    print("threads:")
    for thread in page.items:
        label = thread.name or thread.preview
        print(f"  {thread.thread_id}  {label!r}  source={thread.thread_source}")
        print(f"      originator={thread.originator} forked_from={thread.forked_from_id}")

    turns = await store.list_turns(
        ListTurnsParams(thread_id=live.thread_id, items_view=TurnItemsView.FULL)
    )
    print(f"turns of {live.thread_id}: {[(t.id, t.status.value) for t in turns.turns]}")

    hits = await store.search_threads(SearchThreadsParams(search_term="regression"))
    print("search 'regression':", [(h.thread.thread_id, h.snippet) for h in hits.items])

    # A literal patch: absent fields stay, `None` clears a clearable field.
    cleared = await manager.update_thread_metadata(live.thread_id, ThreadMetadataPatch(name=None))
    print("name after clear:", cleared.name)

    await manager.aclose()
    print("fork shut down:", fork.is_closed)


if __name__ == "__main__":
    asyncio.run(main())
