"""`LiveThread`: persistence for one active thread.

Order is the whole point: history is appended (and durable, per the store's
contract) *before* the metadata patch derived from it is sent, so metadata can
never describe history that was lost. A metadata failure after a successful
append does not fail the append: the patch stays pending and the next barrier
(`persist`, `flush`, `shutdown`, `update_metadata`) retries it and raises if it
fails again. One lock per handle keeps concurrent callers in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from .analytics import AnalyticsSink, NoopAnalyticsSink, ThreadInitializedEvent
from .errors import Internal, ThreadNotFound, ThreadStoreError
from .git_probe import collect_git_info
from .metadata_sync import PendingUpdate, ThreadMetadataSync
from .originator import OriginatorResolver
from .patch import ThreadMetadataPatch
from .policy import is_persisted_rollout_item, sanitize_rollout_item
from .protocol.rollout import RolloutItem, first_session_meta
from .protocol.short_form import with_turn_events
from .protocol.sources import SessionSource
from .store import ThreadStore
from .timeutil import to_ms
from .types import (
    AppendThreadItemsParams,
    CreateThreadParams,
    LoadThreadHistoryParams,
    ReadThreadParams,
    ResumeThreadParams,
    StoredThread,
    StoredThreadHistory,
    UpdateThreadMetadataParams,
)

__all__ = ["AppendResult", "LiveThread"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What one `LiveThread.append_items` call kept.

    Attributes:
        kept: items that became history.
        dropped: items the persistence policy leaves out on purpose, by kind
            (`"event_msg:agent_message_delta"`, ...): streaming deltas, begin events and
            other kinds Codex does not keep either (see `policy.py`).
    """

    kept: int
    dropped: Mapping[str, int]


def _kind(item: RolloutItem) -> str:
    return f"{item.type}:{item.payload_type}" if item.payload_type else item.type


class LiveThread:
    """A handle on one live thread. Build it with `create` or `resume`, not directly.

    Attributes:
        thread_id: the thread's id.
        originator: the effective originator; use it for this thread's later requests.
        source: the thread's session source.
    """

    def __init__(
        self,
        store: ThreadStore,
        thread_id: str,
        sync: ThreadMetadataSync,
        *,
        originator: str,
        source: SessionSource,
        session_id: str,
    ) -> None:
        self.store = store
        self.thread_id = thread_id
        self.originator = originator
        self.source = source
        self.session_id = session_id
        self._sync = sync
        self._lock = asyncio.Lock()
        self._closed: str | None = None
        self.dropped: Counter[str] = Counter()
        """Items the persistence policy left out since this handle opened, by kind."""

    # -- construction -------------------------------------------------------------
    @classmethod
    async def create(
        cls,
        store: ThreadStore,
        params: CreateThreadParams,
        *,
        service_name: str | None = None,
        inherited_originator: str | None = None,
        originators: OriginatorResolver | None = None,
        analytics: AnalyticsSink | None = None,
        collect_git: bool = True,
        model: str | None = None,
        ephemeral: bool = False,
        sync_options: dict[str, Any] | None = None,
    ) -> LiveThread:
        """Create the thread in `store` and return its live handle.

        An empty `params.originator` is resolved (see `originator.py`); an empty
        `params.git_info` is collected from the cwd when it is inside a git repo.
        The initial `session_meta` is written by the store; the derived create
        patch is held back until the thread has history or is persisted.
        """
        resolver = originators or OriginatorResolver()
        params = params.with_history_mode(store.default_history_mode())
        changes: dict[str, Any] = {}
        if not params.originator:
            changes["originator"] = resolver.resolve(
                service_name=service_name, inherited=inherited_originator
            )
        if params.git_info is None and collect_git:
            git = await collect_git_info(params.metadata.cwd)
            if git is not None:
                changes["git_info"] = git
        if changes:
            params = msgspec.structs.replace(params, **changes)
        sync = ThreadMetadataSync.for_create(params, **(sync_options or {}))
        await store.create_thread(params)
        live = cls(
            store,
            params.thread_id,
            sync,
            originator=params.originator,
            source=params.source,
            session_id=params.effective_session_id,
        )
        thread = await store.read_thread(ReadThreadParams(thread_id=params.thread_id))
        _emit(
            analytics,
            live,
            thread,
            mode="forked" if params.forked_from_id else "new",
            model=model,
            ephemeral=ephemeral,
        )
        return live

    @classmethod
    async def resume(
        cls,
        store: ThreadStore,
        params: ResumeThreadParams,
        *,
        inherited_originator: str | None = None,
        originators: OriginatorResolver | None = None,
        analytics: AnalyticsSink | None = None,
        model: str | None = None,
        sync_options: dict[str, Any] | None = None,
    ) -> LiveThread:
        """Reopen a thread; its originator and source are read back from its history.

        If anything fails (or is cancelled) after the writer opened, the writer is
        discarded and the first error is raised.
        """
        await store.resume_thread(params)
        try:
            return await cls._resumed(
                store, params, inherited_originator, originators, analytics, model, sync_options
            )
        except BaseException:
            # A writer nobody holds would refuse every later resume for the process's life.
            try:
                await store.discard_thread(params.thread_id)
            except ThreadStoreError as exc:  # the first error is the one to report
                log.warning("discarding %s after a failed resume: %s", params.thread_id, exc)
            raise

    @classmethod
    async def _resumed(
        cls,
        store: ThreadStore,
        params: ResumeThreadParams,
        inherited_originator: str | None,
        originators: OriginatorResolver | None,
        analytics: AnalyticsSink | None,
        model: str | None,
        sync_options: dict[str, Any] | None,
    ) -> LiveThread:
        history = params.history
        if history is None:
            loaded = await store.load_history(
                LoadThreadHistoryParams(
                    thread_id=params.thread_id, include_archived=params.include_archived
                )
            )
            history = loaded.items
        meta = first_session_meta(history)
        resolver = originators or OriginatorResolver()
        originator = resolver.resolve(
            persisted=meta.originator if meta else None, inherited=inherited_originator
        )
        sync = ThreadMetadataSync.for_resume(params.thread_id, history, **(sync_options or {}))
        thread = await store.read_thread(
            ReadThreadParams(thread_id=params.thread_id, include_archived=True)
        )
        live = cls(
            store,
            params.thread_id,
            sync,
            originator=originator,
            source=meta.source if meta else thread.source,
            session_id=meta.effective_session_id
            if meta
            else (thread.root_session_id or thread.thread_id),
        )
        _emit(analytics, live, thread, mode="resumed", model=model)
        return live

    # -- state --------------------------------------------------------------------
    @property
    def is_closed(self) -> bool:
        """True after `shutdown` or `discard`: the handle can no longer write."""
        return self._closed is not None

    @property
    def metadata_sync(self) -> ThreadMetadataSync:
        return self._sync

    def local_rollout_path(self) -> str | None:
        """The rollout file, for stores that keep one (None otherwise)."""
        getter = getattr(self.store, "rollout_path_of", None)
        return getter(self.thread_id) if callable(getter) else None

    def _check_open(self, operation: str) -> None:
        if self._closed is not None:
            raise ThreadNotFound(
                self.thread_id,
                f"this LiveThread was {self._closed}; {operation} needs a fresh handle "
                "from LiveThread.resume",
            )

    # -- writes -------------------------------------------------------------------
    async def append_items(self, items: Sequence[RolloutItem]) -> AppendResult:
        """Append history, then send the metadata it implies (history first, always).

        Items in the Responses API's short form (`{"role": "user", "content": "Hi"}`)
        are kept as the messages they are, a user's with the event that shows it as a
        turn. Items the persistence policy leaves out are counted in the result and in
        `dropped`, never dropped silently.

        A failed metadata patch is kept pending for the next barrier, not raised here:
        the history is already durable and must not be appended twice.
        """
        if not items:
            return AppendResult(kept=0, dropped={})
        async with self._lock:
            self._check_open("append_items")
            mode = self._sync.history_mode
            items = [
                line for item in items for line in with_turn_events(item, mode, self.thread_id)
            ]
            canonical: list[RolloutItem] = []
            dropped: Counter[str] = Counter()
            for item in items:  # one pass: a long batch is costly enough
                if is_persisted_rollout_item(item, mode):
                    canonical.append(sanitize_rollout_item(item))
                else:
                    dropped[_kind(item)] += 1
            if dropped:
                self.dropped.update(dropped)
                log.debug("%s: the persistence policy left out %s", self.thread_id, dict(dropped))
            await self.store.append_items(
                AppendThreadItemsParams(thread_id=self.thread_id, items=list(items))
            )
            result = AppendResult(kept=len(canonical), dropped=dict(dropped))
            if not canonical:
                return result
            update = self._sync.observe_appended_items(canonical)
            if update is not None:
                try:
                    await self._apply(update)
                except Exception as exc:  # any failure: the history is durable either way
                    log.warning(
                        "durable append succeeded but thread metadata projection failed; "
                        "update remains pending: %s",
                        exc,
                    )
            return result

    async def _apply(self, update: PendingUpdate) -> StoredThread:
        thread = await self.store.update_thread_metadata(
            UpdateThreadMetadataParams(
                thread_id=self.thread_id, patch=update.patch, include_archived=True
            )
        )
        self._sync.mark_pending_update_applied(update)
        return thread

    async def _flush_metadata(self, *, existing_history_only: bool) -> None:
        update = (
            self._sync.take_pending_update_for_existing_history()
            if existing_history_only
            else self._sync.take_pending_update()
        )
        if update is not None:
            await self._apply(update)

    async def persist(self) -> None:
        """Materialize the thread, then send all pending metadata (including the create patch)."""
        async with self._lock:
            self._check_open("persist")
            await self.store.persist_thread(self.thread_id)
            await self._flush_metadata(existing_history_only=False)

    async def flush(self) -> None:
        """Make appended history durable, then send metadata pending for existing history."""
        async with self._lock:
            self._check_open("flush")
            await self.store.flush_thread(self.thread_id)
            await self._flush_metadata(existing_history_only=True)

    async def flush_history(self) -> None:
        """Make appended history durable, and nothing more: a debounced `updated_at`
        touch stays pending for its interval or the next barrier, as it would without
        the flush (for callers that make every append durable, like `Conversation`)."""
        async with self._lock:
            self._check_open("flush_history")
            await self.store.flush_thread(self.thread_id)

    async def shutdown(self) -> None:
        """Send pending metadata, then close the writer; the handle is closed afterwards.

        The writer is closed even when the metadata flush fails (a writer nobody
        tracks would block every later resume); both failures are then reported
        together as `Internal`.
        """
        async with self._lock:
            if self._closed is not None:
                return
            metadata_error: Exception | None = None
            try:
                await self._flush_metadata(existing_history_only=True)
            except Exception as exc:
                metadata_error = exc
            try:
                await self.store.shutdown_thread(self.thread_id)
            except Exception as exc:
                if metadata_error is None:
                    raise
                raise Internal(
                    f"thread metadata update failed: {metadata_error}; "
                    f"thread shutdown failed: {exc}"
                ) from exc
            self._closed = "shut down"
            if metadata_error is not None:
                raise Internal(
                    f"thread metadata update failed: {metadata_error}; the writer was closed"
                ) from metadata_error

    async def discard(self) -> None:
        """Drop the writer without flushing; idempotent. Pending metadata is dropped."""
        async with self._lock:
            if self._closed is not None:
                return
            self._closed = "discarded"
            await self.store.discard_thread(self.thread_id)

    async def update_metadata(
        self, patch: ThreadMetadataPatch, *, include_archived: bool = False
    ) -> StoredThread:
        """An explicit mutation, ordered after every derived patch (those go first)."""
        async with self._lock:
            self._check_open("update_metadata")
            await self._flush_metadata(existing_history_only=False)
            return await self.store.update_thread_metadata(
                UpdateThreadMetadataParams(
                    thread_id=self.thread_id, patch=patch, include_archived=include_archived
                )
            )

    async def update_memory_mode(
        self, mode: str, *, include_archived: bool = False
    ) -> StoredThread:
        return await self.update_metadata(
            ThreadMetadataPatch(memory_mode=mode), include_archived=include_archived
        )

    # -- reads --------------------------------------------------------------------
    async def load_history(self, *, include_archived: bool = True) -> StoredThreadHistory:
        return await self.store.load_history(
            LoadThreadHistoryParams(thread_id=self.thread_id, include_archived=include_archived)
        )

    async def read_thread(
        self, *, include_archived: bool = True, include_history: bool = False
    ) -> StoredThread:
        return await self.store.read_thread(
            ReadThreadParams(
                thread_id=self.thread_id,
                include_archived=include_archived,
                include_history=include_history,
            )
        )

    def __repr__(self) -> str:
        state = self._closed or "live"
        return f"LiveThread({self.thread_id}, {state}, originator={self.originator!r})"


def _emit(
    sink: AnalyticsSink | None,
    live: LiveThread,
    thread: StoredThread,
    *,
    mode: str,
    model: str | None,
    ephemeral: bool = False,
) -> None:
    event = ThreadInitializedEvent(
        thread_id=live.thread_id,
        session_id=live.session_id,
        product_client_id=live.originator,
        model=model or thread.model,
        ephemeral=ephemeral,
        thread_source=thread.thread_source,
        initialization_mode=mode,  # type: ignore[arg-type]
        subagent_source=live.source.subagent_kind,
        parent_thread_id=thread.parent_thread_id,
        forked_from_thread_id=thread.forked_from_id,
        created_at=to_ms(thread.created_at) // 1000,
    )
    (sink or NoopAnalyticsSink()).record(event)
