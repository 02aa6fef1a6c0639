"""An OpenAI Agents SDK session kept as a Codex thread: `ThreadSession(session_id, store)`.

    from agents import Agent, Runner
    from codex_thread_store import open_store
    from codex_thread_store.agents_sdk import ThreadSession

    async with open_store("~/.codex") as store:
        session = ThreadSession("01a2...", store)   # the session id is the thread id
        await Runner.run(agent, "Hi", session=session)

It implements the SDK's `Session` protocol over a `Conversation` (so over any store):
`add_items` and `pop_item` are durable when they return, `get_items(limit)` returns the
newest `limit` items oldest first, and `clear_session` empties the session. History stays
append-only: `pop_item` and `clear_session` write Codex's own rollback and compaction
lines (see `conversations/conversation.py`), so Codex resumes the thread with the same
context the SDK sees, and `codex-threads` and Codex list and show it like any thread.

A session id that is not a thread id (`"user-42"`) names a thread by a stable UUID
derived from it (`thread_id_for`), and becomes the new thread's name.

Needs the `agents` extra: `pip install 'codex-thread-store[agents]'`.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

try:
    from agents.memory.session import SessionABC
    from agents.memory.session_settings import SessionSettings, resolve_session_limit
except ImportError as exc:  # pragma: no cover - exercised by the packaging test
    raise ImportError(
        "codex_thread_store.agents_sdk needs the OpenAI Agents SDK "
        f"({exc.name} is missing); install it with: pip install 'codex-thread-store[agents]'"
    ) from exc

from .conversations import Conversation
from .errors import InvalidRequest
from .ids import parse_thread_id
from .store import ThreadStore

__all__ = ["ThreadSession", "thread_id_for"]

# Fixed, so the same name maps to the same thread on every machine.
_NAMESPACE = uuid.UUID("5b0f3c55-8e43-4a0c-9a63-0d7c4e1f2a17")


@dataclass
class _Open:
    conversation: Conversation
    sessions: int = 0


@dataclass
class _StoreSessions:
    """The conversations this process has open on one store, shared by every session of
    the same thread: one thread has one writer, and web apps make a session per request."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    open: dict[str, _Open] = field(default_factory=dict)
    retired: bool = False
    """Set, under the lock, once nothing is open: a waiter then takes a fresh one."""


# Per store, per event loop: a lock and a writer belong to the loop they were made on,
# and apps that run each request in its own `asyncio.run` reuse one store across loops.
_SHARED: weakref.WeakKeyDictionary[
    ThreadStore, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _StoreSessions]
] = weakref.WeakKeyDictionary()


def _sessions_of(store: ThreadStore) -> _StoreSessions:
    loop = asyncio.get_running_loop()
    return _SHARED.setdefault(store, weakref.WeakKeyDictionary()).setdefault(loop, _StoreSessions())


def thread_id_for(session_id: str) -> str:
    """The thread id a session id names: itself when it is a thread id, else a UUID
    derived from it (the same every time)."""
    if not session_id:
        raise InvalidRequest("a session id must not be empty")
    try:
        return str(parse_thread_id(session_id))
    except InvalidRequest:
        return str(uuid.uuid5(_NAMESPACE, session_id))


def _is_thread_id(text: str) -> bool:
    try:
        parse_thread_id(text)
    except InvalidRequest:
        return False
    return True


class ThreadSession(SessionABC):
    """The Agents SDK `Session` protocol on one thread of `store`.

    Args:
        session_id: the thread id (or any name, see `thread_id_for`).
        store: any open `ThreadStore` (local Codex home, memory, PostgreSQL).
        session_settings: the SDK's settings (`limit` is the default for `get_items`).
        name, cwd, model, model_provider, history_mode, thread_source: recorded on the
            thread when this session creates it (`history_mode` None: the store's default,
            for a Codex home what its Codex writes; `thread_source` an app's own label,
            such as `"support-bot"`, kept as is).

    The thread is read on first use; its writer is opened by the first write and held
    until `close()` (or the end of `async with ThreadSession(...)`). Sessions of the same
    thread on the same store share one writer (so a session per request works), released
    when the last of them closes. Another process cannot write the thread meanwhile: in
    an app served by several processes, close each request's session when it ends.
    """

    def __init__(
        self,
        session_id: str,
        store: ThreadStore,
        *,
        session_settings: SessionSettings | None = None,
        name: str | None = None,
        cwd: str | None = None,
        model: str | None = None,
        model_provider: str = "openai",
        history_mode: str | None = None,
        thread_source: str | None = None,
    ) -> None:
        self.session_id = session_id
        self.thread_id = thread_id_for(session_id)
        self.session_settings = session_settings
        self.store = store
        named = None if _is_thread_id(session_id) else session_id
        self._start: dict[str, Any] = {
            "name": name if name is not None else named,
            "cwd": cwd,
            "model": model,
            "model_provider": model_provider,
            "history_mode": history_mode,
            "thread_source": thread_source,
        }
        self._conversation: Conversation | None = None
        self._shared: _StoreSessions | None = None

    async def conversation(self) -> Conversation:
        """The thread as a `Conversation` (opened, or created, on first use)."""
        while self._conversation is None:
            shared = _sessions_of(self.store)
            async with shared.lock:
                if shared.retired or self._conversation is not None:
                    continue
                entry = shared.open.get(self.thread_id)
                if entry is None or entry.conversation.is_closed:
                    opened = await Conversation.open(self.store, self.thread_id, **self._start)
                    entry = shared.open[self.thread_id] = _Open(opened)
                entry.sessions += 1
                self._conversation, self._shared = entry.conversation, shared
        return self._conversation

    async def get_items(self, limit: int | None = None) -> list[Any]:
        """The newest `limit` items (all when None), oldest first. As `SQLiteSession`
        reads its `LIMIT`: 0 gives none, a negative limit gives all."""
        limit = resolve_session_limit(limit, self.session_settings)
        conversation = await self.conversation()
        return await conversation.items(None if limit is not None and limit < 0 else limit)

    async def add_items(self, items: list[Any]) -> None:
        if items:
            await (await self.conversation()).append(items)

    async def pop_item(self) -> Any | None:
        return await (await self.conversation()).pop()

    async def clear_session(self) -> None:
        await (await self.conversation()).clear()

    async def close(self) -> None:
        """Let go of the thread; its writer is released when no session of this thread
        on this store still uses it (the session opens it again on next use)."""
        conversation, self._conversation = self._conversation, None
        shared, self._shared = self._shared, None
        if conversation is None or shared is None:
            return
        async with shared.lock:  # closed before another session can open it again
            entry = shared.open.get(self.thread_id)
            if entry is not None and entry.conversation is conversation:
                entry.sessions -= 1
                if entry.sessions > 0:
                    return
                del shared.open[self.thread_id]
            await conversation.close()
            if not shared.open:  # forget the idle loop's entry (its lock can hold the loop)
                shared.retired = True
                per_loop = _SHARED.get(self.store)
                if per_loop is not None and per_loop.get(asyncio.get_running_loop()) is shared:
                    del per_loop[asyncio.get_running_loop()]

    async def __aenter__(self) -> ThreadSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"ThreadSession({self.session_id!r}, thread {self.thread_id})"
