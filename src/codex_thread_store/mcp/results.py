"""What the tools answer as structured content, and how it is built from the store's types.

Each tool publishes its model's JSON Schema as its output schema. Everything here is
bounded: previews, labels and snippets are cut to one short line, a transcript entry to
`MESSAGE_ENTRY_CHARS` or `OTHER_ENTRY_CHARS` (`omitted_chars` says how much was cut), and
the turns `read_thread` shows to its character budget (`turns_within_budget`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from codex_thread_store import StoredThread, StoredThreadSearchResult, Turn
from codex_thread_store.transcript import Entry

from .occurrences import Occurrence, turn_entries

__all__ = [
    "EntryText",
    "Hit",
    "Occurrences",
    "SearchHit",
    "SearchResults",
    "ThreadInfo",
    "ThreadList",
    "ThreadText",
    "TurnText",
    "clip_line",
    "hit",
    "search_hit",
    "thread_info",
    "turns_within_budget",
]

#: The longest entry `read_thread` shows whole: messages and plans, then everything else
#: (tool calls and output, reasoning, notes). `find_in_thread` searches entries whole.
MESSAGE_ENTRY_CHARS = 6_000
OTHER_ENTRY_CHARS = 1_500
#: The longest preview and search snippet shown.
PREVIEW_CHARS = 300
LABEL_CHARS = 120

#: What `read_thread` counts against its budget for a turn's heading and for each entry's
#: label line, on top of the entries' own text.
_TURN_HEADING_SIZE = 80
_ENTRY_LABEL_SIZE = 40

#: The entry kinds `read_thread` shows at detail "messages".
_MESSAGE_KINDS = frozenset({"user", "assistant", "plan"})


# -- the models ---------------------------------------------------------------------------


class ThreadInfo(BaseModel):
    """A thread's summary. Times are ISO 8601 UTC."""

    thread_id: str
    label: str = Field(description="The name, else the title or preview, on one line.")
    name: str | None = Field(description="The name the thread was given, if any.")
    preview: str = Field(description="The start of the first user message (cut).")
    source: str = Field(description="Where it ran: cli, vscode, exec, appServer, subAgent...")
    model_provider: str
    model: str | None
    cwd: str = Field(description="The working directory it ran in.")
    git_branch: str | None
    created_at: str
    updated_at: str
    archived_at: str | None
    parent_thread_id: str | None = Field(description="For a subagent: the thread that spawned it.")
    forked_from_id: str | None
    agent_nickname: str | None
    agent_role: str | None


class ThreadList(BaseModel):
    archived: bool
    sort: str
    threads: list[ThreadInfo]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null: no more.")


class SearchHit(BaseModel):
    thread: ThreadInfo
    snippet: str = Field(description="Text around the match.")


class SearchResults(BaseModel):
    query: str
    archived: bool
    hits: list[SearchHit]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null: no more.")


class EntryText(BaseModel):
    """One transcript entry of a turn."""

    entry: int = Field(description="Its number in the turn, as find_in_thread numbers it.")
    kind: str = Field(
        description="user, assistant, plan, reasoning, tool_call, tool_output or note."
    )
    title: str = Field(description="The tool, or how a command ended; may be empty.")
    text: str
    omitted_chars: int = Field(description="How many characters were cut from the end.")


class TurnText(BaseModel):
    turn: int = Field(description="The turn's number in the thread, from 1.")
    turn_id: str
    status: str
    started_at: str | None
    error: str | None
    entries: list[EntryText]
    omitted_entries: int = Field(description="Entries left out because the budget ran out.")


class ThreadText(BaseModel):
    thread: ThreadInfo
    total_turns: int
    detail: str
    turns: list[TurnText]
    next_start_turn: int | None = Field(
        description="Pass as start_turn to read on; null: the last turn was shown."
    )


class Hit(BaseModel):
    turn: int = Field(description="The turn's number, from 1 (read_thread's start_turn).")
    turn_id: str
    entry: int = Field(description="The entry's number in the turn, from 1.")
    kind: str
    title: str
    offset: int = Field(description="Where the match starts in the entry's text.")
    before: str
    match: str
    after: str


class Occurrences(BaseModel):
    thread_id: str
    query: str
    case_sensitive: bool
    total: int = Field(description="Occurrences in the whole thread (counted up to 10000).")
    total_capped: bool
    offset: int
    hits: list[Hit]
    next_offset: int | None = Field(description="Pass as offset for more hits; null: no more.")
    turns_searched: int


# -- built from the store's types ---------------------------------------------------------


def thread_info(thread: StoredThread) -> ThreadInfo:
    return ThreadInfo(
        thread_id=thread.thread_id,
        label=_label(thread),
        name=thread.name,
        preview=_clip(thread.preview, PREVIEW_CHARS)[0],
        source=str(thread.source.kind),
        model_provider=thread.model_provider,
        model=thread.model,
        cwd=thread.cwd,
        git_branch=thread.git_info.branch if thread.git_info else None,
        created_at=_iso(thread.created_at),
        updated_at=_iso(thread.updated_at),
        archived_at=_iso(thread.archived_at) if thread.archived_at else None,
        parent_thread_id=thread.parent_thread_id,
        forked_from_id=thread.forked_from_id,
        agent_nickname=thread.agent_nickname,
        agent_role=thread.agent_role,
    )


def search_hit(found: StoredThreadSearchResult) -> SearchHit:
    return SearchHit(
        thread=thread_info(found.thread), snippet=clip_line(found.snippet, PREVIEW_CHARS)
    )


def hit(found: Occurrence) -> Hit:
    """An occurrence, with `…` where its context was cut."""
    return Hit(
        turn=found.turn_number,
        turn_id=found.turn_id,
        entry=found.entry_number,
        kind=found.kind,
        title=found.title,
        offset=found.offset,
        before=("…" if found.clipped_before else "") + found.before,
        match=found.match,
        after=found.after + ("…" if found.clipped_after else ""),
    )


def turns_within_budget(
    turns: list[Turn], first: int, max_turns: int, detail: str, max_chars: int
) -> list[TurnText]:
    """Turns from number `first` on, up to `max_turns` of them and about `max_chars`
    characters. The first one is always shown, cut to the budget if it alone is over it,
    so reading always moves on."""
    shown: list[TurnText] = []
    budget = max_chars
    last = min(len(turns), first + max_turns - 1)
    for number in range(first, last + 1):
        text = _turn_text(number, turns[number - 1], detail)
        size = _turn_size(text)
        if shown and size > budget:
            break
        if not shown and size > budget:
            text = _fit_turn(text, budget)
            size = _turn_size(text)
        shown.append(text)
        budget -= size
    return shown


def clip_line(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace as one space), cut to `limit` with `…`."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _turn_text(number: int, turn: Turn, detail: str) -> TurnText:
    """Turn `number` of a thread; at detail "messages" only its message and plan entries,
    which keep the numbers they have among all of the turn's entries."""
    entries = [
        _entry_text(n, entry)
        for n, entry in enumerate(turn_entries(turn), start=1)
        if detail == "all" or entry.kind in _MESSAGE_KINDS
    ]
    error = turn.error.message if turn.error is not None else None
    return TurnText(
        turn=number,
        turn_id=turn.id,
        status=str(turn.status),
        started_at=_iso(datetime.fromtimestamp(turn.started_at, UTC))
        if turn.started_at is not None
        else None,
        error=error,
        entries=entries,
        omitted_entries=0,
    )


def _entry_text(number: int, entry: Entry) -> EntryText:
    limit = MESSAGE_ENTRY_CHARS if entry.kind in _MESSAGE_KINDS else OTHER_ENTRY_CHARS
    text, cut = _clip(entry.text, limit)
    return EntryText(entry=number, kind=entry.kind, title=entry.title, text=text, omitted_chars=cut)


def _entry_size(entry: EntryText) -> int:
    """About the characters an entry takes in the text: its own, and its label line's."""
    return len(entry.text) + len(entry.title) + _ENTRY_LABEL_SIZE


def _turn_size(turn: TurnText) -> int:
    """About the characters a turn takes in the text: its heading's and its entries'."""
    return _TURN_HEADING_SIZE + sum(_entry_size(e) for e in turn.entries)


def _fit_turn(turn: TurnText, budget: int) -> TurnText:
    """The first turn shown, when it alone is over the budget: its entries up to it."""
    kept: list[EntryText] = []
    used = _TURN_HEADING_SIZE
    for entry in turn.entries:
        size = _entry_size(entry)
        if kept and used + size > budget:
            break
        kept.append(entry)
        used += size
    return turn.model_copy(
        update={"entries": kept, "omitted_entries": len(turn.entries) - len(kept)}
    )


def _label(thread: StoredThread) -> str:
    text = thread.name or thread.title or thread.preview or thread.first_user_message or ""
    return clip_line(text, LABEL_CHARS) or "(no message yet)"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _clip(text: str, limit: int) -> tuple[str, int]:
    """`text` cut to `limit` characters, and how many were cut."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit
