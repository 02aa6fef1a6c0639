"""Reading core item fields as strictly as Codex's serde decoding does, and the enum
tables (snake_case core values to the v2 camelCase ones). A field of the wrong shape
raises `ItemShapeError`: Codex skips such a line, and so do our readers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "AGENT_STATUSES",
    "COLLAB_STATUSES",
    "COLLAB_TOOLS",
    "DYNAMIC_STATUSES",
    "EXEC_SOURCES",
    "EXEC_STATUSES",
    "MCP_STATUSES",
    "MESSAGE_PHASES",
    "PATCH_STATUSES",
    "SUB_AGENT_KINDS",
    "ItemShapeError",
    "enum",
    "need",
    "need_list",
    "need_str",
    "opt_bool",
    "opt_int",
    "opt_str",
    "str_list",
]


class ItemShapeError(ValueError):
    """A payload Codex's decoder would reject; the line it came from is skipped."""


def need(obj: Any, key: str) -> Any:
    if not isinstance(obj, dict) or key not in obj or obj[key] is None:
        raise ItemShapeError(f"missing field `{key}`")
    return obj[key]


def need_str(obj: Any, key: str) -> str:
    value = need(obj, key)
    if not isinstance(value, str):
        raise ItemShapeError(f"`{key}` must be a string")
    return value


def opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise ItemShapeError(f"`{key}` must be a string")
    return value


def opt_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ItemShapeError(f"`{key}` must be an integer")
    return value


def opt_bool(obj: Mapping[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise ItemShapeError(f"`{key}` must be a boolean")
    return value


def need_list(obj: Any, key: str) -> list[Any]:
    value = need(obj, key)
    if not isinstance(value, list):
        raise ItemShapeError(f"`{key}` must be a list")
    return value


def str_list(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ItemShapeError(f"`{key}` must be a list of strings")
    return value


def enum(value: Any, table: Mapping[str, str], key: str) -> str:
    if not isinstance(value, str) or value not in table:
        raise ItemShapeError(f"unknown variant {value!r} for `{key}`")
    return table[value]


def _snake_to_camel(value: str) -> str:
    head, *rest = value.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _camel_table(*values: str) -> dict[str, str]:
    return {v: _snake_to_camel(v) for v in values}


EXEC_SOURCES: Final = _camel_table(
    "agent", "user_shell", "unified_exec_startup", "unified_exec_interaction"
)
EXEC_STATUSES: Final = _camel_table("in_progress", "completed", "failed", "declined")
PATCH_STATUSES: Final = _camel_table("in_progress", "completed", "failed", "declined")
MCP_STATUSES: Final = {"inProgress": "inProgress", "completed": "completed", "failed": "failed"}
DYNAMIC_STATUSES: Final = _camel_table("in_progress", "completed", "failed")
COLLAB_TOOLS: Final = _camel_table(
    "spawn_agent",
    "send_input",
    "resume_agent",
    "wait",
    "close_agent",
    "send_message",
    "followup_task",
    "interrupt_agent",
    "list_agents",
)
COLLAB_STATUSES: Final = _camel_table("in_progress", "completed", "failed", "interrupted")
AGENT_STATUSES: Final = _camel_table(
    "pending_init", "running", "interrupted", "shutdown", "not_found"
)
SUB_AGENT_KINDS: Final = {k: k for k in ("started", "interacted", "interrupted", "completed")}
MESSAGE_PHASES: Final = {k: k for k in ("commentary", "partial_answer", "final_answer")}
