"""`ThreadTools`: the four tools over one store, each answering with text and structure.

Each method's signature is its tool's input schema (`arguments.py`), its return
annotation names the output schema (`results.py`), and its docstring is the description
a model reads. The tools only ever call the store's read operations (`list_threads`,
`search_threads`, `read_thread`, `list_turns`).
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from codex_thread_store import (
    ListThreadsParams,
    ReadThreadParams,
    SearchThreadsParams,
    SortDirection,
    ThreadSortKey,
    ThreadStore,
)

# The SDK reads each method's annotations at run time to build the tool's schemas, so
# the argument and result types are imported for real (not under TYPE_CHECKING).
from codex_thread_store.turns import all_turns

from .arguments import (
    DEFAULT_CONTEXT_CHARS,
    DEFAULT_LIST_LIMIT,
    DEFAULT_MAX_HITS,
    DEFAULT_READ_CHARS,
    DEFAULT_READ_TURNS,
    DEFAULT_SEARCH_LIMIT,
    ArchivedArg,
    CaseSensitiveArg,
    ContextCharsArg,
    CursorArg,
    CwdArg,
    DetailArg,
    HitOffsetArg,
    ListLimitArg,
    MaxCharsArg,
    MaxHitsArg,
    MaxTurnsArg,
    PhraseArg,
    SearchLimitArg,
    SearchQueryArg,
    SortArg,
    StartTurnArg,
    ThreadIdArg,
    absolute_dir,
    thread_id_arg,
)
from .errors import store_errors
from .occurrences import find_occurrences
from .results import (
    Occurrences,
    SearchResults,
    ThreadList,
    ThreadText,
    hit,
    search_hit,
    thread_info,
    turns_within_budget,
)
from .text import occurrences_text, search_results_text, thread_list_text, thread_text

__all__ = ["ThreadTools"]

#: Turns asked of the store per `list_turns` call; the tools read every turn of a thread.


class ThreadTools:
    """The tool implementations over one store (which the caller opens and closes)."""

    def __init__(self, store: ThreadStore) -> None:
        self._store = store

    async def list_threads(
        self,
        limit: ListLimitArg = DEFAULT_LIST_LIMIT,
        cursor: CursorArg = None,
        archived: ArchivedArg = False,
        sort: SortArg = "updated",
        cwd: CwdArg = None,
    ) -> Annotated[CallToolResult, ThreadList]:
        """List Codex threads, newest first, one page at a time.

        Each thread comes with its id, name or first message, where and when it ran.
        Pass the returned next_cursor to get the next page. Read a thread with
        read_thread; to find threads about a topic, search_threads is better.
        """
        cwd_filters = [absolute_dir(cwd)] if cwd else None
        sort_key = ThreadSortKey.UPDATED_AT if sort == "updated" else ThreadSortKey.CREATED_AT
        with store_errors():
            page = await self._store.list_threads(
                ListThreadsParams(
                    page_size=limit,
                    cursor=cursor or None,
                    sort_key=sort_key,
                    sort_direction=SortDirection.DESC,
                    archived=archived,
                    cwd_filters=cwd_filters,
                )
            )
        result = ThreadList(
            archived=archived,
            sort=sort,
            threads=[thread_info(t) for t in page.items],
            next_cursor=page.next_cursor,
        )
        return _answer(thread_list_text(result, cwd=cwd, cursor=cursor), result)

    async def search_threads(
        self,
        query: SearchQueryArg,
        limit: SearchLimitArg = DEFAULT_SEARCH_LIMIT,
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
        with store_errors():
            page = await self._store.search_threads(
                SearchThreadsParams(
                    search_term=query, page_size=limit, cursor=cursor or None, archived=archived
                )
            )
        result = SearchResults(
            query=query,
            archived=archived,
            hits=[search_hit(r) for r in page.items],
            next_cursor=page.next_cursor,
        )
        return _answer(search_results_text(result, cursor=cursor), result)

    async def read_thread(
        self,
        thread_id: ThreadIdArg,
        start_turn: StartTurnArg = 1,
        max_turns: MaxTurnsArg = DEFAULT_READ_TURNS,
        detail: DetailArg = "messages",
        max_chars: MaxCharsArg = DEFAULT_READ_CHARS,
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
        tid = thread_id_arg(thread_id)
        with store_errors():
            thread = await self._store.read_thread(
                ReadThreadParams(thread_id=tid, include_archived=True)
            )
            turns = await all_turns(self._store, tid)
        total = len(turns)
        first = start_turn if start_turn > 0 else max(1, total + start_turn + 1)
        if total and first > total:
            raise ToolError(
                f"start_turn {start_turn} is past the last turn: the thread has {total} turns"
            )
        shown = turns_within_budget(turns, first, max_turns, detail, max_chars)
        after = first + len(shown)
        result = ThreadText(
            thread=thread_info(thread),
            total_turns=total,
            detail=detail,
            turns=shown,
            next_start_turn=after if after <= total else None,
        )
        return _answer(thread_text(result), result)

    async def find_in_thread(
        self,
        thread_id: ThreadIdArg,
        query: PhraseArg,
        context_chars: ContextCharsArg = DEFAULT_CONTEXT_CHARS,
        max_hits: MaxHitsArg = DEFAULT_MAX_HITS,
        offset: HitOffsetArg = 0,
        case_sensitive: CaseSensitiveArg = False,
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
        tid = thread_id_arg(thread_id)
        with store_errors():
            thread = await self._store.read_thread(
                ReadThreadParams(thread_id=tid, include_archived=True)
            )
            turns = await all_turns(self._store, tid)
        found = find_occurrences(
            turns,
            query,
            context_chars=context_chars,
            case_sensitive=case_sensitive,
            offset=offset,
            limit=max_hits,
        )
        hits = [hit(o) for o in found.occurrences]
        end = offset + len(hits)
        result = Occurrences(
            thread_id=tid,
            query=query,
            case_sensitive=case_sensitive,
            total=found.total,
            total_capped=found.total_capped,
            offset=offset,
            hits=hits,
            next_offset=end if end < found.total else None,
            turns_searched=found.turns_searched,
        )
        shown = occurrences_text(
            result, label=thread_info(thread).label, entries_searched=found.entries_searched
        )
        return _answer(shown, result)


def _answer(text: str, structured: BaseModel) -> CallToolResult:
    """A tool's answer: `text` for the model to read, `structured` as the same facts."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=structured.model_dump(mode="json"),
    )
