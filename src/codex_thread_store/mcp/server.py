"""The `codex-threads mcp` server: four read-only MCP tools over one `ThreadStore`.

- `list_threads`: one page of threads, most recently updated (or created) first;
- `search_threads`: full-text search over names, previews and messages, with snippets;
- `read_thread`: a thread's metadata and its turns as a transcript, a few turns at a time;
- `find_in_thread`: every occurrence of a phrase inside one thread, with context.

Every tool answers with readable text and the same facts as structured content (each
tool publishes its output schema). Outputs are bounded: page sizes and context have
defaults and maxima, long entries are cut with a note saying so, and `read_thread` stops
at a character budget and says where to continue. The tools only ever call the store's
read operations (`list_threads`, `search_threads`, `read_thread`, `list_turns`).

Errors the caller can fix (an unknown thread id, a malformed argument, a stale cursor)
come back as tool errors (`isError`) whose text says what was wrong.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, WithJsonSchema

from codex_thread_store import (
    InvalidRequest,
    ListThreadsParams,
    ListTurnsParams,
    ReadThreadParams,
    SearchThreadsParams,
    SortDirection,
    StoredThread,
    ThreadNotFound,
    ThreadSortKey,
    ThreadStore,
    ThreadStoreError,
    Turn,
    TurnItemsView,
    Unsupported,
    __version__,
    parse_thread_id,
)
from codex_thread_store.transcript import Entry

from .occurrences import Occurrence, find_occurrences, turn_entries

__all__ = [
    "DEFAULT_LIST_LIMIT",
    "DEFAULT_READ_CHARS",
    "MAX_LIST_LIMIT",
    "MAX_READ_CHARS",
    "ThreadTools",
    "build_server",
    "serve",
]

SERVER_NAME = "codex-threads"

DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100
DEFAULT_SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 50
DEFAULT_READ_TURNS = 10
MAX_READ_TURNS = 50
DEFAULT_READ_CHARS = 20_000
MIN_READ_CHARS = 1_000
MAX_READ_CHARS = 200_000
#: The longest entry `read_thread` shows whole: messages and plans, then everything else
#: (tool calls and output, reasoning, notes). `find_in_thread` searches entries whole.
MESSAGE_ENTRY_CHARS = 6_000
OTHER_ENTRY_CHARS = 1_500
DEFAULT_CONTEXT_CHARS = 120
MAX_CONTEXT_CHARS = 1_000
DEFAULT_MAX_HITS = 20
MAX_HITS = 100
MAX_QUERY_CHARS = 1_000
#: The longest preview and search snippet shown.
PREVIEW_CHARS = 300
LABEL_CHARS = 120

_TURN_PAGE = 500
_MESSAGE_KINDS = frozenset({"user", "assistant", "plan"})
_KIND_LABELS = {"tool_call": "tool call", "tool_output": "tool output"}

INSTRUCTIONS = (
    "Read-only access to past Codex conversation threads (sessions). Use search_threads to "
    "find threads about a topic, list_threads to browse recent ones, read_thread to read a "
    "thread's turns, and find_in_thread to locate a phrase (an error message, a file name, "
    "a command) inside one long thread. Thread ids are full UUIDs as these tools return them."
)

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


# -- arguments --------------------------------------------------------------------------

ThreadIdArg = Annotated[
    str,
    Field(
        description="The thread's full id (a UUID such as "
        "01a1fbf9-e0e1-7c5e-9d7e-2f6b1c0a4d3e), as list_threads or search_threads return it.",
        min_length=1,
        max_length=100,
    ),
]
# Optional strings are published as plain strings (not `anyOf` with null), which every
# client turns into a model's tool schema as it is; null is still accepted.
CursorArg = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "maxLength": 4_000}),
    Field(
        description="Continue from the next_cursor a previous call returned (same sort).",
        max_length=4_000,
    ),
]
ArchivedArg = Annotated[
    bool, Field(description="Archived threads instead of active ones (default: active).")
]


# -- results ----------------------------------------------------------------------------


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


# -- the tools --------------------------------------------------------------------------


class ThreadTools:
    """The tool implementations over one store (which the caller opens and closes)."""

    def __init__(self, store: ThreadStore) -> None:
        self._store = store

    async def list_threads(
        self,
        limit: Annotated[
            int, Field(ge=1, le=MAX_LIST_LIMIT, description="Threads per page (1-100).")
        ] = DEFAULT_LIST_LIMIT,
        cursor: CursorArg = None,
        archived: ArchivedArg = False,
        sort: Annotated[
            Literal["updated", "created"],
            Field(description="Newest first by last update (default) or by creation."),
        ] = "updated",
        cwd: Annotated[
            str | None,
            WithJsonSchema({"type": "string", "maxLength": 4_096}),
            Field(
                description="Only threads that ran in this absolute directory.", max_length=4_096
            ),
        ] = None,
    ) -> Annotated[CallToolResult, ThreadList]:
        """List Codex threads, newest first, one page at a time.

        Each thread comes with its id, name or first message, where and when it ran.
        Pass the returned next_cursor to get the next page. Read a thread with
        read_thread; to find threads about a topic, search_threads is better.
        """
        cwd_filters = [_absolute_dir(cwd)] if cwd else None
        with _store_errors():
            page = await self._store.list_threads(
                ListThreadsParams(
                    page_size=limit,
                    cursor=cursor or None,
                    sort_key=ThreadSortKey.UPDATED_AT
                    if sort == "updated"
                    else ThreadSortKey.CREATED_AT,
                    sort_direction=SortDirection.DESC,
                    archived=archived,
                    cwd_filters=cwd_filters,
                )
            )
        infos = [thread_info(t) for t in page.items]
        which = "archived" if archived else "active"
        lines: list[str] = []
        if not infos:
            where = f" in {cwd}" if cwd else ""
            more = " on this page" if cursor else ""
            lines.append(f"No {which} threads{where}{more}.")
            if not archived and not cursor:
                lines.append("(archived threads: call list_threads with archived=true)")
        else:
            lines.append(f"{_count(len(infos), which + ' thread')}, most recently {sort} first:")
            for info in infos:
                lines.extend(_thread_lines(info, sort))
        if page.next_cursor is not None:
            lines.append(f'(more: call list_threads with cursor="{page.next_cursor}")')
        result = ThreadList(
            archived=archived, sort=sort, threads=infos, next_cursor=page.next_cursor
        )
        return _result(lines, result)

    async def search_threads(
        self,
        query: Annotated[
            str,
            Field(
                description="Words to find (all must match, case-insensitively, anywhere in "
                "a word: 'pars' finds 'parser').",
                min_length=1,
                max_length=MAX_QUERY_CHARS,
            ),
        ],
        limit: Annotated[
            int, Field(ge=1, le=MAX_SEARCH_LIMIT, description="Threads per page (1-50).")
        ] = DEFAULT_SEARCH_LIMIT,
        cursor: CursorArg = None,
        archived: ArchivedArg = False,
    ) -> Annotated[CallToolResult, SearchResults]:
        """Find Codex threads whose name, preview or messages contain every word of query.

        Results are the most recently updated first, each with a snippet around the
        match. Then read a thread with read_thread, or locate the words inside it with
        find_in_thread.
        """
        if not query.strip():
            raise ToolError("query must not be empty; pass the words to look for")
        with _store_errors():
            page = await self._store.search_threads(
                SearchThreadsParams(
                    search_term=query, page_size=limit, cursor=cursor or None, archived=archived
                )
            )
        hits = [
            SearchHit(thread=thread_info(r.thread), snippet=_clip_line(r.snippet, PREVIEW_CHARS))
            for r in page.items
        ]
        which = "archived" if archived else "active"
        lines: list[str] = []
        if not hits:
            lines.append(f"No {which} thread matches {_quote(query)}.")
            if not archived and not cursor:
                lines.append("(archived threads: call search_threads with archived=true)")
        else:
            lines.append(
                f"{_count(len(hits), which + ' thread')} matching {_quote(query)}, "
                "most recently updated first:"
            )
            for hit in hits:
                lines.extend(_thread_lines(hit.thread, "updated"))
                lines.append(f"  match: {hit.snippet}")
        if page.next_cursor is not None:
            lines.append(f'(more: call search_threads with cursor="{page.next_cursor}")')
        result = SearchResults(
            query=query, archived=archived, hits=hits, next_cursor=page.next_cursor
        )
        return _result(lines, result)

    async def read_thread(
        self,
        thread_id: ThreadIdArg,
        start_turn: Annotated[
            int,
            Field(
                description="The first turn to show, from 1; negative counts from the end "
                "(-3: the last three turns).",
                ge=-1_000_000,
                le=1_000_000,
            ),
        ] = 1,
        max_turns: Annotated[
            int, Field(ge=1, le=MAX_READ_TURNS, description="At most this many turns (1-50).")
        ] = DEFAULT_READ_TURNS,
        detail: Annotated[
            Literal["messages", "all"],
            Field(
                description="messages: what the user and the assistant said (and plans); "
                "all: also commands and their output, tool calls, reasoning."
            ),
        ] = "messages",
        max_chars: Annotated[
            int,
            Field(
                ge=MIN_READ_CHARS,
                le=MAX_READ_CHARS,
                description="Stop adding turns past about this many characters.",
            ),
        ] = DEFAULT_READ_CHARS,
    ) -> Annotated[CallToolResult, ThreadText]:
        """Read a Codex thread: its metadata, then its turns as a transcript.

        Shows max_turns turns from start_turn (archived threads too). Long entries are
        cut (the note says how much); when the turns or the character budget run out,
        next_start_turn says where to continue. detail="all" adds commands with their
        output, tool calls and reasoning. To find a phrase in a long thread, use
        find_in_thread, then read the turn it names.
        """
        if start_turn == 0:
            raise ToolError("start_turn counts from 1 (or from -1, the last turn), not 0")
        tid = _thread_id(thread_id)
        with _store_errors():
            thread = await self._store.read_thread(
                ReadThreadParams(thread_id=tid, include_archived=True)
            )
            turns = await _load_turns(self._store, tid)
        total = len(turns)
        first = start_turn if start_turn > 0 else max(1, total + start_turn + 1)
        if total and first > total:
            raise ToolError(
                f"start_turn {start_turn} is past the last turn: the thread has {total} turns"
            )
        info = thread_info(thread)
        shown: list[TurnText] = []
        budget = max_chars
        number = first
        while number <= total and len(shown) < max_turns:
            turn_text = _turn_text(number, turns[number - 1], detail)
            size = _turn_size(turn_text)
            if shown and size > budget:
                break
            if not shown and size > budget:
                turn_text = _fit_turn(turn_text, budget)
                size = _turn_size(turn_text)
            shown.append(turn_text)
            budget -= size
            number += 1
        next_start = number if number <= total else None
        result = ThreadText(
            thread=info, total_turns=total, detail=detail, turns=shown, next_start_turn=next_start
        )
        return _result(_thread_text_lines(result), result)

    async def find_in_thread(
        self,
        thread_id: ThreadIdArg,
        query: Annotated[
            str,
            Field(
                description="The phrase to find, literally (not a pattern).",
                min_length=1,
                max_length=MAX_QUERY_CHARS,
            ),
        ],
        context_chars: Annotated[
            int,
            Field(
                ge=0,
                le=MAX_CONTEXT_CHARS,
                description="Characters of context shown before and after each hit (0-1000).",
            ),
        ] = DEFAULT_CONTEXT_CHARS,
        max_hits: Annotated[
            int, Field(ge=1, le=MAX_HITS, description="At most this many hits (1-100).")
        ] = DEFAULT_MAX_HITS,
        offset: Annotated[
            int, Field(ge=0, le=1_000_000, description="Skip this many hits (for paging).")
        ] = 0,
        case_sensitive: Annotated[
            bool, Field(description="Match case exactly (default: ignore case).")
        ] = False,
    ) -> Annotated[CallToolResult, Occurrences]:
        """Find every occurrence of a phrase inside one Codex thread, with context.

        Searches everything the thread shows: messages, reasoning, plans, commands and
        their output, tool calls and results (entries in full, even those read_thread
        cuts). Each hit names its turn and entry, with text before and after it; then
        read_thread with start_turn=<turn> and detail="all" shows the whole turn. Says
        so when nothing matched.
        """
        if not query.strip():
            raise ToolError("query must not be empty; pass the phrase to look for")
        tid = _thread_id(thread_id)
        with _store_errors():
            thread = await self._store.read_thread(
                ReadThreadParams(thread_id=tid, include_archived=True)
            )
            turns = await _load_turns(self._store, tid)
        found = find_occurrences(
            turns,
            query,
            context_chars=context_chars,
            case_sensitive=case_sensitive,
            offset=offset,
            limit=max_hits,
        )
        hits = [_hit(o) for o in found.occurrences]
        end = offset + len(hits)
        next_offset = end if end < found.total else None
        result = Occurrences(
            thread_id=tid,
            query=query,
            case_sensitive=case_sensitive,
            total=found.total,
            total_capped=found.total_capped,
            offset=offset,
            hits=hits,
            next_offset=next_offset,
            turns_searched=found.turns_searched,
        )
        label = _label(thread)
        lines: list[str] = []
        if found.total == 0:
            case = "matching case" if case_sensitive else "ignoring case"
            lines.append(
                f"No occurrence of {_quote(query)} in thread {tid} ({label}): searched "
                f"{found.turns_searched} turns ({found.entries_searched} entries), literally, "
                f"{case}. Try a shorter phrase, or search_threads to find other threads."
            )
        elif not hits:
            lines.append(
                f"{_count(found.total, 'occurrence')} of {_quote(query)} in thread {tid} "
                f"({label}); "
                f"none from offset {offset} (use an offset below {found.total})."
            )
        else:
            counted = (
                f"{found.total}+ occurrences"
                if found.total_capped
                else _count(found.total, "occurrence")
            )
            lines.append(
                f"{counted} of {_quote(query)} in thread {tid} ({label}); hits {offset + 1}-{end}:"
            )
            for number, hit in enumerate(hits, start=offset + 1):
                where = _kind_label(hit.kind) + (f" ({hit.title})" if hit.title else "")
                lines.append(f"[{number}] turn {hit.turn}, entry {hit.entry} · {where}:")
                lines.append(f"    {_context_line(hit)}")
        if next_offset is not None:
            lines.append(f"(more: call find_in_thread with offset={next_offset})")
        return _result(lines, result)


# -- the server -------------------------------------------------------------------------


def build_server(store: ThreadStore) -> MCPServer[Any]:
    """An MCP server with the read-only thread tools over `store`. The caller opens the
    store before serving and closes it after (`async with store: await serve(store)`)."""
    tools = ThreadTools(store)
    server: MCPServer[Any] = MCPServer(
        SERVER_NAME,
        title="Codex threads",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    for name, title in (
        ("list_threads", "List threads"),
        ("search_threads", "Search threads"),
        ("read_thread", "Read a thread"),
        ("find_in_thread", "Find in a thread"),
    ):
        method = getattr(tools, name)
        server.add_tool(
            method,
            name=name,
            title=title,
            description=inspect.getdoc(method),
            annotations=READ_ONLY,
        )
    return server


async def serve(store: ThreadStore) -> None:
    """Serve `store` over stdin/stdout until the client disconnects (it ends stdin)."""
    await build_server(store).run_stdio_async()


# -- helpers ----------------------------------------------------------------------------


@contextlib.contextmanager
def _store_errors() -> Iterator[None]:
    """Store errors the caller can act on, as tool errors that say what to do."""
    try:
        yield
    except ThreadNotFound as exc:
        raise ToolError(
            f"no thread {exc.thread_id} in this store (archived threads included); pass a "
            "full thread id as list_threads or search_threads return it"
        ) from None
    except InvalidRequest as exc:
        raise ToolError(exc.detail) from None
    except Unsupported as exc:
        raise ToolError(f"this store does not support {exc.operation}") from None
    except ThreadStoreError as exc:
        raise ToolError(str(exc)) from None


def _absolute_dir(cwd: str) -> str:
    """Codex records absolute working directories; a relative one would name another
    directory than the agent means (the server runs elsewhere)."""
    if not os.path.isabs(cwd):
        raise ToolError(f"cwd must be an absolute directory, got {cwd!r}")
    return os.path.normpath(cwd)


def _thread_id(value: str) -> str:
    text = value.strip()
    try:
        return parse_thread_id(text.lower())
    except InvalidRequest:
        raise ToolError(
            f"thread_id {value!r} is not a thread id: pass the full id (a UUID such as "
            "01a1fbf9-e0e1-7c5e-9d7e-2f6b1c0a4d3e) as list_threads or search_threads return it"
        ) from None


async def _load_turns(store: ThreadStore, thread_id: str) -> list[Turn]:
    """Every turn of the thread, oldest first, with all of its items."""
    turns: list[Turn] = []
    cursor: str | None = None
    while True:
        page = await store.list_turns(
            ListTurnsParams(
                thread_id=thread_id,
                include_archived=True,
                cursor=cursor,
                page_size=_TURN_PAGE,
                items_view=TurnItemsView.FULL,
            )
        )
        turns.extend(page.turns)
        cursor = page.next_cursor
        if cursor is None:
            return turns


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


def _label(thread: StoredThread) -> str:
    text = thread.name or thread.title or thread.preview or thread.first_user_message or ""
    return _clip_line(text, LABEL_CHARS) or "(no message yet)"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _clip(text: str, limit: int) -> tuple[str, int]:
    """`text` cut to `limit` characters, and how many were cut."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def _clip_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _quote(text: str) -> str:
    return '"' + _clip_line(text, 200).replace('"', '\\"') + '"'


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _kind_label(kind: str) -> str:
    return _KIND_LABELS.get(kind, kind)


def _thread_lines(info: ThreadInfo, sort: str) -> list[str]:
    when = f"updated {info.updated_at}" if sort == "updated" else f"created {info.created_at}"
    facts = [when, info.source, info.model_provider]
    if info.cwd:
        facts.append(info.cwd)
    if info.archived_at:
        facts.append(f"archived {info.archived_at}")
    if info.parent_thread_id:
        who = ", ".join(x for x in (info.agent_nickname, info.agent_role) if x)
        facts.append(f"subagent of {info.parent_thread_id}" + (f" ({who})" if who else ""))
    if info.forked_from_id:
        facts.append(f"forked from {info.forked_from_id}")
    return [f"- {info.thread_id}  {info.label}", "  " + " · ".join(facts)]


def _entry_text(number: int, entry: Entry) -> EntryText:
    limit = MESSAGE_ENTRY_CHARS if entry.kind in _MESSAGE_KINDS else OTHER_ENTRY_CHARS
    text, cut = _clip(entry.text, limit)
    return EntryText(entry=number, kind=entry.kind, title=entry.title, text=text, omitted_chars=cut)


def _turn_text(number: int, turn: Turn, detail: str) -> TurnText:
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


def _turn_size(turn: TurnText) -> int:
    return 80 + sum(len(e.text) + len(e.title) + 40 for e in turn.entries)


def _fit_turn(turn: TurnText, budget: int) -> TurnText:
    """The first turn shown, when it alone is over the budget: its entries up to it."""
    kept: list[EntryText] = []
    used = 80
    for entry in turn.entries:
        size = len(entry.text) + len(entry.title) + 40
        if kept and used + size > budget:
            break
        kept.append(entry)
        used += size
    return turn.model_copy(
        update={"entries": kept, "omitted_entries": len(turn.entries) - len(kept)}
    )


def _thread_text_lines(result: ThreadText) -> list[str]:
    info = result.thread
    lines = [f"Thread {info.thread_id}: {info.label}"]
    lines.append(_thread_lines(info, "updated")[1])
    lines.append(f"  created {info.created_at}" + (f" · model {info.model}" if info.model else ""))
    if not result.turns:
        lines.append("This thread has no turns yet.")
        return lines
    first, last = result.turns[0].turn, result.turns[-1].turn
    span = f"Turn {first}" if first == last else f"Turns {first}-{last}"
    lines.append(f"{span} of {result.total_turns} (detail: {result.detail}):")
    for turn in result.turns:
        head = f"turn {turn.turn} of {result.total_turns} · {turn.status}"
        if turn.started_at:
            head += f" · {turn.started_at}"
        lines.append("")
        lines.append(f"── {head} ──")
        if turn.error:
            lines.append(f"(turn error: {turn.error})")
        if not turn.entries:
            lines.append('(nothing to show at this detail; try detail="all")')
        for entry in turn.entries:
            title = f" ({entry.title})" if entry.title else ""
            lines.append(f"[{entry.entry}] {_kind_label(entry.kind)}{title}:")
            lines.extend("  " + line for line in entry.text.split("\n"))
            if entry.omitted_chars:
                lines.append(
                    f"  … {entry.omitted_chars} more characters cut (find_in_thread searches "
                    "the whole entry)"
                )
        if turn.omitted_entries:
            lines.append(
                f"… {turn.omitted_entries} more entries of this turn left out (over max_chars)"
            )
    if result.next_start_turn is not None:
        lines.append("")
        lines.append(
            f"(more: call read_thread with start_turn={result.next_start_turn}; "
            f"{_count(result.total_turns - result.next_start_turn + 1, 'turn')} left)"
        )
    return lines


def _hit(found: Occurrence) -> Hit:
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


def _context_line(hit: Hit) -> str:
    def flat(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\n", " ⏎ ")

    return f"{flat(hit.before)}**{flat(hit.match)}**{flat(hit.after)}"


def _result(lines: Sequence[str], structured: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(lines))],
        structured_content=structured.model_dump(mode="json"),
    )
