"""Drive the real Codex CLI offline: locate it, configure a home, run ``exec``, talk to app-server.

Everything here runs the binary from the ``openai-codex-cli-bin`` wheel (pinned in
``pyproject.toml``'s ``interop`` extra) against ``mock_responses.MockResponsesServer`` on
127.0.0.1. Every Codex process gets the mock as its HTTP(S) proxy with
``NO_PROXY=127.0.0.1,localhost``, so only loopback traffic succeeds; anything else is
refused and shows up in ``server.outbound_attempts``.

Typical use::

    with MockResponsesServer() as server:
        cli = CodexCli(tmp_path / "codex-home", server)      # writes config.toml
        result = cli.exec("hello [[reply: hi]]", cwd=workdir)
        with cli.app_server() as app:
            threads = app.thread_list_all()
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .mock_responses import MockResponsesServer

__all__ = [
    "ALL_SOURCE_KINDS",
    "CODEX_BIN_ENV",
    "NPM_CODEX_BIN_ENV",
    "NPM_CODEX_VERSION",
    "AppServer",
    "AppServerError",
    "CodexCli",
    "CodexNotFound",
    "CodexResult",
    "codex_env",
    "codex_version",
    "copy_codex_home",
    "find_codex",
    "find_npm_codex",
    "relocate_rollout_paths",
    "render_config",
    "write_config",
]

#: Set this to a codex executable to test another build than the pinned wheel's.
CODEX_BIN_ENV = "CODEX_THREAD_STORE_CODEX_BIN"
#: Set this to the npm build's codex executable when it is not in `<repo>/.codex-npm`.
NPM_CODEX_BIN_ENV = "CODEX_THREAD_STORE_NPM_CODEX_BIN"
#: The npm release the interop tests run beside the pinned PyPI wheel (the newest Codex).
NPM_CODEX_VERSION = "0.171.0"
#: Where `scripts/test.sh` installs `@openai/codex@NPM_CODEX_VERSION` (npm --prefix).
NPM_PREFIX = Path(__file__).resolve().parents[2] / ".codex-npm"

#: Every ``ThreadSourceKind``; ``thread/list`` hides ``exec`` threads when the filter is omitted.
ALL_SOURCE_KINDS = (
    "cli",
    "vscode",
    "exec",
    "appServer",
    "subAgent",
    "subAgentReview",
    "subAgentCompact",
    "subAgentThreadSpawn",
    "subAgentOther",
    "unknown",
)

DEFAULT_TIMEOUT = 30.0


class CodexNotFound(FileNotFoundError):
    """No codex executable could be located."""


# -- locating the binary ---------------------------------------------------------------------


def _codex_cli_bin() -> Any:
    """The ``codex_cli_bin`` module of the ``openai-codex-cli-bin`` wheel, if installed."""
    try:
        import codex_cli_bin  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return None
    return codex_cli_bin


def _bundled_codex() -> Path | None:
    module = _codex_cli_bin()
    if module is None:
        return None
    try:
        return Path(module.bundled_codex_path())
    except FileNotFoundError:
        return None


def _bundled_path_dir() -> Path | None:
    """Helper tools shipped in the wheel (``rg``), put first on the child's PATH."""
    module = _codex_cli_bin()
    found = module.bundled_path_dir() if module is not None else None
    return Path(found) if found else None


def find_codex() -> Path:
    """Locate the codex executable.

    Order: ``$CODEX_THREAD_STORE_CODEX_BIN``; the ``openai-codex-cli-bin`` wheel installed in
    this interpreter (``codex_cli_bin.bundled_codex_path()``, which lives in site-packages,
    not in ``.venv/bin``); then ``codex`` on this interpreter's ``bin`` directory or ``PATH``.
    """
    override = os.environ.get(CODEX_BIN_ENV)
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise CodexNotFound(f"${CODEX_BIN_ENV}={override!r} is not an executable file")
        return path
    bundled = _bundled_codex()
    if bundled is not None:
        return bundled
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("codex", path=search)
    if found:
        return Path(found)
    raise CodexNotFound(
        "codex not found: pip install 'openai-codex-cli-bin==0.163.0' "
        f"(the project's [interop] extra) or set ${CODEX_BIN_ENV}"
    )


def find_npm_codex() -> Path:
    """The executable of `@openai/codex@NPM_CODEX_VERSION` from the npm registry:
    ``$CODEX_THREAD_STORE_NPM_CODEX_BIN``, else the platform package `scripts/test.sh`
    installs under ``.codex-npm/``."""
    override = os.environ.get(NPM_CODEX_BIN_ENV)
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise CodexNotFound(f"${NPM_CODEX_BIN_ENV}={override!r} is not an executable file")
        return path
    vendored = sorted((NPM_PREFIX / "node_modules" / "@openai").glob("codex-*/vendor/*/bin/codex"))
    if vendored:
        return vendored[0]
    raise CodexNotFound(
        f"codex {NPM_CODEX_VERSION} from npm not found under {NPM_PREFIX}: run "
        f"`npm install --prefix .codex-npm @openai/codex@{NPM_CODEX_VERSION}` "
        f"(bash scripts/test.sh does) or set ${NPM_CODEX_BIN_ENV}"
    )


def codex_version(binary: Path | None = None) -> str:
    """``codex --version`` without the ``codex-cli`` prefix, e.g. ``"0.163.0"``."""
    out = subprocess.run(
        [str(binary or find_codex()), "--version"],
        capture_output=True,
        text=True,
        timeout=DEFAULT_TIMEOUT,
        check=True,
        stdin=subprocess.DEVNULL,
    ).stdout.strip()
    return out.rsplit(" ", 1)[-1]


# -- config and environment ------------------------------------------------------------------

_CONFIG_TEMPLATE = """\
# Written by tests/interop/codex_cli.py: the real Codex CLI against a loopback mock.
model = "{model}"
model_provider = "{provider}"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"

[model_providers.{provider}]
name = "Mock Responses"
base_url = "{base_url}"
wire_api = "responses"
env_key = "MOCK_API_KEY"
request_max_retries = 0
stream_max_retries = 0
stream_idle_timeout_ms = 20000

# Features that reach the network (plugin marketplace git sync, remote plugins, ChatGPT
# apps, ...) are off: with them on, Codex tries github.com and chatgpt.com even with a
# custom model provider.
[features]
plugins = false
remote_plugin = false
apps = false
plugin_sharing = false
tool_suggest = false
skill_search = false
image_generation = false
browser_use = false
browser_use_external = false
computer_use = false
in_app_browser = false
code_mode_host = false
"""


def render_config(base_url: str, *, model: str = "mock-model", provider: str = "mock") -> str:
    """The ``config.toml`` text that points Codex at a mock Responses server."""
    if not base_url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"refusing a non-loopback model provider URL: {base_url!r}")
    return _CONFIG_TEMPLATE.format(base_url=base_url, model=model, provider=provider)


def write_config(codex_home: Path, base_url: str, **options: str) -> Path:
    """Write (or overwrite) ``codex_home/config.toml``; returns its path."""
    codex_home.mkdir(parents=True, exist_ok=True)
    path = codex_home / "config.toml"
    path.write_text(render_config(base_url, **options), encoding="utf-8")
    return path


_PASSTHROUGH_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "USER", "LOGNAME", "SHELL")


def codex_env(
    codex_home: Path,
    proxy_url: str,
    *,
    home: Path | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A minimal, hermetic environment for a Codex child process.

    Nothing from the caller's environment leaks in except PATH and locale basics (no
    ``OPENAI_API_KEY``, no ``CODEX_*``). ``HOME`` is ``home`` or ``<codex_home>/../user-home``.
    """
    home = home or codex_home.parent / "user-home"
    home.mkdir(parents=True, exist_ok=True)
    path_parts = [os.environ.get("PATH", "/usr/bin:/bin")]
    bundled = _bundled_path_dir()
    if bundled is not None:
        path_parts.insert(0, str(bundled))
    env = {key: os.environ[key] for key in _PASSTHROUGH_ENV if key in os.environ}
    env.update(
        {
            "PATH": os.pathsep.join(path_parts),
            "HOME": str(home),
            "CODEX_HOME": str(codex_home),
            "MOCK_API_KEY": "mock-key",  # the provider's env_key; any non-empty value
            "HTTPS_PROXY": proxy_url,
            "HTTP_PROXY": proxy_url,
            "ALL_PROXY": proxy_url,
            "https_proxy": proxy_url,
            "http_proxy": proxy_url,
            "all_proxy": proxy_url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "RUST_LOG": "error",
            "NO_COLOR": "1",
        }
    )
    env.update(extra or {})
    return env


# -- codex exec --------------------------------------------------------------------------------


@dataclass
class CodexResult:
    """The outcome of one CLI invocation."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    duration: float

    @property
    def events(self) -> list[dict[str, Any]]:
        """The ``--json`` event lines of ``codex exec`` (non-JSON lines skipped)."""
        events = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue
        return events

    @property
    def thread_id(self) -> str | None:
        for event in self.events:
            if event.get("type") == "thread.started":
                return str(event["thread_id"])
        return None

    @property
    def agent_messages(self) -> list[str]:
        return [
            str(event["item"].get("text", ""))
            for event in self.events
            if event.get("type") == "item.completed"
            and event.get("item", {}).get("type") == "agent_message"
        ]

    def check(self) -> CodexResult:
        if self.returncode != 0:
            raise subprocess.CalledProcessError(
                self.returncode, self.args, output=self.stdout, stderr=self.stderr
            )
        return self


class CodexCli:
    """A Codex home wired to a mock server, plus ways to run the CLI against it.

    With ``write=True`` (default) the home's ``config.toml`` is (re)written to point at
    ``server``; every run uses :func:`codex_env`.
    """

    def __init__(
        self,
        codex_home: Path,
        server: MockResponsesServer,
        *,
        home: Path | None = None,
        binary: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        write: bool = True,
    ) -> None:
        self.codex_home = Path(codex_home)
        self.server = server
        self.binary = binary or find_codex()
        self.timeout = timeout
        if write:
            write_config(self.codex_home, server.base_url)
        self.env = codex_env(self.codex_home, server.url, home=home)

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> CodexResult:
        """Run ``codex <args>`` with stdin from /dev/null; kill it after ``timeout``.

        ``cwd`` defaults to the child's ``HOME`` (never the Codex home itself).
        """
        argv = [str(self.binary), *args]
        started = time.monotonic()
        proc = subprocess.run(
            argv,
            cwd=cwd or self.env["HOME"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout or self.timeout,
        )
        result = CodexResult(
            argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started
        )
        return result.check() if check else result

    def exec(
        self,
        prompt: str,
        *,
        cwd: Path | None = None,
        extra_args: Sequence[str] = (),
        timeout: float | None = None,
        check: bool = True,
    ) -> CodexResult:
        """``codex exec --json --skip-git-repo-check [extra_args] -- <prompt>``.

        The ``--`` keeps a prompt that starts with ``-`` from being read as an option.
        """
        args = ["exec", "--json", "--skip-git-repo-check", *extra_args, "--", prompt]
        return self.run(*args, cwd=cwd, timeout=timeout, check=check)

    def exec_resume(
        self,
        thread_id: str,
        prompt: str,
        *,
        cwd: Path | None = None,
        extra_args: Sequence[str] = (),
        timeout: float | None = None,
        check: bool = True,
    ) -> CodexResult:
        """``codex exec resume <id> --json --skip-git-repo-check [extra_args] -- <prompt>``."""
        args = ["exec", "resume", thread_id, "--json", "--skip-git-repo-check", *extra_args]
        return self.run(*args, "--", prompt, cwd=cwd, timeout=timeout, check=check)

    def app_server(self, **options: Any) -> AppServer:
        """An (unstarted) :class:`AppServer` on this home; use it in a ``with`` block."""
        return AppServer(self.codex_home, env=self.env, binary=self.binary, **options)

    def rollout_files(self) -> list[Path]:
        return sorted((self.codex_home / "sessions").rglob("rollout-*.jsonl"))


# -- app-server over stdio -------------------------------------------------------------------


class AppServerError(RuntimeError):
    """A JSON-RPC error answer (or a dead/unresponsive app-server)."""

    def __init__(self, method: str, code: int | None, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method = method
        self.code = code
        self.message = message
        self.data = data


_EOF = object()


class AppServer:
    """``codex app-server`` over stdio, newline-delimited JSON-RPC without ``"jsonrpc"``.

    ``with AppServer(home, env=...) as app:`` spawns the process, sends ``initialize`` and
    the ``initialized`` notification; leaving the block closes stdin and terminates it.
    Server-initiated requests (approvals, ...) are answered with a -32601 error.
    """

    def __init__(
        self,
        codex_home: Path,
        *,
        env: Mapping[str, str],
        binary: Path | None = None,
        cwd: Path | None = None,
        timeout: float = 20.0,
        client_name: str = "codex-thread-store-interop",
        client_version: str = "0.1.0",
        experimental_api: bool = False,
        args: Sequence[str] = (),
    ) -> None:
        self.codex_home = Path(codex_home)
        self.env = dict(env)
        self.binary = binary or find_codex()
        self.cwd = cwd or self.codex_home
        self.timeout = timeout
        self.client_info = {"name": client_name, "version": client_version}
        self.experimental_api = experimental_api
        self.args = list(args)
        self.initialize_result: dict[str, Any] | None = None
        self.notifications: list[dict[str, Any]] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._next_id = 0
        self._pending: dict[int, queue.Queue[Any]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stderr: list[bytes] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> AppServer:
        if self._proc is not None:
            raise RuntimeError("app-server already started")
        self._proc = subprocess.Popen(
            [str(self.binary), "app-server", *self.args],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for target, name in ((self._read_stdout, "stdout"), (self._read_stderr, "stderr")):
            thread = threading.Thread(target=target, name=f"app-server-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        try:
            capabilities: dict[str, Any] = {"experimentalApi": self.experimental_api}
            self.initialize_result = self.request(
                "initialize", {"clientInfo": self.client_info, "capabilities": capabilities}
            )
            self.notify("initialized")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        self._fail_pending()

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def stderr_text(self) -> str:
        with self._lock:
            return b"".join(self._stderr).decode("utf-8", "replace")

    # -- wire ----------------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise AppServerError(str(message.get("method")), None, "app-server is not running")
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")
        with self._write_lock:
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except (BrokenPipeError, ValueError) as exc:
                raise AppServerError(
                    str(message.get("method")), None, f"app-server stdin closed: {exc}"
                ) from exc

    def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"method": method}
        if params is not None:
            message["params"] = dict(params)
        self._send(message)

    def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Send one request and return its ``result``; raise :class:`AppServerError` on error."""
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            answer: queue.Queue[Any] = queue.Queue(maxsize=1)
            self._pending[request_id] = answer
        message: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None:
            message["params"] = dict(params)
        try:
            self._send(message)
            try:
                response = answer.get(timeout=timeout or self.timeout)
            except queue.Empty:
                raise AppServerError(
                    method, None, f"no answer within {timeout or self.timeout}s"
                ) from None
        finally:
            with self._lock:
                self._pending.pop(request_id, None)
        if response is _EOF:
            raise AppServerError(
                method, None, f"app-server exited; stderr tail: {self.stderr_text[-2000:]}"
            )
        if "error" in response:
            error = response["error"] or {}
            raise AppServerError(
                method, error.get("code"), str(error.get("message")), error.get("data")
            )
        return response.get("result")

    def _read_stdout(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        for raw in proc.stdout:
            line = raw.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                with self._lock:
                    self._stderr.append(b"[non-JSON stdout] " + raw)
                continue
            if not isinstance(message, dict):
                continue
            if "method" in message and "id" in message:
                self._refuse_server_request(message)
            elif "method" in message:
                with self._lock:
                    self.notifications.append(message)
            elif "id" in message:
                with self._lock:
                    waiter = self._pending.get(message["id"])
                if waiter is not None:
                    waiter.put(message)
        self._fail_pending()

    def _refuse_server_request(self, message: dict[str, Any]) -> None:
        reply = {
            "id": message["id"],
            "error": {"code": -32601, "message": "not supported by the interop test client"},
        }
        with suppress(AppServerError):
            self._send(reply)

    def _read_stderr(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stderr is not None
        for raw in proc.stderr:
            with self._lock:
                self._stderr.append(raw)

    def _fail_pending(self) -> None:
        with self._lock:
            waiters = list(self._pending.values())
        for waiter in waiters:
            with suppress(queue.Full):
                waiter.put_nowait(_EOF)

    # -- thread/* helpers ------------------------------------------------------------------
    def thread_list(self, **params: Any) -> dict[str, Any]:
        """One ``thread/list`` page. Unless given, every source kind and every model
        provider is included (the server's defaults hide ``exec`` threads and other
        providers), with ``limit=100`` (the server's cap)."""
        params.setdefault("sourceKinds", list(ALL_SOURCE_KINDS))
        params.setdefault("modelProviders", [])
        params.setdefault("limit", 100)
        result: dict[str, Any] = self.request("thread/list", params)
        return result

    def iter_threads(self, **params: Any) -> Iterator[dict[str, Any]]:
        """Every thread, following ``nextCursor``."""
        cursor = params.pop("cursor", None)
        while True:
            page = self.thread_list(cursor=cursor, **params)
            yield from page.get("data", [])
            cursor = page.get("nextCursor")
            if not cursor:
                return

    def thread_list_all(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.iter_threads(**params))

    def thread_read(self, thread_id: str, *, include_turns: bool = False) -> dict[str, Any]:
        """``thread/read``; returns the whole result (``{"thread": ..., ...}``)."""
        result: dict[str, Any] = self.request(
            "thread/read", {"threadId": thread_id, "includeTurns": include_turns}
        )
        return result

    def thread_turns_list(self, thread_id: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "thread/turns/list", {"threadId": thread_id, **params}
        )
        return result


# -- copying a Codex home ------------------------------------------------------------------


def copy_codex_home(src: Path, dst: Path, *, old_prefix: str | None = None) -> int:
    """Copy a Codex home (e.g. the read-only corpus) to ``dst`` and make it usable there.

    Files come out writable; empty ``-wal`` files and ``-shm`` files are skipped (the
    corpus is checkpointed). If ``old_prefix`` (the home's original absolute path) is
    given, ``threads.rollout_path`` is rewritten to ``dst``. Returns the rows rewritten.
    """

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            full = Path(directory) / name
            if name.endswith("-shm") or (name.endswith("-wal") and full.stat().st_size == 0):
                skipped.add(name)
        return skipped

    shutil.copytree(src, dst, ignore=ignore, copy_function=shutil.copyfile)
    for path in [dst, *dst.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return relocate_rollout_paths(dst, old_prefix) if old_prefix else 0


def relocate_rollout_paths(codex_home: Path, old_prefix: str) -> int:
    """Rewrite ``state_5.sqlite`` ``threads.rollout_path`` values from ``old_prefix`` to
    ``codex_home``; returns the number of rows changed."""
    old = old_prefix.rstrip("/") + "/"
    new = str(codex_home).rstrip("/") + "/"
    db = codex_home / "state_5.sqlite"
    with closing(sqlite3.connect(db)) as conn, conn:
        cursor = conn.execute(
            "UPDATE threads SET rollout_path = ? || substr(rollout_path, ?) "
            "WHERE substr(rollout_path, 1, ?) = ?",
            (new, len(old) + 1, len(old), old),
        )
        return cursor.rowcount
