"""Every occurrence of a phrase inside one thread, each with a little text around it.

Pure functions over the typed turn view (`Turn.items`): the text searched is what a
transcript shows (`codex_thread_store.transcript.transcript_entries`): user and assistant
messages, reasoning, plans, commands with their output, tool calls and their results.
The phrase matches literally (no patterns), case-insensitively unless asked otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from codex_thread_store.protocol.items import Turn
from codex_thread_store.transcript import Entry, transcript_entries

__all__ = ["MAX_COUNTED", "Occurrence", "OccurrenceSearch", "find_occurrences", "turn_entries"]

#: Occurrences beyond this many are not counted (`OccurrenceSearch.total_capped`).
MAX_COUNTED = 10_000


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One match: where it is (turn and entry, both numbered from 1, as `read_thread`
    numbers them) and the text before and after it (`clipped_*`: the entry goes on)."""

    turn_number: int
    turn_id: str
    entry_number: int
    kind: str
    title: str
    offset: int
    before: str
    match: str
    after: str
    clipped_before: bool
    clipped_after: bool


@dataclass(frozen=True, slots=True)
class OccurrenceSearch:
    """The page of occurrences asked for, and how many there are in all (counted up to
    `MAX_COUNTED`; `total_capped` when there are more)."""

    occurrences: list[Occurrence]
    total: int
    total_capped: bool
    turns_searched: int
    entries_searched: int


def turn_entries(turn: Turn) -> list[Entry]:
    """The transcript entries of one turn, in order."""
    return transcript_entries(turn.items)


def find_occurrences(
    turns: Sequence[Turn],
    query: str,
    *,
    context_chars: int = 120,
    case_sensitive: bool = False,
    offset: int = 0,
    limit: int = 20,
) -> OccurrenceSearch:
    """Occurrences `offset` to `offset + limit` of `query` in `turns` (oldest first), each
    with up to `context_chars` characters either side, and the total count."""
    if not query:
        raise ValueError("query must not be empty")
    pattern = re.compile(re.escape(query), 0 if case_sensitive else re.IGNORECASE)
    page: list[Occurrence] = []
    total = 0
    entries_searched = 0
    for turn_number, turn in enumerate(turns, start=1):
        for entry_number, entry in enumerate(turn_entries(turn), start=1):
            entries_searched += 1
            if total >= MAX_COUNTED:
                continue
            for start, end in _spans(pattern, entry.text):
                if offset <= total < offset + limit:
                    page.append(
                        _occurrence(
                            turn_number, turn, entry_number, entry, start, end, context_chars
                        )
                    )
                total += 1
                if total >= MAX_COUNTED:
                    break
    return OccurrenceSearch(
        occurrences=page,
        total=total,
        total_capped=total >= MAX_COUNTED,
        turns_searched=len(turns),
        entries_searched=entries_searched,
    )


def _spans(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, int]]:
    for found in pattern.finditer(text):
        if found.end() > found.start():
            yield found.start(), found.end()


def _occurrence(
    turn_number: int,
    turn: Turn,
    entry_number: int,
    entry: Entry,
    start: int,
    end: int,
    context_chars: int,
) -> Occurrence:
    text = entry.text
    lo = max(0, start - context_chars)
    hi = min(len(text), end + context_chars)
    return Occurrence(
        turn_number=turn_number,
        turn_id=turn.id,
        entry_number=entry_number,
        kind=entry.kind,
        title=entry.title,
        offset=start,
        before=text[lo:start],
        match=text[start:end],
        after=text[end:hi],
        clipped_before=lo > 0,
        clipped_after=hi < len(text),
    )
