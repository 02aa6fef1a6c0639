"""JSON encoding of the public types, with hooks for the few non-struct classes."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from .protocol.items import UnknownThreadItem
from .protocol.rollout import RolloutItem
from .protocol.sources import SessionSource, ThreadSource

__all__ = ["dec_hook", "decode_json", "enc_hook", "encode_json", "to_builtins"]

T = TypeVar("T")


def enc_hook(obj: Any) -> Any:
    if isinstance(obj, SessionSource):
        return obj.to_rollout()
    if isinstance(obj, RolloutItem):
        return obj.to_json()
    if isinstance(obj, UnknownThreadItem):
        return obj.raw
    if isinstance(obj, str):  # ThreadSource and other str subclasses
        return str(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def dec_hook(type_: type, obj: Any) -> Any:
    if type_ is SessionSource:
        return SessionSource.from_rollout(obj)
    if type_ is RolloutItem:
        return RolloutItem.from_json(obj)
    if type_ is ThreadSource:
        return ThreadSource(obj)
    raise NotImplementedError(f"cannot decode {type_!r}")


_encoder = msgspec.json.Encoder(enc_hook=enc_hook)


def encode_json(obj: Any) -> bytes:
    """Compact JSON for any public type (params, pages, `StoredThread`, patches)."""
    return _encoder.encode(obj)


def decode_json(data: bytes | str, type_: type[T]) -> T:
    """Decode JSON into a public type; raises `msgspec.ValidationError` on a bad shape."""
    return msgspec.json.decode(data, type=type_, dec_hook=dec_hook)


def to_builtins(obj: Any) -> Any:
    """Plain dicts/lists/strings for a public value (datetimes become RFC 3339 strings)."""
    return msgspec.to_builtins(obj, enc_hook=enc_hook)
