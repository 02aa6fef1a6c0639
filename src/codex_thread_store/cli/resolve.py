"""Turning what the user typed into a thread: a full id, a unique id prefix, or a name.

A full id is read directly. Anything else is matched against id prefixes and thread
names (case-insensitive), archived threads included: exactly one match wins; several
are an ambiguity error listing them; none is "not found". A local home answers from its
index in one query; other stores are paged through `list_threads`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

from ..errors import InvalidRequest, ThreadNotFound
from ..ids import parse_thread_id
from ..store import ThreadStore
from ..types import ListThreadsParams, ReadThreadParams, StoredThread
from .exit_codes import CliError, ExitCode
from .pages import iter_threads

__all__ = ["all_thread_ids", "resolve_thread", "short_ids", "thread_label"]

_PREFIX_RE = re.compile(r"^[0-9a-fA-F-]+$")
_MAX_CANDIDATES = 10


def thread_label(thread: StoredThread, width: int = 60) -> str:
    """The name, else the preview, on one line and at most `width` characters."""
    text = " ".join((thread.name or thread.preview or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


async def resolve_thread(store: ThreadStore, text: str) -> StoredThread:
    """The one thread `text` names (archived threads included).

    Raises:
        CliError: no thread matches (exit 3), or several do (exit 3, with the candidates).
    """
    text = text.strip()
    if not text:
        raise CliError("empty thread id; pass an id, an id prefix or a name", ExitCode.USAGE)
    full_id = _full_id(text)
    if full_id is not None:
        try:
            return await store.read_thread(
                ReadThreadParams(thread_id=full_id, include_archived=True)
            )
        except ThreadNotFound:
            pass  # it might still be a (strange) name
    matches = await _candidates(store, text)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CliError(
            f"no thread matches {text!r} (by id, id prefix or name); "
            "see `codex-threads list --all` (add --archived for archived threads)",
            ExitCode.NOT_FOUND,
        )
    shown = matches[:_MAX_CANDIDATES]
    details = [f"{t.thread_id}  {thread_label(t)}" for t in shown]
    if len(matches) > len(shown):
        details.append(f"... and {len(matches) - len(shown)} more")
    raise CliError(
        f"{text!r} is ambiguous: it matches {len(matches)} threads; use more characters of the id:",
        ExitCode.NOT_FOUND,
        details,
    )


def _full_id(text: str) -> str | None:
    """`text` as a canonical thread id, if it is one (any case)."""
    try:
        return parse_thread_id(text)
    except InvalidRequest:
        return None


async def _candidates(store: ThreadStore, text: str) -> list[StoredThread]:
    is_prefix = _PREFIX_RE.match(text) is not None
    local = await _local_candidates(store, text, is_prefix)
    if local is not None:
        return local
    found: dict[str, StoredThread] = {}
    folded = text.casefold()
    async for thread in iter_threads(store):
        if (is_prefix and thread.thread_id.startswith(text.lower())) or (
            thread.name is not None and thread.name.casefold() == folded
        ):
            found[thread.thread_id] = thread
    return sorted(found.values(), key=lambda t: t.thread_id)


async def _local_candidates(
    store: ThreadStore, text: str, is_prefix: bool
) -> list[StoredThread] | None:
    """Candidates from a local home's index, or None for other stores."""
    from ..local import LocalThreadStore

    if not isinstance(store, LocalThreadStore):
        return None
    import asyncio

    from ..local.index_reader import IndexReader

    # Any call opens (and refreshes) the index before we read it on our own connection.
    await store.list_threads(ListThreadsParams(page_size=1))

    def query() -> list[StoredThread]:
        with IndexReader(store.config.index_path) as reader:
            ids = set(reader.ids_named(text))
            if is_prefix:
                ids.update(reader.ids_with_prefix(text, limit=_MAX_CANDIDATES * 10))
            threads = [reader.thread(tid) for tid in sorted(ids)]
        return [t for t in threads if t is not None]

    return await asyncio.to_thread(query)


async def all_thread_ids(store: ThreadStore) -> list[str]:
    """Every thread id in the store, sorted (for unambiguous short ids)."""
    from ..local import LocalThreadStore

    if isinstance(store, LocalThreadStore):
        import asyncio

        from ..local.index_reader import IndexReader

        def query() -> list[str]:
            with IndexReader(store.config.index_path) as reader:
                return sorted(reader.all_ids())

        return await asyncio.to_thread(query)
    return sorted([t.thread_id async for t in iter_threads(store)])


def short_ids(wanted: Sequence[str], every_id: Sequence[str], minimum: int = 8) -> dict[str, str]:
    """The shortest prefix (at least `minimum` characters) of each id in `wanted` that no
    other id in `every_id` (sorted) shares. UUIDv7 ids start with their creation time, so
    threads made close together need longer prefixes than git-style 7 characters."""
    out: dict[str, str] = {}
    for tid in wanted:
        at = bisect_left(every_id, tid)
        present = at < len(every_id) and every_id[at] == tid
        length = minimum
        for neighbour_at in (at - 1, at + 1 if present else at):
            if 0 <= neighbour_at < len(every_id):
                length = max(length, _common_prefix(tid, every_id[neighbour_at]) + 1)
        if tid[length - 1 : length] == "-":
            length += 1  # never end on a hyphen
        out[tid] = tid[:length]
    return out


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
