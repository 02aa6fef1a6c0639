"""Thread ids: canonical UUID strings; new ids are UUIDv7 (time-ordered)."""

from __future__ import annotations

import uuid
from typing import NewType

from .errors import InvalidRequest

__all__ = ["SessionId", "ThreadId", "new_thread_id", "parse_thread_id"]

ThreadId = NewType("ThreadId", str)
"""A thread id: a lower-case hyphenated UUID string."""

SessionId = NewType("SessionId", str)
"""The id shared by a root thread and all its subagents (equal to the root's thread id)."""


def new_thread_id() -> ThreadId:
    """Return a fresh UUIDv7 thread id, so ids sort by creation time like Codex's."""
    import uuid6  # imported on first use: it costs ~20 ms (importlib.metadata) at start-up

    return ThreadId(str(uuid6.uuid7()))


def parse_thread_id(value: object, *, what: str = "thread id") -> ThreadId:
    """Validate `value` as a thread id and return its canonical (lower-case) form.

    Raises:
        InvalidRequest: `value` is not a UUID string.
    """
    if not isinstance(value, str):
        raise InvalidRequest(f"{what} must be a UUID string, got {type(value).__name__}")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise InvalidRequest(
            f"{what} {value!r} is not a UUID; use the id printed by `codex-threads list`"
        ) from None
    canonical = str(parsed)
    if canonical != value.lower():
        # uuid.UUID accepts braces, urn: prefixes and missing hyphens; Codex does not.
        raise InvalidRequest(f"{what} {value!r} is not in canonical hyphenated UUID form")
    return ThreadId(canonical)
