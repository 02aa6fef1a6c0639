"""Chat Completions messages to and from the Responses items a conversation stores.

One chat message can become several items: an assistant message with `tool_calls` is its
text (if any) followed by one `function_call` per call, as the Responses API spells the
same turn. The first item carries the chat message itself under `ORIGINAL_KEY`, the
others a marker, so reading back as chat returns the messages exactly as they went in.
Items written some other way (by Codex, or as Responses items) are turned into chat
messages on the way out: a message keeps its role and text, the function calls that
follow an assistant message join its `tool_calls`, an output becomes a `tool` message.
Reasoning has no chat form and is left out of the chat reading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidRequest
from .items import ORIGINAL_KEY, json_copy, message_text, stored_item

__all__ = ["chat_messages", "stored_items_from_chat"]


def _chat_parts(index: int, content: Any) -> Any:
    """Chat content parts (`text`, `image_url`) as Responses parts."""
    if not isinstance(content, list):
        return content
    parts: list[Any] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            parts.append({"type": "input_text", "text": part.get("text")})
        elif kind == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, Mapping) else url
            parts.append({"type": "input_image", "image_url": url})
        else:
            parts.append(part)
    return parts


def _tool_call(index: int, call: Any) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, Mapping) else None
    if not isinstance(function, Mapping) or not isinstance(call.get("id"), str):
        raise InvalidRequest(
            f"message {index}: each tool_calls entry needs an 'id' and a 'function' object"
        )
    return {
        "type": "function_call",
        "call_id": call["id"],
        "name": function.get("name"),
        "arguments": function.get("arguments"),
    }


def _converted(index: int, message: Mapping[str, Any]) -> list[dict[str, Any]]:
    role = message.get("role")
    if role == "tool":
        content = message.get("content")
        output = content if isinstance(content, str) else message_text(message)
        call_id = message.get("tool_call_id")
        return [{"type": "function_call_output", "call_id": call_id, "output": output}]
    if role in ("system", "developer", "user"):
        return [{"role": role, "content": _chat_parts(index, message.get("content"))}]
    if role == "assistant":
        out: list[dict[str, Any]] = []
        content = message.get("content")
        refusal = message.get("refusal")
        text = content if isinstance(content, str) else message_text(message) if content else ""
        if text or (isinstance(refusal, str) and refusal):
            out.append({"role": "assistant", "content": text or refusal})
        calls = message.get("tool_calls") or []
        if not isinstance(calls, list):
            raise InvalidRequest(f"message {index}: 'tool_calls' must be a list")
        out += [_tool_call(index, call) for call in calls]
        if not out:
            out.append({"role": "assistant", "content": ""})
        return out
    raise InvalidRequest(
        f"message {index}: role {role!r} is not a Chat Completions role this store keeps "
        "(system, developer, user, assistant, tool)"
    )


def stored_items_from_chat(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """The `response_item` payloads that store Chat Completions `messages`, in order.

    Raises:
        InvalidRequest: a message that is not an object, has an unknown role, or lacks
            what its role needs (`tool_call_id` for `tool`); the message names it.
    """
    stored: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise InvalidRequest(f"message {index}: expected an object")
        if message.get("role") == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise InvalidRequest(f"message {index}: a tool message needs a 'tool_call_id'")
        for position, item in enumerate(_converted(index, message)):
            payload = stored_item(index, item)
            payload[ORIGINAL_KEY] = {"chat": json_copy(message) if position == 0 else None}
            stored.append(payload)
    return stored


def _generic(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = payload.get("type")
    if kind == "message":
        return {"role": payload.get("role"), "content": message_text(payload)}
    if kind in ("function_call_output", "custom_tool_call_output"):
        output = payload.get("output")
        text = output if isinstance(output, str) else message_text({"content": output})
        return {"role": "tool", "tool_call_id": payload.get("call_id"), "content": text}
    return None


def _call(payload: Mapping[str, Any]) -> dict[str, Any]:
    arguments = payload.get("arguments", payload.get("input"))
    return {
        "id": payload.get("call_id"),
        "type": "function",
        "function": {"name": payload.get("name"), "arguments": arguments},
    }


def chat_messages(payloads: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stored payloads, in order, as Chat Completions messages (see the module doc)."""
    out: list[dict[str, Any]] = []
    for payload in payloads:
        original = payload.get(ORIGINAL_KEY)
        if isinstance(original, Mapping) and "chat" in original:
            if isinstance(original["chat"], Mapping):
                out.append(dict(original["chat"]))
            continue  # a further item of a chat message already returned whole
        if payload.get("type") in ("function_call", "custom_tool_call"):
            last = out[-1] if out else None
            if last is None or last.get("role") != "assistant" or "tool_call_id" in last:
                last = {"role": "assistant", "content": None}
                out.append(last)
            last.setdefault("tool_calls", []).append(_call(payload))
            continue
        message = _generic(payload)
        if message is not None:
            out.append(message)
    return out
