"""A failed turn's error, from the rollout's snake_case form to the app-server's `TurnError`."""

from __future__ import annotations

from typing import Any

from .fields import ItemShapeError
from .model import TurnError

__all__ = ["camel_error_info", "turn_error"]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_error_info(value: Any) -> Any:
    """Codex's error kind as the app-server spells it: `"usage_limit_exceeded"` becomes
    `"usageLimitExceeded"`, `{"http_connection_failed": {"http_status_code": 502}}` becomes
    `{"httpConnectionFailed": {"httpStatusCode": 502}}`."""
    if isinstance(value, str):
        return _camel(value)
    if isinstance(value, dict):
        return {
            _camel(k): camel_error_info(v) if isinstance(v, dict) else v for k, v in value.items()
        }
    return value


def turn_error(error: Any) -> TurnError:
    """The `TurnError` of a completion's `error` (`{message, codex_error_info?, ...}`).

    `additional_details` stays None: Codex fills it only while a turn runs, never from a
    rollout.

    Raises:
        ItemShapeError: no string `message` (Codex skips the line).
    """
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        raise ItemShapeError("a turn error needs a string `message`")
    return TurnError(
        message=error["message"],
        codex_error_info=camel_error_info(error.get("codex_error_info")),
        additional_details=None,
        misalignment=error.get("misalignment"),
    )
