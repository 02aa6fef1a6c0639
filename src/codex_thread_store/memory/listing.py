"""Filtering, ordering and keyset paging of threads held in memory.

Order is (sort value, thread id), both in the requested direction, so a page
boundary falls between two distinct keys and the cursor carries that key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from ..cursors import decode_cursor, encode_cursor
from ..errors import InvalidRequest
from ..search_text import matches, search_words
from ..timeutil import to_ms
from ..types import (
    ListThreadsParams,
    RelationKind,
    SortDirection,
    StoredThread,
    ThreadRelationFilter,
    ThreadSortKey,
)

__all__ = ["metadata_texts", "page_threads", "sort_value", "thread_filter"]


def sort_value(thread: StoredThread, key: ThreadSortKey) -> int:
    stamp: datetime = {
        ThreadSortKey.CREATED_AT: thread.created_at,
        ThreadSortKey.UPDATED_AT: thread.updated_at,
        ThreadSortKey.RECENCY_AT: thread.recency_at,
    }[key]
    return to_ms(stamp)


def metadata_texts(thread: StoredThread) -> list[str]:
    return [t for t in (thread.name, thread.preview, thread.first_user_message) if t]


def _related(threads: Iterable[StoredThread], relation: ThreadRelationFilter) -> set[str]:
    children: dict[str, list[str]] = {}
    for t in threads:
        if t.parent_thread_id:
            children.setdefault(t.parent_thread_id, []).append(t.thread_id)
    if relation.kind is RelationKind.DIRECT_CHILDREN_OF:
        return set(children.get(relation.thread_id, ()))
    found: set[str] = set()
    stack = list(children.get(relation.thread_id, ()))
    while stack:
        tid = stack.pop()
        if tid in found or tid == relation.thread_id:
            continue
        found.add(tid)
        stack.extend(children.get(tid, ()))
    return found


def thread_filter(
    params: ListThreadsParams, all_threads: Sequence[StoredThread]
) -> Callable[[StoredThread], bool]:
    """A predicate for every filter of `params` except paging."""
    related = (
        None if params.relation_filter is None else _related(all_threads, params.relation_filter)
    )
    words = search_words(params.search_term or "")
    providers = set(params.model_providers or ())
    cwds = None if params.cwd_filters is None else set(params.cwd_filters)
    sources = set(params.allowed_sources)

    def keep(t: StoredThread) -> bool:
        if t.is_archived != params.archived:
            return False
        if sources and t.source not in sources:
            return False
        if params.source_kinds is not None and not any(
            t.source.matches_kind(k) for k in params.source_kinds
        ):
            return False
        if providers and t.model_provider not in providers:
            return False
        if cwds is not None and t.cwd not in cwds:
            return False
        if related is not None and t.thread_id not in related:
            return False
        return not words or matches(words, metadata_texts(t))

    return keep


def page_threads(
    candidates: Iterable[StoredThread],
    *,
    sort_key: ThreadSortKey,
    direction: SortDirection,
    page_size: int,
    cursor: str | None,
    kind: str = "threads",
) -> tuple[list[StoredThread], str | None]:
    """Sort, apply the cursor and cut one page; returns the page and the next cursor."""
    desc = direction is SortDirection.DESC
    ordered = sorted(candidates, key=lambda t: (sort_value(t, sort_key), t.thread_id), reverse=desc)
    if cursor is not None:
        value = decode_cursor(cursor, kind, s=sort_key.value, d=direction.value)
        anchor = (value.get("v"), value.get("id"))
        if not isinstance(anchor[0], int) or not isinstance(anchor[1], str):
            raise InvalidRequest("cursor is not valid; restart the listing without a cursor")
        if desc:
            ordered = [t for t in ordered if (sort_value(t, sort_key), t.thread_id) < anchor]
        else:
            ordered = [t for t in ordered if (sort_value(t, sort_key), t.thread_id) > anchor]
    page = ordered[:page_size]
    next_cursor = None
    if len(ordered) > page_size:
        last = page[-1]
        next_cursor = encode_cursor(
            kind,
            s=sort_key.value,
            d=direction.value,
            v=sort_value(last, sort_key),
            id=last.thread_id,
        )
    return page, next_cursor
