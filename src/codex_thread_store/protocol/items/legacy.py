"""Turns of a legacy thread, as Codex 0.171.0's app-server rebuilds them by replaying events.

A legacy rollout (no ordinals) has no projection: the app-server keeps only the lines its
read policy keeps (`kept_for_replay`) and runs a reducer over them (`LegacyTurnBuilder`).
Its rules, all visible in what Codex shows:

- a `task_started` opens an explicit turn with its id; a user message outside one opens an
  implicit turn named `rollout-N` (N: the position of the opening line among kept lines);
- message, reasoning, compaction and review items are numbered `item-1`, `item-2`, ... over
  the whole thread; tool items take their call id, and one with an id already in the turn
  replaces it in place;
- a completion closes its turn (failed when it carries an error), an abort interrupts it, a
  rollback drops the last N turns; a turn still open at the end reads as interrupted.

Commands, errors and collab events are not kept for legacy reads, so a legacy thread shows
no command items: that is what Codex shows, and this view matches it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from ...ids import new_thread_id
from ..rollout import RolloutItem
from ..rollout_kinds import ALWAYS_PERSISTED_KINDS, PERSISTED_EVENTS, PERSISTED_RESPONSE_ITEMS
from .conversion import (
    REVIEW_FALLBACK,
    duration_ms,
    file_changes,
    image_generation_failure,
    web_search_action,
)
from .conversion import memory_citation as _memory_citation
from .errors import turn_error
from .fields import ItemShapeError, need, need_list, need_str, opt_int, opt_str, str_list
from .model import (
    AgentMessageItem,
    ContextCompactionItem,
    EnteredReviewModeItem,
    ExitedReviewModeItem,
    FileChangeItem,
    HookPromptFragment,
    HookPromptItem,
    ImageGenerationItem,
    ImageInput,
    LocalImageInput,
    McpToolCallError,
    McpToolCallItem,
    McpToolCallResult,
    PlanItem,
    ReasoningItem,
    SubAgentActivityItem,
    TextElement,
    TextInput,
    ThreadItem,
    Turn,
    TurnError,
    TurnItemsView,
    TurnStatus,
    UserInput,
    UserMessageItem,
    WebSearchItem,
)
from .model import ByteRange as _ByteRange

__all__ = ["LegacyTurnBuilder", "kept_for_replay", "legacy_turns"]

REVIEW_REQUESTED: Final = "Review requested."

# Codex's legacy replay keeps what its persistence policy keeps, less what carries no
# turn content for it: the tools a turn offered, a rename, a command's end event.
_KEPT_RESPONSE_ITEMS: Final = PERSISTED_RESPONSE_ITEMS - {"additional_tools"}
_KEPT_EVENTS: Final = PERSISTED_EVENTS - {"thread_name_updated", "exec_command_end"}


def kept_for_replay(item: RolloutItem) -> bool:
    """Whether Codex's legacy read path keeps this item (and counts it for `rollout-N`)."""
    kind = item.type
    if kind in ALWAYS_PERSISTED_KINDS:
        return isinstance(item.payload, dict)
    payload = item.payload
    if not isinstance(payload, dict):
        return False
    tag = payload.get("type")
    if kind == "response_item":
        return tag in _KEPT_RESPONSE_ITEMS
    if kind != "event_msg":
        return False
    if tag == "item_completed":
        inner = payload.get("item")
        return isinstance(inner, dict) and inner.get("type") == "Plan"
    return tag in _KEPT_EVENTS


@dataclass(slots=True)
class _PendingTurn:
    id: str
    status: str = "completed"
    items: list[ThreadItem] = field(default_factory=list)
    error: TurnError | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    root_turn_id: str | None = None
    opened_explicitly: bool = False
    saw_compaction: bool = False


def _upsert(items: list[ThreadItem], item: ThreadItem) -> None:
    for index, existing in enumerate(items):
        if existing.id == item.id:
            items[index] = item
            return
    items.append(item)


_HOOK_PROMPT: Final = re.compile(r"\s*(<hook_prompt\b.*</hook_prompt>)\s*", re.DOTALL)


def _hook_fragment(text: str) -> HookPromptFragment | None:
    match = _HOOK_PROMPT.fullmatch(text)
    if match is None:
        return None
    try:
        element = ElementTree.fromstring(match.group(1))
    except ElementTree.ParseError:
        return None
    run_id = element.get("hook_run_id")
    if element.tag != "hook_prompt" or not run_id or not run_id.strip() or len(element):
        return None
    return HookPromptFragment(text=element.text or "", hook_run_id=run_id)


class LegacyTurnBuilder:
    """Codex's history reducer for legacy threads. Feed it kept items in order, then
    `finish()`; an item whose payload Codex cannot decode is ignored and not counted."""

    def __init__(self) -> None:
        self.turns: list[_PendingTurn] = []
        self.current: _PendingTurn | None = None
        self._next_item = 1
        self._index = -1

    # -- helpers --------------------------------------------------------------------------
    def _item_id(self) -> str:
        item_id = f"item-{self._next_item}"
        self._next_item += 1
        return item_id

    def _new_turn(self, turn_id: str | None = None) -> _PendingTurn:
        return _PendingTurn(id=turn_id if turn_id is not None else f"rollout-{self._index}")

    def _ensure_turn(self) -> _PendingTurn:
        if self.current is None:
            self.current = self._new_turn()
        return self.current

    def _finish_current(self) -> None:
        turn, self.current = self.current, None
        if turn is not None and (turn.items or turn.opened_explicitly or turn.saw_compaction):
            self.turns.append(turn)

    def _finished(self, turn_id: str) -> _PendingTurn | None:
        return next((t for t in self.turns if t.id == turn_id), None)

    def _upsert_current(self, item: ThreadItem) -> None:
        _upsert(self._ensure_turn().items, item)

    def _upsert_in_turn(self, turn_id: str, item: ThreadItem) -> None:
        if self.current is not None and self.current.id == turn_id:
            _upsert(self.current.items, item)
            return
        finished = self._finished(turn_id)
        if finished is not None:
            _upsert(finished.items, item)
        # An item for a turn no one knows is dropped, as Codex drops it.

    # -- feeding ----------------------------------------------------------------------------
    def add(self, item: RolloutItem) -> None:
        """Handle one kept item (see `kept_for_replay`)."""
        self._index += 1
        try:
            self._handle(item)
        except (ItemShapeError, TypeError, ValueError, KeyError, AttributeError):
            self._index -= 1  # Codex could not decode it: it never counted

    def _handle(self, item: RolloutItem) -> None:
        payload = item.payload
        if item.type == "compacted":
            need_str(payload, "message")
            self._ensure_turn().saw_compaction = True
        elif item.type == "response_item":
            self._response_item(payload)
        elif item.type == "event_msg":
            handler = _EVENTS.get(payload.get("type"))
            if handler is not None:
                handler(self, payload)

    def _response_item(self, payload: dict[str, Any]) -> None:
        if payload.get("type") != "message" or payload.get("role") != "user":
            return
        content = payload.get("content")
        if not isinstance(content, list) or not content:
            return
        fragments = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "input_text":
                return
            text = part.get("text")
            fragment = _hook_fragment(text) if isinstance(text, str) else None
            if fragment is None:
                return
            fragments.append(fragment)
        message_id = payload.get("id")
        if not isinstance(message_id, str):
            message_id = new_thread_id()  # Codex mints a fresh UUIDv7 here too
        self._ensure_turn().items.append(HookPromptItem(id=message_id, fragments=fragments))

    # -- events -----------------------------------------------------------------------------
    def _task_started(self, payload: dict[str, Any]) -> None:
        turn_id = need_str(payload, "turn_id")
        started_at = opt_int(payload, "started_at")
        root = opt_str(payload, "root_turn_id")
        self._finish_current()
        turn = self._new_turn(turn_id)
        turn.status = "inProgress"
        turn.started_at = started_at
        turn.root_turn_id = root
        turn.opened_explicitly = True
        self.current = turn

    def _user_message(self, payload: dict[str, Any]) -> None:
        content = _user_inputs(payload)
        client_id = opt_str(payload, "client_id")
        current = self.current
        if (
            current is not None
            and not current.opened_explicitly
            and not (current.saw_compaction and not current.items)
        ):
            self._finish_current()
        turn = self.current or self._new_turn()
        turn.items.append(UserMessageItem(id=self._item_id(), client_id=client_id, content=content))
        self.current = turn

    def _agent_message(self, payload: dict[str, Any]) -> None:
        text = need_str(payload, "message")
        phase = opt_str(payload, "phase")
        citation = _memory_citation(payload.get("memory_citation"))
        if payload.get("moderation") is not None:
            raise ItemShapeError("moderated agent messages are not replayed by Codex 0.171")
        if not text:
            return
        self._ensure_turn().items.append(
            AgentMessageItem(
                id=self._item_id(),
                text=text,
                phase=phase,
                memory_citation=citation,
                delivery=opt_str(payload, "delivery"),
                questions=payload.get("questions"),
            )
        )

    def _reasoning(self, payload: dict[str, Any], *, raw: bool) -> None:
        text = need_str(payload, "text")
        if not text:
            return
        turn = self._ensure_turn()
        last = turn.items[-1] if turn.items else None
        if isinstance(last, ReasoningItem):
            if raw:
                turn.items[-1] = ReasoningItem(
                    id=last.id, summary=last.summary, content=[*last.content, text]
                )
            else:
                turn.items[-1] = ReasoningItem(
                    id=last.id, summary=[*last.summary, text], content=last.content
                )
            return
        turn.items.append(
            ReasoningItem(
                id=self._item_id(), summary=[] if raw else [text], content=[text] if raw else []
            )
        )

    def _mark_complete(self, turn: _PendingTurn, payload: dict[str, Any], error: Any) -> None:
        if error is not None:
            turn.status = "failed"
            turn.error = turn_error(error)
        elif turn.status in ("completed", "inProgress"):
            turn.status = "completed"
        turn.completed_at = opt_int(payload, "completed_at")
        turn.duration_ms = opt_int(payload, "duration_ms")

    def _task_complete(self, payload: dict[str, Any]) -> None:
        turn_id = opt_str(payload, "turn_id")
        error = payload.get("error")
        if error is not None:
            turn_error(error)  # an undecodable error drops the line
        opt_int(payload, "completed_at")
        opt_int(payload, "duration_ms")
        if self.current is not None and self.current.id == turn_id:
            self._mark_complete(self.current, payload, error)
            self._finish_current()
            return
        finished = self._finished(turn_id) if turn_id is not None else None
        if finished is not None:
            self._mark_complete(finished, payload, error)
            return
        if self.current is not None:
            self._mark_complete(self.current, payload, error)
            self._finish_current()

    def _turn_aborted(self, payload: dict[str, Any]) -> None:
        turn_id = opt_str(payload, "turn_id")
        completed_at = opt_int(payload, "completed_at")
        duration = opt_int(payload, "duration_ms")

        def abort(turn: _PendingTurn) -> None:
            turn.status = "interrupted"
            turn.completed_at = completed_at
            turn.duration_ms = duration

        if turn_id is not None:
            if self.current is not None and self.current.id == turn_id:
                abort(self.current)
                self._finish_current()
                return
            finished = self._finished(turn_id)
            if finished is not None:
                abort(finished)
                return
            if self.current is not None and self.current.opened_explicitly:
                return  # aimed at another turn: ignored
        if self.current is not None:
            abort(self.current)
            self._finish_current()

    def _rolled_back(self, payload: dict[str, Any]) -> None:
        count = need(payload, "num_turns")
        if not isinstance(count, int) or count < 0:
            raise ItemShapeError("`num_turns` must be a non-negative integer")
        self._finish_current()
        self.turns = [] if count >= len(self.turns) else self.turns[: len(self.turns) - count]
        self._next_item = sum(len(t.items) for t in self.turns) + 1

    def _context_compacted(self, payload: dict[str, Any]) -> None:
        self._ensure_turn().items.append(ContextCompactionItem(id=self._item_id()))

    def _entered_review(self, payload: dict[str, Any]) -> None:
        hint = payload.get("user_facing_hint")
        review = hint if isinstance(hint, str) else REVIEW_REQUESTED
        self._ensure_turn().items.append(EnteredReviewModeItem(id=self._item_id(), review=review))

    def _exited_review(self, payload: dict[str, Any]) -> None:
        output = payload.get("review_output")
        explanation = output.get("overall_explanation") if isinstance(output, dict) else None
        review = (
            explanation.strip()
            if isinstance(explanation, str) and explanation.strip()
            else REVIEW_FALLBACK
        )
        self._ensure_turn().items.append(ExitedReviewModeItem(id=self._item_id(), review=review))

    def _item_completed(self, payload: dict[str, Any]) -> None:
        inner = need(payload, "item")
        text = need_str(inner, "text")
        plan = PlanItem(
            id=need_str(inner, "id"),
            text=text,
            started_at_ms=opt_int(payload, "started_at_ms"),
            completed_at_ms=opt_int(payload, "completed_at_ms"),
        )
        turn_id = need_str(payload, "turn_id")
        if text:
            self._upsert_in_turn(turn_id, plan)

    def _web_search_end(self, payload: dict[str, Any]) -> None:
        self._upsert_current(
            WebSearchItem(
                id=need_str(payload, "call_id"),
                query=need_str(payload, "query"),
                action=web_search_action(need(payload, "action")),
                results=None,
            )
        )

    def _patch_apply_end(self, payload: dict[str, Any]) -> None:
        status = need_str(payload, "status")
        if status not in ("completed", "failed", "declined"):
            raise ItemShapeError(f"unknown patch status {status!r}")
        item = FileChangeItem(
            id=need_str(payload, "call_id"),
            changes=file_changes(payload.get("changes") or {}),
            status=status,
        )
        turn_id = opt_str(payload, "turn_id") or ""
        if turn_id:
            self._upsert_in_turn(turn_id, item)
        else:
            self._upsert_current(item)

    def _mcp_tool_call_end(self, payload: dict[str, Any]) -> None:
        invocation = need(payload, "invocation")
        outcome = need(payload, "result")
        result: McpToolCallResult | None = None
        error: McpToolCallError | None = None
        if isinstance(outcome, dict) and "Ok" in outcome:
            ok = outcome["Ok"]
            result = McpToolCallResult(
                content=need_list(ok, "content"),
                structured_content=ok.get("structuredContent"),
                meta=ok.get("_meta"),
            )
            status = "failed" if ok.get("isError") is True else "completed"
        elif isinstance(outcome, dict) and "Err" in outcome:
            error = McpToolCallError(message=str(outcome["Err"]))
            status = "failed"
        else:
            raise ItemShapeError("`result` must be {Ok: ...} or {Err: ...}")
        resource = opt_str(payload, "mcp_app_resource_uri")
        kwargs: dict[str, Any] = {} if resource is None else {"mcp_app_resource_uri": resource}
        self._upsert_current(
            McpToolCallItem(
                id=need_str(payload, "call_id"),
                server=need_str(invocation, "server"),
                tool=need_str(invocation, "tool"),
                status=status,
                arguments=invocation.get("arguments"),
                plugin_id=opt_str(payload, "plugin_id"),
                result=result,
                error=error,
                duration_ms=duration_ms(need(payload, "duration")),
                **kwargs,
            )
        )

    def _image_generation_end(self, payload: dict[str, Any]) -> None:
        saved = opt_str(payload, "saved_path")
        inputs = payload.get("input_images")
        kwargs: dict[str, Any] = {}
        if saved is not None:
            kwargs["saved_path"] = saved
        if inputs:
            kwargs["input_images"] = inputs
        self._upsert_current(
            ImageGenerationItem(
                id=need_str(payload, "call_id"),
                status=need_str(payload, "status"),
                revised_prompt=opt_str(payload, "revised_prompt"),
                result=need_str(payload, "result"),
                transparent_background=payload.get("transparent_background"),
                failure=image_generation_failure(payload.get("failure")),
                generation_id=opt_str(payload, "generation_id"),
                **kwargs,
            )
        )

    def _sub_agent_activity(self, payload: dict[str, Any]) -> None:
        kind = need_str(payload, "kind")
        if kind not in ("started", "interacted", "interrupted"):
            raise ItemShapeError(f"unknown sub-agent activity kind {kind!r}")
        occurred = opt_int(payload, "occurred_at_ms") or 0
        self._upsert_current(
            SubAgentActivityItem(
                model=opt_str(payload, "model"),
                reasoning_effort=opt_str(payload, "reasoning_effort"),
                id=need_str(payload, "event_id"),
                kind=kind,
                agent_thread_id=need_str(payload, "agent_thread_id"),
                agent_path=need_str(payload, "agent_path"),
                completed_at_ms=occurred or None,
            )
        )

    # -- result ------------------------------------------------------------------------------
    def finish(self, *, running: bool = False) -> list[Turn]:
        """The turns, with every item's times filled in (None when unknown). Unless the
        thread is `running` (a writer has it open), a turn left open was interrupted."""
        self._finish_current()
        return [
            Turn(
                id=t.id,
                root_turn_id=t.root_turn_id,
                items=[_with_times(i) for i in t.items],
                items_view=TurnItemsView.FULL,
                status=TurnStatus.INTERRUPTED
                if t.status == "inProgress" and not running
                else TurnStatus(t.status),
                error=t.error,
                started_at=t.started_at,
                completed_at=t.completed_at,
                duration_ms=t.duration_ms,
            )
            for t in self.turns
        ]


def _with_times(item: ThreadItem) -> ThreadItem:
    if not isinstance(item, msgspec.Struct):
        return item
    changes = {
        name: None
        for name in ("started_at_ms", "completed_at_ms")
        if getattr(item, name) is msgspec.UNSET
    }
    return msgspec.structs.replace(item, **changes) if changes else item


def _user_inputs(payload: dict[str, Any]) -> list[UserInput]:
    """The inputs of a `user_message` event, every field checked first (as Codex's serde
    decoding would: a wrong shape skips the whole event)."""
    message = need_str(payload, "message")
    elements = [_text_element(e) for e in _opt_list(payload, "text_elements")]
    images = str_list(_opt_list(payload, "images"), "images")
    details = _details(_opt_list(payload, "image_details"), "image_details")
    local = str_list(_opt_list(payload, "local_images"), "local_images")
    local_details = _details(_opt_list(payload, "local_image_details"), "local_image_details")
    out: list[UserInput] = []
    if message.strip():
        out.append(TextInput(text=message, text_elements=elements))
    for index, url in enumerate(images):
        detail = details[index] if index < len(details) else None
        out.append(ImageInput(url=url, detail=detail))
    for index, path in enumerate(local):
        detail = local_details[index] if index < len(local_details) else None
        out.append(LocalImageInput(detail=detail, path=path))
    return out


def _opt_list(payload: dict[str, Any], key: str) -> list[Any]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ItemShapeError(f"`{key}` must be a list")
    return value


def _details(values: list[Any], key: str) -> list[str | None]:
    if not all(v is None or isinstance(v, str) for v in values):
        raise ItemShapeError(f"`{key}` must hold strings")
    return values


def _text_element(element: Any) -> TextElement:
    span = need(element, "byte_range")
    start, end = need(span, "start"), need(span, "end")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise ItemShapeError("`byte_range` must hold integers")
    return TextElement(
        byte_range=_ByteRange(start=start, end=end), placeholder=opt_str(element, "placeholder")
    )


_EVENTS: Final[dict[Any, Any]] = {
    "task_started": LegacyTurnBuilder._task_started,
    "turn_started": LegacyTurnBuilder._task_started,
    "user_message": LegacyTurnBuilder._user_message,
    "agent_message": LegacyTurnBuilder._agent_message,
    "agent_reasoning": lambda b, p: b._reasoning(p, raw=False),
    "agent_reasoning_raw_content": lambda b, p: b._reasoning(p, raw=True),
    "task_complete": LegacyTurnBuilder._task_complete,
    "turn_complete": LegacyTurnBuilder._task_complete,
    "turn_aborted": LegacyTurnBuilder._turn_aborted,
    "thread_rolled_back": LegacyTurnBuilder._rolled_back,
    "context_compacted": LegacyTurnBuilder._context_compacted,
    "entered_review_mode": LegacyTurnBuilder._entered_review,
    "exited_review_mode": LegacyTurnBuilder._exited_review,
    "item_completed": LegacyTurnBuilder._item_completed,
    "web_search_end": LegacyTurnBuilder._web_search_end,
    "patch_apply_end": LegacyTurnBuilder._patch_apply_end,
    "mcp_tool_call_end": LegacyTurnBuilder._mcp_tool_call_end,
    "image_generation_end": LegacyTurnBuilder._image_generation_end,
    "sub_agent_activity": LegacyTurnBuilder._sub_agent_activity,
}


def legacy_turns(items: Iterable[RolloutItem], *, running: bool = False) -> list[Turn]:
    """The turns Codex shows for a legacy history (every item; the filter is applied here)."""
    builder = LegacyTurnBuilder()
    for item in items:
        if kept_for_replay(item):
            builder.add(item)
    return builder.finish(running=running)
