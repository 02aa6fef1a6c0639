"""A thread's model context, rebuilt from its history as Codex rebuilds it on resume.

Codex's context is its `response_item` payloads in order, with two rewrites:

- a `compacted` line replaces everything before it with its `replacement_history`
  (an old-style `compacted` without one keeps the user's messages and adds the summary
  as a user message, after Codex's own fallback);
- an `event_msg` `thread_rolled_back` drops the newest `num_turns` user turns: the
  context is cut at the start of the `num_turns`-th user message from the end (all user
  turns when there are fewer), together with the context updates (developer and context
  messages) just above the cut. Items before the first user message stay.

Two cases are simplified. This store never writes either of them itself, but Codex
threads can hold them:

- An old `compacted` line without a replacement keeps the user's messages whole.
  Codex keeps their text, truncated, under its summary prefix.
- A rollback of a turn that held a compaction cuts the compacted context. Codex goes
  back to the items from before the compaction.

`Replay` also tracks what a writer appending to the thread needs: whether a turn is open,
where the last turn began, and the running token total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..protocol.rollout import RolloutItem
from ..protocol.rollout_kinds import PERSISTED_RESPONSE_ITEMS
from .items import is_real_user_message, message_text

__all__ = ["Replay", "TurnState"]

_TURN_STARTS = frozenset({"task_started", "turn_started"})
_TURN_ENDS = frozenset({"task_complete", "turn_complete", "turn_aborted"})


@dataclass(slots=True)
class TurnState:
    """The turn a writer would append to: its id and where it starts in the context."""

    turn_id: str
    start: int
    started_at_s: int = 0


@dataclass
class Replay:
    """The model context of a thread and the state of its last turn; feed it items in order."""

    context: list[dict[str, Any]] = field(default_factory=list)
    open_turn: TurnState | None = None
    last_turn: TurnState | None = None
    """The newest turn still whole in the context (None after a rewrite cut into it)."""
    checkpoint: int = 0
    """Context entries before this index came from a compaction or rollback rewrite."""
    token_total: dict[str, int] | None = None

    @classmethod
    def of(cls, items: Iterable[RolloutItem]) -> Replay:
        replay = cls()
        for item in items:
            replay.feed(item)
        return replay

    def feed(self, item: RolloutItem) -> None:
        payload = item.payload
        if not isinstance(payload, dict):
            return
        if item.type == "response_item":
            if payload.get("type") in PERSISTED_RESPONSE_ITEMS:
                self.context.append(payload)
        elif item.type == "compacted":
            self._compacted(payload)
        elif item.type == "event_msg":
            tag = payload.get("type")
            if tag in _TURN_STARTS:
                self._turn_started(payload)
            elif tag in _TURN_ENDS:
                self.open_turn = None
            elif tag == "thread_rolled_back":
                self._rolled_back(payload.get("num_turns"))
            elif tag == "token_count":
                total = (payload.get("info") or {}).get("total_token_usage")
                if isinstance(total, dict):
                    self.token_total = {k: v for k, v in total.items() if isinstance(v, int)}

    def _turn_started(self, payload: Mapping[str, Any]) -> None:
        turn_id = payload.get("turn_id")
        started = payload.get("started_at")
        self.open_turn = TurnState(
            turn_id=turn_id if isinstance(turn_id, str) else "",
            start=len(self.context),
            started_at_s=started if isinstance(started, int) else 0,
        )
        self.last_turn = self.open_turn

    def _rewrite(self, context: list[dict[str, Any]]) -> None:
        self.context = context
        self.checkpoint = len(context)
        self.last_turn = None
        if self.open_turn is not None:
            self.open_turn.start = len(context)

    def _compacted(self, payload: Mapping[str, Any]) -> None:
        replacement = payload.get("replacement_history")
        if isinstance(replacement, list):
            self._rewrite([p for p in replacement if isinstance(p, dict)])
            return
        kept = [p for p in self.context if is_real_user_message(p)]
        summary = payload.get("message")
        if isinstance(summary, str) and summary:
            part = {"type": "input_text", "text": summary}
            kept.append({"type": "message", "role": "user", "content": [part]})
        self._rewrite(kept)

    def _rolled_back(self, num_turns: Any) -> None:
        if not isinstance(num_turns, int) or num_turns <= 0:
            return
        users = [i for i, p in enumerate(self.context) if is_real_user_message(p)]
        if not users:
            return
        cut = users[-num_turns] if num_turns <= len(users) else users[0]
        # As Codex does, the context updates just above the cut go with the turn: the
        # developer messages and context messages that were sent ahead of it.
        while cut > 0 and _is_context_update(self.context[cut - 1]):
            cut -= 1
        self._rewrite(self.context[:cut])
        self.open_turn = None  # a rolled-back turn is gone: later items need a new one

    def last_turn_user_start(self) -> int | None:
        """Where the last turn starts, when a rollback of one turn would remove exactly
        that turn: the turn is whole, a user message opens it and is the newest, and
        nothing just above it is a context update Codex would take along. Else None."""
        turn = self.last_turn
        if turn is None or turn.start < self.checkpoint or turn.start >= len(self.context):
            return None
        start = turn.start
        if not is_real_user_message(self.context[start]):
            return None
        if any(is_real_user_message(p) for p in self.context[start + 1 :]):
            return None
        if start > 0 and _is_context_update(self.context[start - 1]):
            return None
        return start

    def last_agent_text(self, start: int) -> str | None:
        """The newest assistant message text at or after context index `start`."""
        for payload in reversed(self.context[start:]):
            if payload.get("type") == "message" and payload.get("role") == "assistant":
                return message_text(payload)
        return None


def _is_context_update(payload: Mapping[str, Any]) -> bool:
    if payload.get("type") != "message":
        return False
    role = payload.get("role")
    return role == "developer" or (role == "user" and not is_real_user_message(payload))
