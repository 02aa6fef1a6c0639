"""The public surface: `codex_thread_store.__all__` is pinned, and importing the package
pulls in no optional backend driver."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import types

import codex_thread_store


def _public_names() -> set[str]:
    return {
        name
        for name, value in vars(codex_thread_store).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    } | {"__version__"}


def test_all_is_sorted() -> None:
    # Plain (case-sensitive) string order, exactly as written.
    assert codex_thread_store.__all__ == sorted(codex_thread_store.__all__)


def test_all_has_no_duplicates() -> None:
    assert len(codex_thread_store.__all__) == len(set(codex_thread_store.__all__))


def test_all_equals_the_public_names() -> None:
    assert set(codex_thread_store.__all__) == _public_names()


def test_every_name_in_all_is_importable() -> None:
    module = importlib.import_module("codex_thread_store")
    for name in codex_thread_store.__all__:
        assert hasattr(module, name), name
    namespace: dict[str, object] = {}
    exec("from codex_thread_store import *", namespace)
    assert set(codex_thread_store.__all__) <= set(namespace)


def test_version_is_a_string() -> None:
    assert isinstance(codex_thread_store.__version__, str)
    assert codex_thread_store.__version__


def test_import_does_not_load_postgres_drivers() -> None:
    code = "import json, sys\nimport codex_thread_store\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    assert "codex_thread_store" in loaded  # the probe really imported the package
    offenders = [
        name
        for name in loaded
        if name.split(".")[0] in {"psycopg", "psycopg2", "psycopg_pool", "asyncpg", "pg8000"}
        or "postgres" in name.lower()
    ]
    assert offenders == []


def test_import_does_not_load_the_extras() -> None:
    code = "import json, sys\nimport codex_thread_store\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert "codex_thread_store" in loaded
    assert loaded & {"agents", "openai", "mcp", "sqlalchemy", "pydantic", "anyio"} == set()
