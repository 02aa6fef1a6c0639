"""The typed turn view: Codex's app-server v2 `Turn`, `TurnError` and the `ThreadItem` union.

Every struct encodes to exactly the JSON Codex 0.171.0 writes: camelCase keys (with the few
snake_case keys Codex keeps: `text_elements`, `move_path`, `_meta`), keys in Codex's order,
`null` for an absent optional value, and the three keys Codex leaves out when empty
(`mcpAppResourceUri`, `savedPath`, `inputImages`) left out. Enumerations are plain strings,
so a value from a newer Codex decodes instead of failing.

Each item carries the time it started and completed (`started_at_ms`, `completed_at_ms`), the
last two keys of the app-server's answer. They are `UNSET` in an item as Codex stores it in
its projection (`thread_items.item_json`), where the times live in their own columns.

An item type this library does not know is kept as `UnknownThreadItem`, whose JSON is the
original object: a newer Codex's items pass through untouched.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "ITEM_TYPES",
    "ItemField",
    "AgentMessageItem",
    "AudioInput",
    "ByteRange",
    "CollabAgentState",
    "CollabAgentToolCallItem",
    "CommandAction",
    "CommandExecutionItem",
    "ContextCompactionItem",
    "DynamicToolCallItem",
    "EnteredReviewModeItem",
    "ExitedReviewModeItem",
    "FileChangeItem",
    "FileUpdateChange",
    "FindInPageAction",
    "FunctionCallOutputItem",
    "HookPromptFragment",
    "HookPromptItem",
    "ImageGenerationItem",
    "ImageInput",
    "ImageViewItem",
    "KnownThreadItem",
    "ListFilesCommand",
    "LocalAudioInput",
    "LocalImageInput",
    "McpAppContext",
    "McpToolCallError",
    "McpToolCallItem",
    "McpToolCallResult",
    "MemoryCitation",
    "MemoryCitationEntry",
    "MentionInput",
    "OpenPageAction",
    "OtherAction",
    "PatchChangeKind",
    "PlanItem",
    "ReadCommand",
    "ReasoningItem",
    "SearchAction",
    "SearchCommand",
    "SkillInput",
    "SleepItem",
    "SubAgentActivityItem",
    "TextElement",
    "TextInput",
    "ThreadItem",
    "Turn",
    "TurnError",
    "TurnItemsView",
    "TurnStatus",
    "UnknownCommand",
    "UnknownThreadItem",
    "UserInput",
    "UserMessageItem",
    "WebSearchAction",
    "WebSearchItem",
    "encode_hook",
]


class _Wire(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A v2 wire struct: camelCase keys, every field present (None → null)."""


class _Tagged(_Wire, frozen=True, kw_only=True, tag_field="type"):
    """A member of a union tagged by `type`."""


# -- user input -----------------------------------------------------------------------------


class ByteRange(_Wire, frozen=True, kw_only=True):
    start: int
    end: int


class TextElement(_Wire, frozen=True, kw_only=True):
    """A span of a text input that stands for something else (a pasted file, a mention)."""

    byte_range: ByteRange
    placeholder: str | None = None


class TextInput(_Tagged, frozen=True, kw_only=True, tag="text"):
    text: str
    text_elements: list[TextElement] = msgspec.field(default_factory=list, name="text_elements")


class ImageInput(_Tagged, frozen=True, kw_only=True, tag="image"):
    """An image by URL (or by a stored file id, newer Codex)."""

    url: str | UnsetType = UNSET
    file_id: str | UnsetType = UNSET
    detail: str | None = None


class LocalImageInput(_Tagged, frozen=True, kw_only=True, tag="localImage"):
    detail: str | None = None
    path: str


class SkillInput(_Tagged, frozen=True, kw_only=True, tag="skill"):
    name: str
    path: str


class MentionInput(_Tagged, frozen=True, kw_only=True, tag="mention"):
    name: str
    path: str


class AudioInput(_Tagged, frozen=True, kw_only=True, tag="audio"):
    """Audio by URL (or by a stored file id)."""

    url: str | UnsetType = UNSET
    file_id: str | UnsetType = UNSET


class LocalAudioInput(_Tagged, frozen=True, kw_only=True, tag="localAudio"):
    path: str


UserInput = (
    TextInput
    | ImageInput
    | LocalImageInput
    | AudioInput
    | LocalAudioInput
    | SkillInput
    | MentionInput
)


# -- agent messages -------------------------------------------------------------------------


class MemoryCitationEntry(_Wire, frozen=True, kw_only=True):
    path: str
    line_start: int
    line_end: int
    note: str


class MemoryCitation(_Wire, frozen=True, kw_only=True):
    entries: list[MemoryCitationEntry]
    thread_ids: list[str]


# -- commands -------------------------------------------------------------------------------


class ReadCommand(_Tagged, frozen=True, kw_only=True, tag="read"):
    command: str
    name: str
    path: str


class ListFilesCommand(_Tagged, frozen=True, kw_only=True, tag="listFiles"):
    command: str
    path: str | None = None


class SearchCommand(_Tagged, frozen=True, kw_only=True, tag="search"):
    command: str
    query: str | None = None
    path: str | None = None


class UnknownCommand(_Tagged, frozen=True, kw_only=True, tag="unknown"):
    command: str


CommandAction = ReadCommand | ListFilesCommand | SearchCommand | UnknownCommand


# -- file changes ---------------------------------------------------------------------------


class PatchChangeKind(msgspec.Struct, frozen=True, kw_only=True):
    """`add`, `delete` or `update`; only an update may carry `move_path`."""

    type: str
    move_path: str | UnsetType | None = UNSET


class FileUpdateChange(_Wire, frozen=True, kw_only=True):
    path: str
    kind: PatchChangeKind
    diff: str


# -- tool calls -----------------------------------------------------------------------------


class McpAppContext(_Wire, frozen=True, kw_only=True):
    connector_id: str
    link_id: str | None = None
    resource_uri: str | None = None
    app_name: str | None = None
    action_name: str | None = None


class McpToolCallResult(_Wire, frozen=True, kw_only=True):
    content: list[Any]
    structured_content: Any = None
    meta: Any = msgspec.field(default=None, name="_meta")


class McpToolCallError(_Wire, frozen=True, kw_only=True):
    message: str


class CollabAgentState(_Wire, frozen=True, kw_only=True):
    """`status`: pendingInit, running, interrupted, completed, errored, shutdown, notFound."""

    status: str
    message: str | None = None


class HookPromptFragment(_Wire, frozen=True, kw_only=True):
    text: str
    hook_run_id: str


# -- web search -----------------------------------------------------------------------------


class SearchAction(_Tagged, frozen=True, kw_only=True, tag="search"):
    query: str | None = None
    queries: list[str] | None = None


class OpenPageAction(_Tagged, frozen=True, kw_only=True, tag="openPage"):
    url: str | None = None


class FindInPageAction(_Tagged, frozen=True, kw_only=True, tag="findInPage"):
    url: str | None = None
    pattern: str | None = None


class OtherAction(_Tagged, frozen=True, kw_only=True, tag="other"):
    pass


WebSearchAction = SearchAction | OpenPageAction | FindInPageAction | OtherAction


# -- the items ------------------------------------------------------------------------------
#
# Fields are declared in Codex's serialization order; `started_at_ms` / `completed_at_ms`
# close every item, as the app-server appends them.

_Ms = int | None | UnsetType


class UserMessageItem(_Tagged, frozen=True, kw_only=True, tag="userMessage"):
    id: str
    client_id: str | None = None
    content: list[UserInput]
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class HookPromptItem(_Tagged, frozen=True, kw_only=True, tag="hookPrompt"):
    id: str
    fragments: list[HookPromptFragment]
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class AgentMessageItem(_Tagged, frozen=True, kw_only=True, tag="agentMessage"):
    """`phase`: commentary, partial_answer, final_answer (or None)."""

    moderation: Any = None
    id: str
    text: str
    phase: str | None = None
    memory_citation: MemoryCitation | None = None
    delivery: str | None = None
    questions: list[Any] | None = None
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class FunctionCallOutputItem(_Tagged, frozen=True, kw_only=True, tag="functionCallOutput"):
    id: str
    name: str
    namespace: str | None = None
    output: Any
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class PlanItem(_Tagged, frozen=True, kw_only=True, tag="plan"):
    id: str
    text: str
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class ReasoningItem(_Tagged, frozen=True, kw_only=True, tag="reasoning"):
    id: str
    summary: list[str] = msgspec.field(default_factory=list)
    content: list[str] = msgspec.field(default_factory=list)
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class CommandExecutionItem(_Tagged, frozen=True, kw_only=True, tag="commandExecution"):
    """A shell command. `status`: inProgress, completed, failed, declined. `source`: agent,
    userShell, unifiedExecStartup, unifiedExecInteraction. `aggregated_output` is stdout and
    stderr together (None when empty)."""

    id: str
    plugin_id: str | None = None
    script_path: str | None = None
    command: str
    cwd: str
    process_id: str | None = None
    source: str = "agent"
    status: str
    command_actions: list[CommandAction]
    aggregated_output: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class FileChangeItem(_Tagged, frozen=True, kw_only=True, tag="fileChange"):
    """`status`: inProgress, completed, failed, declined."""

    id: str
    changes: list[FileUpdateChange]
    status: str
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class McpToolCallItem(_Tagged, frozen=True, kw_only=True, tag="mcpToolCall"):
    """`status`: inProgress, completed, failed."""

    id: str
    server: str
    environment_id: str | None = None
    tool: str
    status: str
    arguments: Any
    app_context: McpAppContext | None = None
    mcp_app_resource_uri: str | UnsetType = UNSET
    mcp_app_ui: Any = None
    plugin_id: str | None = None
    read_only_hint: bool | None = None
    result: McpToolCallResult | None = None
    error: McpToolCallError | None = None
    duration_ms: int | None = None
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class DynamicToolCallItem(_Tagged, frozen=True, kw_only=True, tag="dynamicToolCall"):
    """`status`: inProgress, completed, failed."""

    id: str
    namespace: str | None = None
    tool: str
    arguments: Any
    status: str
    content_items: list[Any] | None = None
    success: bool | None = None
    duration_ms: int | None = None
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class CollabAgentToolCallItem(_Tagged, frozen=True, kw_only=True, tag="collabAgentToolCall"):
    """A call that spawns or talks to sub-agents. `tool`: spawnAgent, sendInput, resumeAgent,
    wait, closeAgent, sendMessage, followupTask, interruptAgent, listAgents. `status`:
    inProgress, completed, failed, interrupted."""

    id: str
    tool: str
    status: str
    sender_thread_id: str
    receiver_thread_ids: list[str]
    prompt: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None
    agents_states: dict[str, CollabAgentState]
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class SubAgentActivityItem(_Tagged, frozen=True, kw_only=True, tag="subAgentActivity"):
    """`kind`: started, interacted, interrupted, completed."""

    model: str | None = None
    reasoning_effort: str | None = None
    id: str
    kind: str
    agent_thread_id: str
    agent_path: str
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class WebSearchItem(_Tagged, frozen=True, kw_only=True, tag="webSearch"):
    id: str
    query: str
    action: WebSearchAction | None = None
    results: list[Any] | None = None
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class ImageViewItem(_Tagged, frozen=True, kw_only=True, tag="imageView"):
    id: str
    path: str
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class SleepItem(_Tagged, frozen=True, kw_only=True, tag="sleep"):
    id: str
    duration_ms: int
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class ImageGenerationItem(_Tagged, frozen=True, kw_only=True, tag="imageGeneration"):
    """A generated image: inline (`result`) or by stored file id (`file_id`)."""

    id: str
    status: str
    revised_prompt: str | None = None
    file_id: str | UnsetType = UNSET
    result: str | UnsetType = UNSET
    transparent_background: bool | None = None
    failure: Any = None
    saved_path: str | UnsetType = UNSET
    input_images: list[Any] | UnsetType = UNSET
    generation_id: str | None = None
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class EnteredReviewModeItem(_Tagged, frozen=True, kw_only=True, tag="enteredReviewMode"):
    id: str
    review: str
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class ExitedReviewModeItem(_Tagged, frozen=True, kw_only=True, tag="exitedReviewMode"):
    id: str
    review: str
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class ContextCompactionItem(_Tagged, frozen=True, kw_only=True, tag="contextCompaction"):
    id: str
    started_at_ms: _Ms = UNSET
    completed_at_ms: _Ms = UNSET


class UnknownThreadItem:
    """An item of a type this library does not know, kept as its JSON object (`raw`); it
    encodes back to exactly that object."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnknownThreadItem) and other.raw == self.raw

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"UnknownThreadItem({self.type!r}, id={self.id!r})"

    @property
    def id(self) -> str:
        value = self.raw.get("id")
        return value if isinstance(value, str) else ""

    @property
    def type(self) -> str:
        value = self.raw.get("type")
        return value if isinstance(value, str) else ""


KnownThreadItem = (
    UserMessageItem
    | HookPromptItem
    | AgentMessageItem
    | FunctionCallOutputItem
    | PlanItem
    | ReasoningItem
    | CommandExecutionItem
    | FileChangeItem
    | McpToolCallItem
    | DynamicToolCallItem
    | CollabAgentToolCallItem
    | SubAgentActivityItem
    | WebSearchItem
    | ImageViewItem
    | SleepItem
    | ImageGenerationItem
    | EnteredReviewModeItem
    | ExitedReviewModeItem
    | ContextCompactionItem
)
ThreadItem = KnownThreadItem | UnknownThreadItem

if TYPE_CHECKING:
    ItemField = ThreadItem
else:
    # What msgspec sees (schemas, validation): it cannot model a union with a custom class.
    # Unknown items still encode, as their own JSON, through `encode_hook`.
    ItemField = KnownThreadItem

ITEM_TYPES: dict[str, type[Any]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (
        UserMessageItem,
        HookPromptItem,
        AgentMessageItem,
        FunctionCallOutputItem,
        PlanItem,
        ReasoningItem,
        CommandExecutionItem,
        FileChangeItem,
        McpToolCallItem,
        DynamicToolCallItem,
        CollabAgentToolCallItem,
        SubAgentActivityItem,
        WebSearchItem,
        ImageViewItem,
        SleepItem,
        ImageGenerationItem,
        EnteredReviewModeItem,
        ExitedReviewModeItem,
        ContextCompactionItem,
    )
}
"""v2 item `type` → its struct."""


# -- turns ----------------------------------------------------------------------------------


class TurnStatus(enum.StrEnum):
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    IN_PROGRESS = "inProgress"


class TurnItemsView(enum.StrEnum):
    """How much of each turn's items a listing returns."""

    NOT_LOADED = "notLoaded"
    SUMMARY = "summary"
    FULL = "full"


class TurnError(_Wire, frozen=True, kw_only=True):
    """Why a turn failed. `codex_error_info` is Codex's machine-readable kind (a string such
    as `"usageLimitExceeded"` or an object such as `{"httpConnectionFailed": {...}}`);
    `additional_details` is free text, kept apart from it."""

    message: str
    codex_error_info: Any = None
    additional_details: str | None = None
    misalignment: Any = None


class Turn(_Wire, frozen=True, kw_only=True):
    """One turn as Codex's app-server shows it. Times: `started_at` and `completed_at` in
    Unix seconds, `duration_ms` in milliseconds."""

    id: str
    root_turn_id: str | None = None
    items: list[ItemField] = msgspec.field(default_factory=list)
    items_view: TurnItemsView = TurnItemsView.FULL
    status: TurnStatus
    error: TurnError | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None


def encode_hook(obj: Any) -> Any:
    """msgspec `enc_hook` for the classes here that are not structs."""
    if isinstance(obj, UnknownThreadItem):
        return obj.raw
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")
