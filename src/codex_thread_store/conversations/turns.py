"""The rollout lines one batch of model items becomes, with turns opened and closed.

Codex shows a thread as turns, each opened by `task_started` and closed by
`task_complete`, with the user's and the agent's messages as events beside the model's
`response_item`s: `user_message`/`agent_message`/`agent_reasoning` in a legacy thread,
typed `item_completed` items (`UserMessage`, `AgentMessage`, `Reasoning`) in a paginated
one. The rules that map plain items onto turns:

- a user message (not one of Codex's context messages) closes the open turn and opens a
  new one;
- any other item goes into the open turn, or opens one when none is open;
- a batch that ends with an assistant message closes its turn (the model answered); a
  batch that ends mid-turn (a tool call awaiting its output) leaves the turn open for the
  next batch, in this process or a later one;
- when a model is named, each turn starts with a `turn_context` naming it, as Codex's do.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..ids import new_thread_id
from ..patch import TokenUsage
from ..protocol.rollout import RolloutItem
from .items import is_real_user_message, message_text
from .replay import Replay

__all__ = ["TurnSettings", "turn_lines"]


@dataclass(frozen=True, slots=True)
class TurnSettings:
    """What every turn of a conversation records besides its items."""

    thread_id: str
    paginated: bool
    cwd: str
    model: str | None = None


def _event(kind: str, **fields: Any) -> RolloutItem:
    return RolloutItem.event_msg({"type": kind, **fields})


class _Batch:
    def __init__(self, settings: TurnSettings, replay: Replay) -> None:
        self.settings = settings
        self.lines: list[RolloutItem] = []
        open_turn = replay.open_turn
        self.turn_id = open_turn.turn_id if open_turn else None
        self.started_s = open_turn.started_at_s if open_turn else 0
        self.last_agent = replay.last_agent_text(open_turn.start) if open_turn else None
        self.now_ms = int(time.time() * 1000)

    def open(self) -> None:
        self.turn_id = new_thread_id()
        self.started_s = self.now_ms // 1000
        self.last_agent = None
        self.lines.append(
            _event(
                "task_started",
                turn_id=self.turn_id,
                root_turn_id=self.turn_id,
                started_at=self.started_s,
                model_context_window=None,
            )
        )
        if self.settings.model:
            self.lines.append(
                RolloutItem.turn_context(
                    {
                        "turn_id": self.turn_id,
                        "cwd": self.settings.cwd,
                        "approval_policy": "never",
                        "sandbox_policy": {"type": "read-only"},
                        "model": self.settings.model,
                        "summary": "auto",
                    }
                )
            )

    def close(self) -> None:
        if self.turn_id is None:
            return
        completed_s = max(self.now_ms // 1000, self.started_s)
        self.lines.append(
            _event(
                "task_complete",
                turn_id=self.turn_id,
                root_turn_id=self.turn_id,
                last_agent_message=self.last_agent,
                started_at=self.started_s,
                completed_at=completed_s,
                duration_ms=(completed_s - self.started_s) * 1000,
            )
        )
        self.turn_id = None

    def typed(self, item: dict[str, Any]) -> None:
        self.lines.append(
            _event(
                "item_completed",
                thread_id=self.settings.thread_id,
                turn_id=self.turn_id,
                item={**item, "id": new_thread_id()},
                started_at_ms=self.now_ms,
                completed_at_ms=self.now_ms,
            )
        )

    def add(self, payload: dict[str, Any]) -> None:
        user = is_real_user_message(payload)
        if user:
            self.close()
        if self.turn_id is None:
            self.open()
        self.lines.append(RolloutItem.response_item(payload))
        kind, role = payload.get("type"), payload.get("role")
        if user:
            self._user(payload)
        elif kind == "message" and role == "assistant":
            text = message_text(payload)
            self.last_agent = text
            if self.settings.paginated:
                self.typed({"type": "AgentMessage", "content": [{"type": "Text", "text": text}]})
            else:
                self.lines.append(_event("agent_message", message=text))
        elif kind == "reasoning":
            self._reasoning(payload)

    def _user(self, payload: Mapping[str, Any]) -> None:
        text = message_text(payload)
        images = [
            part["image_url"]
            for part in payload.get("content") or []
            if isinstance(part, Mapping) and part.get("type") == "input_image"
        ]
        if self.settings.paginated:
            content: list[dict[str, Any]] = [{"type": "text", "text": text, "text_elements": []}]
            content += [{"type": "image", "image_url": url} for url in images]
            self.typed({"type": "UserMessage", "content": content})
        else:
            self.lines.append(
                _event(
                    "user_message",
                    message=text,
                    images=images or None,
                    local_images=[],
                    text_elements=[],
                )
            )

    def _reasoning(self, payload: Mapping[str, Any]) -> None:
        summary = [
            part["text"]
            for part in payload.get("summary") or []
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]
        if self.settings.paginated:
            self.typed({"type": "Reasoning", "summary_text": summary, "raw_content": []})
        else:
            self.lines += [_event("agent_reasoning", text=text) for text in summary]

    def tokens(self, usage: TokenUsage, total: dict[str, int] | None) -> None:
        last = {
            name: value
            for name in TokenUsage.__struct_fields__
            if isinstance(value := getattr(usage, name), int)
        }
        summed = {k: (total or {}).get(k, 0) + v for k, v in last.items()}
        self.lines.append(
            _event(
                "token_count",
                info={"total_token_usage": summed, "last_token_usage": last},
                rate_limits=None,
            )
        )


def turn_lines(
    settings: TurnSettings,
    replay: Replay,
    payloads: Sequence[dict[str, Any]],
    *,
    usage: TokenUsage | None = None,
    close: bool | None = None,
) -> list[RolloutItem]:
    """The lines that append `payloads` to the thread `replay` describes (see the module
    doc); `close` forces the last turn closed (True) or open (False)."""
    batch = _Batch(settings, replay)
    for payload in payloads:
        batch.add(payload)
    opened_for_usage = False
    if usage is not None:
        if batch.turn_id is None:
            batch.open()
            opened_for_usage = not payloads
        batch.tokens(usage, replay.token_total)
    ends_answered = bool(payloads) and (
        payloads[-1].get("type") == "message" and payloads[-1].get("role") == "assistant"
    )
    # A turn opened only to carry usage is closed with it: nothing else would close it.
    if close or (close is None and (ends_answered or opened_for_usage)):
        batch.close()
    return batch.lines
