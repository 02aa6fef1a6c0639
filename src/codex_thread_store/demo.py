"""A small Codex home to explore: what `codex-threads demo` creates.

Everything is written through `ThreadManager` and `LiveThread`, exactly as an app would,
in the paginated form Codex 0.171 writes (typed `item_completed` items): a named thread
with commands (one failing), reasoning and a patch over two turns, a fork of its last
turn, a subagent it spawned, a thread from `codex exec`, an automation thread on another
provider, and an archived thread.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .live_thread import LiveThread
from .manager import ThreadManager
from .protocol.rollout import RolloutItem
from .protocol.sources import SessionSource
from .types import ArchiveThreadParams, CreateThreadParams, ThreadPersistenceMetadata

if TYPE_CHECKING:
    from .local import LocalThreadStore

__all__ = ["DemoHome", "build_demo_home"]


@dataclass(frozen=True)
class DemoHome:
    home: Path
    parser: str
    fork: str
    subagent: str
    release_notes: str
    triage: str
    archived: str

    @property
    def thread_ids(self) -> list[str]:
        return [
            self.parser,
            self.fork,
            self.subagent,
            self.release_notes,
            self.triage,
            self.archived,
        ]


def _event(kind: str, **fields: Any) -> RolloutItem:
    return RolloutItem.event_msg({"type": kind, **fields})


class _Turn:
    """Writes one turn as Codex 0.171 does: start, typed items (`item_completed`), end."""

    def __init__(
        self, live: LiveThread, turn_id: str, started_ms: int, cwd: str = "/work/demo/app"
    ) -> None:
        self.live = live
        self.cwd = cwd
        self.turn_id = turn_id
        self.clock = started_ms
        self.items: list[RolloutItem] = [
            _event(
                "task_started",
                turn_id=turn_id,
                root_turn_id=turn_id,
                started_at=started_ms // 1000,
                model_context_window=258_400,
            )
        ]

    def _item(self, item: dict[str, Any], took_ms: int = 0) -> _Turn:
        start = self.clock
        self.clock += took_ms + 7
        self.items.append(
            _event(
                "item_completed",
                thread_id=self.live.thread_id,
                turn_id=self.turn_id,
                item={"id": f"{self.turn_id}-{len(self.items)}", **item},
                started_at_ms=start,
                completed_at_ms=start + took_ms,
            )
        )
        return self

    def user(self, text: str) -> _Turn:
        content = [{"type": "text", "text": text, "text_elements": []}]
        return self._item({"type": "UserMessage", "content": content})

    def reasoning(self, text: str) -> _Turn:
        return self._item({"type": "Reasoning", "summary_text": [text]}, took_ms=900)

    def shell(self, command: str, output: str, *, exit_code: int = 0, ms: int = 800) -> _Turn:
        return self._item(
            {
                "type": "CommandExecution",
                "command": ["/bin/bash", "-lc", command],
                "cwd": f"file://{self.cwd}",
                "parsed_cmd": [{"type": "unknown", "cmd": command}],
                "source": "unified_exec_startup",
                "status": "completed" if exit_code == 0 else "failed",
                "aggregated_output": output,
                "exit_code": exit_code,
                "duration": {"secs": ms // 1000, "nanos": (ms % 1000) * 1_000_000},
            },
            took_ms=ms,
        )

    def patch(self, *paths: str) -> _Turn:
        changes = {
            f"{self.cwd}/{p}": {
                "type": "update",
                "unified_diff": "@@ -1 +1 @@\n",
                "move_path": None,
            }
            for p in paths
        }
        return self._item({"type": "FileChange", "changes": changes, "status": "completed"})

    def agent(self, text: str) -> list[RolloutItem]:
        self._item({"type": "AgentMessage", "content": [{"type": "Text", "text": text}]})
        self.items.append(
            _event(
                "task_complete",
                turn_id=self.turn_id,
                root_turn_id=self.turn_id,
                last_agent_message=text,
                started_at=self.items[0].payload["started_at"],
                completed_at=self.clock // 1000,
                duration_ms=self.clock - self.items[0].payload["started_at"] * 1000,
            )
        )
        return self.items


def _tokens(total: int) -> RolloutItem:
    usage = {
        "input_tokens": total * 3 // 4,
        "cached_input_tokens": 0,
        "output_tokens": total // 4,
        "reasoning_output_tokens": 0,
        "total_tokens": total,
    }
    return _event("token_count", info={"total_token_usage": usage}, rate_limits=None)


_PYTEST_FAIL = "\n".join(
    [
        "..........F.........",
        "FAILED tests/test_parser.py::test_parallel_parse - AssertionError: token stream",
        "  interleaved: expected ['a', 'b'], got ['b', 'a']",
        "  in parser/cache.py:41 (shared _buffer)",
        "1 failed, 19 passed in 3.12s",
    ]
)


async def _write(live: LiveThread, *turns: Sequence[RolloutItem]) -> None:
    for items in turns:
        await live.append_items(list(items))
    await live.flush()


_PARSER_CWD = "/work/demo/parser-service"


def _now_ms() -> int:
    return int(time.time() * 1000)


async def build_demo_home(home: Path) -> DemoHome:
    """Create the demo threads in `home` (a new or empty folder) and return their ids."""
    from .local import LocalThreadStore, LocalThreadStoreConfig

    store = LocalThreadStore(LocalThreadStoreConfig(codex_home=home))
    async with store:
        manager = ThreadManager(store, collect_git=False)
        try:
            return await _populate(manager, store, home)
        finally:
            await manager.aclose()


async def _populate(manager: ThreadManager, store: LocalThreadStore, home: Path) -> DemoHome:
    def create(**fields: Any) -> CreateThreadParams:
        return CreateThreadParams(history_mode="paginated", **fields)

    parser = await manager.start_thread(create(metadata=ThreadPersistenceMetadata(cwd=_PARSER_CWD)))
    await _write(
        parser,
        _Turn(parser, "turn-1", _now_ms(), _PARSER_CWD)
        .user(
            "test_parallel_parse is flaky: it fails about one run in twenty. Can you find out why?"
        )
        .reasoning("Flaky under parallel runs: look for shared state.")
        .shell("pytest tests/test_parser.py -q --count 20", _PYTEST_FAIL, exit_code=1, ms=3120)
        .shell("grep -n _buffer parser/cache.py", "12:_buffer = []\n41:    _buffer.append(tok)")
        .agent(
            "It is a race: `parser/cache.py` keeps tokens in a module-level `_buffer` "
            "that parallel parses share, so their tokens interleave."
        ),
        [_tokens(5200)],
        _Turn(parser, "turn-2", _now_ms() + 5000, _PARSER_CWD)
        .user("Make the buffer per-parse and add a regression test.")
        .patch("parser/cache.py", "tests/test_parser.py")
        .shell("pytest -q", "42 passed in 4.01s", ms=4010)
        .agent(
            "Done: each parse now owns its buffer, and `test_parallel_parse_stress` "
            "runs 200 parses on 8 threads. All 42 tests pass."
        ),
        [_tokens(9100)],
    )
    await manager.set_thread_name(parser.thread_id, "Parser flake")

    fork = await manager.fork_thread(parser.thread_id, last_n_turns=1)
    await _write(
        fork,
        _Turn(fork, "turn-3", _now_ms() + 10_000, _PARSER_CWD)
        .user("Try it with a lock around the shared buffer instead.")
        .shell("pytest -q --count 50", "50 passed in 9.80s", ms=9800)
        .agent(
            "A lock works too (50/50 runs pass) but serialises parsing; "
            "the per-parse buffer stays the better fix."
        ),
    )

    reviewer = await manager.spawn_subagent(
        parser.thread_id, agent_nickname="Ada", agent_role="reviewer"
    )
    await _write(
        reviewer,
        _Turn(reviewer, "turn-r1", _now_ms(), _PARSER_CWD)
        .user("Review the buffer change for thread safety.")
        .agent(
            "Looks right: no module state is left. Nit: the stress test should pin its random seed."
        ),
    )

    notes = await manager.start_thread(
        create(
            source=SessionSource.exec(), metadata=ThreadPersistenceMetadata(cwd="/work/demo/app")
        )
    )
    await _write(
        notes,
        _Turn(notes, "turn-1", _now_ms())
        .user("Write the release notes for 2.4 from the merged pull requests.")
        .shell(
            "git log --oneline v2.3..HEAD",
            "a1b2c3d Faster startup\nd4e5f6a Fix flaky parser test\n0718293 Dark mode",
        )
        .agent("## 2.4\n- Faster startup\n- Dark mode\n- Fixed a flaky parser test"),
    )

    triage = await manager.start_thread(
        create(
            source=SessionSource.exec(),
            thread_source="nightly-triage",
            metadata=ThreadPersistenceMetadata(cwd="/work/demo/app", model_provider="ollama"),
        )
    )
    await _write(
        triage,
        _Turn(triage, "turn-1", _now_ms())
        .user("Triage last night's CI failures.")
        .shell(
            "gh run list --status failure --limit 3",
            "docs build: link check\ne2e: timeout in checkout flow\nlint: unused import",
        )
        .agent(
            "Two are noise (link check, lint); the checkout e2e timeout is new since "
            "yesterday's payment-client bump."
        ),
    )

    old = await manager.start_thread(
        create(metadata=ThreadPersistenceMetadata(cwd="/work/demo/app"))
    )
    await _write(
        old,
        _Turn(old, "turn-1", _now_ms())
        .user("Could we switch the config loader to tomllib?")
        .agent("Yes, on Python 3.11+; we still support 3.10, so not yet."),
    )
    ids = DemoHome(
        home=home,
        parser=parser.thread_id,
        fork=fork.thread_id,
        subagent=reviewer.thread_id,
        release_notes=notes.thread_id,
        triage=triage.thread_id,
        archived=old.thread_id,
    )
    for live in (parser, fork, reviewer, notes, triage, old):
        await manager.close_thread(live.thread_id)
    await store.archive_thread(ArchiveThreadParams(thread_id=old.thread_id))
    return ids
