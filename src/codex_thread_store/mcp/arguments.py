"""The tools' arguments: their types, limits and descriptions, which the SDK publishes as
each tool's input schema and checks before a tool runs; and the two checks a schema
cannot express (a thread id, an absolute directory).

Optional strings are published as plain strings (not `anyOf` with null), which every
client turns into a model's tool schema as it is; null is still accepted.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, WithJsonSchema

from codex_thread_store import InvalidRequest, parse_thread_id

__all__ = [
    "DEFAULT_CONTEXT_CHARS",
    "DEFAULT_LIST_LIMIT",
    "DEFAULT_MAX_HITS",
    "DEFAULT_READ_CHARS",
    "DEFAULT_READ_TURNS",
    "DEFAULT_SEARCH_LIMIT",
    "MAX_CONTEXT_CHARS",
    "MAX_HITS",
    "MAX_LIST_LIMIT",
    "MAX_QUERY_CHARS",
    "MAX_READ_CHARS",
    "MAX_READ_TURNS",
    "MAX_SEARCH_LIMIT",
    "MIN_READ_CHARS",
    "ArchivedArg",
    "CaseSensitiveArg",
    "ContextCharsArg",
    "CursorArg",
    "CwdArg",
    "DetailArg",
    "HitOffsetArg",
    "ListLimitArg",
    "MaxCharsArg",
    "MaxHitsArg",
    "MaxTurnsArg",
    "PhraseArg",
    "SearchLimitArg",
    "SearchQueryArg",
    "SortArg",
    "StartTurnArg",
    "ThreadIdArg",
    "absolute_dir",
    "thread_id_arg",
]

DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100
DEFAULT_SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 50
DEFAULT_READ_TURNS = 10
MAX_READ_TURNS = 50
DEFAULT_READ_CHARS = 20_000
MIN_READ_CHARS = 1_000
MAX_READ_CHARS = 200_000
DEFAULT_CONTEXT_CHARS = 120
MAX_CONTEXT_CHARS = 1_000
DEFAULT_MAX_HITS = 20
MAX_HITS = 100
MAX_QUERY_CHARS = 1_000

# -- shared by several tools --------------------------------------------------------------

ThreadIdArg = Annotated[
    str,
    Field(
        description="The thread's full id (a UUID such as "
        "01a1fbf9-e0e1-7c5e-9d7e-2f6b1c0a4d3e), as list_threads or search_threads return it.",
        min_length=1,
        max_length=100,
    ),
]
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

# -- list_threads -------------------------------------------------------------------------

ListLimitArg = Annotated[
    int, Field(ge=1, le=MAX_LIST_LIMIT, description="Threads per page (1-100).")
]
SortArg = Annotated[
    Literal["updated", "created"],
    Field(description="Newest first by last update (default) or by creation."),
]
CwdArg = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "maxLength": 4_096}),
    Field(description="Only threads that ran in this absolute directory.", max_length=4_096),
]

# -- search_threads -----------------------------------------------------------------------

SearchQueryArg = Annotated[
    str,
    Field(
        description="Words to find (all must match, case-insensitively, anywhere in "
        "a word: 'pars' finds 'parser').",
        min_length=1,
        max_length=MAX_QUERY_CHARS,
    ),
]
SearchLimitArg = Annotated[
    int, Field(ge=1, le=MAX_SEARCH_LIMIT, description="Threads per page (1-50).")
]

# -- read_thread --------------------------------------------------------------------------

StartTurnArg = Annotated[
    int,
    Field(
        description="The first turn to show, from 1; negative counts from the end "
        "(-3: the last three turns).",
        ge=-1_000_000,
        le=1_000_000,
    ),
]
MaxTurnsArg = Annotated[
    int, Field(ge=1, le=MAX_READ_TURNS, description="At most this many turns (1-50).")
]
DetailArg = Annotated[
    Literal["messages", "all"],
    Field(
        description="messages: what the user and the assistant said (and plans); "
        "all: also commands and their output, tool calls, reasoning."
    ),
]
MaxCharsArg = Annotated[
    int,
    Field(
        ge=MIN_READ_CHARS,
        le=MAX_READ_CHARS,
        description="Stop adding turns past about this many characters.",
    ),
]

# -- find_in_thread -----------------------------------------------------------------------

PhraseArg = Annotated[
    str,
    Field(
        description="The phrase to find, literally (not a pattern).",
        min_length=1,
        max_length=MAX_QUERY_CHARS,
    ),
]
ContextCharsArg = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_CONTEXT_CHARS,
        description="Characters of context shown before and after each hit (0-1000).",
    ),
]
MaxHitsArg = Annotated[int, Field(ge=1, le=MAX_HITS, description="At most this many hits (1-100).")]
HitOffsetArg = Annotated[
    int, Field(ge=0, le=1_000_000, description="Skip this many hits (for paging).")
]
CaseSensitiveArg = Annotated[bool, Field(description="Match case exactly (default: ignore case).")]


# -- checks past the schema ---------------------------------------------------------------


def thread_id_arg(value: str) -> str:
    """`value` as a canonical thread id (surrounding spaces and upper case accepted)."""
    text = value.strip()
    try:
        return parse_thread_id(text.lower())
    except InvalidRequest:
        raise ToolError(
            f"thread_id {value!r} is not a thread id: pass the full id (a UUID such as "
            "01a1fbf9-e0e1-7c5e-9d7e-2f6b1c0a4d3e) as list_threads or search_threads return it"
        ) from None


def absolute_dir(cwd: str) -> str:
    """Codex records absolute working directories; a relative one would name another
    directory than the agent means (the server runs elsewhere)."""
    if not os.path.isabs(cwd):
        raise ToolError(f"cwd must be an absolute directory, got {cwd!r}")
    return os.path.normpath(cwd)
