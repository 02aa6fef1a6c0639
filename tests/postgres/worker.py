"""A separate process for the multi-process tests: `python worker.py ROLE DSN OWNER [ARGS]`.

Roles (each prints one JSON line per report on stdout):
- `migrate`: open a store (applying migrations) and report `{"opened": true}`.
- `append THREADS BATCHES`: create THREADS threads (ids `thread_ids(OWNER/index)`),
  append BATCHES keyed batches of 3 items to each, listing and searching after every
  round; report the thread ids.
- `contend THREAD_ID`: try to resume the thread and report `{"won": bool}`; a winner
  holds the lease until a line arrives on stdin, then appends one item and shuts down.

Only the installed package is imported, so the file runs from any directory.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

from codex_thread_store import (
    AppendThreadItemsParams,
    Conflict,
    CreateThreadParams,
    ListThreadsParams,
    ResumeThreadParams,
    RolloutItem,
    SearchThreadsParams,
)
from codex_thread_store.postgres import PostgresThreadStore, PostgresThreadStoreConfig


def report(value: object) -> None:
    print(json.dumps(value), flush=True)


def thread_ids(owner: str, count: int, tag: str) -> list[str]:
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{owner}/{tag}/{n}")) for n in range(count)]


def message(text: str) -> RolloutItem:
    return RolloutItem.event_msg({"type": "user_message", "message": text, "images": None})


async def main(argv: list[str]) -> None:
    role, dsn, owner, *args = argv
    config = PostgresThreadStoreConfig(conninfo=dsn, owner=owner)
    async with PostgresThreadStore(config) as store:
        if role == "migrate":
            report({"opened": True})
        elif role == "append":
            count, batches, tag = int(args[0]), int(args[1]), args[2]
            ids = thread_ids(owner, count, tag)
            for thread_id in ids:
                await store.create_thread(CreateThreadParams(thread_id=thread_id))
                await store.persist_thread(thread_id)
            for batch in range(batches):
                for thread_id in ids:
                    items = [message(f"{tag} {batch} {k}") for k in range(3)]
                    await store.append_items(
                        AppendThreadItemsParams(
                            thread_id=thread_id, items=items, idempotency_key=f"b{batch}"
                        )
                    )
                await store.list_threads(ListThreadsParams(page_size=100))
                await store.search_threads(SearchThreadsParams(search_term=tag))
            for thread_id in ids:
                await store.shutdown_thread(thread_id)
            report({"threads": ids})
        elif role == "contend":
            thread_id = args[0]
            try:
                await store.resume_thread(ResumeThreadParams(thread_id=thread_id))
            except Conflict:
                report({"won": False})
                return
            report({"won": True})
            await asyncio.to_thread(sys.stdin.readline)
            await store.append_items(
                AppendThreadItemsParams(thread_id=thread_id, items=[message("the winner")])
            )
            await store.shutdown_thread(thread_id)
        else:
            raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
