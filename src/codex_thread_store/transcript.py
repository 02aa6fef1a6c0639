"""A readable transcript of a turn: who said what, which tools ran and how they ended.

Pure functions over the typed view (`Turn.items`, see `protocol/items`), shared by
`codex-threads show` and `export`: a transcript shows exactly the items Codex's app-server
shows, rendered as text. A command reads `$ command`, its output, and how it ended when
that was not a clean exit (exit code, failed, declined).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .protocol.items import (
    AgentMessageItem,
    CollabAgentToolCallItem,
    CommandExecutionItem,
    ContextCompactionItem,
    DynamicToolCallItem,
    EnteredReviewModeItem,
    ExitedReviewModeItem,
    FileChangeItem,
    FunctionCallOutputItem,
    HookPromptItem,
    ImageGenerationItem,
    ImageInput,
    ImageViewItem,
    LocalImageInput,
    McpToolCallItem,
    PlanItem,
    ReasoningItem,
    SleepItem,
    SubAgentActivityItem,
    TextInput,
    ThreadItem,
    UnknownThreadItem,
    UserMessageItem,
    WebSearchItem,
)

__all__ = ["Entry", "EntryKind", "command_outcome", "fold", "shown_command", "transcript_entries"]

_SHELLS = frozenset({"bash", "sh", "zsh"})

EntryKind = str
"""`user`, `assistant`, `reasoning`, `plan`, `tool_call`, `tool_output` or `note`."""


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


def transcript_entries(items: Sequence[ThreadItem]) -> list[Entry]:
    """The entries of one turn's items, in order (items with nothing to show are left out)."""
    out: list[Entry] = []
    for item in items:
        out.extend(_entries(item))
    return out


def command_outcome(item: CommandExecutionItem) -> str | None:
    """How a command ended, when that is worth saying: `exit code 2`, `failed`,
    `declined`, `running`; None for a clean exit."""
    if item.status == "declined":
        return "declined"
    if item.status == "inProgress":
        return "running"
    if item.exit_code not in (None, 0):
        return f"exit code {item.exit_code}"
    if item.status == "failed":
        return "failed"
    return None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=None)


def _content_text(content: Iterable[Any]) -> str:
    texts = []
    for part in content:
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part, str):
            texts.append(part)
    return "\n".join(texts)


def _entries(item: ThreadItem) -> list[Entry]:
    if isinstance(item, UserMessageItem):
        parts = []
        for part in item.content:
            if isinstance(part, TextInput):
                parts.append(part.text)
            elif isinstance(part, ImageInput | LocalImageInput):
                parts.append("[image]")
        text = "\n".join(parts).strip()
        return [Entry("user", text or "[empty message]")]
    if isinstance(item, HookPromptItem):
        return [Entry("user", "\n".join(f.text for f in item.fragments), "hook")]
    if isinstance(item, AgentMessageItem):
        return [Entry("assistant", item.text, item.phase or "")] if item.text else []
    if isinstance(item, ReasoningItem):
        text = "\n".join(item.summary or item.content)
        return [Entry("reasoning", text)] if text else []
    if isinstance(item, PlanItem):
        return [Entry("plan", item.text)] if item.text else []
    if isinstance(item, CommandExecutionItem):
        return [_command(item)]
    if isinstance(item, FileChangeItem):
        files = ", ".join(change.path for change in item.changes)
        state = {"completed": "applied", "inProgress": "pending"}.get(item.status, item.status)
        return [Entry("tool_output", f"patch {state}" + (f": {files}" if files else ""), "patch")]
    if isinstance(item, McpToolCallItem):
        return _tool_call(
            f"{item.server}.{item.tool}",
            item.arguments,
            item.error.message if item.error else None,
            _content_text(item.result.content) if item.result else None,
            item.status,
        )
    if isinstance(item, DynamicToolCallItem):
        name = f"{item.namespace}.{item.tool}" if item.namespace else item.tool
        output = _content_text(item.content_items or [])
        return _tool_call(name, item.arguments, None, output or None, item.status)
    if isinstance(item, FunctionCallOutputItem):
        output = item.output if isinstance(item.output, str) else _content_text(item.output)
        return [Entry("tool_output", output, item.name)]
    if isinstance(item, CollabAgentToolCallItem):
        who = ", ".join(item.receiver_thread_ids) or "agents"
        text = f"{item.tool} → {who}" + (f"\n{item.prompt}" if item.prompt else "")
        return [
            Entry(
                "tool_call",
                text + ("" if item.status == "completed" else f"\n({item.status})"),
                "agents",
            )
        ]
    if isinstance(item, SubAgentActivityItem):
        return [Entry("note", f"sub-agent {item.agent_path} {item.kind}")]
    if isinstance(item, WebSearchItem):
        return [Entry("tool_call", item.query, "web search")]
    if isinstance(item, ImageViewItem):
        return [Entry("note", f"viewed image {item.path}")]
    if isinstance(item, ImageGenerationItem):
        prompt = f": {item.revised_prompt}" if item.revised_prompt else ""
        return [Entry("note", f"image generation {item.status}{prompt}")]
    if isinstance(item, SleepItem):
        return [Entry("note", f"slept {item.duration_ms / 1000:g}s")]
    if isinstance(item, EnteredReviewModeItem):
        return [Entry("note", f"review started: {item.review}")]
    if isinstance(item, ExitedReviewModeItem):
        return [Entry("assistant", item.review, "review")]
    if isinstance(item, ContextCompactionItem):
        return [Entry("note", "context compacted")]
    if isinstance(item, UnknownThreadItem):
        return [Entry("note", f"{item.type or 'unknown'} item")]
    return []


def shown_command(command: str) -> str:
    """A command as a person would type it: `bash -lc '...'` wrappers unwrapped."""
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    if len(words) == 3 and words[0].rsplit("/", 1)[-1] in _SHELLS and words[1] in ("-lc", "-c"):
        return words[2]
    return command


def _command(item: CommandExecutionItem) -> Entry:
    text = f"$ {shown_command(item.command)}"
    if item.aggregated_output and item.aggregated_output.strip():
        text += "\n" + item.aggregated_output.rstrip("\n")
    outcome = command_outcome(item)
    # The outcome goes in the title, which folding never hides.
    return Entry("tool_output", text, "shell" if outcome is None else f"shell · {outcome}")


def _tool_call(
    name: str, arguments: Any, error: str | None, output: str | None, status: str
) -> list[Entry]:
    out = [Entry("tool_call", _json(arguments) if arguments is not None else "", name)]
    if error is not None:
        out.append(Entry("tool_output", f"error: {error}", name))
    elif output:
        out.append(Entry("tool_output", output, name))
    elif status not in ("completed",):
        out.append(Entry("tool_output", f"({status})", name))
    return out
