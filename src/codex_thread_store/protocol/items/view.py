"""The one derivation of a thread's typed turns and items, for every store and every reader.

`thread_turns` and `thread_items` take a thread's history as it is stored (rollout lines)
and answer what Codex's app-server answers: a legacy history is replayed
(`legacy.py`), a paginated one projected (`paginated.py`), across the lineage of a fork
that builds on its parent's rollout (`HistorySegment`). The store API, `codex-threads
show`, transcripts and exports all render from this view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from ..rollout import RolloutLine
from .legacy import legacy_turns
from .model import Turn, TurnItemsView
from .paginated import Projection, ReadItem, Segment, read_items, read_turns

__all__ = ["HistorySegment", "ThreadHistoryView", "summary_view"]


@dataclass(frozen=True, slots=True)
class HistorySegment:
    """The lines of one rollout a thread reads, `[start, end)` by ordinal (`end` None: all).

    A thread is one segment; a fork that references its parent by offset
    (`session_meta.history_base`) is its parent's segments followed by its own.
    """

    rollout_id: str
    lines: Sequence[RolloutLine]
    start: int = 1
    end: int | None = None
    initial_ordinal: int = 0


class ThreadHistoryView:
    """The typed view of one thread's history (derived once, read many times)."""

    def __init__(
        self, history_mode: str, segments: Sequence[HistorySegment], *, running: bool = False
    ) -> None:
        """`running`: a writer has the thread open, so its open turn is in progress (else
        it reads as interrupted, as Codex reads a thread no one runs)."""
        self.history_mode = history_mode
        self.running = running
        self._segments = list(segments)
        self._projected: list[Segment] | None = None
        self._legacy: list[Turn] | None = None

    @classmethod
    def of_lines(
        cls, history_mode: str, lines: Sequence[RolloutLine], *, running: bool = False
    ) -> ThreadHistoryView:
        """A thread whose whole history is `lines` (no lineage)."""
        return cls(history_mode, [HistorySegment(rollout_id="", lines=lines)], running=running)

    def _segments_projected(self) -> list[Segment]:
        if self._projected is None:
            self._projected = [
                Segment(
                    rollout_id=s.rollout_id,
                    projection=Projection.of_lines(s.lines, s.initial_ordinal),
                    start=s.start,
                    end=s.end,
                )
                for s in self._segments
            ]
        return self._projected

    def _legacy_turns(self) -> list[Turn]:
        if self._legacy is None:
            self._legacy = legacy_turns(
                (line.item for segment in self._segments for line in segment.lines),
                running=self.running,
            )
        return self._legacy

    def turns(self, items_view: str = "full") -> list[Turn]:
        """Every turn, oldest first, with items per `items_view` (`full`, `summary`,
        `notLoaded`)."""
        if self.history_mode == "paginated":
            return read_turns(self._segments_projected(), items_view, running=self.running)
        turns = self._legacy_turns()
        if items_view == "full":
            return turns
        return [summary_view(t) if items_view == "summary" else _not_loaded(t) for t in turns]

    def items(self, turn_id: str | None = None) -> list[ReadItem]:
        """Every item (or one turn's), in creation order, with its position."""
        if self.history_mode == "paginated":
            return read_items(self._segments_projected(), turn_id)
        out: list[ReadItem] = []
        position = 0
        for turn in self._legacy_turns():
            for item in turn.items:
                if turn_id is None or turn.id == turn_id:
                    out.append(ReadItem(turn.id, position, 0, item))
                position += 1
        return out


def _not_loaded(turn: Turn) -> Turn:
    return _replace(turn, items=[], items_view=TurnItemsView.NOT_LOADED)


def summary_view(turn: Turn) -> Turn:
    """A turn with only its first user message and last agent message, as Codex's
    `thread/turns/list` summarizes a replayed turn."""
    first_user = next((i for i in turn.items if _type(i) == "userMessage"), None)
    last_agent = next((i for i in reversed(turn.items) if _type(i) == "agentMessage"), None)
    items = [i for i in (first_user, last_agent) if i is not None]
    if len(items) == 2 and items[0].id == items[1].id:
        items = items[:1]
    return _replace(turn, items=items, items_view=TurnItemsView.SUMMARY)


def _type(item: object) -> str:
    config = getattr(item, "__struct_config__", None)
    tag = getattr(config, "tag", None)
    return tag if isinstance(tag, str) else str(getattr(item, "type", ""))


def _replace(turn: Turn, **changes: object) -> Turn:
    return msgspec.structs.replace(turn, **changes)
