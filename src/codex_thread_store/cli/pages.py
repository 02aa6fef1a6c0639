"""Paging through a store: one page or all of them (`--cursor`, `--all`), and every thread."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from ..store import ThreadStore
from ..types import ListThreadsParams, StoredThread

__all__ = ["collect_pages", "iter_threads"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Page(Protocol[T_co]):
    @property
    def items(self) -> Sequence[T_co]: ...

    @property
    def next_cursor(self) -> str | None: ...


async def collect_pages(
    fetch: Callable[[str | None], Awaitable[Page[T]]], cursor: str | None, *, all_pages: bool
) -> tuple[list[T], str | None]:
    """The items of the page at `cursor` (and of every later page with `all_pages`), and
    the cursor of the page after them (None at the end)."""
    items: list[T] = []
    while True:
        page = await fetch(cursor)
        items.extend(page.items)
        cursor = page.next_cursor
        if not all_pages or cursor is None:
            return items, cursor


async def iter_threads(store: ThreadStore, page_size: int = 500) -> AsyncIterator[StoredThread]:
    """Every thread of the store, active then archived."""
    for archived in (False, True):
        cursor: str | None = None
        while True:
            page = await store.list_threads(
                ListThreadsParams(page_size=page_size, cursor=cursor, archived=archived)
            )
            for thread in page.items:
                yield thread
            cursor = page.next_cursor
            if cursor is None:
                break
