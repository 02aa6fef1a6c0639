"""Store errors as MCP tool errors: the one place the tools translate them.

A `ToolError` reaches the client as a result with `isError` and the error's text, and the
server carries on; anything else a tool raises is a crash, whose text stays on the server.
So every error the caller can act on becomes a `ToolError` whose text says what to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from mcp.server.mcpserver.exceptions import ToolError

from codex_thread_store import InvalidRequest, ThreadNotFound, ThreadStoreError, Unsupported

__all__ = ["store_errors"]


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Store errors the caller can act on, as tool errors that say what to do."""
    try:
        yield
    except ThreadNotFound as exc:
        raise ToolError(
            f"no thread {exc.thread_id} in this store (archived threads included); pass a "
            "full thread id as list_threads or search_threads return it"
        ) from None
    except InvalidRequest as exc:
        raise ToolError(exc.detail) from None
    except Unsupported as exc:
        raise ToolError(f"this store does not support {exc.operation}") from None
    except ThreadStoreError as exc:
        raise ToolError(str(exc)) from None
