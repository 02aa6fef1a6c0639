"""The same API, blocking: for scripts and notebooks without an event loop of their own.

    from codex_thread_store import sync

    with sync.open_store("~/.codex") as store:
        convo = sync.start_conversation(store, name="Notes")
        convo.append([{"role": "user", "content": "Remember the milk"}])
        print(convo.items())
        convo.close()

A thin facade over the async core, not a second implementation: every call runs the
async method on one event loop that lives in a background thread for the process, and
blocks until it is done. Objects the API returns that have async methods themselves
(stores, `Conversation`, `LiveThread`, `ThreadManager`) come back wrapped the same way;
everything else (threads, pages, items) is returned as is. Because the loop is not the
caller's, this works the same in a plain script and inside a running loop (Jupyter, an
async web app's thread pool); from a coroutine, prefer the async API itself, since a
blocking call stalls the caller's loop while it runs.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import inspect
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .conversations import Conversation
from .live_thread import LiveThread
from .manager import ThreadManager
from .open_store import open_store as _open_store
from .store import ThreadStore

__all__ = [
    "Blocking",
    "open_conversation",
    "open_store",
    "resume_conversation",
    "run",
    "start_conversation",
]

T = TypeVar("T")

_WRAPPED = (ThreadStore, Conversation, LiveThread, ThreadManager)


class _LoopThread:
    """One event loop in one daemon thread, started on first use, stopped at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                threading.Thread(target=serve, name="codex-thread-store-sync", daemon=True).start()
                ready.wait()
                self._loop = loop
                atexit.register(self.stop)
            return self._loop

    def stop(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)


_LOOP = _LoopThread()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on the facade's loop and return its result (or raise its error)."""
    loop = _LOOP.loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coroutine.close()
        raise RuntimeError(
            "a blocking call was made from the facade's own loop; await the async API instead"
        )
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()  # Ctrl-C or the like: do not leave the call running unseen
        raise


def _wrap(value: Any) -> Any:
    return Blocking(value) if isinstance(value, _WRAPPED) else value


class Blocking:
    """An async API object whose coroutine methods block. `wrapped` is the object itself
    (use it only from the facade's loop, e.g. in a coroutine passed to `run`)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.wrapped, name)
        if not inspect.iscoroutinefunction(attribute):
            return _wrap(attribute)

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            return _wrap(run(attribute(*map(_unwrap, args), **_unwrapped(kwargs))))

        return call

    def close(self) -> None:
        """Close the object: `aclose` for a store or manager, `close` for a conversation,
        `shutdown` for a live thread."""
        closer = (
            getattr(self.wrapped, "aclose", None)
            or getattr(self.wrapped, "close", None)
            or getattr(self.wrapped, "shutdown", None)
        )
        if closer is None:
            raise AttributeError(f"{type(self.wrapped).__name__} has nothing to close")
        run(closer())

    def __enter__(self) -> Blocking:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.wrapped)

    def __repr__(self) -> str:
        return f"Blocking({self.wrapped!r})"


def _unwrap(value: Any) -> Any:
    return value.wrapped if isinstance(value, Blocking) else value


def _unwrapped(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: _unwrap(v) for k, v in kwargs.items()}


def _store_of(store: Blocking) -> ThreadStore:
    # Only a store opened here: one opened on another loop may hold that loop's
    # connections (a PostgreSQL pool), which this loop cannot use.
    inner = store.wrapped if isinstance(store, Blocking) else None
    if not isinstance(inner, ThreadStore):
        raise TypeError(
            f"expected a store from sync.open_store, got {type(store).__name__}; "
            "open it with sync.open_store(url)"
        )
    return inner


def open_store(url: str, *, owner: str | None = None) -> Blocking:
    """Open the store `url` names (see `codex_thread_store.open_store`), blocking.
    Close it with `close()` or use it as `with sync.open_store(url) as store:`."""

    async def opened() -> ThreadStore:
        store = _open_store(url, owner=owner)
        await store.__aenter__()
        return store

    return Blocking(run(opened()))


def start_conversation(store: Blocking, **options: Any) -> Blocking:
    """`Conversation.start(store, **options)`, blocking."""
    return Blocking(run(Conversation.start(_store_of(store), **options)))


def resume_conversation(store: Blocking, thread_id: str, **options: Any) -> Blocking:
    """`Conversation.resume(store, thread_id, **options)`, blocking."""
    return Blocking(run(Conversation.resume(_store_of(store), thread_id, **options)))


def open_conversation(store: Blocking, thread_id: str, **options: Any) -> Blocking:
    """`Conversation.open(store, thread_id, **options)`, blocking."""
    return Blocking(run(Conversation.open(_store_of(store), thread_id, **options)))
