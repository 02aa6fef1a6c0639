"""Core turn items (as rollouts store them) to v2 `ThreadItem`s, as Codex 0.171.0 converts them.

A paginated rollout records each finished item as an `event_msg` `item_completed` whose
`item` is Codex's core `TurnItem` (`{"type": "CommandExecution", "command": [...],
"cwd": "file:///...", "parsed_cmd": [...], "duration": {"secs": 0, "nanos": ...}}`). Codex
converts it into the v2 item its app-server shows and its projection stores; so do we, rule
for rule: the command array joined as a shell would quote it and scrubbed of secrets
(`shell.py`), `file://` URIs turned into paths, durations truncated to milliseconds, file
changes sorted by path, review output rendered as text.

An item Codex's decoder would reject (a missing required field, an unknown enum value)
raises `ItemShapeError` (`fields.py`): Codex skips such a line, and so do our readers. An
item *type* this library does not know becomes `UnknownThreadItem` (a newer Codex wrote it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from urllib.parse import unquote, urlparse

from msgspec import UNSET

from .fields import (
    AGENT_STATUSES,
    COLLAB_STATUSES,
    COLLAB_TOOLS,
    DYNAMIC_STATUSES,
    EXEC_SOURCES,
    EXEC_STATUSES,
    MCP_STATUSES,
    MESSAGE_PHASES,
    PATCH_STATUSES,
    SUB_AGENT_KINDS,
    ItemShapeError,
    enum,
    need,
    need_list,
    need_str,
    opt_bool,
    opt_int,
    opt_str,
    str_list,
)
from .model import (
    AgentMessageItem,
    AudioInput,
    CollabAgentState,
    CollabAgentToolCallItem,
    CommandAction,
    CommandExecutionItem,
    ContextCompactionItem,
    DynamicToolCallItem,
    EnteredReviewModeItem,
    ExitedReviewModeItem,
    FileChangeItem,
    FileUpdateChange,
    FindInPageAction,
    FunctionCallOutputItem,
    HookPromptFragment,
    HookPromptItem,
    ImageGenerationItem,
    ImageInput,
    ImageViewItem,
    ListFilesCommand,
    LocalAudioInput,
    LocalImageInput,
    McpAppContext,
    McpToolCallError,
    McpToolCallItem,
    McpToolCallResult,
    MemoryCitation,
    MemoryCitationEntry,
    MentionInput,
    OpenPageAction,
    OtherAction,
    PatchChangeKind,
    PlanItem,
    ReadCommand,
    ReasoningItem,
    SearchAction,
    SearchCommand,
    SkillInput,
    SleepItem,
    SubAgentActivityItem,
    TextElement,
    TextInput,
    ThreadItem,
    UnknownCommand,
    UnknownThreadItem,
    UserInput,
    UserMessageItem,
    WebSearchAction,
    WebSearchItem,
)
from .model import ByteRange as _ByteRange
from .shell import redact_secrets, shlex_join

__all__ = [
    "REVIEW_FALLBACK",
    "duration_ms",
    "file_changes",
    "image_generation_failure",
    "path_of_uri",
    "review_text",
    "thread_item_from_core",
    "user_inputs",
    "web_search_action",
]

REVIEW_FALLBACK: Final = "Reviewer failed to output a response."


# -- small shared conversions -----------------------------------------------------------------


def path_of_uri(value: str) -> str:
    """A `file://` URI as the plain path Codex shows (percent-decoded); other text as is."""
    if value.startswith("file://"):
        return unquote(urlparse(value).path)
    return value


def _join(cwd: str, path: str) -> str:
    if path.startswith("/"):
        return path
    return "/" + path if cwd == "/" else cwd.rstrip("/") + "/" + path


def duration_ms(value: Any) -> int | None:
    """A serde `Duration` (`{"secs", "nanos"}`) in whole milliseconds, truncated."""
    if value is None:
        return None
    secs, nanos = need(value, "secs"), need(value, "nanos")
    if not isinstance(secs, int) or not isinstance(nanos, int):
        raise ItemShapeError("a duration has integer `secs` and `nanos`")
    return (secs * 1_000_000_000 + nanos) // 1_000_000


def user_inputs(content: list[Any]) -> list[UserInput]:
    """Core user inputs (snake_case) as v2 ones."""
    return [_user_input(part) for part in content]


def _user_input(part: Any) -> UserInput:
    kind = need_str(part, "type")
    if kind == "text":
        elements = []
        for element in part.get("text_elements") or []:
            span = need(element, "byte_range")
            elements.append(
                TextElement(
                    byte_range=_ByteRange(start=need(span, "start"), end=need(span, "end")),
                    placeholder=opt_str(element, "placeholder"),
                )
            )
        return TextInput(text=need_str(part, "text"), text_elements=elements)
    if kind == "image":
        if "file_id" in part:
            return ImageInput(file_id=need_str(part, "file_id"), detail=opt_str(part, "detail"))
        return ImageInput(url=need_str(part, "image_url"), detail=opt_str(part, "detail"))
    if kind == "local_image":
        return LocalImageInput(detail=opt_str(part, "detail"), path=need_str(part, "path"))
    if kind == "audio":
        if "file_id" in part:
            return AudioInput(file_id=need_str(part, "file_id"))
        return AudioInput(url=need_str(part, "audio_url"))
    if kind == "local_audio":
        return LocalAudioInput(path=need_str(part, "path"))
    if kind == "skill":
        return SkillInput(name=need_str(part, "name"), path=need_str(part, "path"))
    if kind == "mention":
        return MentionInput(name=need_str(part, "name"), path=need_str(part, "path"))
    raise ItemShapeError(f"unknown user input type {kind!r}")


def web_search_action(action: Any) -> WebSearchAction:
    kind = need_str(action, "type")
    if kind == "search":
        queries = action.get("queries")
        return SearchAction(
            query=opt_str(action, "query"),
            queries=None if queries is None else str_list(queries, "queries"),
        )
    if kind in ("open_page", "openPage"):
        return OpenPageAction(url=opt_str(action, "url"))
    if kind in ("find_in_page", "findInPage"):
        return FindInPageAction(url=opt_str(action, "url"), pattern=opt_str(action, "pattern"))
    if kind == "other":
        return OtherAction()
    raise ItemShapeError(f"unknown web search action {kind!r}")


def memory_citation(value: Any) -> MemoryCitation | None:
    if value is None:
        return None
    entries = [
        MemoryCitationEntry(
            path=need_str(e, "path"),
            line_start=need(e, "lineStart"),
            line_end=need(e, "lineEnd"),
            note=need_str(e, "note"),
        )
        for e in need_list(value, "entries")
    ]
    return MemoryCitation(
        entries=entries, thread_ids=str_list(need(value, "rolloutIds"), "rolloutIds")
    )


def file_changes(changes: Any) -> list[FileUpdateChange]:
    """Core `{path: change}` as v2 changes, sorted by path (byte order), as Codex lists them."""
    if not isinstance(changes, dict):
        raise ItemShapeError("`changes` must be an object")
    out = []
    for path in sorted(changes, key=lambda p: p.encode()):
        change = changes[path]
        kind = need_str(change, "type")
        if kind in ("add", "delete"):
            out.append(
                FileUpdateChange(
                    path=path, kind=PatchChangeKind(type=kind), diff=need_str(change, "content")
                )
            )
        elif kind == "update":
            move = opt_str(change, "move_path")
            diff = need_str(change, "unified_diff")
            if move is not None:
                diff = f"{diff}\n\nMoved to: {move}"
            out.append(
                FileUpdateChange(
                    path=path, kind=PatchChangeKind(type="update", move_path=move), diff=diff
                )
            )
        else:
            raise ItemShapeError(f"unknown file change type {kind!r}")
    return out


def review_text(output: Any) -> str:
    """A review's result as Codex renders it: the explanation, then the findings."""
    if not isinstance(output, dict):
        return REVIEW_FALLBACK
    sections = []
    explanation = output.get("overall_explanation")
    if isinstance(explanation, str) and explanation.strip():
        sections.append(explanation.strip())
    findings = output.get("findings") or []
    if isinstance(findings, list) and findings:
        lines = ["Full review comments:" if len(findings) > 1 else "Review comment:"]
        for finding in findings:
            location = need(finding, "code_location")
            span = need(location, "line_range")
            lines.append("")
            lines.append(
                f"- {need_str(finding, 'title')} — {need_str(location, 'absolute_file_path')}"
                f":{need(span, 'start')}-{need(span, 'end')}"
            )
            lines.extend(f"  {line}" for line in need_str(finding, "body").splitlines())
        block = "\n".join(lines).strip()
        if block:
            sections.append(block)
    return "\n\n".join(sections) if sections else REVIEW_FALLBACK


def _command_action(parsed: Any, cwd: str) -> CommandAction:
    kind = need_str(parsed, "type")
    command = redact_secrets(need_str(parsed, "cmd"))
    if kind == "read":
        return ReadCommand(
            command=command,
            name=need_str(parsed, "name"),
            path=_join(cwd, need_str(parsed, "path")),
        )
    if kind == "list_files":
        return ListFilesCommand(command=command, path=opt_str(parsed, "path"))
    if kind == "search":
        query = opt_str(parsed, "query")
        return SearchCommand(
            command=command,
            query=None if query is None else redact_secrets(query),
            path=opt_str(parsed, "path"),
        )
    if kind == "unknown":
        return UnknownCommand(command=command)
    raise ItemShapeError(f"unknown parsed command type {kind!r}")


def _agent_state(value: Any) -> CollabAgentState:
    if isinstance(value, str):
        return CollabAgentState(status=enum(value, AGENT_STATUSES, "agents_states"))
    if isinstance(value, dict) and len(value) == 1:
        ((kind, message),) = value.items()
        if kind in ("completed", "errored") and (message is None or isinstance(message, str)):
            return CollabAgentState(status=kind, message=message)
    raise ItemShapeError("unknown agent status")


def image_generation_failure(value: Any) -> Any:
    """An image generation's `failure`, checked as Codex checks it (one known kind)."""
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or value.get("type") != "usageLimitExceeded"
        or not isinstance(value.get("limitId"), str)
    ):
        raise ItemShapeError("unknown image generation failure")
    return value


def _image_generation(item: dict[str, Any]) -> ThreadItem:
    def pick(*keys: str) -> Any:
        for key in keys:
            if item.get(key) is not None:
                return item[key]
        return None

    file_id = pick("file_id", "fileId")
    saved = pick("saved_path", "savedPath")
    inputs = pick("input_images", "inputImages")
    return ImageGenerationItem(
        id=need_str(item, "id"),
        status=need_str(item, "status"),
        revised_prompt=pick("revised_prompt", "revisedPrompt"),
        file_id=file_id if file_id is not None else UNSET,
        result=UNSET if file_id is not None else need_str(item, "result"),
        transparent_background=pick("transparent_background", "transparentBackground"),
        failure=image_generation_failure(pick("failure")),
        saved_path=saved if saved is not None else UNSET,
        input_images=inputs if inputs else UNSET,
        generation_id=pick("generation_id", "generationId"),
    )


# -- the conversion -----------------------------------------------------------------------------


def _user_message(item: dict[str, Any]) -> ThreadItem:
    return UserMessageItem(
        id=need_str(item, "id"),
        client_id=opt_str(item, "client_id"),
        content=user_inputs(need_list(item, "content")),
    )


def _hook_prompt(item: dict[str, Any]) -> ThreadItem:
    return HookPromptItem(
        id=need_str(item, "id"),
        fragments=[
            HookPromptFragment(text=need_str(f, "text"), hook_run_id=need_str(f, "hookRunId"))
            for f in need_list(item, "fragments")
        ],
    )


def _agent_message(item: dict[str, Any]) -> ThreadItem:
    texts = []
    for part in need_list(item, "content"):
        if need_str(part, "type") == "Text":
            texts.append(need_str(part, "text"))
    phase = item.get("phase")
    delivery = opt_str(item, "delivery")
    return AgentMessageItem(
        moderation=item.get("moderation"),
        id=need_str(item, "id"),
        text="".join(texts),
        phase=None if phase is None else enum(phase, MESSAGE_PHASES, "phase"),
        memory_citation=memory_citation(item.get("memory_citation")),
        delivery=delivery,
        questions=item.get("questions"),
    )


def _function_call_output(item: dict[str, Any]) -> ThreadItem:
    return FunctionCallOutputItem(
        id=need_str(item, "id"),
        name=need_str(item, "name"),
        namespace=opt_str(item, "namespace"),
        output=need(item, "output"),
    )


def _plan(item: dict[str, Any]) -> ThreadItem:
    return PlanItem(id=need_str(item, "id"), text=need_str(item, "text"))


def _reasoning(item: dict[str, Any]) -> ThreadItem:
    raw = item.get("raw_content")
    return ReasoningItem(
        id=need_str(item, "id"),
        summary=str_list(need(item, "summary_text"), "summary_text"),
        content=[] if raw is None else str_list(raw, "raw_content"),
    )


def _command_execution(item: dict[str, Any]) -> ThreadItem:
    cwd_uri = need_str(item, "cwd")
    cwd = path_of_uri(cwd_uri)
    output = opt_str(item, "aggregated_output")
    return CommandExecutionItem(
        id=need_str(item, "id"),
        plugin_id=opt_str(item, "plugin_id"),
        script_path=opt_str(item, "script_path"),
        command=redact_secrets(shlex_join(str_list(need(item, "command"), "command"))),
        cwd=cwd,
        process_id=opt_str(item, "process_id"),
        source=enum(need(item, "source"), EXEC_SOURCES, "source"),
        status=enum(need(item, "status"), EXEC_STATUSES, "status"),
        command_actions=[_command_action(p, cwd) for p in need_list(item, "parsed_cmd")],
        aggregated_output=output or None,
        exit_code=opt_int(item, "exit_code"),
        duration_ms=duration_ms(item.get("duration")),
    )


def _file_change(item: dict[str, Any]) -> ThreadItem:
    status = item.get("status")
    return FileChangeItem(
        id=need_str(item, "id"),
        changes=file_changes(need(item, "changes")),
        status="inProgress" if status is None else enum(status, PATCH_STATUSES, "status"),
    )


def _mcp_tool_call(item: dict[str, Any]) -> ThreadItem:
    if "arguments" not in item:
        raise ItemShapeError("missing field `arguments`")
    connector = opt_str(item, "connectorId")
    resource = opt_str(item, "mcpAppResourceUri")
    result = item.get("result")
    error = item.get("error")
    return McpToolCallItem(
        id=need_str(item, "id"),
        server=need_str(item, "server"),
        environment_id=opt_str(item, "environmentId"),
        tool=need_str(item, "tool"),
        status=enum(need(item, "status"), MCP_STATUSES, "status"),
        arguments=item["arguments"],
        app_context=None
        if connector is None
        else McpAppContext(
            connector_id=connector,
            link_id=opt_str(item, "linkId"),
            resource_uri=resource,
            app_name=opt_str(item, "appName"),
            action_name=opt_str(item, "actionName"),
        ),
        mcp_app_resource_uri=UNSET if resource is None else resource,
        mcp_app_ui=item.get("mcpAppUi"),
        plugin_id=opt_str(item, "pluginId"),
        read_only_hint=opt_bool(item, "readOnlyHint"),
        result=None
        if result is None
        else McpToolCallResult(
            content=need_list(result, "content"),
            structured_content=result.get("structuredContent"),
            meta=result.get("_meta"),
        ),
        error=None if error is None else McpToolCallError(message=need_str(error, "message")),
        duration_ms=duration_ms(item.get("duration")),
    )


def _dynamic_tool_call(item: dict[str, Any]) -> ThreadItem:
    if "arguments" not in item:
        raise ItemShapeError("missing field `arguments`")
    return DynamicToolCallItem(
        id=need_str(item, "id"),
        namespace=opt_str(item, "namespace"),
        tool=need_str(item, "tool"),
        arguments=item["arguments"],
        status=enum(need(item, "status"), DYNAMIC_STATUSES, "status"),
        content_items=item.get("content_items"),
        success=opt_bool(item, "success"),
        duration_ms=duration_ms(item.get("duration")),
    )


def _collab_agent_tool_call(item: dict[str, Any]) -> ThreadItem:
    states = item.get("agents_states") or {}
    if not isinstance(states, dict):
        raise ItemShapeError("`agents_states` must be an object")
    receivers = item.get("receiver_thread_ids")
    return CollabAgentToolCallItem(
        id=need_str(item, "id"),
        tool=enum(need(item, "tool"), COLLAB_TOOLS, "tool"),
        status=enum(need(item, "status"), COLLAB_STATUSES, "status"),
        sender_thread_id=need_str(item, "sender_thread_id"),
        receiver_thread_ids=[] if receivers is None else str_list(receivers, "receiver_thread_ids"),
        prompt=opt_str(item, "prompt"),
        model=opt_str(item, "model"),
        reasoning_effort=opt_str(item, "reasoning_effort"),
        agents_states={k: _agent_state(v) for k, v in states.items()},
    )


def _sub_agent_activity(item: dict[str, Any]) -> ThreadItem:
    return SubAgentActivityItem(
        model=opt_str(item, "model"),
        reasoning_effort=opt_str(item, "reasoning_effort"),
        id=need_str(item, "id"),
        kind=enum(need(item, "kind"), SUB_AGENT_KINDS, "kind"),
        agent_thread_id=need_str(item, "agent_thread_id"),
        agent_path=need_str(item, "agent_path"),
    )


def _web_search(item: dict[str, Any]) -> ThreadItem:
    return WebSearchItem(
        id=need_str(item, "id"),
        query=need_str(item, "query"),
        action=web_search_action(need(item, "action")),
        results=item.get("results"),
    )


def _image_view(item: dict[str, Any]) -> ThreadItem:
    return ImageViewItem(id=need_str(item, "id"), path=path_of_uri(need_str(item, "path")))


def _extension(item: dict[str, Any]) -> ThreadItem:
    kind = need_str(item, "kind")
    if kind == "clock.sleep":
        duration = need(item, "durationMs")
        if not isinstance(duration, int):
            raise ItemShapeError("`durationMs` must be an integer")
        return SleepItem(id=need_str(item, "id"), duration_ms=duration)
    if kind == "web.search":
        action = item.get("action")
        return WebSearchItem(
            id=need_str(item, "id"),
            query=need_str(item, "query"),
            action=None if action is None else web_search_action(action),
            results=item.get("results"),
        )
    if kind == "image_gen.generation":
        return _image_generation(item)
    raise ItemShapeError(f"unknown extension kind {kind!r}")


def _entered_review(item: dict[str, Any]) -> ThreadItem:
    need(item, "target")
    return EnteredReviewModeItem(id=need_str(item, "id"), review=need_str(item, "user_facing_hint"))


def _exited_review(item: dict[str, Any]) -> ThreadItem:
    return ExitedReviewModeItem(
        id=need_str(item, "id"), review=review_text(item.get("review_output"))
    )


_CONVERTERS: Final[dict[str, Callable[[dict[str, Any]], ThreadItem]]] = {
    "UserMessage": _user_message,
    "HookPrompt": _hook_prompt,
    "AgentMessage": _agent_message,
    "FunctionCallOutput": _function_call_output,
    "Plan": _plan,
    "Reasoning": _reasoning,
    "CommandExecution": _command_execution,
    "FileChange": _file_change,
    "McpToolCall": _mcp_tool_call,
    "DynamicToolCall": _dynamic_tool_call,
    "CollabAgentToolCall": _collab_agent_tool_call,
    "SubAgentActivity": _sub_agent_activity,
    "WebSearch": _web_search,
    "ImageView": _image_view,
    "ImageGeneration": _image_generation,
    "Extension": _extension,
    "ContextCompaction": lambda item: ContextCompactionItem(id=need_str(item, "id")),
    "EnteredReviewMode": _entered_review,
    "ExitedReviewMode": _exited_review,
}


def thread_item_from_core(item: Any) -> ThreadItem:
    """The v2 item for a core `TurnItem` (an `item_completed` payload's `item`).

    Raises:
        ItemShapeError: Codex would reject this item (its line is skipped).
    """
    kind = need_str(item, "type")
    convert = _CONVERTERS.get(kind)
    if convert is None:
        # A newer writer's item type: keep it whole rather than lose it.
        need_str(item, "id")
        return UnknownThreadItem(dict(item))
    return convert(item)
