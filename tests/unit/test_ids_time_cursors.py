"""Thread ids, millisecond UTC time helpers, page cursors, and the search-text contract."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_thread_store import InvalidRequest, new_thread_id, parse_thread_id
from codex_thread_store.cursors import decode_cursor, encode_cursor
from codex_thread_store.search_text import make_snippet, matches, search_words
from codex_thread_store.timeutil import (
    format_rfc3339_ms,
    from_ms,
    parse_timestamp,
    to_ms,
    truncate_ms,
    utc_now,
)

CANONICAL = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SAMPLE = "01a1fbf9-bfe6-7df0-af08-970e62e1ed1a"


# -- ids ---------------------------------------------------------------------------------


def test_new_thread_id_is_a_canonical_uuid_v7() -> None:
    thread_id = new_thread_id()
    assert isinstance(thread_id, str)
    assert CANONICAL.match(thread_id)
    parsed = uuid.UUID(thread_id)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert parse_thread_id(thread_id) == thread_id


def test_new_thread_id_embeds_the_creation_time() -> None:
    before = time.time_ns() // 1_000_000
    thread_id = new_thread_id()
    after = time.time_ns() // 1_000_000
    embedded_ms = int(thread_id.replace("-", "")[:12], 16)
    # uuid6 keeps ids monotonic by stepping the timestamp 1 ms past the previous id when
    # several are made within one millisecond, so the embedded time may run ahead of the
    # clock after a burst of ids (never behind it).
    assert before <= embedded_ms <= after + 60_000


def test_new_thread_ids_are_unique_and_sort_by_creation() -> None:
    ids = [new_thread_id() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_uuid_v7_string_order_is_time_order() -> None:
    # Two ids built for known milliseconds: the later one sorts later as a string.
    early = uuid.UUID(int=(1_700_000_000_000 << 80) | (7 << 76) | (2 << 62))
    late = uuid.UUID(int=(1_700_000_000_001 << 80) | (7 << 76) | (2 << 62))
    assert str(early) < str(late)
    assert parse_thread_id(str(early)) == str(early)


def test_parse_thread_id_returns_the_canonical_lower_case_form() -> None:
    assert parse_thread_id(SAMPLE) == SAMPLE
    assert parse_thread_id(SAMPLE.upper()) == SAMPLE
    # Any version is accepted; Codex's older ids are v4.
    v4 = str(uuid.uuid4())
    assert parse_thread_id(v4) == v4


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not-a-uuid",
        "01a1fbf9-bfe6-7df0-af08",
        SAMPLE + "0",
        SAMPLE[:-1] + "g",
        "{" + SAMPLE + "}",
        "urn:uuid:" + SAMPLE,
        SAMPLE.replace("-", ""),
        " " + SAMPLE,
        SAMPLE + " ",
        SAMPLE + "\n",
        "01a1fbf9bfe6-7df0-af08-970e62e1ed1a",
    ],
)
def test_parse_thread_id_rejects_non_canonical_strings(value: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_thread_id(value)


@pytest.mark.parametrize("value", [None, 5, uuid.UUID(SAMPLE), SAMPLE.encode(), [SAMPLE]])
def test_parse_thread_id_rejects_non_strings(value: object) -> None:
    with pytest.raises(InvalidRequest):
        parse_thread_id(value)


def test_parse_thread_id_names_the_field_in_the_error() -> None:
    with pytest.raises(InvalidRequest, match="parent_thread_id"):
        parse_thread_id("nope", what="parent_thread_id")


# -- time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-03T12:00:00Z", datetime(2025, 1, 3, 12, 0, 0, tzinfo=UTC)),
        ("2025-01-03T12:00:00.123Z", datetime(2025, 1, 3, 12, 0, 0, 123000, tzinfo=UTC)),
        # Nine fraction digits (what Rust writes) are cut to milliseconds.
        ("2025-01-03T12:00:00.123456789Z", datetime(2025, 1, 3, 12, 0, 0, 123000, tzinfo=UTC)),
        ("2025-01-03T12:00:00.999999999Z", datetime(2025, 1, 3, 12, 0, 0, 999000, tzinfo=UTC)),
        ("2025-01-03T12:00:00.5+00:00", datetime(2025, 1, 3, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2025-01-03T14:30:00+02:30", datetime(2025, 1, 3, 12, 0, 0, tzinfo=UTC)),
        ("2025-01-03T07:00:00.250-05:00", datetime(2025, 1, 3, 12, 0, 0, 250000, tzinfo=UTC)),
        ("2025-01-03T00:30:00+01:00", datetime(2025, 1, 2, 23, 30, 0, tzinfo=UTC)),
        # Codex's rollout file-name form, read as UTC.
        ("2025-01-03T12-00-00", datetime(2025, 1, 3, 12, 0, 0, tzinfo=UTC)),
        ("2026-11-21T02-40-11", datetime(2026, 11, 21, 2, 40, 11, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)
    assert parsed.microsecond % 1000 == 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "2025-13-03T12:00:00Z",
        "2025-01-03T25:00:00Z",
        "2025/01/03 12:00:00",
        "yesterday",
        "2025-01-03T12-00-00Z-extra",
    ],
)
def test_parse_timestamp_returns_none_for_garbage(text: str) -> None:
    assert parse_timestamp(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 1, 3, 12, 0, 0, tzinfo=UTC), "2025-01-03T12:00:00.000Z"),
        (datetime(2025, 1, 3, 12, 0, 0, 123456, tzinfo=UTC), "2025-01-03T12:00:00.123Z"),
        (datetime(2025, 1, 3, 12, 0, 0, 999999, tzinfo=UTC), "2025-01-03T12:00:00.999Z"),
        (datetime(2025, 1, 3, 12, 0, 0, 1000), "2025-01-03T12:00:00.001Z"),  # naive is UTC
        (
            datetime(2025, 1, 3, 14, 0, 0, 5000, tzinfo=timezone(timedelta(hours=2))),
            "2025-01-03T12:00:00.005Z",
        ),
        (datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), "1999-12-31T23:59:59.000Z"),
    ],
)
def test_format_rfc3339_ms(value: datetime, expected: str) -> None:
    assert format_rfc3339_ms(value) == expected
    assert parse_timestamp(format_rfc3339_ms(value)) == truncate_ms(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(5, 2, 3, 4, 5, 6, tzinfo=UTC), "0005-02-03T04:05:06.000Z"),
        (datetime(999, 2, 3, 4, 5, 6, 7000, tzinfo=UTC), "0999-02-03T04:05:06.007Z"),
    ],
)
def test_format_rfc3339_ms_pads_the_year_to_four_digits(value: datetime, expected: str) -> None:
    # RFC 3339 `date-fullyear` is exactly four digits (the docstring promises `YYYY`).
    assert format_rfc3339_ms(value) == expected
    assert parse_timestamp(format_rfc3339_ms(value)) == value


def test_truncate_ms_and_utc_now() -> None:
    value = datetime(2025, 1, 3, 12, 0, 0, 123999, tzinfo=UTC)
    assert truncate_ms(value) == datetime(2025, 1, 3, 12, 0, 0, 123000, tzinfo=UTC)
    assert truncate_ms(datetime(2025, 1, 3)).tzinfo is not None
    before = datetime.now(UTC)
    now = utc_now()
    after = datetime.now(UTC)
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert now.microsecond % 1000 == 0
    assert truncate_ms(before) <= now <= after


def test_to_ms_and_from_ms_known_values() -> None:
    assert to_ms(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert to_ms(datetime(2025, 1, 3, 12, 0, 0, 123456, tzinfo=UTC)) == 1_735_905_600_123
    assert from_ms(1_735_905_600_123) == datetime(2025, 1, 3, 12, 0, 0, 123000, tzinfo=UTC)
    assert from_ms(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert from_ms(1_735_905_600_123).tzinfo is not None


@given(st.integers(min_value=0, max_value=253_402_300_799_999))
def test_from_ms_to_ms_round_trip(ms: int) -> None:
    value = from_ms(ms)
    assert value.utcoffset() == timedelta(0)
    assert to_ms(value) == ms


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7))]),
    )
)
def test_to_ms_from_ms_round_trip(value: datetime) -> None:
    assert from_ms(to_ms(value)) == truncate_ms(value)


# -- cursors ------------------------------------------------------------------------------


def test_cursor_round_trip() -> None:
    cursor = encode_cursor("threads", sort_key="created_at", dir="desc", ts=123, id=SAMPLE)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)  # URL-safe, no padding
    value = decode_cursor(cursor, "threads", sort_key="created_at", dir="desc")
    assert value == {
        "k": "threads",
        "sort_key": "created_at",
        "dir": "desc",
        "ts": 123,
        "id": SAMPLE,
    }
    assert decode_cursor(cursor, "threads")["ts"] == 123


@pytest.mark.parametrize("n", range(200))
def test_cursor_round_trip_for_every_padding_length(n: int) -> None:
    cursor = encode_cursor("k", v="x" * n)
    assert "=" not in cursor
    assert decode_cursor(cursor, "k", v="x" * n)["v"] == "x" * n


def test_cursor_for_another_kind_is_rejected() -> None:
    cursor = encode_cursor("threads", sort_key="created_at")
    with pytest.raises(InvalidRequest):
        decode_cursor(cursor, "turns")


@pytest.mark.parametrize(
    "expect",
    [
        {"sort_key": "updated_at"},
        {"dir": "asc"},
        {"thread_id": SAMPLE},  # a field the cursor does not carry
        {"sort_key": "created_at", "dir": "asc"},
    ],
)
def test_cursor_with_mismatched_fields_is_rejected(expect: dict[str, str]) -> None:
    cursor = encode_cursor("threads", sort_key="created_at", dir="desc")
    with pytest.raises(InvalidRequest):
        decode_cursor(cursor, "threads", **expect)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "not a cursor",
        "é",
        "a",
        _b64(b"not json"),
        _b64(b"[1,2]"),
        _b64(b'"threads"'),
        _b64(b"null"),
        _b64(json.dumps({"kind": "threads"}).encode()),
        _b64(b"\xff\xfe"),
    ],
)
def test_garbage_cursor_is_rejected(cursor: str) -> None:
    with pytest.raises(InvalidRequest):
        decode_cursor(cursor, "threads")


# -- search text --------------------------------------------------------------------------


def test_search_words() -> None:
    assert search_words("  Hello   WORLD\t") == ["hello", "world"]
    assert search_words("") == []
    assert search_words("   ") == []
    assert search_words("Straße") == ["strasse"]


def test_matches_needs_every_word_case_insensitively() -> None:
    texts = ["Hello there", "", "the big WORLD"]
    assert matches(["hello", "world"], texts)
    assert matches(search_words("HELLO world"), texts)
    assert matches(["ell", "orl"], texts)  # substrings
    assert not matches(["hello", "mars"], texts)
    assert not matches(["hello"], [])
    assert not matches(["hello"], ["", ""])
    assert matches(search_words("STRASSE"), ["Die Straße"])


def test_matches_with_no_words_matches_everything() -> None:
    assert matches([], [])
    assert matches([], ["anything"])


def test_make_snippet_short_text_is_whole() -> None:
    assert make_snippet(["world"], ["hello world"]) == "hello world"


def test_make_snippet_uses_the_first_text_that_matches() -> None:
    texts = ["", "no match here", "the needle is here"]
    assert make_snippet(["needle"], texts) == "the needle is here"


def test_make_snippet_collapses_whitespace() -> None:
    assert make_snippet(["b"], ["a\n\n b\t\tc"]) == "a b c"


def test_make_snippet_cuts_long_text_around_the_match() -> None:
    text = "a" * 200 + " needle " + "b" * 200
    snippet = make_snippet(["needle"], [text], width=60)
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert "needle" in snippet
    assert len(snippet) <= 60 + 2
    body = snippet.strip("…")
    assert body in text


def test_make_snippet_match_near_the_start_has_no_leading_ellipsis() -> None:
    text = "needle " + "b" * 500
    snippet = make_snippet(["needle"], [text], width=50)
    assert snippet.startswith("needle")
    assert snippet.endswith("…")
    assert len(snippet) == 51


def test_make_snippet_match_at_the_end_has_no_trailing_ellipsis() -> None:
    text = "a" * 500 + " needle"
    snippet = make_snippet(["needle"], [text], width=50)
    assert snippet.startswith("…")
    assert snippet.endswith("needle")


def test_make_snippet_matches_case_insensitively_but_keeps_the_text() -> None:
    assert make_snippet(["needle"], ["A NEEDLE here"]) == "A NEEDLE here"


def test_make_snippet_without_a_match_shows_the_first_text() -> None:
    assert make_snippet(["zzz"], ["", "first text", "second"]) == "first text"
    long = "word " * 100
    snippet = make_snippet(["zzz"], [long], width=20)
    assert snippet.endswith("…")
    assert snippet == " ".join(long[:20].split()) + "…"
    assert make_snippet(["zzz"], []) == ""
    assert make_snippet(["zzz"], ["", ""]) == ""
