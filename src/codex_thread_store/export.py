"""Exporting a thread: Markdown and HTML transcripts, and a self-contained rollout JSONL.

The JSONL export is what `codex-threads import` (or a Codex home) reads back. A thread of
a local home is exported as its rollout file's bytes; a fork that references its parent
by byte offset (`history_base`) is flattened so the file stands alone; threads of other
stores are rebuilt from `list_items`, with each item's write time as its timestamp.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from .protocol.items import Turn
from .protocol.rollout import RolloutLine, encode_line
from .store import ThreadStore
from .timeutil import format_rfc3339_ms, from_ms, to_ms
from .transcript import Entry, transcript_entries
from .types import LoadThreadHistoryParams, StoredThread

__all__ = [
    "flatten_rollout",
    "render_html",
    "render_markdown",
    "rollout_jsonl",
    "thread_facts",
    "thread_title",
]

_ROLE = {
    "user": "You",
    "assistant": "Assistant",
    "reasoning": "Thinking",
    "plan": "Plan",
    "tool_call": "Tool call",
    "tool_output": "Tool output",
    "note": "Note",
}


def thread_title(thread: StoredThread) -> str:
    first = (thread.name or thread.preview or "").strip().split("\n")[0]
    return first or f"Thread {thread.thread_id}"


def _rfc3339(value: datetime | None) -> str:
    return "" if value is None else format_rfc3339_ms(value)


def thread_facts(
    thread: StoredThread, format_time: Callable[[datetime | None], str] = _rfc3339
) -> list[tuple[str, str]]:
    """The non-empty facts about a thread, in display order, as (label, value)."""
    t = thread
    model = " ".join(p for p in (t.model or "", t.reasoning_effort or "") if p)
    git = ""
    if t.git_info is not None and not t.git_info.is_empty():
        parts = (t.git_info.branch, (t.git_info.commit_hash or "")[:12], t.git_info.repository_url)
        git = " ".join(p for p in parts if p)
    agent = " ".join(
        p for p in (t.agent_nickname, f"({t.agent_role})" if t.agent_role else "") if p
    )
    facts = [
        ("id", t.thread_id),
        ("name", t.name or ""),
        ("preview", " ".join(t.preview.split())),
        ("source", f"{t.source}" + (f" ({t.thread_source})" if t.thread_source else "")),
        ("provider", t.model_provider),
        ("model", model),
        ("cwd", t.cwd),
        ("git", git),
        ("created", format_time(t.created_at)),
        ("updated", format_time(t.updated_at)),
        ("archived", format_time(t.archived_at)),
        ("forked from", t.forked_from_id or ""),
        ("parent", t.parent_thread_id or ""),
        ("agent", agent),
        ("originator", t.originator or ""),
        ("cli version", t.cli_version),
        ("tokens", f"{t.token_usage.total_tokens:,}" if t.token_usage else ""),
        ("history", t.history_mode),
        ("rollout", t.rollout_path or ""),
    ]
    return [(k, v) for k, v in facts if v]


def _turn_heading(turn: Turn, number: int) -> str:
    parts = [f"Turn {number}", turn.status.value]
    if turn.started_at is not None:
        parts.append(format_rfc3339_ms(from_ms(turn.started_at * 1000)))
    if turn.error is not None:
        parts.append(f"error: {turn.error.message}")
    return " · ".join(parts)


# -- Markdown -------------------------------------------------------------------------
def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}\n{text}\n{ticks}"


def _md_entry(entry: Entry) -> str:
    head = f"**{_ROLE[entry.kind]}**" + (f" `{entry.title}`" if entry.title else "")
    if entry.kind in ("user", "assistant"):
        return f"{head}\n\n{entry.text}"
    if entry.kind == "note":
        return f"*{entry.text}*"
    return f"{head}\n\n{_fence(entry.text)}"


def render_markdown(thread: StoredThread, turns: Sequence[Turn]) -> str:
    """The thread as a Markdown document: a facts table, then each turn in full."""
    out = [f"# {thread_title(thread)}", "", "| | |", "|---|---|"]
    for key, value in thread_facts(thread):
        cell = value.replace("|", "\\|").replace("\n", " ")
        out.append(f"| {key} | {cell} |")
    for number, turn in enumerate(turns, start=1):
        out += ["", f"## {_turn_heading(turn, number)}"]
        for entry in transcript_entries(turn.items):
            out += ["", _md_entry(entry)]
    return "\n".join(out) + "\n"


# -- HTML -----------------------------------------------------------------------------
_CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:900px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.05em;color:#555;border-bottom:1px solid #ddd;margin-top:2em}
table.facts td{padding:0 1em 0 0;vertical-align:top}table.facts td:first-child{color:#777}
.entry{margin:.8em 0}.role{font-weight:600;font-size:.85em;text-transform:uppercase}
.user .role{color:#1a7f37}.assistant .role{color:#0550ae}
.tool_call .role,.tool_output .role{color:#9a6700}
.reasoning{color:#666;font-style:italic}.note{color:#888;font-style:italic}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap}
.text{white-space:pre-wrap}
"""


def _html_entry(entry: Entry) -> str:
    role = html.escape(_ROLE[entry.kind] + (f" · {entry.title}" if entry.title else ""))
    body = html.escape(entry.text)
    inner = (
        f"<pre>{body}</pre>" if entry.kind.startswith("tool") else f'<div class="text">{body}</div>'
    )
    return f'<div class="entry {entry.kind}"><div class="role">{role}</div>{inner}</div>'


def render_html(thread: StoredThread, turns: Sequence[Turn]) -> str:
    """The thread as one self-contained HTML page (no scripts, no external assets)."""
    title = html.escape(thread_title(thread))
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in thread_facts(thread)
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title><style>{_CSS}</style></head><body>",
        f'<h1>{title}</h1><table class="facts">{rows}</table>',
    ]
    for number, turn in enumerate(turns, start=1):
        parts.append(f"<h2>{html.escape(_turn_heading(turn, number))}</h2>")
        parts.extend(_html_entry(e) for e in transcript_entries(turn.items))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- rollout JSONL --------------------------------------------------------------------
def flatten_rollout(home: Path, path: Path) -> bytes:
    """A local rollout as standalone JSONL (blocking I/O).

    Plain rollouts are returned byte for byte (a torn last line, which is not history,
    is left out). A fork that references its parent by byte offset gets the inherited
    lines inlined after its own `session_meta` (whose `history_base` is dropped), with
    ordinals renumbered densely when the file has them.
    """
    from .local.layout import CodexHome
    from .local.lineage import history_base_of, inherited_prefix
    from .local.rollout_files import parse_rollout, read_rollout_bytes

    data = read_rollout_bytes(path)
    parsed = parse_rollout(data)
    if history_base_of(parsed.lines) is None:
        if parsed.torn_tail:
            data = data[: data.rfind(b"\n") + 1]
        return data
    prefix = inherited_prefix(CodexHome(home), parsed.lines)
    own = parsed.lines
    meta = own[0]
    payload = dict(meta.item.payload) if isinstance(meta.item.payload, dict) else {}
    payload.pop("history_base", None)
    from .protocol.rollout import RolloutItem

    first = RolloutLine(
        meta.timestamp, RolloutItem(meta.item.type, payload, meta.item.extra), meta.ordinal
    )
    lines = [first, *prefix, *own[1:]]
    numbered = any(line.ordinal is not None for line in lines)
    out = []
    for ordinal, line in enumerate(lines):
        if numbered and line.ordinal != ordinal:
            line = RolloutLine(line.timestamp, line.item, ordinal)
        out.append(encode_line(line) + b"\n")
    return b"".join(out)


async def rollout_jsonl(store: ThreadStore, thread: StoredThread) -> bytes:
    """The thread as rollout JSONL that `import` (or a Codex home) accepts."""
    import asyncio

    from .local import LocalThreadStore

    if isinstance(store, LocalThreadStore) and thread.rollout_path:
        root = store.home.root
        return await asyncio.to_thread(flatten_rollout, root, Path(thread.rollout_path))
    history = await store.load_history(
        LoadThreadHistoryParams(thread_id=thread.thread_id, include_archived=True)
    )
    times = history.item_created_at_ms or []
    fallback = to_ms(thread.created_at)
    paginated = thread.history_mode == "paginated"
    out: list[bytes] = []
    for position, item in enumerate(history.items):
        written = times[position] if position < len(times) else fallback
        line = RolloutLine(
            format_rfc3339_ms(from_ms(written)), item, position if paginated else None
        )
        out.append(encode_line(line) + b"\n")
    return b"".join(out)
