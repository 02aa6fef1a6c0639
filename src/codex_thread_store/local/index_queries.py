"""Listing and searching threads in our index (sync functions, one query each): keyset
pages over `(archived, sort column, thread_id)`, filters, and full-text search."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..codec import decode_json
from ..cursors import decode_cursor, encode_cursor
from ..errors import InvalidRequest
from ..search_text import search_words
from ..types import (
    ListThreadsParams,
    RelationKind,
    SearchThreadsParams,
    SortDirection,
    StoredThread,
    ThreadSortKey,
)
from .index import get_body

__all__ = ["list_threads", "search_threads"]

_SORT_COLUMNS = {
    ThreadSortKey.CREATED_AT: "created_at_ms",
    ThreadSortKey.UPDATED_AT: "updated_at_ms",
    ThreadSortKey.RECENCY_AT: "recency_at_ms",
}


def _where(params: ListThreadsParams | SearchThreadsParams) -> tuple[list[str], list[Any]]:
    clauses = ["archived = ?"]
    args: list[Any] = [1 if params.archived else 0]
    if params.allowed_sources:
        clauses.append(f"source_text IN ({','.join('?' * len(params.allowed_sources))})")
        args.extend(s.to_db_text() for s in params.allowed_sources)
    return clauses, args


def _page(
    conn: sqlite3.Connection,
    clauses: list[str],
    args: list[Any],
    *,
    sort_key: ThreadSortKey,
    direction: SortDirection,
    page_size: int,
    cursor: str | None,
    kind: str,
) -> tuple[list[StoredThread], str | None]:
    column = _SORT_COLUMNS[sort_key]
    desc = direction is SortDirection.DESC
    if cursor is not None:
        value = decode_cursor(cursor, kind, s=sort_key.value, d=direction.value)
        anchor_v, anchor_id = value.get("v"), value.get("id")
        if not isinstance(anchor_v, int) or not isinstance(anchor_id, str):
            raise InvalidRequest("cursor is not valid; restart the listing without a cursor")
        op = "<" if desc else ">"
        clauses = [*clauses, f"({column}, thread_id) {op} (?, ?)"]
        args = [*args, anchor_v, anchor_id]
    order = "DESC" if desc else "ASC"
    sql = (
        f"SELECT data, {column} FROM threads WHERE {' AND '.join(clauses)}"
        f" ORDER BY {column} {order}, thread_id {order} LIMIT ?"
    )
    rows = conn.execute(sql, [*args, page_size + 1]).fetchall()
    threads = [decode_json(row[0], StoredThread) for row in rows[:page_size]]
    next_cursor = None
    if len(rows) > page_size:
        last_value = rows[page_size - 1][1]
        next_cursor = encode_cursor(
            kind,
            s=sort_key.value,
            d=direction.value,
            v=last_value,
            id=threads[-1].thread_id,
        )
    return threads, next_cursor


def list_threads(
    conn: sqlite3.Connection, params: ListThreadsParams
) -> tuple[list[StoredThread], str | None]:
    """One page, O(page) through the (archived, sort column, id) indexes."""
    clauses, args = _where(params)
    if params.source_kinds is not None:
        kinds = set(params.source_kinds)
        if "subAgent" in kinds:
            clauses.append(
                f"(source_kind LIKE 'subAgent%' OR source_kind IN ({','.join('?' * len(kinds))}))"
            )
        else:
            clauses.append(f"source_kind IN ({','.join('?' * len(kinds))})")
        args.extend(sorted(kinds))
    if params.model_providers:
        clauses.append(f"model_provider IN ({','.join('?' * len(params.model_providers))})")
        args.extend(params.model_providers)
    if params.cwd_filters is not None:
        clauses.append(f"cwd IN ({','.join('?' * len(params.cwd_filters))})")
        args.extend(params.cwd_filters)
    for word in search_words(params.search_term or ""):
        clauses.append("instr(meta_search, ?) > 0")
        args.append(word)
    if params.relation_filter is not None:
        root = params.relation_filter.thread_id
        if params.relation_filter.kind is RelationKind.DIRECT_CHILDREN_OF:
            clauses.append("parent_thread_id = ?")
            args.append(root)
        else:
            clauses.append(
                "thread_id IN (WITH RECURSIVE d(id) AS ("
                " SELECT thread_id FROM threads WHERE parent_thread_id = ?"
                " UNION SELECT t.thread_id FROM threads t JOIN d ON t.parent_thread_id = d.id)"
                " SELECT id FROM d WHERE id <> ?)"
            )
            args.extend([root, root])
    return _page(
        conn,
        clauses,
        args,
        sort_key=params.sort_key,
        direction=params.sort_direction,
        page_size=params.page_size,
        cursor=params.cursor,
        kind="threads",
    )


def search_threads(
    conn: sqlite3.Connection, params: SearchThreadsParams
) -> tuple[list[tuple[StoredThread, str]], str | None]:
    """Threads whose metadata or message text holds every word; returns (thread, body)."""
    clauses, args = _where(params)
    for word in search_words(params.search_term):
        if len(word) >= 3:
            phrase = '"' + word.replace('"', '""') + '"'
            clauses.append(
                "(instr(meta_search, ?) > 0 OR thread_id IN"
                " (SELECT thread_id FROM text_rows WHERE id IN"
                "  (SELECT rowid FROM thread_text WHERE thread_text MATCH ?)))"
            )
            args.extend([word, phrase])
        else:
            clauses.append(
                "(instr(meta_search, ?) > 0 OR thread_id IN"
                " (SELECT thread_id FROM text_rows WHERE id IN"
                "  (SELECT rowid FROM thread_text WHERE instr(folded, ?) > 0)))"
            )
            args.extend([word, word])
    threads, cursor = _page(
        conn,
        clauses,
        args,
        sort_key=params.sort_key,
        direction=params.sort_direction,
        page_size=params.page_size,
        cursor=params.cursor,
        kind="search",
    )
    return [(t, get_body(conn, t.thread_id)) for t in threads], cursor
