"""`InMemoryThreadStore`: the strict reference store.

Unlike Codex's permissive test double it enforces the whole contract: a
duplicate create is a `Conflict`, appending without a live writer is
`ThreadNotFound`, every filter, sort and cursor works, and archived threads
are hidden unless asked for. A thread created but never persisted vanishes on
`discard_thread`, exactly as a lazily materialized rollout would.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import msgspec

from ..errors import Conflict, InvalidRequest, ResourceExhausted, ThreadNotFound, Unsupported
from ..policy import persisted_rollout_items
from ..projection import apply_patch, initial_session_meta, thread_from_create
from ..protocol.messages import message_texts
from ..protocol.rollout import history_mode_of
from ..search_text import make_snippet, matches, search_words
from ..store import ThreadStore
from ..timeutil import to_ms, utc_now
from ..turns import TimedItem, history_view, page_items, page_turns, stored_history
from ..types import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    DeleteThreadParams,
    ItemPage,
    ListItemsParams,
    ListThreadsParams,
    ListTurnsParams,
    LoadThreadHistoryParams,
    ReadThreadByRolloutPathParams,
    ReadThreadParams,
    ResumeThreadParams,
    SearchThreadsParams,
    StoredThread,
    StoredThreadHistory,
    StoredThreadSearchResult,
    ThreadPage,
    ThreadSearchPage,
    TurnPage,
    UpdateThreadMetadataParams,
)
from .listing import metadata_texts, page_threads, thread_filter

__all__ = ["DEFAULT_MAX_ITEM_BYTES", "InMemoryThreadStore"]

DEFAULT_MAX_ITEM_BYTES = 64 * 1024 * 1024

_NOT_LIVE_HINT = "it has no live writer; call resume_thread first"


@dataclass
class _Record:
    thread: StoredThread
    history: list[TimedItem]
    live: bool = True
    persisted: bool = False
    rollout_paths: set[str] = field(default_factory=set)


class InMemoryThreadStore(ThreadStore):
    """A complete store in a dict; the model the other stores are tested against.

    Args:
        supports_paginated: when False, behave like a legacy-only store and reject
            paginated history with `Unsupported("paginated_threads")`.
        max_item_bytes: the largest item (encoded JSON) `append_items` accepts.
    """

    def __init__(
        self, *, supports_paginated: bool = True, max_item_bytes: int = DEFAULT_MAX_ITEM_BYTES
    ) -> None:
        self._threads: dict[str, _Record] = {}
        self._supports_paginated = supports_paginated
        self._max_item_bytes = max_item_bytes
        self.calls: Counter[str] = Counter()
        """How often each operation was called (for tests of the layers above)."""

    # -- helpers ------------------------------------------------------------------
    def _reject_paginated(self, mode: str) -> None:
        if mode == "paginated" and not self._supports_paginated:
            raise Unsupported("paginated_threads", "this store only keeps legacy history")

    def _get(self, thread_id: str, *, include_archived: bool) -> _Record:
        record = self._threads.get(thread_id)
        if record is None:
            raise ThreadNotFound(thread_id)
        if record.thread.is_archived and not include_archived:
            raise ThreadNotFound(thread_id, "it is archived; pass include_archived=True")
        return record

    def _live(self, thread_id: str) -> _Record:
        record = self._threads.get(thread_id)
        if record is None or not record.live:
            raise ThreadNotFound(thread_id, _NOT_LIVE_HINT)
        return record

    def _with_history(self, record: _Record, include_history: bool) -> StoredThread:
        if not include_history:
            return record.thread
        self._reject_paginated(record.thread.history_mode)
        history = stored_history(record.thread.thread_id, record.history)
        return msgspec.structs.replace(record.thread, history=history)

    # -- live writers -------------------------------------------------------------
    async def create_thread(self, params: CreateThreadParams) -> None:
        params = params.with_history_mode(self.default_history_mode())
        if params.history_base is not None:
            raise Unsupported("fork_point", "this store forks by copying history")
        self.calls["create_thread"] += 1
        self._reject_paginated(params.history_mode or "legacy")
        if params.thread_id in self._threads:
            raise Conflict(f"thread {params.thread_id} already exists; pick a new id")
        now = utc_now()
        meta = initial_session_meta(params, now)
        self._threads[params.thread_id] = _Record(
            thread=thread_from_create(params, now),
            history=[TimedItem(to_ms(now), meta)],
        )

    async def resume_thread(self, params: ResumeThreadParams) -> None:
        self.calls["resume_thread"] += 1
        record = self._get(params.thread_id, include_archived=params.include_archived)
        mode = (
            history_mode_of(params.history, record.thread.history_mode)
            if params.history
            else record.thread.history_mode
        )
        self._reject_paginated(mode)
        if record.live:
            raise Conflict(f"thread {params.thread_id} already has a live writer")
        record.live = True
        record.persisted = True  # it existed before, so its history is durable
        if params.rollout_path:
            record.rollout_paths.add(params.rollout_path)

    async def append_items(self, params: AppendThreadItemsParams) -> None:
        record = self._threads.get(params.thread_id)
        mode = record.thread.history_mode if record else "legacy"
        canonical = persisted_rollout_items(params.items, mode)
        if not canonical:
            return
        self.calls["append_items"] += 1
        record = self._live(params.thread_id)
        for item in canonical:
            size = len(item.encode())
            if size > self._max_item_bytes:
                raise ResourceExhausted(
                    f"a {item.type} item is {size} bytes, over the {self._max_item_bytes}-byte "
                    "limit; nothing was appended"
                )
        now_ms = to_ms(utc_now())
        record.history.extend(TimedItem(now_ms, item) for item in canonical)

    async def persist_thread(self, thread_id: str) -> None:
        self.calls["persist_thread"] += 1
        self._live(thread_id).persisted = True

    async def flush_thread(self, thread_id: str) -> None:
        self.calls["flush_thread"] += 1
        record = self._live(thread_id)
        if len(record.history) > 1:
            # A lazily persisted thread materializes once it has items to make durable.
            record.persisted = True

    async def shutdown_thread(self, thread_id: str) -> None:
        self.calls["shutdown_thread"] += 1
        record = self._live(thread_id)
        record.live = False
        if len(record.history) > 1:
            record.persisted = True
        if not record.persisted:
            # Nothing but its session_meta was ever written: like an unmaterialized
            # rollout, the thread leaves nothing behind.
            del self._threads[thread_id]

    async def discard_thread(self, thread_id: str) -> None:
        self.calls["discard_thread"] += 1
        record = self._threads.get(thread_id)
        if record is None or not record.live:
            return
        record.live = False
        if not record.persisted:
            # Never materialized: nothing of it was durable, so nothing remains.
            del self._threads[thread_id]

    # -- reads --------------------------------------------------------------------
    async def load_history(self, params: LoadThreadHistoryParams) -> StoredThreadHistory:
        self.calls["load_history"] += 1
        record = self._get(params.thread_id, include_archived=params.include_archived)
        self._reject_paginated(record.thread.history_mode)
        return stored_history(params.thread_id, record.history)

    async def read_thread(self, params: ReadThreadParams) -> StoredThread:
        self.calls["read_thread"] += 1
        record = self._get(params.thread_id, include_archived=params.include_archived)
        return self._with_history(record, params.include_history)

    async def read_thread_by_rollout_path(
        self, params: ReadThreadByRolloutPathParams
    ) -> StoredThread:
        self.calls["read_thread_by_rollout_path"] += 1
        for record in self._threads.values():
            if (
                params.rollout_path in record.rollout_paths
                or record.thread.rollout_path == params.rollout_path
            ):
                thread_id = record.thread.thread_id
                record = self._get(thread_id, include_archived=params.include_archived)
                return self._with_history(record, params.include_history)
        raise InvalidRequest(
            f"in-memory thread store does not know rollout path {params.rollout_path}"
        )

    async def list_threads(self, params: ListThreadsParams) -> ThreadPage:
        self.calls["list_threads"] += 1
        if params.cwd_filters is not None and not params.cwd_filters:
            return ThreadPage(items=[])
        threads = [r.thread for r in self._threads.values()]
        keep = thread_filter(params, threads)
        page, cursor = page_threads(
            filter(keep, threads),
            sort_key=params.sort_key,
            direction=params.sort_direction,
            page_size=params.page_size,
            cursor=params.cursor,
        )
        return ThreadPage(items=page, next_cursor=cursor)

    async def search_threads(self, params: SearchThreadsParams) -> ThreadSearchPage:
        self.calls["search_threads"] += 1
        words = search_words(params.search_term)
        texts: dict[str, list[str]] = {}
        sources = set(params.allowed_sources)
        for record in self._threads.values():
            t = record.thread
            if t.is_archived != params.archived or (sources and t.source not in sources):
                continue
            candidate = metadata_texts(t) + message_texts([x.item for x in record.history])
            if matches(words, candidate):
                texts[t.thread_id] = candidate
        page, cursor = page_threads(
            (self._threads[tid].thread for tid in texts),
            sort_key=params.sort_key,
            direction=params.sort_direction,
            page_size=params.page_size,
            cursor=params.cursor,
            kind="search",
        )
        return ThreadSearchPage(
            items=[
                StoredThreadSearchResult(thread=t, snippet=make_snippet(words, texts[t.thread_id]))
                for t in page
            ],
            next_cursor=cursor,
        )

    async def list_turns(self, params: ListTurnsParams) -> TurnPage:
        self.calls["list_turns"] += 1
        record = self._get(params.thread_id, include_archived=params.include_archived)
        return page_turns(
            params.thread_id,
            history_view(record.thread.history_mode, record.history, running=record.live),
            params,
        )

    async def list_items(self, params: ListItemsParams) -> ItemPage:
        self.calls["list_items"] += 1
        record = self._get(params.thread_id, include_archived=params.include_archived)
        return page_items(
            params.thread_id,
            history_view(record.thread.history_mode, record.history, running=record.live),
            params,
        )

    # -- metadata and lifecycle ---------------------------------------------------
    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        self.calls["update_thread_metadata"] += 1
        record = self._get(params.thread_id, include_archived=params.include_archived)
        record.thread = apply_patch(record.thread, params.patch)
        return record.thread

    async def archive_thread(self, params: ArchiveThreadParams) -> None:
        self.calls["archive_thread"] += 1
        record = self._get(params.thread_id, include_archived=True)
        if record.thread.is_archived:
            return
        record.thread = msgspec.structs.replace(record.thread, archived_at=utc_now())

    async def unarchive_thread(self, params: ArchiveThreadParams) -> StoredThread:
        self.calls["unarchive_thread"] += 1
        record = self._get(params.thread_id, include_archived=True)
        if record.thread.is_archived:
            # Codex sorts an unarchived thread as just updated.
            updated_at = max(record.thread.updated_at, utc_now())
            record.thread = msgspec.structs.replace(
                record.thread, archived_at=None, updated_at=updated_at
            )
        return record.thread

    async def delete_thread(self, params: DeleteThreadParams) -> None:
        self.calls["delete_thread"] += 1
        if self._threads.pop(params.thread_id, None) is None:
            raise ThreadNotFound(params.thread_id)
