"""Listing and search: filters, keyset pages and snippets, always scoped to one owner.

Order is (sort column, thread_id) in the requested direction, the same as every other
store, and a page boundary is a row-value comparison against the cursor's anchor, so
a page costs O(page size) through the `threads_by_*` indexes however deep it is.
Search words are matched as case-folded substrings (the contract every store keeps)
through trigram indexes, with LIKE patterns whose wildcards are escaped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from psycopg import sql

from ..cursors import decode_cursor, encode_cursor
from ..errors import InvalidRequest
from ..memory.listing import metadata_texts, sort_value
from ..protocol.messages import message_texts
from ..search_text import make_snippet, search_words
from ..timeutil import from_ms
from ..types import (
    ListThreadsParams,
    RelationKind,
    SearchThreadsParams,
    SortDirection,
    StoredThread,
    StoredThreadSearchResult,
    ThreadSortKey,
)
from .db import Conn
from .rows import THREAD_COLUMNS, decode_item, thread_from_row

__all__ = ["like_pattern", "list_threads", "owner_tag", "search_threads", "visible_clause"]

_SORT_COLUMNS = {
    ThreadSortKey.CREATED_AT: "created_at",
    ThreadSortKey.UPDATED_AT: "updated_at",
    ThreadSortKey.RECENCY_AT: "recency_at",
}

SELECT_THREAD = sql.SQL(", ").join(sql.SQL("t.") + sql.Identifier(c) for c in THREAD_COLUMNS)


def owner_tag(owner: str) -> str:
    """A short, non-reversible tag of the owner, so a cursor only works for its owner."""
    return hashlib.sha256(owner.encode()).hexdigest()[:12]


def like_pattern(word: str) -> str:
    """`%word%` with LIKE's wildcards and escape character taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visible_clause(pending: Sequence[str]) -> tuple[sql.Composable, list[Any]]:
    """Materialized threads, plus this store's own lazily written ones."""
    if not pending:
        return sql.SQL("t.materialized"), []
    return sql.SQL("(t.materialized OR t.thread_id = ANY(%s))"), [list(pending)]


class _Where:
    def __init__(self, owner: str, archived: bool, pending: Sequence[str]) -> None:
        self.clauses: list[sql.Composable] = [sql.SQL("t.owner = %s"), sql.SQL("t.archived = %s")]
        self.args: list[Any] = [owner, archived]
        self.owner = owner
        clause, args = visible_clause(pending)
        self.add(clause, *args)

    def add(self, clause: sql.Composable, *args: Any) -> None:
        self.clauses.append(clause)
        self.args.extend(args)

    def sql(self) -> sql.Composable:
        return sql.SQL(" AND ").join(self.clauses)


def _common(where: _Where, params: ListThreadsParams | SearchThreadsParams) -> None:
    if params.allowed_sources:
        where.add(sql.SQL("t.source = ANY(%s)"), [s.to_db_text() for s in params.allowed_sources])


async def _page(
    conn: Conn,
    where: _Where,
    *,
    sort_key: ThreadSortKey,
    direction: SortDirection,
    page_size: int,
    cursor: str | None,
    kind: str,
) -> tuple[list[StoredThread], str | None]:
    column = sql.Identifier(_SORT_COLUMNS[sort_key])
    desc = direction is SortDirection.DESC
    tag = owner_tag(where.owner)
    if cursor is not None:
        value = decode_cursor(cursor, kind, s=sort_key.value, d=direction.value, o=tag)
        anchor_ms, anchor_id = value.get("v"), value.get("id")
        if not isinstance(anchor_ms, int) or not isinstance(anchor_id, str):
            raise InvalidRequest("cursor is not valid; restart the listing without a cursor")
        op = sql.SQL("<" if desc else ">")
        where.add(
            sql.SQL("(t.{col}, t.thread_id) {op} (%s, %s)").format(col=column, op=op),
            from_ms(anchor_ms),
            anchor_id,
        )
    order = sql.SQL("DESC" if desc else "ASC")
    query = sql.SQL(
        "SELECT {cols} FROM threads t WHERE {where}"
        " ORDER BY t.{col} {order}, t.thread_id {order} LIMIT %s"
    ).format(cols=SELECT_THREAD, where=where.sql(), col=column, order=order)
    cur = await conn.execute(query, [*where.args, page_size + 1])
    rows = await cur.fetchall()
    threads = [thread_from_row(row) for row in rows[:page_size]]
    next_cursor = None
    if len(rows) > page_size:
        last = threads[-1]
        next_cursor = encode_cursor(
            kind,
            s=sort_key.value,
            d=direction.value,
            o=tag,
            v=sort_value(last, sort_key),
            id=last.thread_id,
        )
    return threads, next_cursor


async def list_threads(
    conn: Conn, owner: str, pending: Sequence[str], params: ListThreadsParams
) -> tuple[list[StoredThread], str | None]:
    where = _Where(owner, params.archived, pending)
    _common(where, params)
    if params.source_kinds is not None:
        kinds = sorted(set(params.source_kinds))
        if "subAgent" in kinds:
            where.add(
                sql.SQL("(t.source_kind LIKE 'subAgent%%' OR t.source_kind = ANY(%s))"), kinds
            )
        else:
            where.add(sql.SQL("t.source_kind = ANY(%s)"), kinds)
    if params.model_providers:
        where.add(sql.SQL("t.model_provider = ANY(%s)"), list(params.model_providers))
    if params.cwd_filters is not None:
        where.add(sql.SQL("t.cwd = ANY(%s)"), list(params.cwd_filters))
    for word in search_words(params.search_term or ""):
        where.add(sql.SQL("t.meta_search LIKE %s"), like_pattern(word))
    relation = params.relation_filter
    if relation is not None:
        if relation.kind is RelationKind.DIRECT_CHILDREN_OF:
            where.add(
                sql.SQL(
                    "t.thread_id IN (SELECT e.child_thread_id FROM spawn_edges e"
                    " WHERE e.owner = %s AND e.parent_thread_id = %s)"
                ),
                owner,
                relation.thread_id,
            )
        else:
            # UNION (not UNION ALL) stops at a cycle, so a corrupt edge set cannot loop.
            where.add(
                sql.SQL(
                    "t.thread_id IN (WITH RECURSIVE d(id) AS ("
                    " SELECT e.child_thread_id FROM spawn_edges e"
                    " WHERE e.owner = %s AND e.parent_thread_id = %s"
                    " UNION SELECT e.child_thread_id FROM spawn_edges e JOIN d"
                    " ON e.parent_thread_id = d.id WHERE e.owner = %s)"
                    " SELECT id FROM d WHERE id <> %s)"
                ),
                owner,
                relation.thread_id,
                owner,
                relation.thread_id,
            )
    return await _page(
        conn,
        where,
        sort_key=params.sort_key,
        direction=params.sort_direction,
        page_size=params.page_size,
        cursor=params.cursor,
        kind="threads",
    )


async def search_threads(
    conn: Conn, owner: str, pending: Sequence[str], params: SearchThreadsParams
) -> tuple[list[StoredThreadSearchResult], str | None]:
    """Threads whose metadata or message text holds every word, with a snippet each."""
    words = search_words(params.search_term)
    where = _Where(owner, params.archived, pending)
    _common(where, params)
    for word in words:
        pattern = like_pattern(word)
        where.add(
            sql.SQL(
                "(t.meta_search LIKE %s OR t.thread_id IN (SELECT x.thread_id FROM thread_items x"
                " WHERE x.owner = %s AND x.search_text LIKE %s))"
            ),
            pattern,
            owner,
            pattern,
        )
    threads, cursor = await _page(
        conn,
        where,
        sort_key=params.sort_key,
        direction=params.sort_direction,
        page_size=params.page_size,
        cursor=params.cursor,
        kind="search",
    )
    bodies = await _first_matching_texts(conn, owner, words, threads)
    results = []
    for thread in threads:
        texts = metadata_texts(thread) + bodies.get(thread.thread_id, [])
        results.append(StoredThreadSearchResult(thread=thread, snippet=make_snippet(words, texts)))
    return results, cursor


async def _first_matching_texts(
    conn: Conn, owner: str, words: list[str], threads: list[StoredThread]
) -> dict[str, list[str]]:
    """Per thread whose metadata holds none of the words, the message texts of its first
    item that holds one: exactly the text `make_snippet` would pick from the full history."""
    need = [
        t.thread_id
        for t in threads
        if not any(w in text.casefold() for text in metadata_texts(t) for w in words)
    ]
    if not need:
        return {}
    cur = await conn.cursor(binary=True).execute(
        "SELECT n.id, s.payload FROM unnest(%s::text[]) AS n(id)"
        " CROSS JOIN LATERAL (SELECT x.payload FROM thread_items x"
        "  WHERE x.owner = %s AND x.thread_id = n.id AND x.search_text LIKE ANY(%s)"
        "  ORDER BY x.seq LIMIT 1) s",
        (need, owner, [like_pattern(w) for w in words]),
    )
    return {
        str(thread_id): message_texts([decode_item(bytes(payload))])
        for thread_id, payload in await cur.fetchall()
    }
