"""A readable transcript of a turn: who said what, which tools ran and what they returned.

Pure functions over rollout items, shared by `codex-threads show` and `export`. Messages
come from the event stream (`user_message` / `agent_message`, or 0.169's `item_completed`
items), which is what Codex shows; `response_item` messages repeat them (plus developer
instructions) and are used only for a turn that has no message events. A tool call is
shown once: its call, then its output, whichever records carry them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .protocol.messages import agent_message_text, user_message
from .protocol.rollout import RolloutItem

__all__ = ["Entry", "EntryKind", "fold", "transcript_entries"]

EntryKind = str
"""`user`, `assistant`, `reasoning`, `tool_call`, `tool_output` or `note`."""


@dataclass(frozen=True, slots=True)
class Entry:
    kind: EntryKind
    text: str
    title: str = ""


def fold(text: str, max_lines: int, max_line_chars: int = 200) -> str:
    """`text` cut to `max_lines` lines of at most `max_line_chars`, saying how much was cut."""
    lines = text.rstrip("\n").split("\n")
    shown = [ln if len(ln) <= max_line_chars else ln[: max_line_chars - 1] + "…" for ln in lines]
    if len(shown) <= max_lines:
        return "\n".join(shown)
    hidden = len(shown) - max_lines
    return "\n".join([*shown[:max_lines], f"… {hidden} more line{'s' if hidden != 1 else ''}"])


def transcript_entries(items: Sequence[RolloutItem]) -> list[Entry]:
    """The entries of one turn (or any run of items), in order."""
    has_message_events = any(
        user_message(i) is not None or agent_message_text(i) is not None for i in items
    )
    called: set[str] = set()
    out: list[Entry] = []
    for item in items:
        entry = _entry(item, has_message_events, called)
        if entry is not None:
            out.append(entry)
    return out


def _payload(item: RolloutItem) -> dict[str, Any]:
    return item.payload if isinstance(item.payload, dict) else {}


def _entry(item: RolloutItem, has_message_events: bool, called: set[str]) -> Entry | None:
    user = user_message(item)
    if user is not None:
        text = user.text + ("\n[image]" if user.has_images else "")
        return Entry("user", text.strip() or "[image]")
    agent = agent_message_text(item)
    if agent is not None:
        return Entry("assistant", agent)
    payload = _payload(item)
    tag = payload.get("type")
    if item.type == "response_item":
        return _response_entry(payload, tag, has_message_events, called)
    if item.type == "event_msg":
        return _event_entry(payload, tag, called)
    if item.type == "compacted":
        return Entry("note", "history compacted")
    return None


def _response_entry(
    payload: dict[str, Any],
    tag: Any,
    has_message_events: bool,
    called: set[str],
) -> Entry | None:
    if tag == "message" and not has_message_events:
        role = payload.get("role")
        if role in ("user", "assistant"):
            text = "\n".join(_content_texts(payload.get("content")))
            return Entry(role, text) if text else None
        return None
    if tag in ("function_call", "custom_tool_call", "local_shell_call"):
        call_id = payload.get("call_id")
        if isinstance(call_id, str):
            called.add(call_id)
        return Entry("tool_call", _call_text(payload), str(payload.get("name") or "shell"))
    if tag in ("function_call_output", "custom_tool_call_output"):
        return Entry("tool_output", _output_text(payload.get("output")))
    if tag == "web_search_call":
        action = payload.get("action")
        query = action.get("query") if isinstance(action, dict) else None
        return Entry("tool_call", str(query or ""), "web_search")
    return None


def _event_entry(payload: dict[str, Any], tag: Any, called: set[str]) -> Entry | None:
    call_id = payload.get("call_id")
    if tag == "agent_reasoning":
        text = payload.get("text")
        return Entry("reasoning", text) if isinstance(text, str) and text else None
    if tag == "exec_command_end":
        if call_id in called:
            return None  # its function_call_output shows the result
        return _command_entry(
            payload.get("command"), payload.get("aggregated_output"), payload.get("exit_code")
        )
    if tag == "item_completed":
        inner = payload.get("item")
        if isinstance(inner, dict) and inner.get("type") == "CommandExecution":
            if inner.get("id") in called:
                return None  # its function_call_output shows the result
            return _command_entry(
                inner.get("command"), inner.get("aggregated_output"), inner.get("exit_code")
            )
        return None
    if tag == "patch_apply_end":
        changes = payload.get("changes")
        files = ", ".join(sorted(changes)) if isinstance(changes, dict) else ""
        ok = "applied" if payload.get("success", True) else "failed"
        return Entry("tool_output", f"patch {ok}" + (f": {files}" if files else ""), "apply_patch")
    if tag == "mcp_tool_call_end":
        invocation = payload.get("invocation")
        name = "mcp"
        if isinstance(invocation, dict):
            name = f"{invocation.get('server', 'mcp')}.{invocation.get('tool', '?')}"
        return Entry("tool_output", _output_text(payload.get("result")), name)
    if tag == "web_search_end":
        return Entry("tool_output", str(payload.get("query") or ""), "web_search")
    if tag == "turn_aborted":
        return Entry("note", f"turn aborted ({payload.get('reason', 'interrupted')})")
    if tag == "context_compacted":
        return Entry("note", "context compacted")
    return None


def _shell_text(command: Any) -> str:
    """`$ cmd`, unwrapping `["bash", "-lc", cmd]` as Codex shows it."""
    if isinstance(command, list):
        if len(command) == 3 and command[1] in ("-lc", "-c"):
            return f"$ {command[2]}"
        return "$ " + " ".join(str(part) for part in command)
    return f"$ {command or ''}"


def _command_entry(command: Any, output: Any, exit_code: Any) -> Entry:
    text = _shell_text(command)
    if isinstance(output, str) and output.strip():
        text += "\n" + output.rstrip("\n")
    if isinstance(exit_code, int) and exit_code != 0:
        text += f"\n(exit code {exit_code})"
    return Entry("tool_output", text, "shell")


def _call_text(payload: dict[str, Any]) -> str:
    if payload.get("type") == "local_shell_call":
        action = payload.get("action")
        return _shell_text(action.get("command") if isinstance(action, dict) else None)
    raw = payload.get("arguments", payload.get("input", ""))
    if isinstance(raw, str):
        try:
            args = json.loads(raw)
        except ValueError:
            return raw
    else:
        args = raw
    if isinstance(args, dict):
        command = args.get("cmd", args.get("command"))
        if isinstance(command, str | list):
            return _shell_text(command)
    return json.dumps(args, ensure_ascii=False)


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, dict):
        content = output.get("content")
        texts = _content_texts(content)
        if texts:
            return "\n".join(texts)
    if isinstance(output, list):
        texts = _content_texts(output)
        if texts:
            return "\n".join(texts)
    return json.dumps(output, ensure_ascii=False)


def _content_texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if isinstance(content, Iterable):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
    return out
