"""`PostgresThreadStoreConfig`: where the database is, whose threads, and the limits.

A URL names both the server and the owner (tenant):
`postgresql://user:pass@host:5432/db?owner=alice&schema=codex_threads`. The
store-only query parameters (`owner`, `schema`, `max_item_bytes`,
`lease_ttl_s`) are taken out before the rest reaches libpq, so every libpq
parameter (`sslmode`, `connect_timeout`, ...) still works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import InvalidRequest

__all__ = [
    "DEFAULT_MAX_ITEM_BYTES",
    "DEFAULT_SCHEMA",
    "PostgresThreadStoreConfig",
]

DEFAULT_MAX_ITEM_BYTES = 64 * 1024 * 1024
DEFAULT_SCHEMA = "codex_thread_store"

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MAX_OWNER_CHARS = 512
_URL_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class PostgresThreadStoreConfig:
    """Settings of a `PostgresThreadStore`.

    Args:
        conninfo: a libpq URL or `key=value` string (without the store-only parameters).
        owner: the tenant key; every row and every query is scoped to it.
        schema: the PostgreSQL schema holding the tables (created by the migrations).
        max_item_bytes: the largest item (encoded JSON) `append_items` accepts.
        lease_ttl_s: how long a writer lease lives without renewal; a crashed writer's
            thread can be resumed elsewhere after this long.
        lease_renew_interval_s: how often the store renews its leases in the
            background (None: never, for tests that drive renewal themselves).
        retry_deadline_s: how long an operation keeps retrying a dropped connection or
            a restarting server before it raises `StoreUnavailable`.
        pool_min_size / pool_max_size: connections kept open / allowed at once.
        connect_timeout_s: how long opening the store waits for a first connection.
    """

    conninfo: str
    owner: str
    schema: str = DEFAULT_SCHEMA
    max_item_bytes: int = DEFAULT_MAX_ITEM_BYTES
    lease_ttl_s: float = 30.0
    lease_renew_interval_s: float | None = 10.0
    retry_deadline_s: float = 30.0
    pool_min_size: int = 1
    pool_max_size: int = 10
    connect_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.owner or not self.owner.strip():
            raise InvalidRequest(
                "a PostgreSQL thread store needs an owner (tenant key); pass owner=... "
                "or add ?owner=NAME to the URL"
            )
        if len(self.owner) > _MAX_OWNER_CHARS:
            raise InvalidRequest(f"owner is longer than {_MAX_OWNER_CHARS} characters")
        if "\x00" in self.owner:
            raise InvalidRequest("owner contains a NUL character, which PostgreSQL cannot store")
        if not _SCHEMA_NAME.match(self.schema):
            raise InvalidRequest(
                f"schema {self.schema!r} is not a plain lower-case SQL identifier "
                "(letters, digits, underscores; at most 63 characters)"
            )
        if self.max_item_bytes < 1:
            raise InvalidRequest(f"max_item_bytes must be positive, got {self.max_item_bytes}")
        if self.lease_ttl_s <= 0:
            raise InvalidRequest(f"lease_ttl_s must be positive, got {self.lease_ttl_s}")
        if self.lease_renew_interval_s is not None and not (
            0 < self.lease_renew_interval_s < self.lease_ttl_s
        ):
            raise InvalidRequest(
                "lease_renew_interval_s must be positive and shorter than lease_ttl_s "
                f"({self.lease_renew_interval_s} vs {self.lease_ttl_s}), or the lease lapses "
                "between renewals"
            )
        if self.pool_min_size < 0 or self.pool_max_size < max(1, self.pool_min_size):
            raise InvalidRequest(
                f"pool sizes must satisfy 0 <= min <= max and max >= 1, "
                f"got min={self.pool_min_size} max={self.pool_max_size}"
            )

    @classmethod
    def from_url(
        cls, url: str, *, owner: str | None = None, **overrides: object
    ) -> PostgresThreadStoreConfig:
        """Parse `postgresql://...?owner=NAME[&schema=S][&max_item_bytes=N][&lease_ttl_s=S]`.

        An explicit `owner` argument wins over the URL's. Raises `InvalidRequest` for a
        URL that is not `postgresql://` / `postgres://` or lacks an owner.
        """
        parts = urlsplit(url)
        if parts.scheme not in _URL_SCHEMES:
            raise InvalidRequest(
                f"{_redact(url)} is not a PostgreSQL URL; use postgresql://user@host/db?owner=NAME"
            )
        query = parse_qsl(parts.query, keep_blank_values=True)
        ours = {k: v for k, v in query if k in _STORE_PARAMS}
        rest = [(k, v) for k, v in query if k not in _STORE_PARAMS]
        conninfo = urlunsplit(parts._replace(query=urlencode(rest)))
        fields: dict[str, object] = {}
        if "schema" in ours:
            fields["schema"] = ours["schema"]
        if "max_item_bytes" in ours:
            fields["max_item_bytes"] = _parse_number("max_item_bytes", ours["max_item_bytes"], int)
        if "lease_ttl_s" in ours:
            fields["lease_ttl_s"] = _parse_number("lease_ttl_s", ours["lease_ttl_s"], float)
        fields.update(overrides)
        ttl = fields.get("lease_ttl_s")
        if isinstance(ttl, float | int) and "lease_renew_interval_s" not in fields:
            # Keep the renewal well inside a shortened or lengthened lease.
            fields["lease_renew_interval_s"] = ttl / 3
        chosen_owner = owner if owner is not None else ours.get("owner", "")
        return cls(conninfo=conninfo, owner=chosen_owner, **fields)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The server part of the conninfo with any password removed (for messages)."""
        return _redact(self.conninfo)


_STORE_PARAMS = frozenset({"owner", "schema", "max_item_bytes", "lease_ttl_s"})


def _parse_number(name: str, text: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(text)
    except ValueError:
        raise InvalidRequest(f"URL parameter {name}={text!r} is not a number") from None


def _redact(conninfo: str) -> str:
    """`conninfo` without its password, so it can appear in errors and logs."""
    if "://" in conninfo:
        parts = urlsplit(conninfo)
        if parts.password is not None:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return conninfo
    return re.sub(r"(password\s*=\s*)(\S+)", r"\1***", conninfo)
