"""The state every command shares: where the store is, `--debug`, and how to run async code.

Commands are sync click callbacks; each runs its async body once with `CliContext.run`,
which opens the store, passes it in, and closes it whatever happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from .exit_codes import CliError, ExitCode
from .open_store import (
    StoreSpec,
    connection_errors,
    missing_home,
    open_store,
    parse_store_url,
    resolve_spec,
)

if TYPE_CHECKING:
    from ..local import LocalThreadStore
    from ..store import ThreadStore
    from .progress import Progress

__all__ = ["CliContext", "pass_cli"]

T = TypeVar("T")


@dataclass
class CliContext:
    home: Path | None = None
    store_url: str | None = None
    owner: str | None = None
    """`--owner`: the owner of PostgreSQL URLs that name none with `?owner=`."""
    debug: bool = False
    store_given: bool = False
    """Whether `--home` or `--store` was passed on the command line (not by environment)."""

    @property
    def spec(self) -> StoreSpec:
        return resolve_spec(self.home, self.store_url, owner=self.owner)

    def parse(self, url: str, option: str) -> StoreSpec:
        """A store location given to a command option (e.g. `copy --to URL`)."""
        return parse_store_url(url, owner=self.owner, option=option)

    def local_home(self, command: str) -> Path:
        """The (existing) home folder, for commands that only work on a local Codex home."""
        spec = self.spec
        if spec.home is None:
            raise CliError(
                f"`{command}` works on a local Codex home, not on {spec.describe()}; "
                "pass --home PATH or --store local:PATH",
                ExitCode.USAGE,
            )
        if not spec.home.is_dir():
            raise missing_home(spec.home)
        return spec.home

    def run(
        self,
        body: Callable[[ThreadStore], Awaitable[T]],
        *,
        create: bool = False,
        progress: Progress | None = None,
    ) -> T:
        """Open the store, run `body(store)` to completion, close the store."""
        store = open_store(self.spec, create=create, progress=progress)

        async def main() -> T:
            async with store:
                return await body(store)

        with connection_errors(debug=self.debug):
            return asyncio.run(main())

    def run_local(
        self,
        command: str,
        body: Callable[[LocalThreadStore], Awaitable[T]],
        *,
        create: bool = False,
        progress: Progress | None = None,
    ) -> T:
        """`run` for commands that need a `LocalThreadStore`."""
        if self.spec.home is None:
            self.local_home(command)

        async def local_body(store: ThreadStore) -> T:
            from ..local import LocalThreadStore

            assert isinstance(store, LocalThreadStore)
            return await body(store)

        return self.run(local_body, create=create, progress=progress)


pass_cli = click.make_pass_decorator(CliContext, ensure=True)
