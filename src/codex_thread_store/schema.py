"""JSON Schema of the public wire types (what `codex-threads schema` writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from .analytics import ThreadInitializedEvent
from .patch import ThreadMetadataPatch
from .protocol.rollout import RolloutItem
from .protocol.session_meta import SessionMeta
from .protocol.sources import SessionSource, ThreadSource
from .types import (
    AppendThreadItemsParams,
    ArchiveThreadParams,
    CreateThreadParams,
    DeleteThreadParams,
    ForkPointParams,
    HistoryBase,
    ItemPage,
    ListItemsParams,
    ListThreadsParams,
    ListTurnsParams,
    LoadThreadHistoryParams,
    ReadThreadByRolloutPathParams,
    ReadThreadParams,
    ResumeThreadParams,
    SearchThreadsParams,
    StoredThread,
    StoredThreadHistory,
    ThreadPage,
    ThreadSearchPage,
    TurnPage,
    UpdateThreadMetadataParams,
)

__all__ = ["PUBLIC_WIRE_TYPES", "json_schema", "write_schema"]

PUBLIC_WIRE_TYPES: tuple[type, ...] = (
    CreateThreadParams,
    ResumeThreadParams,
    AppendThreadItemsParams,
    LoadThreadHistoryParams,
    ReadThreadParams,
    ReadThreadByRolloutPathParams,
    ListThreadsParams,
    SearchThreadsParams,
    ListTurnsParams,
    ListItemsParams,
    UpdateThreadMetadataParams,
    ArchiveThreadParams,
    DeleteThreadParams,
    ForkPointParams,
    HistoryBase,
    StoredThread,
    StoredThreadHistory,
    ThreadPage,
    ThreadSearchPage,
    TurnPage,
    ItemPage,
    ThreadMetadataPatch,
    SessionMeta,
    ThreadInitializedEvent,
)

_SUBAGENT_SOURCE: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "enum": ["review", "compact", "memory_consolidation"]},
        {
            "type": "object",
            "title": "ThreadSpawnSubAgentSource",
            "properties": {
                "thread_spawn": {
                    "type": "object",
                    "properties": {
                        "parent_thread_id": {"type": "string"},
                        "depth": {"type": "integer"},
                        "agent_path": {"type": ["string", "null"]},
                        "agent_nickname": {"type": ["string", "null"]},
                        "agent_role": {"type": ["string", "null"]},
                    },
                    "required": ["parent_thread_id", "depth"],
                }
            },
            "required": ["thread_spawn"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "title": "OtherSubAgentSource",
            "properties": {"other": {"type": "string"}},
            "required": ["other"],
            "additionalProperties": False,
        },
    ]
}


def _one_key(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: value},
        "required": [key],
        "additionalProperties": False,
    }


def session_source_schema() -> dict[str, Any]:
    """The rollout/SQLite form; any other string is read as `unknown`."""
    return {
        "title": "SessionSource",
        "description": "Codex's rollout form of the session source.",
        "oneOf": [
            {"type": "string"},
            _one_key("custom", {"type": "string"}),
            _one_key("internal", {"type": "string"}),
            _one_key("subagent", {"$ref": "#/$defs/SubAgentSource"}),
        ],
    }


def app_server_session_source_schema() -> dict[str, Any]:
    """The app-server v2 form (`SessionSource.to_app_server`)."""
    return {
        "title": "AppServerSessionSource",
        "oneOf": [
            {"type": "string", "enum": ["cli", "vscode", "exec", "appServer", "unknown"]},
            _one_key("custom", {"type": "string"}),
            _one_key("subAgent", {"$ref": "#/$defs/SubAgentSource"}),
        ],
    }


def _schema_hook(type_: type) -> dict[str, Any]:
    if type_ is SessionSource:
        return {"$ref": "#/$defs/SessionSource"}
    if type_ is ThreadSource:
        return {"type": "string"}
    if type_ is RolloutItem:
        return {"$ref": "#/$defs/RolloutItem"}
    raise NotImplementedError(type_)


def json_schema() -> dict[str, Any]:
    """One JSON Schema document whose `$defs` hold every public wire type."""
    _, components = msgspec.json.schema_components(
        PUBLIC_WIRE_TYPES, schema_hook=_schema_hook, ref_template="#/$defs/{name}"
    )
    components["SessionSource"] = session_source_schema()
    components["AppServerSessionSource"] = app_server_session_source_schema()
    components["SubAgentSource"] = _SUBAGENT_SOURCE
    components["ThreadSource"] = {
        "type": "string",
        "description": "user, subagent, memory_consolidation, guardian_review, "
        "or an app-owned feature label",
    }
    components["RolloutItem"] = {
        "type": "object",
        "description": "A rollout item: its type, payload, and any sibling keys kept as read.",
        "properties": {"type": {"type": "string"}, "payload": {}},
        "required": ["type"],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "codex-thread-store wire types",
        "$defs": dict(sorted(components.items())),
    }


def write_schema(out_dir: Path) -> list[Path]:
    """Write the whole document and one file per definition; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    document = json_schema()
    written = []
    whole = out_dir / "codex_thread_store.schema.json"
    whole.write_bytes(msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n")
    written.append(whole)
    for name in document["$defs"]:
        single = {
            "$schema": document["$schema"],
            "$ref": f"#/$defs/{name}",
            "$defs": document["$defs"],
        }
        path = out_dir / f"{name}.json"
        path.write_bytes(msgspec.json.format(msgspec.json.encode(single), indent=2) + b"\n")
        written.append(path)
    return written
