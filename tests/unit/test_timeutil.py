"""Line times as every store reads them: Codex's own form through the per-second cache,
every other RFC 3339 form through the full parser, and whole-millisecond epochs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from codex_thread_store.timeutil import to_ms
from codex_thread_store.turns import line_time_ms


@pytest.mark.parametrize(
    "stamp, fallback, expected",
    [
        ("2026-12-02T10:24:14.632Z", 0, 1796207054632),
        ("2026-12-02T10:24:14.000Z", 0, 1796207054000),
        ("2026-12-02T10:24:14.999Z", 0, 1796207054999),
        ("1969-12-31T23:59:59.500Z", 0, -500),
        ("2026-12-02T10:24:14.632+00:00", 0, 1796207054632),
        ("2026-12-02T10:24:14.63Z", 0, 1796207054630),
        ("2026-12-02T10:24:14Z", 0, 1796207054000),
        ("2026-12-02T10:24:1x.632Z", 7, 7),
        ("2026-12-02T10:24:14.6a2Z", 7, 7),
        ("2026-12-02T10:24:14.\u0661\u0662\u0663Z", 7, 7),
        ("not a time", 7, 7),
    ],
)
def test_line_time_ms(stamp: str, fallback: int, expected: int) -> None:
    assert line_time_ms(stamp, fallback) == expected
    assert line_time_ms(stamp, fallback) == expected  # again, from the per-second cache


def test_to_ms_floors_to_whole_milliseconds() -> None:
    assert to_ms(datetime(2026, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC)) == 1767225600999
    assert to_ms(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1
    assert to_ms(datetime(2026, 1, 1)) == 1767225600000  # naive is UTC
