"""A small Codex home to explore: what `codex-threads demo` creates.

Everything is written through `ThreadManager` and `LiveThread`, exactly as an app would:
a named thread with tool calls over two turns, a fork of its last turn, a subagent it
spawned, a thread from `codex exec`, an automation thread on another provider, and an
archived thread.
"""

from __future__ import annotations

import json
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


def _user(text: str) -> RolloutItem:
    return _event("user_message", message=text, images=None, local_images=[], text_elements=[])


def _shell(call_id: str, command: str, output: str) -> list[RolloutItem]:
    return [
        RolloutItem.response_item(
            {
                "type": "function_call",
                "name": "shell",
                "arguments": json.dumps({"command": ["bash", "-lc", command]}),
                "call_id": call_id,
            }
        ),
        RolloutItem.response_item(
            {"type": "function_call_output", "call_id": call_id, "output": output}
        ),
    ]


def _turn(turn_id: str, user: str, *middle: RolloutItem, agent: str) -> list[RolloutItem]:
    return [
        _event("task_started", turn_id=turn_id, model_context_window=None),
        _user(user),
        *middle,
        _event("agent_message", message=agent),
        _event("task_complete", turn_id=turn_id, last_agent_message=agent),
    ]


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
    parser = await manager.start_thread(
        CreateThreadParams(metadata=ThreadPersistenceMetadata(cwd="/work/demo/parser-service"))
    )
    await _write(
        parser,
        _turn(
            "turn-1",
            "test_parallel_parse is flaky: it fails about one run in twenty. Can you find out why?",
            _event("agent_reasoning", text="Flaky under parallel runs: look for shared state."),
            *_shell("call-1", "pytest tests/test_parser.py -q --count 20", _PYTEST_FAIL),
            *_shell(
                "call-2",
                "grep -n _buffer parser/cache.py",
                "12:_buffer = []\n41:    _buffer.append(tok)",
            ),
            _tokens(5200),
            agent="It is a race: `parser/cache.py` keeps tokens in a module-level `_buffer` "
            "that parallel parses share, so their tokens interleave.",
        ),
        _turn(
            "turn-2",
            "Make the buffer per-parse and add a regression test.",
            *_shell("call-3", "pytest -q", "42 passed in 4.01s"),
            _event(
                "patch_apply_end",
                call_id="call-4",
                success=True,
                changes={"parser/cache.py": {}, "tests/test_parser.py": {}},
            ),
            _tokens(9100),
            agent="Done: each parse now owns its buffer, and `test_parallel_parse_stress` "
            "runs 200 parses on 8 threads. All 42 tests pass.",
        ),
    )
    await manager.set_thread_name(parser.thread_id, "Parser flake")

    fork = await manager.fork_thread(parser.thread_id, last_n_turns=1)
    await _write(
        fork,
        _turn(
            "turn-3",
            "Try it with a lock around the shared buffer instead.",
            *_shell("call-5", "pytest -q --count 50", "50 passed in 9.80s"),
            agent="A lock works too (50/50 runs pass) but serialises parsing; "
            "the per-parse buffer stays the better fix.",
        ),
    )

    reviewer = await manager.spawn_subagent(
        parser.thread_id, agent_nickname="Ada", agent_role="reviewer"
    )
    await _write(
        reviewer,
        _turn(
            "turn-r1",
            "Review the buffer change for thread safety.",
            agent="Looks right: no module state is left. Nit: the stress test should "
            "pin its random seed.",
        ),
    )

    notes = await manager.start_thread(
        CreateThreadParams(
            source=SessionSource.exec(),
            metadata=ThreadPersistenceMetadata(cwd="/work/demo/app"),
        )
    )
    await _write(
        notes,
        _turn(
            "turn-1",
            "Write the release notes for 2.4 from the merged pull requests.",
            *_shell(
                "call-1",
                "git log --oneline v2.3..HEAD",
                "a1b2c3d Faster startup\nd4e5f6a Fix flaky parser test\n0718293 Dark mode",
            ),
            agent="## 2.4\n- Faster startup\n- Dark mode\n- Fixed a flaky parser test",
        ),
    )

    triage = await manager.start_thread(
        CreateThreadParams(
            source=SessionSource.exec(),
            thread_source="nightly-triage",
            metadata=ThreadPersistenceMetadata(cwd="/work/demo/app", model_provider="ollama"),
        )
    )
    await _write(
        triage,
        _turn(
            "turn-1",
            "Triage last night's CI failures.",
            *_shell(
                "call-1",
                "gh run list --status failure --limit 3",
                "docs build: link check\ne2e: timeout in checkout flow\nlint: unused import",
            ),
            agent="Two are noise (link check, lint); the checkout e2e timeout is new since "
            "yesterday's payment-client bump.",
        ),
    )

    old = await manager.start_thread(
        CreateThreadParams(metadata=ThreadPersistenceMetadata(cwd="/work/demo/app"))
    )
    await _write(
        old,
        _turn(
            "turn-1",
            "Could we switch the config loader to tomllib?",
            agent="Yes, on Python 3.11+; we still support 3.10, so not yet.",
        ),
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
