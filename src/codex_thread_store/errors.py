"""The typed errors every store raises.

```
ThreadStoreError
├── ThreadNotFound        .thread_id
├── InvalidRequest
├── Conflict
├── Unsupported           .operation (stable name)
├── ResourceExhausted
├── PermissionDenied
├── Unavailable           .retryable
└── Internal
```

Messages start with Codex's display strings (`thread {id} not found`,
`thread-store conflict: ...`) so logs read the same in both languages, and
then say what to do about it.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "Internal",
    "InvalidRequest",
    "PermissionDenied",
    "ResourceExhausted",
    "ThreadNotFound",
    "ThreadStoreError",
    "Unavailable",
    "Unsupported",
]


class ThreadStoreError(Exception):
    """Base class of every error a thread store raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ThreadNotFound(ThreadStoreError):
    """No thread with this id exists (or it is archived and archived threads were excluded)."""

    def __init__(self, thread_id: str, hint: str = "") -> None:
        text = f"thread {thread_id} not found"
        super().__init__(f"{text}; {hint}" if hint else text)
        self.thread_id = thread_id


class InvalidRequest(ThreadStoreError):
    """The request itself is malformed: a bad id, a bad cursor, a bad label, ..."""

    def __init__(self, message: str) -> None:
        super().__init__(f"invalid thread-store request: {message}")
        self.detail = message


class Conflict(ThreadStoreError):
    """The request clashes with the current state: a duplicate id, a second live writer, ..."""

    def __init__(self, message: str) -> None:
        super().__init__(f"thread-store conflict: {message}")
        self.detail = message


class Unsupported(ThreadStoreError):
    """The store does not implement this operation; `operation` is a stable name."""

    def __init__(self, operation: str, hint: str = "") -> None:
        text = f"thread-store unsupported operation: {operation}"
        super().__init__(f"{text}; {hint}" if hint else text)
        self.operation = operation


class ResourceExhausted(ThreadStoreError):
    """A limit was hit: an item larger than the configured maximum, a full disk, ..."""

    def __init__(self, message: str) -> None:
        super().__init__(f"thread-store resource exhausted: {message}")
        self.detail = message


class PermissionDenied(ThreadStoreError):
    """The storage refuses the operation: a read-only home or file system, a file or
    folder the user may not write. Retrying will not help until that changes."""

    def __init__(self, message: str) -> None:
        super().__init__(f"thread-store permission denied: {message}")
        self.detail = message


class Unavailable(ThreadStoreError):
    """The store cannot serve the request right now: another process holds a lock, the
    storage reported an I/O error, a server is unreachable. Nothing was half-written;
    `retryable` says whether trying again later may succeed."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(f"thread-store unavailable: {message}")
        self.detail = message
        self.retryable = retryable


class Internal(ThreadStoreError):
    """The store failed in a way the caller cannot fix by changing the request."""

    def __init__(self, message: str) -> None:
        super().__init__(f"thread-store internal error: {message}")
        self.detail = message
