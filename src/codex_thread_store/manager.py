"""`ThreadManager`: one entry point for starting, resuming, forking and mutating threads.

Metadata mutations are routed by liveness: a loaded thread goes through its
`LiveThread`, so an explicit mutation is ordered after the metadata derived
from its history; a cold thread (or one of an internal source, which the
loaded-thread lookup hides) goes straight to the store. Ephemeral threads live
in a private in-memory store, never reach the real one, and reject mutations.
"""

from __future__ import annotations

from .analytics import AnalyticsSink
from .errors import Internal, InvalidRequest, ThreadStoreError, Unsupported
from .ids import new_thread_id
from .live_thread import LiveThread
from .memory import InMemoryThreadStore
from .originator import OriginatorResolver
from .patch import ThreadMetadataPatch
from .protocol.rollout import RolloutItem, first_session_meta
from .protocol.sources import SessionSource, ThreadSource
from .store import ThreadStore
from .types import (
    CreateThreadParams,
    ForkPointParams,
    HistoryBase,
    LoadThreadHistoryParams,
    ReadThreadParams,
    ResumeThreadParams,
    StoredThread,
    ThreadPersistenceMetadata,
    UpdateThreadMetadataParams,
)

__all__ = ["ThreadManager"]


class ThreadManager:
    """Owns the loaded `LiveThread`s of a process over one store.

    Args:
        store: where threads persist.
        originators: how effective originators are resolved.
        analytics: receives `thread_initialized` events (default: dropped).
        collect_git: probe git facts for new threads' cwd.
    """

    def __init__(
        self,
        store: ThreadStore,
        *,
        originators: OriginatorResolver | None = None,
        analytics: AnalyticsSink | None = None,
        collect_git: bool = True,
    ) -> None:
        self.store = store
        self.originators = originators or OriginatorResolver()
        self.analytics = analytics
        self.collect_git = collect_git
        self._loaded: dict[str, LiveThread] = {}
        self._ephemeral_store = InMemoryThreadStore()

    # -- lookup -------------------------------------------------------------------
    def get_loaded(self, thread_id: str) -> LiveThread | None:
        """The loaded thread, hiding internal sources as Codex's lookup does."""
        live = self._loaded.get(thread_id)
        if live is None or live.source.is_internal:
            return None
        return live

    def is_ephemeral(self, thread_id: str) -> bool:
        live = self._loaded.get(thread_id)
        return live is not None and live.store is self._ephemeral_store

    @property
    def loaded_thread_ids(self) -> list[str]:
        return list(self._loaded)

    # -- lifecycle ----------------------------------------------------------------
    async def start_thread(
        self,
        params: CreateThreadParams | None = None,
        *,
        service_name: str | None = None,
        ephemeral: bool = False,
        model: str | None = None,
    ) -> LiveThread:
        """Create a new thread. Feature `thread_source` labels are validated here."""
        params = params or CreateThreadParams()
        store = self._ephemeral_store if ephemeral else self.store
        inherited = self._live_originator(params.source.parent_thread_id or params.parent_thread_id)
        live = await LiveThread.create(
            store,
            params,
            service_name=service_name,
            inherited_originator=inherited,
            originators=self.originators,
            analytics=self.analytics,
            collect_git=self.collect_git,
            model=model,
            ephemeral=ephemeral,
        )
        self._loaded[live.thread_id] = live
        return live

    async def resume_thread(
        self,
        thread_id: str,
        *,
        include_archived: bool = False,
        metadata: ThreadPersistenceMetadata | None = None,
        model: str | None = None,
    ) -> LiveThread:
        """Reopen a stored thread; an already loaded one is returned as it is."""
        loaded = self._loaded.get(thread_id)
        if loaded is not None and not loaded.is_closed:
            return loaded
        live = await LiveThread.resume(
            self.store,
            ResumeThreadParams(
                thread_id=thread_id,
                include_archived=include_archived,
                metadata=metadata or ThreadPersistenceMetadata(),
            ),
            originators=self.originators,
            analytics=self.analytics,
            model=model,
        )
        self._loaded[thread_id] = live
        return live

    async def fork_thread(
        self,
        source_thread_id: str,
        *,
        last_n_turns: int | None = None,
        thread_source: str | None = None,
        thread_id: str | None = None,
        include_archived: bool = False,
    ) -> LiveThread:
        """Copy a thread's history into a new thread with `forked_from_id` set.

        With `last_n_turns`, only the last N turns are copied; that history has no
        `session_meta`, so the originator falls back to the live source thread's.
        The fork takes `thread_source` from this call, never from the source.
        """
        if last_n_turns is not None and last_n_turns < 1:
            raise InvalidRequest(f"last_n_turns must be at least 1, got {last_n_turns}")
        source = await self.store.read_thread(
            ReadThreadParams(thread_id=source_thread_id, include_archived=include_archived)
        )
        if last_n_turns is None and source.history_mode == "paginated":
            base = await self._fork_point(source_thread_id, include_archived)
            if base is not None:
                return await self._fork_by_reference(source, base, thread_source, thread_id)
        history = (
            await self.store.load_history(
                LoadThreadHistoryParams(
                    thread_id=source_thread_id, include_archived=include_archived
                )
            )
        ).items
        if last_n_turns is not None:
            history = _last_turns(history, last_n_turns)
        meta = first_session_meta(history)
        originator = self.originators.resolve(
            persisted=meta.originator if meta else None,
            inherited=self._live_originator(source_thread_id),
        )
        new_id = thread_id or new_thread_id()
        params = CreateThreadParams(
            thread_id=new_id,
            forked_from_id=source_thread_id,
            source=source.source,
            thread_source=thread_source,
            originator=originator,
            history_mode=source.history_mode,
            git_info=source.git_info,
            metadata=ThreadPersistenceMetadata(
                cwd=source.cwd or None, model_provider=source.model_provider
            ),
        )
        live = await LiveThread.create(
            self.store,
            params,
            originators=self.originators,
            analytics=self.analytics,
            collect_git=False,
        )
        self._loaded[new_id] = live
        if history:
            await live.append_items(history)
        await live.persist()
        return live

    async def _fork_point(self, thread_id: str, include_archived: bool) -> HistoryBase | None:
        try:
            return await self.store.fork_point(
                ForkPointParams(thread_id=thread_id, include_archived=include_archived)
            )
        except Unsupported:
            return None

    async def _fork_by_reference(
        self,
        source: StoredThread,
        base: HistoryBase,
        thread_source: str | None,
        thread_id: str | None,
    ) -> LiveThread:
        """A fork that starts from the source's history where it ends now, without copying
        it, as Codex 0.169+ forks paginated threads. The source's persisted originator
        carries over (its `session_meta` is the first of the fork's history)."""
        new_id = thread_id or new_thread_id()
        params = CreateThreadParams(
            thread_id=new_id,
            forked_from_id=source.thread_id,
            history_base=base,
            source=source.source,
            thread_source=thread_source,
            originator=self.originators.resolve(
                persisted=source.originator, inherited=self._live_originator(source.thread_id)
            ),
            history_mode="paginated",
            git_info=source.git_info,
            metadata=ThreadPersistenceMetadata(
                cwd=source.cwd or None, model_provider=source.model_provider
            ),
        )
        live = await LiveThread.create(
            self.store,
            params,
            originators=self.originators,
            analytics=self.analytics,
            collect_git=False,
        )
        self._loaded[new_id] = live
        await live.persist()
        return live

    async def spawn_subagent(
        self,
        parent_thread_id: str,
        *,
        depth: int = 1,
        agent_nickname: str | None = None,
        agent_role: str | None = None,
        agent_path: str | None = None,
        thread_source: str = "subagent",
        cwd: str | None = None,
    ) -> LiveThread:
        """Start a subagent of `parent_thread_id`; it shares the parent's session id
        and inherits the live parent's originator."""
        parent = await self.store.read_thread(
            ReadThreadParams(thread_id=parent_thread_id, include_archived=True)
        )
        params = CreateThreadParams(
            session_id=parent.root_session_id or parent.thread_id,
            parent_thread_id=parent_thread_id,
            source=SessionSource.thread_spawn(
                parent_thread_id,
                depth=depth,
                agent_nickname=agent_nickname,
                agent_role=agent_role,
                agent_path=agent_path,
            ),
            thread_source=thread_source,
            history_mode=parent.history_mode,
            metadata=ThreadPersistenceMetadata(
                cwd=cwd or parent.cwd or None, model_provider=parent.model_provider
            ),
        )
        return await self.start_thread(params)

    async def close_thread(self, thread_id: str) -> None:
        """Shut a loaded thread down and unload it (no-op when not loaded)."""
        live = self._loaded.pop(thread_id, None)
        if live is not None:
            await live.shutdown()

    async def aclose(self) -> None:
        """Shut every loaded thread down; the first error is raised after all were tried."""
        errors: list[BaseException] = []
        for thread_id in list(self._loaded):
            try:
                await self.close_thread(thread_id)
            except ThreadStoreError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    # -- metadata -----------------------------------------------------------------
    async def update_thread_metadata(
        self, thread_id: str, patch: ThreadMetadataPatch, *, include_archived: bool = False
    ) -> StoredThread:
        """The one entry point for metadata mutations; see the module docstring."""
        if self.is_ephemeral(thread_id):
            raise InvalidRequest(f"ephemeral thread does not support metadata updates: {thread_id}")
        if isinstance(patch.thread_source, str):
            ThreadSource.validate_new(patch.thread_source)
        live = self.get_loaded(thread_id)
        try:
            if live is not None and not live.is_closed:
                return await live.update_metadata(patch, include_archived=include_archived)
            return await self.store.update_thread_metadata(
                UpdateThreadMetadataParams(
                    thread_id=thread_id, patch=patch, include_archived=include_archived
                )
            )
        except ThreadStoreError:
            raise
        except Exception as exc:
            raise Internal(f"failed to update thread metadata {thread_id}: {exc}") from exc

    async def set_thread_name(self, thread_id: str, name: str) -> StoredThread:
        """Rename (trimmed; empty is rejected), as app-server `thread/name/set` does."""
        trimmed = name.strip()
        if not trimmed:
            raise InvalidRequest("thread name must not be empty")
        return await self.update_thread_metadata(thread_id, ThreadMetadataPatch(name=trimmed))

    def _live_originator(self, thread_id: str | None) -> str | None:
        if thread_id is None:
            return None
        live = self._loaded.get(thread_id)
        return live.originator if live is not None else None


_TURN_STARTS = frozenset({"task_started", "turn_started"})
_TURN_ENDS = frozenset({"task_complete", "turn_complete", "turn_aborted"})


def _turn_starts(items: list[RolloutItem]) -> list[int]:
    """Where each turn of a raw history begins: its start event, or, in old files without
    start events, the user message that opened it."""
    tags = [item.payload_type if item.type == "event_msg" else None for item in items]
    if any(tag in _TURN_STARTS for tag in tags):
        return [i for i, tag in enumerate(tags) if tag in _TURN_STARTS]
    starts: list[int] = []
    open_turn = False
    for i, tag in enumerate(tags):
        if tag == "user_message" and not open_turn:
            starts.append(i)
            open_turn = True
        elif tag in _TURN_ENDS:
            open_turn = False
    return starts


def _last_turns(items: list[RolloutItem], count: int) -> list[RolloutItem]:
    """The raw items of the last `count` turns (a fork keeps whole turns)."""
    starts = _turn_starts(items)
    if not starts:
        return []
    return items[starts[max(0, len(starts) - count)] :]
