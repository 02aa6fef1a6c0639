"""UTC timestamps at millisecond precision, the resolution every store keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["format_rfc3339_ms", "from_ms", "parse_timestamp", "to_ms", "truncate_ms", "utc_now"]


def truncate_ms(value: datetime) -> datetime:
    """`value` in UTC with microseconds cut to whole milliseconds (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def utc_now() -> datetime:
    return truncate_ms(datetime.now(UTC))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(value: datetime) -> int:
    """Unix milliseconds of `value`, whole milliseconds (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).replace(microsecond=(ms % 1000) * 1000)


def format_rfc3339_ms(value: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ`, the form Codex writes in rollout lines."""
    value = truncate_ms(value)
    # strftime's %Y does not zero-pad years below 1000 on Linux; RFC 3339 needs 4 digits.
    return (
        f"{value.year:04d}-"
        + value.strftime("%m-%dT%H:%M:%S.")
        + (f"{value.microsecond // 1000:03d}Z")
    )


def parse_timestamp(text: str) -> datetime | None:
    """Parse RFC 3339 (any fraction), or Codex's file-name form `%Y-%m-%dT%H-%M-%S` as UTC.

    Returns None when neither form fits, as Codex's metadata extraction does.
    """
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%Y-%m-%dT%H-%M-%S")
        except ValueError:
            return None
    return truncate_ms(parsed)
