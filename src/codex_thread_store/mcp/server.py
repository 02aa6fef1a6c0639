"""The `codex-threads mcp` server: four read-only MCP tools over one `ThreadStore`.

- `list_threads`: one page of threads, most recently updated (or created) first;
- `search_threads`: full-text search over names, previews and messages, with snippets;
- `read_thread`: a thread's metadata and its turns as a transcript, a few turns at a time;
- `find_in_thread`: every occurrence of a phrase inside one thread, with context.

Every tool answers with readable text and the same facts as structured content (each
tool publishes its output schema). Outputs are bounded: page sizes and context have
defaults and maxima, long entries are cut with a note saying so, and `read_thread` stops
at a character budget and says where to continue. The tools (`tools.py`) only ever call
the store's read operations.

Errors the caller can fix (an unknown thread id, a malformed argument, a stale cursor)
come back as tool errors (`isError`) whose text says what was wrong (`errors.py`).
"""

from __future__ import annotations

import inspect
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from codex_thread_store import ThreadStore, __version__

from .tools import ThreadTools

__all__ = ["build_server", "serve"]

SERVER_NAME = "codex-threads"

INSTRUCTIONS = (
    "Read-only access to past Codex conversation threads (sessions). Use search_threads to "
    "find threads about a topic, list_threads to browse recent ones, read_thread to read a "
    "thread's turns, and find_in_thread to locate a phrase (an error message, a file name, "
    "a command) inside one long thread. Thread ids are full UUIDs as these tools return them."
)

#: The tools, by name, with the title a client shows; each is the `ThreadTools` method
#: of that name, whose docstring is its description.
TOOL_TITLES = {
    "list_threads": "List threads",
    "search_threads": "Search threads",
    "read_thread": "Read a thread",
    "find_in_thread": "Find in a thread",
}

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def build_server(store: ThreadStore) -> MCPServer[Any]:
    """An MCP server with the read-only thread tools over `store`. The caller opens the
    store before serving and closes it after (`async with store: await serve(store)`)."""
    tools = ThreadTools(store)
    server: MCPServer[Any] = MCPServer(
        SERVER_NAME,
        title="Codex threads",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    for name, title in TOOL_TITLES.items():
        method = getattr(tools, name)
        server.add_tool(
            method,
            name=name,
            title=title,
            description=inspect.getdoc(method),
            annotations=READ_ONLY,
        )
    return server


async def serve(store: ThreadStore) -> None:
    """Serve `store` over stdin/stdout until the client disconnects (it ends stdin)."""
    await build_server(store).run_stdio_async()
