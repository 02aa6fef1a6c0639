"""Fixtures shared by the interop tests: the loopback mock model server and the Codex
builds every test runs against (the pinned PyPI wheel and the newest npm release)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .codex_cli import find_codex, find_npm_codex
from .mock_responses import MockResponsesServer

BINARIES = {"pypi": find_codex, "npm": find_npm_codex}


@pytest.fixture(scope="module")
def mock_server() -> Iterator[MockResponsesServer]:
    with MockResponsesServer() as server:
        yield server
        assert server.outbound_attempts == [], "a Codex process tried to leave 127.0.0.1"


@pytest.fixture(scope="module", params=list(BINARIES))
def binary(request: pytest.FixtureRequest) -> Path:
    """Each Codex build: `pypi` (openai-codex-cli-bin, pinned) and `npm` (@openai/codex)."""
    found: Path = BINARIES[request.param]()
    return found
