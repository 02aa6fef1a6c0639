"""Plain model items in, Codex `response_item` payloads out, and back.

A conversation is kept as Codex keeps a model's context: one `response_item` line per
Responses API item. Agent code holds those items in several spellings; each is stored as
what it means, in the form Codex reads, or refused with `InvalidRequest` naming it:

- the short form `{"role": "user", "content": "Hi"}` (with or without `"type": "message"`)
  is a message whose content is one text part;
- content parts Codex has no kind for (`refusal`, `input_file`, `input_audio`) are stored
  as text Codex can show (`[file: report.pdf]`);
- `function_call`, `function_call_output`, `reasoning` and the other kinds Codex persists
  are stored as they are, after checking the fields Codex needs to read them;
- any other kind (`computer_call`, `item_reference`, ...) is refused: Codex would drop it.

When the stored form differs from what the caller gave, the caller's item rides along
under `ORIGINAL_KEY`, so reading back returns exactly what went in. Codex ignores the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec

from ..errors import InvalidRequest
from ..protocol.messages import content_texts
from ..protocol.rollout_kinds import PERSISTED_RESPONSE_ITEMS
from ..protocol.short_form import MESSAGE_ROLES, ORIGINAL_KEY

__all__ = [
    "CODEX_ONLY_KEYS",
    "json_copy",
    "MESSAGE_ROLES",
    "ORIGINAL_KEY",
    "is_real_user_message",
    "message_text",
    "model_item",
    "stored_item",
]


# Keys Codex adds for its own bookkeeping; the Responses API refuses them as input.
CODEX_ONLY_KEYS: Final = frozenset({"internal_chat_message_metadata_passthrough", ORIGINAL_KEY})

# User messages Codex writes as context, not as something the user said (they neither
# start a turn nor count for a rollback): a text part that starts with the opening marker
# (any case, after white space) and ends with the closing one, as Codex tells them apart.
_CONTEXT_MARKERS: Final = (
    ("<environment_context>", "</environment_context>"),
    ("<user_instructions>", "</user_instructions>"),
    ("# agents.md instructions for", "</instructions>"),
    ("<user_shell_command>", "</user_shell_command>"),
    ("<turn_aborted>", "</turn_aborted>"),
    ("<subagent_notification>", "</subagent_notification>"),
    ("<skill>", "</skill>"),
)

_TEXT_PARTS: Final = frozenset({"input_text", "output_text"})
_KEPT_PARTS: Final = _TEXT_PARTS | {"input_image"}

# Kinds refused because Codex drops them: say what to do instead.
_NOT_KEPT_HINT: Final = (
    "Codex keeps messages, function_call/function_call_output, reasoning, custom_tool_call"
    "/custom_tool_call_output, local_shell_call, web_search_call, image_generation_call, "
    "tool_search_call/tool_search_output and compaction items; send one of those"
)

# The fields Codex needs to read an item of each kind, with the JSON type each must have.
_REQUIRED: Final[dict[str, tuple[tuple[str, type | tuple[type, ...]], ...]]] = {
    "function_call": (("name", str), ("arguments", str), ("call_id", str)),
    "function_call_output": (("call_id", str), ("output", (str, list))),
    "custom_tool_call": (("name", str), ("input", str), ("call_id", str)),
    "custom_tool_call_output": (("call_id", str), ("output", (str, list))),
    "reasoning": (("summary", list),),
    "local_shell_call": (("action", dict), ("status", str)),
    "image_generation_call": (("result", str), ("status", str)),
    "tool_search_call": (("arguments", (dict, list, str)), ("execution", str)),
    "tool_search_output": (("execution", str), ("status", str), ("tools", list)),
    "agent_message": (("author", str), ("recipient", str), ("content", list)),
    "additional_tools": (("role", str), ("tools", list)),
    "compaction": (("encrypted_content", str),),
}
_OUTPUT_PARTS: Final = frozenset({"input_text", "input_image", "input_audio", "encrypted_content"})


def _where(index: int, item: Any) -> str:
    kind = item.get("type") if isinstance(item, Mapping) else None
    role = item.get("role") if isinstance(item, Mapping) else None
    label = kind or (f"role {role!r}" if role else type(item).__name__)
    return f"item {index} ({label})"


def _part(index: int, part: Any, role: str) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "output_text" if role == "assistant" else "input_text", "text": part}
    if not isinstance(part, Mapping):
        raise InvalidRequest(f"item {index}: a content part must be an object, not {part!r:.60}")
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        if not isinstance(part.get("text"), str):
            raise InvalidRequest(f"item {index}: a {kind} part needs a string 'text'")
        return dict(part)
    if kind == "input_image":
        if isinstance(part.get("image_url"), str):
            return dict(part)
        return {"type": "input_text", "text": f"[image: {part.get('file_id') or 'image'}]"}
    if kind == "refusal" and isinstance(part.get("refusal"), str):
        return {"type": "output_text", "text": part["refusal"]}
    if kind == "input_file":
        name = part.get("filename") or part.get("file_id") or part.get("file_url") or "file"
        return {"type": "input_text", "text": f"[file: {name}]"}
    if kind == "input_audio":
        return {"type": "input_text", "text": "[audio]"}
    raise InvalidRequest(
        f"item {index}: content part type {kind!r} is not one Codex can store; use "
        "input_text, output_text, input_image, input_file or refusal"
    )


def _message(index: int, item: Mapping[str, Any]) -> dict[str, Any]:
    role = item.get("role")
    if role not in MESSAGE_ROLES:
        raise InvalidRequest(
            f"{_where(index, item)}: role {role!r} is not one of {', '.join(sorted(MESSAGE_ROLES))}"
        )
    content = item.get("content")
    if isinstance(content, str):
        parts = [_part(index, content, role)]
    elif isinstance(content, list):
        parts = [_part(index, part, role) for part in content]
    else:
        raise InvalidRequest(f"{_where(index, item)}: 'content' must be a string or a list")
    return {**item, "type": "message", "role": role, "content": parts}


def stored_item(index: int, item: Any) -> dict[str, Any]:
    """The `response_item` payload that stores Responses API input item `item`.

    Raises:
        InvalidRequest: not an object, a kind Codex does not keep, or a field Codex
            needs is missing or of the wrong type; the message names the item.
    """
    if not isinstance(item, Mapping):
        raise InvalidRequest(f"item {index}: expected an object, got {type(item).__name__}")
    # A copy of its own, through JSON: the caller may go on changing its dicts, and what
    # is not JSON is refused here rather than at the write.
    try:
        item = json_copy(item)
    except (TypeError, ValueError, msgspec.EncodeError) as exc:
        raise InvalidRequest(f"{_where(index, item)}: not JSON ({exc})") from None
    if ORIGINAL_KEY in item:
        raise InvalidRequest(f"{_where(index, item)}: the key {ORIGINAL_KEY!r} is reserved")
    kind = item.get("type")
    if kind is None or kind == "message":
        stored = _message(index, item)
    elif not isinstance(kind, str) or kind not in PERSISTED_RESPONSE_ITEMS:
        raise InvalidRequest(f"{_where(index, item)}: not a kind Codex keeps; {_NOT_KEPT_HINT}")
    else:
        for name, expected in _REQUIRED.get(kind, ()):
            if not isinstance(item.get(name), expected):
                raise InvalidRequest(
                    f"{_where(index, item)}: needs {name!r} "
                    f"({'/'.join(t.__name__ for t in _types(expected))})"
                )
        stored = dict(item)
        if kind == "reasoning":
            _check_summary(index, item)
        elif kind in ("function_call_output", "custom_tool_call_output") and isinstance(
            item["output"], list
        ):
            stored["output"] = [_output_part(index, part) for part in item["output"]]
    if stored != item:
        stored[ORIGINAL_KEY] = {"input": dict(item)}
    return stored


def json_copy(item: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy through JSON (so it is JSON, and shares nothing with the caller's)."""
    copied: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(item))
    return copied


def _check_summary(index: int, item: Mapping[str, Any]) -> None:
    for part in item["summary"]:
        if not (
            isinstance(part, Mapping)
            and part.get("type") == "summary_text"
            and isinstance(part.get("text"), str)
        ):
            raise InvalidRequest(
                f"item {index} (reasoning): each summary part must be "
                '{"type": "summary_text", "text": ...}'
            )


def _output_part(index: int, part: Any) -> Any:
    """A tool output part as Codex reads it: a file, which it has no kind for, as text."""
    if isinstance(part, Mapping) and part.get("type") in _OUTPUT_PARTS:
        return part
    if isinstance(part, Mapping) and part.get("type") == "input_file":
        name = part.get("filename") or part.get("file_id") or part.get("file_url") or "file"
        return {"type": "input_text", "text": f"[file: {name}]"}
    raise InvalidRequest(
        f"item {index}: a tool output part must be input_text, input_image, input_audio or "
        "input_file"
    )


def _types(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def model_item(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The Responses API item a stored payload stands for: the caller's own spelling when
    one was kept, else the payload without Codex's bookkeeping keys."""
    original = payload.get(ORIGINAL_KEY)
    if isinstance(original, Mapping) and isinstance(original.get("input"), Mapping):
        return dict(original["input"])
    return {k: v for k, v in payload.items() if k not in CODEX_ONLY_KEYS}


def message_text(payload: Mapping[str, Any]) -> str:
    """The text parts of a stored message (or of string content), joined by newlines."""
    content = payload.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(content_texts(content)[0])


def is_real_user_message(payload: Mapping[str, Any]) -> bool:
    """A user message the user said (Codex's context messages excepted): it opens a turn."""
    if payload.get("type") != "message" or payload.get("role") != "user":
        return False
    content = payload.get("content")
    if isinstance(content, str):
        return not _is_context(content)
    if isinstance(content, list):
        for part in content:
            if (
                isinstance(part, Mapping)
                and part.get("type") == "input_text"
                and isinstance(part.get("text"), str)
                and _is_context(part["text"])
            ):
                return False
    return True


def _is_context(text: str) -> bool:
    # Only the ends matter: look at them, not at a lowered copy of a long message.
    head = text.lstrip()[:_MARKER_SPAN].lower()
    if not head.startswith(_CONTEXT_STARTS):
        return False
    tail = text.rstrip()[-_MARKER_SPAN:].lower()
    return any(head.startswith(a) and tail.endswith(b) for a, b in _CONTEXT_MARKERS)


_CONTEXT_STARTS: Final = tuple(a for a, _ in _CONTEXT_MARKERS)
_MARKER_SPAN: Final = max(len(m) for pair in _CONTEXT_MARKERS for m in pair)
