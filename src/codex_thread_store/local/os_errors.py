"""Operating-system errors of a Codex home → the store's typed errors, in one place.

Callers say what they were doing and what state they left ("nothing was appended"), so
the message tells the user both what failed and that retrying is safe.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from ..errors import PermissionDenied, ResourceExhausted, ThreadStoreError, Unavailable

__all__ = ["FULL", "typed_os_error", "typed_sqlite_error"]

#: "No space": the disk, the user's quota, or the largest file the system allows.
FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_REFUSED = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def typed_os_error(
    exc: OSError, doing: str, path: Path | str | None, outcome: str
) -> ThreadStoreError:
    """`exc` as a typed error: "<doing> <path> failed (<reason>); <outcome>"."""
    where = f" {path}" if path is not None else ""
    reason = exc.strerror or str(exc)
    text = f"{doing}{where} failed ({reason}); {outcome}"
    if exc.errno in FULL:
        return ResourceExhausted(f"{text}. Free some space, then retry")
    if exc.errno in _REFUSED:
        return PermissionDenied(f"{text}. The home or file is not writable by this user")
    if exc.errno == errno.ELOOP:
        return PermissionDenied(
            f"{text}. It is a symbolic link, and this store never writes through links"
        )
    if exc.errno in (errno.EISDIR, errno.ENOTDIR):
        return Unavailable(f"{text}. Something that is not a file is in its place", retryable=False)
    return Unavailable(f"{text}. Retry once the storage is healthy")


def typed_sqlite_error(exc: sqlite3.Error, doing: str, outcome: str) -> ThreadStoreError:
    """An SQLite failure of our index as a typed error (full disk, read-only, busy)."""
    text = f"{doing} failed ({exc}); {outcome}"
    extended = getattr(exc, "sqlite_errorcode", None)
    code = None if extended is None else extended & 0xFF  # the primary result code
    if code == sqlite3.SQLITE_FULL:
        return ResourceExhausted(f"{text}. Free some space, then retry")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN):
        return PermissionDenied(f"{text}. The home is not writable by this user")
    return Unavailable(f"{text}. Retry in a moment")
