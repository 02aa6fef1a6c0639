"""Copy every thread from one store to another: history, metadata, names, archived state.

`copy_threads(source, target)` is how a user moves from a local Codex home to
PostgreSQL (or back, or between any two stores). It is resumable: the target itself
is the checkpoint. A thread already in the target with the same number of items
and the same metadata is skipped; one that differs (an interrupted or outdated
copy) is replaced. Re-running after an interruption therefore finishes the job, and
re-running after success copies nothing. At the end every source thread is checked
in the target (item count, archived state, name) and the report says what differs.

How a thread is written depends on the target:
- a store with `import_thread` (`PostgresThreadStore`) takes the whole thread in one
  transaction, exactly: every field, item times, the archive time;
- any other store goes through `import_rollout` (a local home gets the rollout bytes
  as they are; others replay it), then one metadata patch and archive/unarchive.
  There the archive time becomes the copy time, and a replaying store may keep a
  later `recency_at` than the source (recency only moves forward).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import msgspec

from .errors import ThreadNotFound, ThreadStoreError
from .export import rollout_jsonl
from .importer import ImportedRollout, import_rollout, parse_import
from .patch import GitInfoPatch, ThreadMetadataPatch
from .store import ThreadStore
from .turns import TimedItem, line_time_ms
from .types import (
    ArchiveThreadParams,
    DeleteThreadParams,
    ListThreadsParams,
    LoadThreadHistoryParams,
    ReadThreadParams,
    SortDirection,
    StoredThread,
    ThreadSortKey,
    UpdateThreadMetadataParams,
)

__all__ = [
    "CopyEvent",
    "CopyProgress",
    "CopyReport",
    "SupportsImport",
    "copy_threads",
]

Action = Literal["copied", "replaced", "skipped", "failed"]
Phase = Literal["listing", "copying", "verifying", "done"]

_LIST_PAGE = 200


@runtime_checkable
class SupportsImport(Protocol):
    """A store that can take a whole thread exactly, in one step."""

    async def import_thread(
        self, thread: StoredThread, items: Sequence[TimedItem], *, replace: bool = False
    ) -> None: ...

    async def count_items(self, thread_id: str) -> int: ...


@dataclass(frozen=True)
class CopyEvent:
    """One progress report: `done` of `total` threads in `phase`; the thread and what
    happened to it when a thread was just handled."""

    phase: Phase
    done: int
    total: int
    thread_id: str | None = None
    action: Action | None = None


CopyProgress = Callable[[CopyEvent], None]


@dataclass
class CopyReport:
    """What a copy did. `ok` when every source thread was verified in the target."""

    total: int = 0
    copied: int = 0
    replaced: int = 0
    skipped: int = 0
    items: int = 0
    """History items of all source threads (what the target now holds for them)."""
    failed: dict[str, str] = field(default_factory=dict)
    """Thread id → why it could not be copied."""
    mismatches: dict[str, str] = field(default_factory=dict)
    """Thread id → what differs in the target after the copy."""

    @property
    def verified(self) -> int:
        return self.total - len(self.failed) - len(self.mismatches)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.mismatches

    def summary(self) -> str:
        text = (
            f"{self.total} threads ({self.items} items): {self.copied} copied, "
            f"{self.replaced} replaced, {self.skipped} already there; "
            f"{self.verified}/{self.total} verified"
        )
        if self.failed:
            text += f"; {len(self.failed)} failed"
        if self.mismatches:
            text += f"; {len(self.mismatches)} differ"
        return text


@dataclass(frozen=True)
class _Source:
    thread: StoredThread
    rollout: ImportedRollout
    items: list[TimedItem]


async def copy_threads(
    source: ThreadStore,
    target: ThreadStore,
    *,
    progress: CopyProgress | None = None,
    jobs: int = 4,
) -> CopyReport:
    """Copy every thread (active and archived) of `source` into `target`, then verify.

    Safe to re-run: threads already copied are skipped, partial ones replaced. Threads
    that fail are reported in `CopyReport.failed` and the rest still copied; a live
    writer in the target on a thread to replace is one such failure.
    """
    report = CopyReport()

    def emit(
        phase: Phase, done: int, thread_id: str | None = None, action: Action | None = None
    ) -> None:
        if progress is not None:
            progress(CopyEvent(phase, done, report.total, thread_id, action))

    ids = await _all_thread_ids(source, lambda n: emit("listing", n))
    report.total = len(ids)
    counts: dict[str, int] = {}
    copied = 0

    async def copy(thread_id: str) -> None:
        nonlocal copied
        try:
            action, count = await _copy_one(source, target, thread_id)
        except ThreadStoreError as exc:
            action, count = "failed", 0
            report.failed[thread_id] = str(exc)
        if action != "failed":
            counts[thread_id] = count
            report.items += count
            setattr(report, action, getattr(report, action) + 1)
        copied += 1
        emit("copying", copied, thread_id, action)

    await _each(ids, copy, jobs)
    verified = 0

    async def verify(thread_id: str) -> None:
        nonlocal verified
        if thread_id in counts:
            problem = await _verify(source, target, thread_id, counts[thread_id])
            if problem is not None:
                report.mismatches[thread_id] = problem
        verified += 1
        emit("verifying", verified, thread_id)

    await _each(ids, verify, jobs)
    emit("done", report.total)
    return report


async def _each(ids: list[str], fn: Callable[[str], Awaitable[None]], jobs: int) -> None:
    """`fn` over `ids` with at most `jobs` running at once; the first exception (an
    interruption, a progress callback that raised) cancels the rest and propagates."""
    queue = iter(ids)

    async def worker() -> None:
        for thread_id in queue:
            await fn(thread_id)

    tasks = [asyncio.create_task(worker()) for _ in range(max(1, jobs))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _all_thread_ids(store: ThreadStore, on_page: Callable[[int], None]) -> list[str]:
    """Every thread id, active then archived, in creation order (keyset pages)."""
    ids: list[str] = []
    for archived in (False, True):
        cursor: str | None = None
        while True:
            page = await store.list_threads(
                ListThreadsParams(
                    page_size=_LIST_PAGE,
                    cursor=cursor,
                    sort_key=ThreadSortKey.CREATED_AT,
                    sort_direction=SortDirection.ASC,
                    archived=archived,
                )
            )
            ids.extend(t.thread_id for t in page.items)
            on_page(len(ids))
            cursor = page.next_cursor
            if cursor is None:
                break
    return list(dict.fromkeys(ids))


async def _read_source(store: ThreadStore, thread_id: str) -> _Source:
    thread = await store.read_thread(ReadThreadParams(thread_id=thread_id, include_archived=True))
    rollout = parse_import(await rollout_jsonl(store, thread))
    items: list[TimedItem] = []
    last_ms = 0
    for line in rollout.lines:
        last_ms = line_time_ms(line.timestamp, last_ms)
        items.append(TimedItem(last_ms, line.item))
    return _Source(thread, rollout, items)


async def _read_target(store: ThreadStore, thread_id: str) -> tuple[StoredThread, int] | None:
    try:
        thread = await store.read_thread(
            ReadThreadParams(thread_id=thread_id, include_archived=True)
        )
    except ThreadNotFound:
        return None
    if isinstance(store, SupportsImport):
        return thread, await store.count_items(thread_id)
    loaded = await store.load_history(
        LoadThreadHistoryParams(thread_id=thread_id, include_archived=True)
    )
    return thread, len(loaded.items)


def _portable(thread: StoredThread) -> StoredThread:
    """The fields that must survive a copy (the rollout path is the source's own)."""
    return msgspec.structs.replace(thread, rollout_path=None, history=None)


def _same(source: StoredThread, target: StoredThread, *, exact: bool) -> bool:
    if exact:
        return _portable(source) == _portable(target)
    return source.name == target.name and source.is_archived == target.is_archived


async def _copy_one(source: ThreadStore, target: ThreadStore, thread_id: str) -> tuple[Action, int]:
    src = await _read_source(source, thread_id)
    exact = isinstance(target, SupportsImport)
    existing = await _read_target(target, thread_id)
    count = len(src.items)
    if (
        existing is not None
        and existing[1] == count
        and _same(src.thread, existing[0], exact=exact)
    ):
        return "skipped", count
    action: Action = "copied" if existing is None else "replaced"
    if isinstance(target, SupportsImport):
        await target.import_thread(_portable(src.thread), src.items, replace=existing is not None)
        return action, count
    if existing is not None and existing[1] != count:
        await target.delete_thread(DeleteThreadParams(thread_id=thread_id))
        existing = None
    if existing is None:
        await import_rollout(target, src.rollout)
    await _apply_metadata(target, src.thread)
    return action, count


async def _apply_metadata(target: ThreadStore, thread: StoredThread) -> None:
    """Patch the target's summary to the source's, then match the archived state."""
    git = thread.git_info
    patch = ThreadMetadataPatch(
        name=thread.name,
        title=thread.title,
        preview=thread.preview,
        model_provider=thread.model_provider,
        model=thread.model,
        reasoning_effort=thread.reasoning_effort,
        created_at=thread.created_at,
        updated_at=thread.updated_at,
        advance_recency_at=thread.recency_at,
        source=thread.source,
        thread_source=thread.thread_source,
        agent_nickname=thread.agent_nickname,
        agent_role=thread.agent_role,
        agent_path=thread.agent_path,
        cwd=thread.cwd,
        cli_version=thread.cli_version,
        approval_mode=thread.approval_mode,
        permission_profile=thread.permission_profile,
        token_usage=thread.token_usage,
        first_user_message=thread.first_user_message,
        git_info=GitInfoPatch(
            sha=git.commit_hash if git else None,
            branch=git.branch if git else None,
            origin_url=git.repository_url if git else None,
        ),
        memory_mode=thread.memory_mode,
        history_mode=thread.history_mode,
        originator=thread.originator,
    )
    current = await target.update_thread_metadata(
        UpdateThreadMetadataParams(thread_id=thread.thread_id, patch=patch, include_archived=True)
    )
    params = ArchiveThreadParams(thread_id=thread.thread_id)
    if thread.is_archived and not current.is_archived:
        await target.archive_thread(params)
    elif current.is_archived and not thread.is_archived:
        await target.unarchive_thread(params)


async def _verify(
    source: ThreadStore, target: ThreadStore, thread_id: str, count: int
) -> str | None:
    """What differs between the source thread and its copy, or None."""
    found = await _read_target(target, thread_id)
    if found is None:
        return "missing from the target"
    thread, target_count = found
    if target_count != count:
        return f"{target_count} items in the target, {count} in the source"
    src = await source.read_thread(ReadThreadParams(thread_id=thread_id, include_archived=True))
    if src.is_archived != thread.is_archived:
        return "archived in one store and not in the other"
    if src.name != thread.name:
        return f"named {thread.name!r} in the target, {src.name!r} in the source"
    return None
