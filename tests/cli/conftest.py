"""Fixtures for the `codex-threads` tests: demo homes, and running the real entry point.

Every test drives the command line through `main` (click's runner, in process) or the
installed `codex-threads` script (a subprocess, with a pseudo-terminal when a test is
about terminal behaviour). Homes are made by `build_demo_home`, through LiveThread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from codex_thread_store.cli import main
from codex_thread_store.demo import DemoHome, build_demo_home


@dataclass
class Cli:
    """Runs `codex-threads --home HOME ...` in process."""

    home: Path

    def __call__(self, *args: str, input: str | None = None, home: bool = True) -> Result:
        argv = (["--home", str(self.home)] if home else []) + list(args)
        return CliRunner().invoke(main, argv, input=input, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    def rows(self, *args: str) -> list[list[str]]:
        """The tab-separated rows a piped command prints."""
        return [line.split("\t") for line in self.ok(*args).stdout.splitlines() if line]


def make_demo(path: Path) -> DemoHome:
    return asyncio.run(build_demo_home(path))


@pytest.fixture(scope="module")
def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoHome:
    """A demo home for tests that only read (never mutate it)."""
    return make_demo(tmp_path_factory.mktemp("shared") / "home")


@pytest.fixture
def demo(tmp_path: Path) -> DemoHome:
    """A fresh demo home per test, for tests that change it."""
    return make_demo(tmp_path / "home")


@pytest.fixture
def cli(demo: DemoHome) -> Cli:
    return Cli(demo.home)


@pytest.fixture(scope="module")
def ro_cli(shared_demo: DemoHome) -> Cli:
    return Cli(shared_demo.home)


@pytest.fixture
def no_home_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """`CODEX_HOME` pointing at a folder that does not exist."""
    missing = tmp_path / "no-such-home"
    monkeypatch.setenv("CODEX_HOME", str(missing))
    monkeypatch.delenv("CODEX_THREADS_STORE", raising=False)
    yield missing
