"""`nesting_exceeds`: the depth of lists, tuples and dicts, counted exactly at the limit,
without recursion (a value nested far deeper than Python's recursion limit is fine)."""

from __future__ import annotations

from typing import Any

import pytest

from codex_thread_store.protocol.rollout import nesting_exceeds


def nested(depth: int, kind: str = "list") -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value} if kind == "dict" else (value,)
    return value


@pytest.mark.parametrize("kind", ["list", "dict", "tuple"])
def test_the_limit_is_exact(kind: str) -> None:
    assert not nesting_exceeds(nested(5, kind), 5)
    assert nesting_exceeds(nested(6, kind), 5)


def test_scalars_and_wide_values() -> None:
    assert not nesting_exceeds("text", 0)
    assert nesting_exceeds([], 0)
    wide = {"a": [1, 2, {"b": [3]}], "c": list(range(1000)), "d": {"e": {"f": None}}}
    assert not nesting_exceeds(wide, 4)
    assert nesting_exceeds(wide, 3)
    # The deepest branch counts, wherever it is among its siblings.
    assert nesting_exceeds([1, [2], [[3]], {"x": [[[4]]]}], 4)


def test_far_deeper_than_the_recursion_limit() -> None:
    assert nesting_exceeds(nested(100_000), 100)
