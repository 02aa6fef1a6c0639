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
from .open_store import Progress, StoreSpec, missing_home, open_store, resolve_spec

if TYPE_CHECKING:
    from ..local import LocalThreadStore
    from ..store import ThreadStore

__all__ = ["CliContext", "pass_cli"]

T = TypeVar("T")


@dataclass
class CliContext:
    home: Path | None = None
    store_url: str | None = None
    debug: bool = False

    @property
    def spec(self) -> StoreSpec:
        return resolve_spec(self.home, self.store_url)

    def local_home(self, command: str) -> Path:
        """The (existing) home folder, for commands that only work on a local Codex home."""
        spec = self.spec
        if spec.home is None:
            raise CliError(
                f"`{command}` works on a local Codex home; pass --home PATH or --store local:PATH",
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
