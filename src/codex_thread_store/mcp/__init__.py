"""`codex-threads mcp`: a read-only Model Context Protocol server over a `ThreadStore`.

It lets an agent (Codex itself, or any MCP client) list, search and read past threads,
and find a phrase inside one thread with some context around each hit. Its four tools
(`list_threads`, `search_threads`, `read_thread`, `find_in_thread`) only call the
store's read operations; see `docs/mcp.md` for the tools and how to register the server
with Codex.

Needs the MCP Python SDK: `pip install 'codex-thread-store[mcp]'`. Importing
`codex_thread_store` alone never imports it.

    async with store:
        await serve(store)  # stdio, until the client disconnects

The modules: `server` builds the SDK's server and registers the tools; `tools` holds
`ThreadTools`, which calls the store; `arguments` the tools' argument types and limits;
`results` the structured answers; `text` the readable ones; `errors` store errors as tool
errors; `occurrences` the phrase search inside a thread.
"""

from .server import build_server, serve
from .tools import ThreadTools

__all__ = ["ThreadTools", "build_server", "serve"]
