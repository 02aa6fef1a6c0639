"""Analytics events about threads, and the sink interface that receives them.

The default sink drops everything; nothing here reaches the network. Hosts that
report analytics plug in their own `AnalyticsSink`.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

__all__ = [
    "AnalyticsSink",
    "NoopAnalyticsSink",
    "RecordingAnalyticsSink",
    "ThreadInitializedEvent",
]


class ThreadInitializedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """`codex_thread_initialized`: a thread was created, resumed or forked.

    `thread_source` is the plain label (`"automation"` for a feature source) or
    None; `product_client_id` is the thread's effective originator.
    """

    event_type: Literal["codex_thread_initialized"] = "codex_thread_initialized"
    thread_id: str
    session_id: str
    product_client_id: str
    model: str | None = None
    ephemeral: bool = False
    thread_source: str | None = None
    initialization_mode: Literal["new", "forked", "resumed"]
    subagent_source: str | None = None
    parent_thread_id: str | None = None
    forked_from_thread_id: str | None = None
    created_at: int


class AnalyticsSink(Protocol):
    """Receives events; must not block (queue them if delivery is slow)."""

    def record(self, event: ThreadInitializedEvent) -> None: ...


class NoopAnalyticsSink:
    """The default: events go nowhere."""

    def record(self, event: ThreadInitializedEvent) -> None:
        return None


class RecordingAnalyticsSink:
    """Keeps events in a list; handy in tests and for local inspection."""

    def __init__(self) -> None:
        self.events: list[ThreadInitializedEvent] = []

    def record(self, event: ThreadInitializedEvent) -> None:
        self.events.append(event)
