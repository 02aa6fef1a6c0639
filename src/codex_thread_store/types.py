"""Boundary data: one `<Operation>Params` per store operation, `StoredThread`, and pages.

Everything here is a frozen `msgspec.Struct`, so each request and answer has one
definition that encodes to JSON (`codex_thread_store.codec.encode_json`) and
has a JSON Schema (`codex-threads schema`). Constructing a params struct
validates it: a malformed thread id or page size raises `InvalidRequest`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import msgspec

from .errors import InvalidRequest
from .ids import new_thread_id, parse_thread_id
from .patch import ThreadMetadataPatch, TokenUsage
from .protocol.items.model import ItemField, Turn, TurnItemsView
from .protocol.rollout import MAX_NESTING, RolloutItem, nesting_exceeds
from .protocol.session_meta import GitInfo
from .protocol.sources import SessionSource, SourceKind, ThreadSource

__all__ = [
    "AppendThreadItemsParams",
    "ArchiveThreadParams",
    "CreateThreadParams",
    "DeleteThreadParams",
    "ForkPointParams",
    "HistoryBase",
    "ItemPage",
    "ListItemsParams",
    "ListThreadsParams",
    "ListTurnsParams",
    "LoadThreadHistoryParams",
    "ReadThreadByRolloutPathParams",
    "ReadThreadParams",
    "RelationKind",
    "ResumeThreadParams",
    "SearchThreadsParams",
    "SortDirection",
    "StoredThread",
    "StoredThreadHistory",
    "StoredThreadItem",
    "StoredThreadSearchResult",
    "ThreadPage",
    "ThreadPersistenceMetadata",
    "ThreadRelationFilter",
    "ThreadSearchPage",
    "ThreadSortKey",
    "TurnPage",
    "UpdateThreadMetadataParams",
]

DEFAULT_PAGE_SIZE = 50


class ThreadSortKey(enum.StrEnum):
    """What `list_threads` orders by (app-server spelling)."""

    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    RECENCY_AT = "recency_at"


class SortDirection(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


class RelationKind(enum.StrEnum):
    DIRECT_CHILDREN_OF = "direct_children_of"
    DESCENDANTS_OF = "descendants_of"


def _check_id(value: str, what: str = "thread_id") -> None:
    # Stores compare ids as strings, so only the canonical spelling is accepted here:
    # an upper-case spelling would otherwise name a second thread with the same UUID.
    if parse_thread_id(value, what=what) != value:
        raise InvalidRequest(
            f"{what} {value!r} must be in canonical lower-case form "
            f"({parse_thread_id(value, what=what)!r})"
        )


#: The largest page any listing returns in one call (page through for more).
MAX_PAGE_SIZE = 10_000
#: Bounds of a search term: longer terms or more words than this are refused.
MAX_SEARCH_TERM_CHARS = 1_000
MAX_SEARCH_WORDS = 32


def _check_page_size(page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest(
            f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}; "
            "page through with the cursor for more"
        )


def _check_search_term(term: str) -> None:
    if len(term) > MAX_SEARCH_TERM_CHARS:
        raise InvalidRequest(
            f"search_term is {len(term)} characters, over the {MAX_SEARCH_TERM_CHARS} allowed"
        )
    words = len(term.split())
    if words > MAX_SEARCH_WORDS:
        raise InvalidRequest(
            f"search_term has {words} words, over the {MAX_SEARCH_WORDS} allowed; "
            "search for the most telling ones"
        )


class _Params(msgspec.Struct, frozen=True, kw_only=True):
    pass


class ThreadPersistenceMetadata(_Params, frozen=True, kw_only=True):
    """What a live writer records about future writes."""

    cwd: str | None = None
    model_provider: str = "openai"
    memory_mode: str = "enabled"


class HistoryBase(_Params, frozen=True, kw_only=True):
    """Where a fork by reference starts: its history is the first `end_byte_offset` bytes
    (`end_ordinal_exclusive` lines) of rollout `thread_id`, then its own lines. Codex
    0.169+ forks paginated threads this way instead of copying them."""

    thread_id: str
    end_ordinal_exclusive: int
    end_byte_offset: int

    def __post_init__(self) -> None:
        _check_id(self.thread_id, "history_base.thread_id")
        if self.end_ordinal_exclusive < 1 or self.end_byte_offset < 1:
            raise InvalidRequest(
                "a history base must include its source's session_meta "
                f"(end_ordinal_exclusive {self.end_ordinal_exclusive}, "
                f"end_byte_offset {self.end_byte_offset})"
            )


class ForkPointParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    include_archived: bool = False

    def __post_init__(self) -> None:
        _check_id(self.thread_id)


class CreateThreadParams(_Params, frozen=True, kw_only=True):
    """Open a new live thread. The store writes the initial `session_meta` itself.

    `session_id` defaults to `thread_id` (a root thread); subagents pass their
    root's. `originator` is the *effective* originator; `LiveThread.create`
    resolves it when left empty.
    """

    thread_id: str = msgspec.field(default_factory=new_thread_id)
    session_id: str | None = None
    forked_from_id: str | None = None
    parent_thread_id: str | None = None
    source: SessionSource = msgspec.field(default_factory=SessionSource.cli)
    thread_source: str | None = None
    originator: str = ""
    cli_version: str | None = None
    base_instructions: Any = None
    dynamic_tools: list[Any] = msgspec.field(default_factory=list)
    selected_capability_roots: list[Any] = msgspec.field(default_factory=list)
    multi_agent_version: str | None = None
    history_mode: str | None = None
    """`legacy` or `paginated`; None: the store's default (`ThreadStore.default_history_mode`,
    which for a Codex home follows what that home's Codex writes)."""
    initial_window_id: str | None = None
    git_info: GitInfo | None = None
    history_base: HistoryBase | None = None
    """A fork by reference (`ThreadStore.fork_point`): the thread starts from that history
    instead of a copy of it. Needs `forked_from_id` and paginated history."""
    metadata: ThreadPersistenceMetadata = msgspec.field(default_factory=ThreadPersistenceMetadata)

    def __post_init__(self) -> None:
        _check_id(self.thread_id)
        if self.history_base is not None and (
            self.forked_from_id is None or self.history_mode == "legacy"
        ):
            raise InvalidRequest(
                "history_base is for paginated forks: set forked_from_id and leave "
                "history_mode unset or 'paginated'"
            )
        for name in ("session_id", "forked_from_id", "parent_thread_id"):
            value = getattr(self, name)
            if value is not None:
                _check_id(value, name)
        if self.history_mode not in (None, "legacy", "paginated"):
            raise InvalidRequest(
                f"history_mode must be 'legacy' or 'paginated', got {self.history_mode!r}"
            )
        if self.thread_source is not None:
            ThreadSource.validate_new(self.thread_source)
        if self.metadata.memory_mode not in ("enabled", "disabled"):
            raise InvalidRequest(
                f"memory_mode must be 'enabled' or 'disabled', got {self.metadata.memory_mode!r}"
            )

    @property
    def effective_session_id(self) -> str:
        return self.session_id or self.thread_id

    def with_history_mode(self, default: str) -> CreateThreadParams:
        """These params with the history mode decided (`default` when unset; a fork by
        reference is paginated)."""
        if self.history_mode is not None:
            return self
        mode = "paginated" if self.history_base is not None else default
        return msgspec.structs.replace(self, history_mode=mode)


class ResumeThreadParams(_Params, frozen=True, kw_only=True):
    """Reopen an existing thread for live appends. `history`, if given, is replay history
    the caller already loaded; its first `session_meta` decides the history mode."""

    thread_id: str
    rollout_path: str | None = None
    history: list[RolloutItem] | None = None
    include_archived: bool = False
    metadata: ThreadPersistenceMetadata = msgspec.field(default_factory=ThreadPersistenceMetadata)

    def __post_init__(self) -> None:
        _check_id(self.thread_id)


class AppendThreadItemsParams(_Params, frozen=True, kw_only=True):
    """Append raw items; the store applies the persistence policy itself."""

    thread_id: str
    items: list[RolloutItem]
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.thread_id)
        for item in self.items:
            if not isinstance(item, RolloutItem):
                raise InvalidRequest(
                    f"append_items takes RolloutItem values, got {type(item).__name__}"
                )
            if nesting_exceeds([item.payload, item.extra], MAX_NESTING + 1):
                raise InvalidRequest(
                    f"a {item.type} item nests lists and objects more than {MAX_NESTING} deep;"
                    " Codex could not read it back. Flatten it; nothing was appended"
                )


class LoadThreadHistoryParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    include_archived: bool = False

    def __post_init__(self) -> None:
        _check_id(self.thread_id)


class StoredThreadHistory(_Params, frozen=True, kw_only=True):
    """Persisted items in replay order, and when each was written (Unix ms, same order)
    where the store keeps that (`None` where it does not)."""

    thread_id: str
    items: list[RolloutItem]
    item_created_at_ms: list[int] | None = None


class ReadThreadParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    include_archived: bool = False
    include_history: bool = False

    def __post_init__(self) -> None:
        _check_id(self.thread_id)


class ReadThreadByRolloutPathParams(_Params, frozen=True, kw_only=True):
    """Deprecated: address a thread by its local rollout path."""

    rollout_path: str
    include_archived: bool = False
    include_history: bool = False


class ThreadRelationFilter(_Params, frozen=True, kw_only=True):
    """`direct_children_of`: threads whose parent is `thread_id`;
    `descendants_of`: the transitive closure, excluding `thread_id` itself."""

    kind: RelationKind
    thread_id: str

    def __post_init__(self) -> None:
        _check_id(self.thread_id)

    @classmethod
    def direct_children_of(cls, thread_id: str) -> ThreadRelationFilter:
        return cls(kind=RelationKind.DIRECT_CHILDREN_OF, thread_id=thread_id)

    @classmethod
    def descendants_of(cls, thread_id: str) -> ThreadRelationFilter:
        return cls(kind=RelationKind.DESCENDANTS_OF, thread_id=thread_id)


class ListThreadsParams(_Params, frozen=True, kw_only=True):
    """One page of threads.

    - `allowed_sources` empty: every source. `source_kinds`: app-server kind names
      (`cli`, `subAgent`, ...); None means every kind.
    - `model_providers` None or empty: every provider.
    - `cwd_filters` None: every cwd; empty list: no thread at all.
    - `archived=True` lists archived threads *instead of* active ones.
    - `search_term`: case-insensitive match of every word on name, preview and
      first user message.
    - `cursor` is opaque and only valid with the same sort key and direction.
    """

    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None
    sort_key: ThreadSortKey = ThreadSortKey.CREATED_AT
    sort_direction: SortDirection = SortDirection.DESC
    allowed_sources: list[SessionSource] = msgspec.field(default_factory=list)
    source_kinds: list[str] | None = None
    model_providers: list[str] | None = None
    cwd_filters: list[str] | None = None
    archived: bool = False
    search_term: str | None = None
    relation_filter: ThreadRelationFilter | None = None
    use_state_db_only: bool = False

    def __post_init__(self) -> None:
        _check_page_size(self.page_size)
        if self.search_term is not None:
            _check_search_term(self.search_term)
        for kind in self.source_kinds or ():
            if kind not in SourceKind.ALL:
                raise InvalidRequest(
                    f"unknown source kind {kind!r}; use one of {sorted(SourceKind.ALL)}"
                )


class SearchThreadsParams(_Params, frozen=True, kw_only=True):
    """Full-text search; results carry a snippet around the match."""

    search_term: str
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None
    sort_key: ThreadSortKey = ThreadSortKey.UPDATED_AT
    sort_direction: SortDirection = SortDirection.DESC
    allowed_sources: list[SessionSource] = msgspec.field(default_factory=list)
    archived: bool = False

    def __post_init__(self) -> None:
        _check_page_size(self.page_size)
        if not self.search_term.strip():
            raise InvalidRequest("search_term must not be empty")
        _check_search_term(self.search_term)


class ListTurnsParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    include_archived: bool = False
    cursor: str | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    sort_direction: SortDirection = SortDirection.ASC
    items_view: TurnItemsView = TurnItemsView.SUMMARY

    def __post_init__(self) -> None:
        _check_id(self.thread_id)
        _check_page_size(self.page_size)


class ListItemsParams(_Params, frozen=True, kw_only=True):
    """Items of a thread, or of one turn when `turn_id` is given."""

    thread_id: str
    turn_id: str | None = None
    include_archived: bool = False
    cursor: str | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    sort_direction: SortDirection = SortDirection.ASC

    def __post_init__(self) -> None:
        _check_id(self.thread_id)
        _check_page_size(self.page_size)


class UpdateThreadMetadataParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    patch: ThreadMetadataPatch
    include_archived: bool = False

    def __post_init__(self) -> None:
        _check_id(self.thread_id)
        from .codec import encode_json  # codec imports the protocol, not this module

        try:
            encode_json(self.patch)
        except (UnicodeEncodeError, TypeError, msgspec.EncodeError) as exc:
            raise InvalidRequest(
                f"the metadata patch cannot be stored as JSON ({exc}); text fields must be "
                "valid Unicode (no lone surrogates) and values JSON-encodable"
            ) from None


class ArchiveThreadParams(_Params, frozen=True, kw_only=True):
    thread_id: str

    def __post_init__(self) -> None:
        _check_id(self.thread_id)


class DeleteThreadParams(_Params, frozen=True, kw_only=True):
    thread_id: str

    def __post_init__(self) -> None:
        _check_id(self.thread_id)


class StoredThread(msgspec.Struct, frozen=True, kw_only=True):
    """A thread's summary as every store returns it (history only when asked for).

    Times are UTC datetimes at millisecond precision. `recency_at` only moves
    forward. `archived_at` is set exactly when the thread is archived.
    """

    thread_id: str
    session_id: str
    """The id Codex's app-server reports as `sessionId`: the thread's own id."""
    root_session_id: str | None = None
    """The session the thread belongs to, as its `session_meta` records it: for a sub-agent,
    its root thread's id; for a root thread, its own id."""
    rollout_path: str | None = None
    forked_from_id: str | None = None
    parent_thread_id: str | None = None
    preview: str = ""
    name: str | None = None
    """The thread's name: set by a rename (`ThreadMetadataPatch.name`) only, as Codex's
    app-server reports it (an unnamed thread's `name` is null)."""
    title: str | None = None
    """The best-effort title derived from history (`ThreadMetadataPatch.title`), which Codex
    keeps in its `threads.title` column apart from the name."""
    model_provider: str = ""
    model: str | None = None
    reasoning_effort: str | None = None
    created_at: datetime
    updated_at: datetime
    recency_at: datetime
    archived_at: datetime | None = None
    cwd: str = ""
    cli_version: str = ""
    source: SessionSource
    history_mode: str = "legacy"
    thread_source: str | None = None
    originator: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    agent_path: str | None = None
    git_info: GitInfo | None = None
    approval_mode: Any = None
    permission_profile: Any = None
    token_usage: TokenUsage | None = None
    first_user_message: str | None = None
    memory_mode: str | None = None
    history: StoredThreadHistory | None = None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ThreadPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[StoredThread]
    next_cursor: str | None = None


class StoredThreadSearchResult(msgspec.Struct, frozen=True, kw_only=True):
    thread: StoredThread
    snippet: str


class ThreadSearchPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[StoredThreadSearchResult]
    next_cursor: str | None = None


class TurnPage(msgspec.Struct, frozen=True, kw_only=True):
    """Turns as Codex's app-server shows them (`Turn`, typed items; see `protocol/items`).

    `next_cursor` continues in the same direction; `backwards_cursor` pages the other way
    from the first turn of this page (pass it with the opposite direction)."""

    turns: list[Turn]
    next_cursor: str | None = None
    backwards_cursor: str | None = None


class StoredThreadItem(msgspec.Struct, frozen=True, kw_only=True):
    """One typed item of a thread (`item`, as Codex's app-server shows it) with its turn
    and its position: `item_ordinal` is the ordinal of the rollout line that completed it
    in a paginated thread, its rank among the thread's items in a legacy one.
    `item_key` (`turn_id:item_id`) names it uniquely within the thread."""

    turn_id: str
    item_key: str
    item_ordinal: int
    item_created_at_ms: int
    item: ItemField


class ItemPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[StoredThreadItem]
    next_cursor: str | None = None
    backwards_cursor: str | None = None
