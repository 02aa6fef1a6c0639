"""Threads of every shape this store writes, written as an app would (ThreadManager and
LiveThread on a LocalThreadStore), for the interop tests to hand to the real Codex CLI.

Each shape is written in the home's default history mode, or the one asked for. A turn
with tools carries what Codex itself records for one: in a legacy thread the events Codex
0.144 writes (`exec_command_end`, `patch_apply_end`, `mcp_tool_call_end`,
`web_search_end`), in a paginated thread the typed `item_completed` items 0.169+ writes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_thread_store import (
    ArchiveThreadParams,
    CreateThreadParams,
    RolloutItem,
    ThreadManager,
    ThreadPersistenceMetadata,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

SHAPES = ("plain", "tools", "fork", "subagent", "archived", "named", "automation")


def event(kind: str, **fields: Any) -> RolloutItem:
    return RolloutItem.event_msg({"type": kind, **fields})


def said(role: str, text: str) -> RolloutItem:
    part = "input_text" if role == "user" else "output_text"
    return RolloutItem.response_item(
        {"type": "message", "role": role, "content": [{"type": part, "text": text}]}
    )


@dataclass
class TurnWriter:
    """One turn in the thread's history mode, as Codex records it."""

    thread_id: str
    paginated: bool
    turn_id: str
    cwd: str
    clock: int = field(default_factory=lambda: int(time.time() * 1000))
    items: list[RolloutItem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.items.append(
            event(
                "task_started",
                turn_id=self.turn_id,
                root_turn_id=self.turn_id,
                started_at=self.clock // 1000,
                model_context_window=None,
            )
        )

    def _completed(self, item: dict[str, Any]) -> None:
        self.clock += 10
        self.items.append(
            event(
                "item_completed",
                thread_id=self.thread_id,
                turn_id=self.turn_id,
                item=item,
                started_at_ms=self.clock,
                completed_at_ms=self.clock + 3,
            )
        )

    def user(self, text: str) -> TurnWriter:
        self.items.append(said("user", text))
        if self.paginated:
            content = [{"type": "text", "text": text, "text_elements": []}]
            self._completed({"type": "UserMessage", "id": f"{self.turn_id}-u", "content": content})
        else:
            self.items.append(
                event("user_message", message=text, images=None, local_images=[], text_elements=[])
            )
        return self

    def tools(self) -> TurnWriter:
        """Reasoning, a failing command, a file added, an MCP call and a web search."""
        call = f"{self.turn_id}-sh"
        self.items.append(
            RolloutItem.response_item(
                {
                    "type": "function_call",
                    "name": "exec_command",
                    "arguments": json.dumps({"cmd": "make test"}),
                    "call_id": call,
                }
            )
        )
        changes = {f"{self.cwd}/NEW.md": {"type": "add", "content": "new file\n"}}
        if self.paginated:
            self._completed(
                {"type": "Reasoning", "id": f"{self.turn_id}-r", "summary_text": ["Run the tests."]}
            )
            self._completed(
                {
                    "type": "CommandExecution",
                    "id": call,
                    "command": ["/bin/bash", "-lc", "make test"],
                    "cwd": f"file://{self.cwd}",
                    "parsed_cmd": [{"type": "unknown", "cmd": "make test"}],
                    "source": "unified_exec_startup",
                    "status": "failed",
                    "aggregated_output": "1 failed, 9 passed\n",
                    "exit_code": 2,
                    "duration": {"secs": 1, "nanos": 250_000_000},
                }
            )
            self._completed(
                {
                    "type": "FileChange",
                    "id": f"{self.turn_id}-p",
                    "changes": changes,
                    "status": "completed",
                }
            )
            self._completed(
                {
                    "type": "McpToolCall",
                    "id": f"{self.turn_id}-m",
                    "server": "docs",
                    "tool": "search",
                    "arguments": {"q": "parser", "limit": 2.50},
                    "status": "completed",
                    "result": {"content": [{"type": "text", "text": "parser.md"}]},
                    "duration": {"secs": 0, "nanos": 7_000_000},
                }
            )
            self._completed(
                {
                    "type": "WebSearch",
                    "id": f"{self.turn_id}-w",
                    "query": "recursive descent",
                    "action": {"type": "search", "query": "recursive descent"},
                }
            )
        else:
            self.items += [
                event("agent_reasoning", text="Run the tests."),
                event(
                    "exec_command_end",
                    call_id=call,
                    turn_id=self.turn_id,
                    command=["/bin/bash", "-lc", "make test"],
                    cwd=self.cwd,
                    parsed_cmd=[{"type": "unknown", "cmd": "make test"}],
                    source="unified_exec_startup",
                    stdout="",
                    stderr="",
                    aggregated_output="1 failed, 9 passed\n",
                    exit_code=2,
                    duration={"secs": 1, "nanos": 250_000_000},
                    formatted_output="",
                    status="failed",
                ),
                event(
                    "patch_apply_end",
                    call_id=f"{self.turn_id}-p",
                    turn_id=self.turn_id,
                    stdout="",
                    stderr="",
                    success=True,
                    changes=changes,
                    status="completed",
                ),
                event(
                    "mcp_tool_call_end",
                    call_id=f"{self.turn_id}-m",
                    invocation={"server": "docs", "tool": "search", "arguments": {"q": "parser"}},
                    duration={"secs": 0, "nanos": 7_000_000},
                    result={"Ok": {"content": [{"type": "text", "text": "parser.md"}]}},
                ),
                event(
                    "web_search_end",
                    call_id=f"{self.turn_id}-w",
                    query="recursive descent",
                    action={"type": "search", "query": "recursive descent"},
                ),
            ]
        self.items.append(
            RolloutItem.response_item(
                {"type": "function_call_output", "call_id": call, "output": "1 failed, 9 passed"}
            )
        )
        return self

    def agent(self, text: str) -> list[RolloutItem]:
        if self.paginated:
            self._completed(
                {
                    "type": "AgentMessage",
                    "id": f"{self.turn_id}-a",
                    "content": [{"type": "Text", "text": text}],
                }
            )
        else:
            self.items.append(event("agent_message", message=text))
        self.items.append(said("assistant", text))
        self.items.append(
            event(
                "task_complete",
                turn_id=self.turn_id,
                root_turn_id=self.turn_id,
                last_agent_message=text,
                started_at=self.items[0].payload["started_at"],
                completed_at=(self.clock + 5) // 1000,
                duration_ms=self.clock + 5 - self.items[0].payload["started_at"] * 1000,
            )
        )
        return self.items


@dataclass(frozen=True)
class Written:
    """The threads written, by shape, and the history mode they got."""

    ids: dict[str, str]
    history_mode: str


async def write_every_shape(
    home: Path, work: Path, *, history_mode: str | None = None, prefix: str = ""
) -> Written:
    """One thread of each shape in `SHAPES` (turn ids start with `prefix`)."""
    config = LocalThreadStoreConfig(codex_home=home, refresh_interval_s=0)
    async with LocalThreadStore(config) as store:
        manager = ThreadManager(store, collect_git=False)
        mode = history_mode or store.default_history_mode()
        cwd = str(work)

        async def start(**fields: Any) -> Any:
            return await manager.start_thread(
                CreateThreadParams(
                    history_mode=mode,
                    metadata=ThreadPersistenceMetadata(cwd=cwd, model_provider="mock"),
                    **fields,
                )
            )

        async def turn(
            live: Any, turn_id: str, question: str, answer: str, *, tools: bool = False
        ) -> None:
            writer = TurnWriter(live.thread_id, mode == "paginated", prefix + turn_id, cwd).user(
                question
            )
            if tools:
                writer.tools()
            await live.append_items(writer.agent(answer))
            await live.flush()

        ids: dict[str, str] = {}
        plain = await start(thread_source="user")
        await turn(plain, "p1", "Explain the parser", "It is recursive descent.")
        await turn(plain, "p2", "Add a test for it", "Added test_parser.py.")
        ids["plain"] = plain.thread_id

        tools = await start(thread_source="user")
        await turn(
            tools, "t1", "Why does make test fail?", "One test fails: see above.", tools=True
        )
        ids["tools"] = tools.thread_id

        fork = await manager.fork_thread(plain.thread_id)
        await turn(fork, "f1", "Try it with a lock instead", "A lock works too.")
        ids["fork"] = fork.thread_id

        sub = await manager.spawn_subagent(
            plain.thread_id, agent_nickname="Ada", agent_role="reviewer"
        )
        await turn(sub, "s1", "Review the parser change", "Looks right.")
        ids["subagent"] = sub.thread_id

        archived = await start(thread_source="user")
        await turn(archived, "a1", "An old question", "An old answer.")
        ids["archived"] = archived.thread_id

        named = await start(thread_source="user")
        await turn(named, "n1", "Name me", "Named.")
        await manager.set_thread_name(named.thread_id, "Renamed: unicode check ✓")
        ids["named"] = named.thread_id

        automation = await start(thread_source="automation")
        await turn(automation, "au1", "Nightly triage", "Nothing new.")
        ids["automation"] = automation.thread_id

        await manager.aclose()
        await store.archive_thread(ArchiveThreadParams(thread_id=ids["archived"]))
    return Written(ids, mode)
