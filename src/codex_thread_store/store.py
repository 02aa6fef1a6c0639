"""`ThreadStore`: the async storage boundary for conversation threads.

The thread id is the only durable handle. `append_items` appends raw canonical
history (the store applies the persistence policy) and never infers metadata;
`update_thread_metadata` is the only metadata write. Optional operations
(`search_threads`, `list_turns`, `list_items`) raise `Unsupported` unless a
store overrides them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from .errors import Unsupported
from .types import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    DeleteThreadParams,
    ForkPointParams,
    HistoryBase,
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
    ThreadPage,
    ThreadSearchPage,
    TurnPage,
    UpdateThreadMetadataParams,
)

__all__ = ["ThreadStore"]


class ThreadStore(ABC):
    """The contract every store implements; see `docs/design.md` for the rules."""

    def default_history_mode(self) -> str:
        """The history mode of a thread created without one (`CreateThreadParams.history_mode`
        None). Legacy unless a store knows better."""
        return "legacy"

    # -- live writers -------------------------------------------------------------
    @abstractmethod
    async def create_thread(self, params: CreateThreadParams) -> None:
        """Open a new live thread and record its initial `session_meta`.

        Raises: `Conflict` (the id exists), `Unsupported("paginated_threads")`.
        """

    @abstractmethod
    async def resume_thread(self, params: ResumeThreadParams) -> None:
        """Reopen an existing thread for live appends.

        Raises: `ThreadNotFound`, `Conflict` (already live), `Unsupported`.
        """

    @abstractmethod
    async def append_items(self, params: AppendThreadItemsParams) -> None:
        """Append raw items in order after applying the persistence policy.

        Nothing surviving the policy is a successful no-op. Never writes metadata.
        Raises: `ThreadNotFound` (no live writer), `ResourceExhausted` (item too large).
        """

    @abstractmethod
    async def persist_thread(self, thread_id: str) -> None:
        """Materialize a lazily persisted thread, then persist everything queued."""

    @abstractmethod
    async def flush_thread(self, thread_id: str) -> None:
        """Return once every appended item is durable and readable."""

    @abstractmethod
    async def shutdown_thread(self, thread_id: str) -> None:
        """Flush, then close the live writer."""

    @abstractmethod
    async def discard_thread(self, thread_id: str) -> None:
        """Drop the live writer without forcing queued items durable (idempotent).

        Data already durable is kept; afterwards no earlier writer handle may append.
        """

    # -- reads --------------------------------------------------------------------
    @abstractmethod
    async def load_history(self, params: LoadThreadHistoryParams) -> StoredThreadHistory:
        """Persisted items in replay order. Raises: `ThreadNotFound`."""

    @abstractmethod
    async def read_thread(self, params: ReadThreadParams) -> StoredThread:
        """A thread's summary, with history only when asked. Raises: `ThreadNotFound`."""

    @abstractmethod
    async def read_thread_by_rollout_path(
        self, params: ReadThreadByRolloutPathParams
    ) -> StoredThread:
        """Deprecated: read by local rollout path."""

    @abstractmethod
    async def list_threads(self, params: ListThreadsParams) -> ThreadPage:
        """One page of threads (keyset cursor)."""

    async def search_threads(self, params: SearchThreadsParams) -> ThreadSearchPage:
        """Full-text search over threads, with snippets."""
        raise Unsupported("thread/search")

    async def list_turns(self, params: ListTurnsParams) -> TurnPage:
        """One page of a thread's turns."""
        raise Unsupported("list_turns")

    async def list_items(self, params: ListItemsParams) -> ItemPage:
        """One page of a thread's items, optionally of one turn."""
        raise Unsupported("list_items")

    async def fork_point(self, params: ForkPointParams) -> HistoryBase:
        """Where a fork that references this thread's history (instead of copying it)
        would start now: pass it as `CreateThreadParams.history_base`. Stores that keep
        history as files (paginated Codex homes) support it."""
        raise Unsupported("fork_point")

    # -- metadata and lifecycle ---------------------------------------------------
    @abstractmethod
    async def update_thread_metadata(self, params: UpdateThreadMetadataParams) -> StoredThread:
        """Apply a literal patch and return the updated thread. Raises: `ThreadNotFound`."""

    @abstractmethod
    async def archive_thread(self, params: ArchiveThreadParams) -> None:
        """Mark the thread archived. Raises: `ThreadNotFound`."""

    @abstractmethod
    async def unarchive_thread(self, params: ArchiveThreadParams) -> StoredThread:
        """Clear the archived state and return the thread. Raises: `ThreadNotFound`."""

    @abstractmethod
    async def delete_thread(self, params: DeleteThreadParams) -> None:
        """Delete history and metadata. Raises: `ThreadNotFound`, `Conflict`."""

    # -- resources ----------------------------------------------------------------
    async def aclose(self) -> None:  # noqa: B027 - optional hook, deliberately empty
        """Release resources; stores without any need not override it."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
