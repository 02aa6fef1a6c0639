"""A loopback mock of the OpenAI Responses API, good enough to drive the real Codex CLI.

Standard library only. The server binds ``127.0.0.1`` on a free port, runs in a background
thread, answers every ``POST .../responses`` with a complete SSE stream, and records each
request for assertions. It doubles as the HTTP(S) proxy of the Codex processes under test:
anything that tries to leave the machine arrives here as ``CONNECT host:port`` (or as an
absolute-URI request), is refused with 403 and is logged in ``outbound_attempts``.

Reply conventions, read from the newest real user message of the request (the same ones
the corpus in ``../shared/codex-corpus`` was made with):

* ``[[shell: CMD]]`` (repeatable): the mock first asks Codex to run each ``CMD`` in turn with
  the shell tool it offers (``exec_command`` when unified exec is on), one call per request;
* ``[[reply: TEXT]]``: the final assistant message is exactly ``TEXT``;
* otherwise the final message is ``Mock reply #N: <prompt>`` (or, after shell calls,
  ``Mock reply #N: ran K command(s). Last output: <output>``), where ``N`` counts the
  ``/responses`` requests this server has answered, and whitespace is collapsed.

Usage::

    with MockResponsesServer() as server:
        write_config(home, server.base_url)  # base_url ends in /v1
        ...
        assert server.response_requests
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "MockResponsesServer",
    "RecordedRequest",
    "plan_reply",
    "sse_stream",
]

REPLY_RE = re.compile(r"\[\[reply:\s*(.*?)\]\]", re.DOTALL)
SHELL_RE = re.compile(r"\[\[shell:\s*(.*?)\]\]", re.DOTALL)
OUTPUT_PREVIEW_CHARS = 120

# User-role messages Codex injects itself (environment, AGENTS.md, ...), not the prompt.
_INJECTED_PREFIXES = (
    "<environment_context",
    "<user_instructions",
    "<permissions",
    "<turn_aborted",
    "<user_shell_command",
    "<world_state",
    "# AGENTS.md instructions",
)


@dataclass
class RecordedRequest:
    """One HTTP request the mock received, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any = None
    status: int = 0
    reply_text: str | None = None
    tool_call: dict[str, Any] | None = None
    received_at: float = field(default_factory=time.time)

    @property
    def user_text(self) -> str | None:
        """The newest real user message in a ``/responses`` body, if any."""
        if not isinstance(self.body, dict):
            return None
        found = _last_user_message(self.body.get("input") or [])
        return found[1] if found else None


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return ""


def _last_user_message(items: list[Any]) -> tuple[int, str] | None:
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if not isinstance(item, dict) or item.get("role") != "user":
            continue
        if item.get("type", "message") != "message":
            continue
        text = _content_text(item.get("content"))
        if text.lstrip().startswith(_INJECTED_PREFIXES):
            continue
        return index, text
    return None


def _tool_output_text(output: Any) -> str:
    text = _content_text(output)
    # unified exec wraps the command output: "Chunk ID: ...\n...\nOutput:\n<stdout>"
    marker = "Output:\n"
    if marker in text:
        text = text.split(marker, 1)[1]
    return text


def _tool_names(body: dict[str, Any]) -> set[str]:
    names = set()
    for tool in body.get("tools") or []:
        if isinstance(tool, dict):
            name = tool.get("name") or (tool.get("function") or {}).get("name")
            if isinstance(name, str):
                names.add(name)
    return names


def _shell_call(body: dict[str, Any], command: str) -> tuple[str, str]:
    """Pick the shell tool Codex offers and build its arguments."""
    tools = _tool_names(body)
    if "exec_command" in tools or not tools & {"shell_command", "shell"}:
        return "exec_command", json.dumps({"cmd": command})
    if "shell_command" in tools:
        return "shell_command", json.dumps({"command": command})
    return "shell", json.dumps({"command": ["bash", "-lc", command]})


def plan_reply(body: dict[str, Any], request_number: int) -> dict[str, Any]:
    """Decide the answer to one ``/responses`` body.

    Returns ``{"text": str}`` for a final assistant message or
    ``{"tool_call": {"name", "arguments", "call_id"}}`` for a shell tool call.
    """
    items = body.get("input") or []
    found = _last_user_message(items)
    index, prompt = found if found else (-1, "")
    this_turn = [item for item in items[index + 1 :] if isinstance(item, dict)]
    calls_made = sum(1 for item in this_turn if item.get("type") == "function_call")
    outputs = [item for item in this_turn if item.get("type") == "function_call_output"]

    commands = [command.strip() for command in SHELL_RE.findall(prompt)]
    if calls_made < len(commands):
        name, arguments = _shell_call(body, commands[calls_made])
        call_id = f"call_{uuid.uuid4().hex[:20]}"
        return {"tool_call": {"name": name, "arguments": arguments, "call_id": call_id}}

    reply = REPLY_RE.search(prompt)
    if reply:
        return {"text": reply.group(1).strip()}
    if outputs:
        last = _collapse(_tool_output_text(outputs[-1].get("output")))
        text = f"ran {len(outputs)} command(s). Last output: {last[:OUTPUT_PREVIEW_CHARS]}"
        return {"text": f"Mock reply #{request_number}: {text}"}
    return {"text": f"Mock reply #{request_number}: {_collapse(prompt)}"}


def _frame(event_type: str, data: dict[str, Any]) -> bytes:
    payload = {"type": event_type, **data}
    return f"event: {event_type}\ndata: {json.dumps(payload)}\n\n".encode()


def sse_stream(plan: dict[str, Any], response_id: str | None = None) -> bytes:
    """Encode a :func:`plan_reply` result as the SSE body Codex expects."""
    response_id = response_id or f"resp_{uuid.uuid4().hex[:24]}"
    frames = [
        _frame("response.created", {"response": {"id": response_id, "status": "in_progress"}}),
    ]
    if "tool_call" in plan:
        call = plan["tool_call"]
        item = {
            "type": "function_call",
            "id": f"fc_{uuid.uuid4().hex[:24]}",
            "status": "completed",
            "name": call["name"],
            "arguments": call["arguments"],
            "call_id": call["call_id"],
        }
        frames.append(_frame("response.output_item.done", {"output_index": 0, "item": item}))
        output_tokens = 8
    else:
        text = plan["text"]
        item_id = f"msg_{uuid.uuid4().hex[:24]}"
        started = {
            "type": "message",
            "id": item_id,
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        part = {"type": "output_text", "text": "", "annotations": []}
        frames.append(_frame("response.output_item.added", {"output_index": 0, "item": started}))
        frames.append(
            _frame(
                "response.content_part.added",
                {"item_id": item_id, "output_index": 0, "content_index": 0, "part": part},
            )
        )
        for chunk in re.findall(r"\S+\s*|\s+", text) or [""]:
            frames.append(
                _frame(
                    "response.output_text.delta",
                    {"item_id": item_id, "output_index": 0, "content_index": 0, "delta": chunk},
                )
            )
        frames.append(
            _frame(
                "response.output_text.done",
                {"item_id": item_id, "output_index": 0, "content_index": 0, "text": text},
            )
        )
        done = {
            "type": "message",
            "id": item_id,
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        frames.append(_frame("response.output_item.done", {"output_index": 0, "item": done}))
        output_tokens = max(1, len(text.split()))
    usage = {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 100 + output_tokens,
    }
    completed = {"id": response_id, "status": "completed", "usage": usage}
    frames.append(_frame("response.completed", {"response": completed}))
    return b"".join(frames)


def _decode_body(raw: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "deflate":
        return zlib.decompress(raw)
    if encoding == "zstd":  # optional: only when the zstandard package happens to be present
        import zstandard  # type: ignore[import-not-found,unused-ignore]

        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(raw))
    raise ValueError(f"unsupported content-encoding {encoding!r}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr logging
        pass

    # -- proxy traffic: everything that is not for us is refused and logged ------------
    def do_CONNECT(self) -> None:
        self.server.owner._record_outbound(f"CONNECT {self.path}")
        self._send(403, b"outbound connections are blocked by the interop mock\n", "text/plain")

    def _is_proxied(self) -> bool:
        return self.path.startswith(("http://", "https://"))

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_DELETE(self) -> None:
        self._dispatch(self._read_body())

    def do_POST(self) -> None:
        self._dispatch(self._read_body())

    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        return _decode_body(raw, self.headers.get("content-encoding", ""))

    def _dispatch(self, raw: bytes) -> None:
        owner = self.server.owner
        if self._is_proxied():
            owner._record_outbound(f"{self.command} {self.path}")
            self._send(403, b"outbound requests are blocked by the interop mock\n", "text/plain")
            return
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        record = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        route = self.path.split("?", 1)[0].rstrip("/")
        if self.command == "POST" and route.endswith("/responses") and isinstance(body, dict):
            number = owner._next_response_number()
            plan = plan_reply(body, number)
            record.reply_text = plan.get("text")
            record.tool_call = plan.get("tool_call")
            record.status = 200
            owner._record(record)
            self._send(200, sse_stream(plan), "text/event-stream")
        elif self.command == "GET" and route.endswith("/models"):
            record.status = 200
            owner._record(record)
            self._send(200, json.dumps({"models": []}).encode(), "application/json")
        else:
            record.status = 404
            owner._record(record)
            self._send(404, b'{"error":{"message":"not mocked"}}', "application/json")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, owner: MockResponsesServer, address: tuple[str, int]) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class MockResponsesServer:
    """Loopback Responses API mock; use as a context manager.

    ``base_url`` (``http://127.0.0.1:PORT/v1``) goes into the model provider config;
    ``url`` (no path) is what the Codex processes get as ``HTTPS_PROXY``/``HTTP_PROXY``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the mock only binds the loopback interface")
        self._address = (host, port)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._outbound: list[str] = []
        self._response_count = 0
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> MockResponsesServer:
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._httpd = _Server(self, self._address)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"mock-responses-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> MockResponsesServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    # -- recorded traffic ---------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def response_requests(self) -> list[RecordedRequest]:
        """The ``POST .../responses`` calls only."""
        return [r for r in self.requests if r.method == "POST" and "/responses" in r.path]

    @property
    def outbound_attempts(self) -> list[str]:
        """Requests that tried to leave the machine through the proxy (all refused)."""
        with self._lock:
            return list(self._outbound)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._outbound.clear()

    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(record)

    def _record_outbound(self, what: str) -> None:
        with self._lock:
            self._outbound.append(what)

    def _next_response_number(self) -> int:
        with self._lock:
            self._response_count += 1
            return self._response_count
