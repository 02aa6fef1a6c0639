"""The readable text of each tool's answer: what a model reads.

It states the same facts as the structured content (`results.py`), and says what to call
next: the cursor or offset of the next page, `archived=true` when nothing active matched,
`find_in_thread` when an entry was cut.
"""

from __future__ import annotations

from .results import Hit, Occurrences, SearchResults, ThreadInfo, ThreadList, ThreadText, clip_line

__all__ = ["occurrences_text", "search_results_text", "thread_list_text", "thread_text"]

_KIND_LABELS = {"tool_call": "tool call", "tool_output": "tool output"}


def thread_list_text(result: ThreadList, *, cwd: str | None, cursor: str | None) -> str:
    """`list_threads`' answer; `cwd` and `cursor` as the caller passed them."""
    which = "archived" if result.archived else "active"
    lines: list[str] = []
    if not result.threads:
        where = f" in {cwd}" if cwd else ""
        more = " on this page" if cursor else ""
        lines.append(f"No {which} threads{where}{more}.")
        if not result.archived and not cursor:
            lines.append("(archived threads: call list_threads with archived=true)")
    else:
        count = _count(len(result.threads), which + " thread")
        lines.append(f"{count}, most recently {result.sort} first:")
        for info in result.threads:
            lines.extend(_thread_lines(info, result.sort))
    if result.next_cursor is not None:
        lines.append(f'(more: call list_threads with cursor="{result.next_cursor}")')
    return "\n".join(lines)


def search_results_text(result: SearchResults, *, cursor: str | None) -> str:
    """`search_threads`' answer; `cursor` as the caller passed it."""
    which = "archived" if result.archived else "active"
    lines: list[str] = []
    if not result.hits:
        lines.append(f"No {which} thread matches {_quote(result.query)}.")
        if not result.archived and not cursor:
            lines.append("(archived threads: call search_threads with archived=true)")
    else:
        lines.append(
            f"{_count(len(result.hits), which + ' thread')} matching {_quote(result.query)}, "
            "most recently updated first:"
        )
        for hit in result.hits:
            lines.extend(_thread_lines(hit.thread, "updated"))
            lines.append(f"  match: {hit.snippet}")
    if result.next_cursor is not None:
        lines.append(f'(more: call search_threads with cursor="{result.next_cursor}")')
    return "\n".join(lines)


def thread_text(result: ThreadText) -> str:
    """`read_thread`'s answer: the thread's summary, then each turn as a transcript."""
    info = result.thread
    lines = [f"Thread {info.thread_id}: {info.label}"]
    lines.append(_thread_lines(info, "updated")[1])
    lines.append(f"  created {info.created_at}" + (f" · model {info.model}" if info.model else ""))
    if not result.turns:
        lines.append("This thread has no turns yet.")
        return "\n".join(lines)
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
    return "\n".join(lines)


def occurrences_text(result: Occurrences, *, label: str, entries_searched: int) -> str:
    """`find_in_thread`'s answer: one line per hit, the match in bold; `label` names the
    thread and `entries_searched` says how much was looked at when nothing matched."""
    tid, query, offset = result.thread_id, _quote(result.query), result.offset
    lines: list[str] = []
    if result.total == 0:
        case = "matching case" if result.case_sensitive else "ignoring case"
        lines.append(
            f"No occurrence of {query} in thread {tid} ({label}): searched "
            f"{result.turns_searched} turns ({entries_searched} entries), literally, "
            f"{case}. Try a shorter phrase, or search_threads to find other threads."
        )
    elif not result.hits:
        lines.append(
            f"{_count(result.total, 'occurrence')} of {query} in thread {tid} ({label}); "
            f"none from offset {offset} (use an offset below {result.total})."
        )
    else:
        counted = (
            f"{result.total}+ occurrences"
            if result.total_capped
            else _count(result.total, "occurrence")
        )
        end = offset + len(result.hits)
        lines.append(f"{counted} of {query} in thread {tid} ({label}); hits {offset + 1}-{end}:")
        for number, hit in enumerate(result.hits, start=offset + 1):
            where = _kind_label(hit.kind) + (f" ({hit.title})" if hit.title else "")
            lines.append(f"[{number}] turn {hit.turn}, entry {hit.entry} · {where}:")
            lines.append(f"    {_context_line(hit)}")
    if result.next_offset is not None:
        lines.append(f"(more: call find_in_thread with offset={result.next_offset})")
    return "\n".join(lines)


def _thread_lines(info: ThreadInfo, sort: str) -> list[str]:
    """Two lines: the id and label, then when, what kind and where it ran."""
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


def _context_line(hit: Hit) -> str:
    # One line per hit, so line breaks inside the context are shown, not kept.
    def flat(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\n", " ⏎ ")

    return f"{flat(hit.before)}**{flat(hit.match)}**{flat(hit.after)}"


def _quote(text: str) -> str:
    return '"' + clip_line(text, 200).replace('"', '\\"') + '"'


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _kind_label(kind: str) -> str:
    return _KIND_LABELS.get(kind, kind)
