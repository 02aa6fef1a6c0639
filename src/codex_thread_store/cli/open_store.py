"""Which store a command works on: `--home PATH`, `--store URL`, else the default home.

Accepted `--store` values (and `copy --from/--to` values):

- `local:PATH`, `local://PATH` or a bare path: a Codex home (`LocalThreadStore`);
- `postgresql://USER@HOST/DB?owner=NAME` (or `postgres://`): a `PostgresThreadStore`,
  built by the library's `codex_thread_store.open_store`; the owner is the URL's
  `?owner=`, else `--owner NAME` / `CODEX_THREADS_OWNER`;
- `memory:`: an empty in-memory store that lives for one command (for trials).

New schemes are added in `parse_store_url` and `open_store` only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import InvalidRequest, ThreadStoreError
from .exit_codes import CliError, ExitCode, is_unavailable

if TYPE_CHECKING:
    from ..store import ThreadStore
    from .progress import Progress

__all__ = [
    "StoreSpec",
    "connection_errors",
    "missing_home",
    "open_store",
    "parse_store_url",
    "resolve_spec",
]

_PG_PREFIXES = ("postgresql://", "postgres://")
_SECRET_PARAMS = frozenset({"password", "sslpassword"})
_OWNER_HINT = "add ?owner=NAME to the URL, or pass --owner NAME (env: CODEX_THREADS_OWNER)"


@dataclass(frozen=True)
class StoreSpec:
    """A parsed store location. `home` is set for local stores; `url` for PostgreSQL
    stores, with `owner` when the URL names none (it came from `--owner`)."""

    scheme: str
    home: Path | None = None
    url: str | None = None
    owner: str | None = None

    @property
    def is_local(self) -> bool:
        return self.scheme == "local"

    @property
    def is_postgres(self) -> bool:
        return self.scheme == "postgresql"

    def describe(self) -> str:
        """How messages name the store: the home, the URL without secrets (with its
        owner), or `memory:`."""
        if self.home is not None:
            return str(self.home)
        if self.url is not None:
            return _public_url(self.url, self.owner)
        return f"{self.scheme}:"


def _absolute(path: Path) -> Path:
    """Absolute (not symlink-resolved), so rollout paths in the index are absolute, as
    Codex records them, whichever relative spelling of the home a command got."""
    return Path(os.path.abspath(path.expanduser()))


def _url_owner(url: str) -> str | None:
    """The URL's own `?owner=` (the last one wins, as in the library)."""
    owners = [v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True) if k == "owner"]
    return owners[-1] if owners and owners[-1].strip() else None


def _public_url(url: str, owner: str | None) -> str:
    """`url` without its password (in the authority or the query), with `owner` added
    when it is not in the URL, so messages say exactly which threads are meant."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{hostport}"
    query = [
        (k, "***" if k in _SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    if owner is not None and not any(k == "owner" for k, _ in query):
        query.append(("owner", owner))
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*")))


def parse_store_url(url: str, *, owner: str | None = None, option: str = "--store") -> StoreSpec:
    """Parse a `--store` value; raises a usage `CliError` for an unknown scheme or a
    PostgreSQL URL without an owner. `owner` (from `--owner`) is used when the URL has
    no `?owner=`; `option` names the option in messages."""
    text = url.strip()
    if text in ("memory:", "memory://"):
        return StoreSpec("memory")
    if text.startswith(_PG_PREFIXES):
        if _url_owner(text) is not None:
            return StoreSpec("postgresql", url=text)
        if owner is None or not owner.strip():
            raise CliError(
                f"{option} {_public_url(text, None)} names no owner (whose threads?); "
                + _OWNER_HINT,
                ExitCode.USAGE,
            )
        return StoreSpec("postgresql", url=text, owner=owner)
    for prefix in ("local://", "local:"):
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            if not rest:
                raise CliError(f"{option} {url!r} names no folder; use local:PATH", ExitCode.USAGE)
            return StoreSpec("local", _absolute(Path(rest)))
    scheme, sep, _ = text.partition("://")
    if sep and scheme:
        raise CliError(
            f"{option} scheme {scheme!r} is not supported; use a path, local:PATH, "
            "postgresql://USER@HOST/DB?owner=NAME or memory:",
            ExitCode.USAGE,
        )
    return StoreSpec("local", _absolute(Path(text)))


def resolve_spec(home: Path | None, url: str | None, *, owner: str | None = None) -> StoreSpec:
    """`--home` and `--store` exclude each other; with neither, `CODEX_HOME` or `~/.codex`."""
    if home is not None and url is not None:
        raise CliError("pass either --home or --store, not both", ExitCode.USAGE)
    if url is not None:
        return parse_store_url(url, owner=owner)
    if home is None:
        from ..local.layout import default_codex_home

        home = default_codex_home()
    return StoreSpec("local", _absolute(home))


def missing_home(home: Path) -> CliError:
    return CliError(
        f"no Codex home at {home}; pass --home PATH or set CODEX_HOME "
        "(or run `codex-threads demo` to make one)",
        ExitCode.NOT_FOUND,
    )


def open_store(spec: StoreSpec, *, create: bool, progress: Progress | None = None) -> ThreadStore:
    """Build (not yet enter) the store. Without `create`, a missing home is an error
    rather than a new, empty home made by a typo. Nothing is connected or read here."""
    if spec.scheme == "memory":
        from ..memory import InMemoryThreadStore

        return InMemoryThreadStore()
    if spec.is_postgres:
        return _open_postgres(spec)
    assert spec.home is not None
    if not create and not spec.home.is_dir():
        raise missing_home(spec.home)
    from ..local import LocalThreadStore, LocalThreadStoreConfig

    return LocalThreadStore(LocalThreadStoreConfig(codex_home=spec.home, progress=progress))


def _open_postgres(spec: StoreSpec) -> ThreadStore:
    """The library's `open_store` builds it (and checks the driver and every URL
    parameter); a libpq `connect_timeout=S` in the URL also caps how long opening the
    store waits for the server (otherwise the store's default, 10 s)."""
    from ..open_store import open_store as open_url

    assert spec.url is not None
    try:
        store = open_url(spec.url, owner=spec.owner)
        timeout = _connect_timeout(spec.url)
    except InvalidRequest as exc:
        raise CliError(f"{spec.describe()}: {exc.detail}", ExitCode.USAGE) from None
    if timeout is None:
        return store
    from ..postgres import PostgresThreadStore

    assert isinstance(store, PostgresThreadStore)
    return PostgresThreadStore(dataclasses.replace(store.config, connect_timeout_s=timeout))


def _connect_timeout(url: str) -> float | None:
    values = [v for k, v in parse_qsl(urlsplit(url).query) if k == "connect_timeout"]
    if not values:
        return None
    try:
        seconds = float(values[-1])
    except ValueError:
        raise InvalidRequest(f"connect_timeout={values[-1]!r} is not a number") from None
    return seconds if seconds > 0 else None  # libpq: 0 means wait indefinitely


class _LastConnectionError(logging.Handler):
    """Keeps the reason of the driver's last failed connection attempt. psycopg's pool
    retries connecting in the background and only logs why each attempt failed; the
    error the store finally raises says just that no connection came in time."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reason: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if record.msg == "error connecting in %r: %s" and isinstance(args, tuple) and args:
            self.reason = " ".join(str(args[-1]).split())


@contextlib.contextmanager
def connection_errors(*, debug: bool) -> Iterator[None]:
    """Around a command that may use a PostgreSQL store: keep the driver's log lines
    (one per failed reconnection attempt) off stderr, and turn `StoreUnavailable` into
    one error line that also says why connecting failed, with exit code 6. With
    `--debug` the driver's log lines are shown and the error is left as it is."""
    if debug:
        yield
        return
    logger = logging.getLogger("psycopg")
    recorder = _LastConnectionError()
    saved = logger.propagate
    logger.addHandler(recorder)
    logger.propagate = False
    try:
        yield
    except ThreadStoreError as exc:
        if not is_unavailable(exc):
            raise
        message = getattr(exc, "detail", str(exc))
        if recorder.reason and recorder.reason not in message:
            message = f"{message} (last connection error: {recorder.reason})"
        raise CliError(message, ExitCode.UNAVAILABLE) from exc
    finally:
        logger.removeHandler(recorder)
        logger.propagate = saved
