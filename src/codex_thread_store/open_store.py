"""`open_store(url)`: any store from one string, for commands that take a location.

- `postgresql://user@host/db?owner=NAME` (or `postgres://`): a `PostgresThreadStore`;
  the owner can also be passed as `owner=`, which wins over the URL's;
- `local:PATH`, `local://PATH` or a plain path (`~` expands): a `LocalThreadStore`
  on that Codex home;
- `memory:`: an empty `InMemoryThreadStore` (for trials and tests).

The store is built, not opened: use it as `async with open_store(url) as store:`.
psycopg is imported only for a PostgreSQL URL.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InvalidRequest
from .store import ThreadStore

__all__ = ["open_store"]

_PG_SCHEMES = ("postgresql://", "postgres://")


def open_store(url: str, *, owner: str | None = None) -> ThreadStore:
    """Build the store that `url` names.

    Raises:
        InvalidRequest: an unknown scheme, an empty path, a PostgreSQL URL without an
            owner, or a PostgreSQL URL when the `postgres` extra is not installed.
    """
    text = url.strip()
    if text in ("memory:", "memory://"):
        from .memory import InMemoryThreadStore

        return InMemoryThreadStore()
    if text.startswith(_PG_SCHEMES):
        try:
            from .postgres import PostgresThreadStore
        except ImportError as exc:
            raise InvalidRequest(
                f"{text.split('://')[0]} URLs need the PostgreSQL driver ({exc.name} is "
                "missing); install it with: pip install 'codex-thread-store[postgres]'"
            ) from None
        return PostgresThreadStore.from_url(text, owner=owner)
    for prefix in ("local://", "local:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    else:
        scheme, sep, _ = text.partition("://")
        if sep:
            raise InvalidRequest(
                f"store URL scheme {scheme!r} is not supported; use postgresql://...?owner=NAME, "
                "local:PATH (or a plain path) or memory:"
            )
    if not text:
        raise InvalidRequest(f"store URL {url!r} names no folder; use local:PATH")
    from .local import LocalThreadStore, LocalThreadStoreConfig

    return LocalThreadStore(LocalThreadStoreConfig(codex_home=Path(text).expanduser()))
