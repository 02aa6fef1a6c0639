"""Which store a command works on: `--home PATH`, `--store URL`, else the default home.

Accepted `--store` values:

- `local:PATH`, `local://PATH` or a bare path: a Codex home (`LocalThreadStore`);
- `memory:`: an empty in-memory store that lives for one command (for trials).

New schemes (`postgres://...`) are added in `parse_store_url` and `open_store` only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .exit_codes import CliError, ExitCode

if TYPE_CHECKING:
    from ..store import ThreadStore

__all__ = ["StoreSpec", "missing_home", "open_store", "parse_store_url", "resolve_spec"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class StoreSpec:
    """A parsed store location. `home` is set for local stores."""

    scheme: str
    home: Path | None = None

    @property
    def is_local(self) -> bool:
        return self.scheme == "local"

    def describe(self) -> str:
        return str(self.home) if self.home is not None else f"{self.scheme}:"


def _default_home() -> Path:
    env = os.environ.get("CODEX_HOME")
    return Path(env).expanduser() if env else Path.home() / ".codex"


def _absolute(path: Path) -> Path:
    """Absolute (not symlink-resolved), so rollout paths in the index are absolute, as
    Codex records them, whichever relative spelling of the home a command got."""
    return Path(os.path.abspath(path.expanduser()))


def parse_store_url(url: str) -> StoreSpec:
    """Parse a `--store` value; raises a usage `CliError` for an unknown scheme."""
    if url in ("memory:", "memory://"):
        return StoreSpec("memory")
    for prefix in ("local://", "local:"):
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            if not rest:
                raise CliError(f"--store {url!r} names no folder; use local:PATH", ExitCode.USAGE)
            return StoreSpec("local", _absolute(Path(rest)))
    scheme, sep, _ = url.partition("://")
    if sep and scheme:
        raise CliError(
            f"--store scheme {scheme!r} is not supported by this version; "
            "use a path, local:PATH or memory:",
            ExitCode.USAGE,
        )
    return StoreSpec("local", _absolute(Path(url)))


def resolve_spec(home: Path | None, url: str | None) -> StoreSpec:
    """`--home` and `--store` exclude each other; with neither, `CODEX_HOME` or `~/.codex`."""
    if home is not None and url is not None:
        raise CliError("pass either --home or --store, not both", ExitCode.USAGE)
    if url is not None:
        return parse_store_url(url)
    return StoreSpec("local", _absolute(home or _default_home()))


def missing_home(home: Path) -> CliError:
    return CliError(
        f"no Codex home at {home}; pass --home PATH or set CODEX_HOME "
        "(or run `codex-threads demo` to make one)",
        ExitCode.NOT_FOUND,
    )


def open_store(spec: StoreSpec, *, create: bool, progress: Progress | None = None) -> ThreadStore:
    """Build (not yet enter) the store. Without `create`, a missing home is an error
    rather than a new, empty home made by a typo."""
    if spec.scheme == "memory":
        from ..memory import InMemoryThreadStore

        return InMemoryThreadStore()
    assert spec.home is not None
    if not create and not spec.home.is_dir():
        raise missing_home(spec.home)
    from ..local import LocalThreadStore, LocalThreadStoreConfig

    return LocalThreadStore(LocalThreadStoreConfig(codex_home=spec.home, progress=progress))
