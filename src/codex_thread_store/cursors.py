"""Opaque page cursors: URL-safe base64 of a small JSON object naming what it pages.

A cursor is only valid for the listing that produced it; handing it to another
listing (another sort key, direction or thread) is an `InvalidRequest`, never a
silently wrong page.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from .errors import InvalidRequest

__all__ = ["decode_cursor", "encode_cursor"]


def encode_cursor(kind: str, **fields: Any) -> str:
    body = msgspec.json.encode({"k": kind, **fields})
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, **expect: Any) -> dict[str, Any]:
    """Decode `cursor`, checking it was made for `kind` and the `expect`ed fields.

    Raises:
        InvalidRequest: not a cursor of ours, or one made for another listing.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = msgspec.json.decode(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, msgspec.DecodeError, ValueError, UnicodeEncodeError, RecursionError):
        raise InvalidRequest(
            f"cursor {cursor[:40]!r} is not valid; pass a next_cursor from a previous page"
        ) from None
    if not isinstance(value, dict) or value.get("k") != kind:
        raise InvalidRequest(f"cursor was not made for {kind}; restart without a cursor")
    for key, wanted in expect.items():
        if value.get(key) != wanted:
            raise InvalidRequest(
                f"cursor was made for {key}={value.get(key)!r}, not {wanted!r}; "
                "restart the listing without a cursor"
            )
    return value
