"""`Conversation`: a thread as the list of model items agent code already holds.

Append Responses API items (`append`) or Chat Completions messages (`append_chat`); read
the model context back (`items`, `chat_messages`) in model-ready order, equal to what went
in. Underneath it is an ordinary thread written through `LiveThread`: turns are opened
and closed for the caller (`conversations/turns.py`), metadata (preview, name, cwd,
model, token usage) follows from the history through LiveThread's sync, and Codex and
`codex-threads` list, show and resume it like any other.

History stays append-only. `pop` and `clear` use Codex's own mechanisms, so Codex's
reading of the thread agrees with this one:

- `pop` removes the newest item. In a legacy thread, when that item's turn is the newest
  whole turn opened by a user message, it writes `thread_rolled_back` (one turn) and
  appends the turn again without the item: Codex's turn list and its model context both
  lose just that item. Otherwise (and always in a paginated thread, whose turn list a
  rollback does not change) it writes a `compacted` line whose `replacement_history` is
  the context minus the item (Codex resumes from that context; its turn list keeps the
  old turns).
- `clear` writes a `compacted` line with an empty `replacement_history`: Codex resumes
  with an empty context; the old turns stay visible as history before a compaction.

A `Conversation` holds the context in memory, so reads after the first cost no I/O.
Reading takes no writer: a thread can be read from a read-only home or while another
process writes it. The first write opens the thread's writer (reading the history again
first if the thread changed since), and `close` (or `async with`) releases it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from ..errors import InvalidRequest, ThreadNotFound
from ..live_thread import LiveThread
from ..patch import ThreadMetadataPatch, TokenUsage
from ..protocol.rollout import RolloutItem, history_mode_of
from ..protocol.sources import SessionSource
from ..store import ThreadStore
from ..timeutil import utc_now
from ..types import (
    CreateThreadParams,
    LoadThreadHistoryParams,
    ReadThreadParams,
    ResumeThreadParams,
    ThreadPersistenceMetadata,
    UpdateThreadMetadataParams,
)
from .chat import chat_messages, stored_items_from_chat
from .items import CODEX_ONLY_KEYS, model_item, stored_item
from .replay import Replay
from .turns import TurnSettings, turn_lines

__all__ = ["Conversation"]

T = TypeVar("T")

_encode = msgspec.json.encode
_decode = msgspec.json.decode


@dataclass(frozen=True, slots=True)
class _PendingWriter:
    """What opening the writer later needs: the history already read (so it is not
    read twice) and the thread's `updated_at` then (to notice another writer since)."""

    history: list[RolloutItem]
    updated_at: datetime
    read_at: datetime
    include_archived: bool

    def may_be_stale(self, updated_at: datetime) -> bool:
        """Whether the thread may have changed since it was read: its `updated_at`
        moved, or it was written within the millisecond of the read, when a later write
        could carry the same time."""
        return updated_at != self.updated_at or self.updated_at >= self.read_at


class Conversation:
    """One thread read and written as plain model items. Build it with `start`, `resume`
    or `open`; close it with `close` (or `async with`)."""

    def __init__(
        self,
        store: ThreadStore,
        thread_id: str,
        replay: Replay,
        settings: TurnSettings,
        *,
        live: LiveThread | None = None,
        pending: _PendingWriter | None = None,
    ) -> None:
        self.store = store
        self.thread_id = thread_id
        self._live = live
        self._pending = pending
        self._closed = False
        self._replay = replay
        self._settings = settings
        self._lock = asyncio.Lock()
        # The context kept encoded: each read decodes fresh objects, so callers may
        # change what they get without touching what is stored.
        self._encoded: list[bytes] = [_encode(p) for p in replay.context]

    @property
    def live(self) -> LiveThread | None:
        """The thread's writer, once a write has opened it (None before)."""
        return self._live

    @property
    def is_closed(self) -> bool:
        return self._closed

    # -- opening ------------------------------------------------------------------------
    @classmethod
    async def start(
        cls,
        store: ThreadStore,
        *,
        thread_id: str | None = None,
        name: str | None = None,
        cwd: str | None = None,
        model: str | None = None,
        model_provider: str = "openai",
        source: SessionSource | None = None,
        thread_source: str | None = None,
        history_mode: str | None = None,
        collect_git: bool = False,
    ) -> Conversation:
        """Create a new thread (with `thread_id`, or a fresh id) and open it.

        Raises:
            Conflict: a thread with `thread_id` exists already.
            InvalidRequest: a malformed `thread_id` or an unknown `history_mode`.
        """
        fields: dict[str, Any] = {
            "metadata": ThreadPersistenceMetadata(
                cwd=cwd or os.getcwd(), model_provider=model_provider
            ),
            "thread_source": thread_source,
            "history_mode": history_mode,
        }
        if thread_id is not None:
            fields["thread_id"] = thread_id
        if source is not None:
            fields["source"] = source
        live = await LiveThread.create(
            store, CreateThreadParams(**fields), collect_git=collect_git, model=model
        )
        settings = cls._settings_for(live.thread_id, live.metadata_sync.history_mode, cwd, model)
        conversation = cls(store, live.thread_id, Replay(), settings, live=live)
        if name:
            try:
                await live.update_metadata(ThreadMetadataPatch(name=name))
            except BaseException:
                await live.discard()  # no writer left behind for a conversation not returned
                raise
        return conversation

    @classmethod
    async def resume(
        cls,
        store: ThreadStore,
        thread_id: str,
        *,
        cwd: str | None = None,
        model: str | None = None,
        include_archived: bool = False,
    ) -> Conversation:
        """Open an existing thread (one Codex wrote included) to read and append.

        Raises:
            ThreadNotFound: no such thread (or it is archived and `include_archived` is
                False).
            Conflict: another writer holds the thread.
        """
        read_at = utc_now()
        thread = await store.read_thread(
            ReadThreadParams(thread_id=thread_id, include_archived=include_archived)
        )
        history = await store.load_history(
            LoadThreadHistoryParams(thread_id=thread_id, include_archived=include_archived)
        )
        mode = history_mode_of(history.items, thread.history_mode)
        settings = cls._settings_for(thread_id, mode, cwd or thread.cwd or None, model)
        pending = _PendingWriter(history.items, thread.updated_at, read_at, include_archived)
        return cls(store, thread_id, Replay.of(history.items), settings, pending=pending)

    @classmethod
    async def open(cls, store: ThreadStore, thread_id: str, **start: Any) -> Conversation:
        """Resume thread `thread_id`, or start it with that id when there is none yet
        (`start` holds `start`'s keyword arguments, used only then)."""
        try:
            thread = await store.read_thread(
                ReadThreadParams(thread_id=thread_id, include_archived=True)
            )
        except ThreadNotFound:
            return await cls.start(store, thread_id=thread_id, **start)
        return await cls.resume(
            store,
            thread_id,
            model=start.get("model"),
            cwd=start.get("cwd"),
            include_archived=thread.is_archived,
        )

    @staticmethod
    def _settings_for(
        thread_id: str, history_mode: str, cwd: str | None, model: str | None
    ) -> TurnSettings:
        return TurnSettings(
            thread_id=thread_id,
            paginated=history_mode == "paginated",
            cwd=cwd or os.getcwd(),
            model=model,
        )

    async def _writer(self) -> LiveThread:
        """The thread's writer, opened on the first write. If the thread changed since it
        was read (another writer appended), its history is read again first, so this
        conversation never writes turns against a stale context."""
        if self._closed:
            raise ThreadNotFound(self.thread_id, "this Conversation was closed; resume it")
        if self._live is not None:
            return self._live
        pending = self._pending
        assert pending is not None
        history = pending.history
        thread = await self.store.read_thread(
            ReadThreadParams(thread_id=self.thread_id, include_archived=pending.include_archived)
        )
        if pending.may_be_stale(thread.updated_at):
            loaded = await self.store.load_history(
                LoadThreadHistoryParams(
                    thread_id=self.thread_id, include_archived=pending.include_archived
                )
            )
            history = loaded.items
            self._replay = Replay.of(history)
            self._encoded = [_encode(p) for p in self._replay.context]
        self._live = await LiveThread.resume(
            self.store,
            ResumeThreadParams(
                thread_id=self.thread_id,
                history=history,
                include_archived=pending.include_archived,
            ),
            model=self._settings.model,
        )
        self._pending = None  # the writer has what it needed from the history
        return self._live

    # -- writing ------------------------------------------------------------------------
    async def append(
        self,
        items: Sequence[Any],
        *,
        usage: TokenUsage | None = None,
        end_turn: bool | None = None,
    ) -> None:
        """Append Responses API items (the short form `{"role", "content"}` included);
        durable when this returns.

        `usage` records the tokens this step used (summed into the thread's total);
        `end_turn` closes the turn (True) or keeps it open (False); by default a batch
        ending with an assistant message closes it.

        Raises:
            InvalidRequest: an item Codex cannot keep; nothing of the batch is written.
        """
        await self._write([stored_item(i, item) for i, item in enumerate(items)], usage, end_turn)

    async def append_chat(
        self,
        messages: Sequence[Any],
        *,
        usage: TokenUsage | None = None,
        end_turn: bool | None = None,
    ) -> None:
        """Append Chat Completions messages (`system`/`user`/`assistant` with
        `tool_calls`/`tool`); as `append` otherwise."""
        await self._write(stored_items_from_chat(messages), usage, end_turn)

    async def end_turn(self) -> None:
        """Close the open turn, if any (Codex then shows it as completed)."""

        async def close_turn() -> None:
            await self._writer()
            if self._replay.open_turn is not None:
                await self._commit(turn_lines(self._settings, self._replay, [], close=True))

        await self._mutate(close_turn)

    async def _write(
        self, payloads: list[dict[str, Any]], usage: TokenUsage | None, end_turn: bool | None
    ) -> None:
        if not payloads and usage is None and not end_turn:
            return

        async def write() -> None:
            await self._writer()  # first: it may re-read a thread that changed
            lines = turn_lines(self._settings, self._replay, payloads, usage=usage, close=end_turn)
            await self._commit(lines)

        await self._mutate(write)

    async def _mutate(self, mutation: Callable[[], Awaitable[T]]) -> T:
        """Run one mutation whole, under the lock. Once started it finishes even if the
        caller is cancelled (the cancellation is raised after): a write half taken into
        memory would put this conversation out of step with what is stored."""

        async def locked() -> T:
            async with self._lock:
                return await mutation()

        task = asyncio.ensure_future(locked())
        cancelled: asyncio.CancelledError | None = None
        while not task.done():
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError as exc:
                cancelled = cancelled or exc
        if cancelled is not None:
            if not task.cancelled() and task.exception() is not None:
                task.exception()  # retrieved: the cancellation is what the caller asked
            raise cancelled
        return task.result()

    async def _commit(self, lines: list[RolloutItem]) -> None:
        """Append `lines`, take them into memory, then make them durable. The append is
        all-or-nothing, so memory follows it exactly; a failed flush is raised with the
        lines already counted (they are appended, only their durability is in doubt)."""
        live = await self._writer()
        await live.append_items(lines)
        before = len(self._replay.context)
        checkpoint = self._replay.checkpoint
        for line in lines:
            self._replay.feed(line)
        if self._replay.checkpoint != checkpoint or len(self._replay.context) < before:
            self._encoded = [_encode(p) for p in self._replay.context]
        else:
            self._encoded += [_encode(p) for p in self._replay.context[before:]]
        await live.flush_history()

    async def pop(self) -> dict[str, Any] | None:
        """Remove the newest item and return it (None when the context is empty); durable
        when this returns. See the module doc for how it is written."""

        async def pop_newest() -> dict[str, Any] | None:
            if not self._replay.context:
                return None
            await self._writer()  # it may re-read the thread: decide on the fresh context
            context = self._replay.context
            if not context:
                return None
            popped = model_item(context[-1])
            # A paginated thread's turns are Codex's projection, which a rollback does not
            # change: there only a compaction keeps Codex's reading and this one equal.
            user_at = None if self._settings.paginated else self._replay.last_turn_user_start()
            if user_at is None:
                lines = self._compaction(context[:-1])
            else:
                lines = self._closing_open_turn()
                lines.append(RolloutItem.event_msg({"type": "thread_rolled_back", "num_turns": 1}))
                again = context[user_at:-1]
                if again:
                    lines += turn_lines(self._settings, Replay(context=context[:user_at]), again)
            await self._commit(lines)
            return popped

        return await self._mutate(pop_newest)

    async def clear(self) -> None:
        """Empty the context (durable when this returns); the thread's history stays."""

        async def clear_all() -> None:
            if not self._replay.context:
                return
            await self._writer()
            if self._replay.context:
                await self._commit(self._compaction([]))

        await self._mutate(clear_all)

    def _closing_open_turn(self) -> list[RolloutItem]:
        """The line that closes the open turn before a rewrite cuts into it (none if no
        turn is open): a turn is never left open across a compaction or rollback."""
        if self._replay.open_turn is None:
            return []
        return turn_lines(self._settings, self._replay, [], close=True)

    def _compaction(self, replacement: list[dict[str, Any]]) -> list[RolloutItem]:
        compacted = {"message": "", "replacement_history": replacement}
        return [*self._closing_open_turn(), RolloutItem.compacted(compacted)]

    async def set_name(self, name: str | None) -> None:
        """Name the thread (None clears the name)."""
        patch = ThreadMetadataPatch(name=name)
        if self._live is not None:  # a loaded thread's metadata goes through its writer
            await self._live.update_metadata(patch)
        else:
            await self.store.update_thread_metadata(
                UpdateThreadMetadataParams(thread_id=self.thread_id, patch=patch)
            )

    # -- reading ------------------------------------------------------------------------
    async def items(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The model context as Responses API items, oldest first: the newest `limit`
        items when `limit` is given."""
        if limit is not None and limit < 0:
            raise InvalidRequest(f"limit must be 0 or more, got {limit}")
        encoded = self._encoded if limit is None else self._encoded[-limit:] if limit else []
        # One decode of the whole list: fresh objects, without a Python call per item.
        # (Pausing the collector here measured slower, unlike for a rollout's parse.)
        decoded: list[dict[str, Any]] = _decode(b"[" + b",".join(encoded) + b"]")
        return [p if CODEX_ONLY_KEYS.isdisjoint(p) else model_item(p) for p in decoded]

    async def chat_messages(self) -> list[dict[str, Any]]:
        """The model context as Chat Completions messages (reasoning left out)."""
        return chat_messages(_decode(b"[" + b",".join(self._encoded) + b"]"))

    def __len__(self) -> int:
        return len(self._encoded)

    # -- closing ------------------------------------------------------------------------
    async def close(self) -> None:
        """Send pending metadata and release the writer, if a write opened one (an open
        turn stays open); idempotent. It waits for a write in progress to finish."""
        async with self._lock:
            self._closed = True
            self._pending = None
            if self._live is not None:
                await self._live.shutdown()

    async def __aenter__(self) -> Conversation:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"Conversation({self.thread_id}, {len(self)} items)"
