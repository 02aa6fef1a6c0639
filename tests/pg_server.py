"""Throwaway PostgreSQL servers for the tests: `initdb` + `pg_ctl` in a temporary folder
on a free localhost port. Nothing here assumes a running system service.

The binaries come from `$CODEX_TEST_PG_BIN`, else `PATH`, else the newest
`/usr/lib/postgresql/*/bin` (Debian's layout; `scripts/test.sh` installs the
`postgresql` package when they are missing). PostgreSQL refuses to run as root, so
under root the server runs as the `postgres` user the Debian package creates.

When no server can be started the tests that need one *fail* with the reason:
a missing database must never turn into silently skipped coverage.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

__all__ = ["PgServer", "PgServerUnavailable", "conformance_dsn", "shared_server", "stop_shared"]

CONFORMANCE_DB = "codex_conformance"


class PgServerUnavailable(RuntimeError):
    """No PostgreSQL server could be started for the tests."""


def _find_bin_dir() -> Path:
    explicit = os.environ.get("CODEX_TEST_PG_BIN")
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise PgServerUnavailable(
        "PostgreSQL's initdb/pg_ctl were not found (looked at $CODEX_TEST_PG_BIN, PATH and "
        "/usr/lib/postgresql/*/bin). Install them (Debian: apt-get install -y postgresql; "
        "scripts/test.sh does this) or point CODEX_TEST_PG_BIN at their folder"
    )


def _server_user() -> str | None:
    """The user to run the server as: None for the current one, `postgres` under root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise PgServerUnavailable(
            "the tests run as root and PostgreSQL refuses to; create a `postgres` user "
            "(the Debian postgresql package does) or run the tests as another user"
        ) from None
    return "postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """One PostgreSQL cluster in its own temporary folder. `start()` before use."""

    bin_dir: Path = field(default_factory=_find_bin_dir)
    user: str | None = field(default_factory=_server_user)
    port: int = field(default_factory=_free_port)
    durable: bool = False
    """Keep PostgreSQL's fsync on (benchmarks); tests turn it off for speed."""
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        # Not under pytest's tmp_path: that is private to root, and the server may run
        # as another user.
        self.root = Path(tempfile.mkdtemp(prefix="codex-pg-"))
        if self.user is not None:
            shutil.chown(self.root, user=self.user)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            user=self.user,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise PgServerUnavailable(
                f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()}\n"
                f"server log tail:\n{tail}"
            )

    def start(self) -> PgServer:
        if not (self.data / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-locale",
            )
        # fsync off: a crash of the *machine* is not under test; a killed server still
        # keeps every commit (the WAL is in the OS cache), which is what the tests need.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections=300"
        )
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        """Stop (dropping every client connection) and start again on the same port."""
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(PgServerUnavailable):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create an empty database (if missing) and return its URL."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.dsn(name)


_lock = threading.Lock()
_shared: PgServer | None = None
_shared_error: PgServerUnavailable | None = None


def shared_server() -> PgServer:
    """The one server every test in this process shares (started on first use)."""
    global _shared, _shared_error
    with _lock:
        if _shared_error is not None:
            raise _shared_error
        if _shared is None:
            try:
                _shared = PgServer().start()
            except PgServerUnavailable as exc:
                _shared_error = exc
                raise
            atexit.register(stop_shared)
        return _shared


_conformance_dsn: str | None = None


def conformance_dsn() -> str:
    """The database the conformance suite's postgres backend uses (one owner per test)."""
    global _conformance_dsn
    if _conformance_dsn is None:
        _conformance_dsn = shared_server().create_database(CONFORMANCE_DB)
    return _conformance_dsn


def stop_shared() -> None:
    global _shared, _conformance_dsn
    with _lock:
        server, _shared, _conformance_dsn = _shared, None, None
    if server is not None:
        server.destroy()
