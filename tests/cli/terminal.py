"""Running the installed `codex-threads` script as a subprocess, piped or on a pseudo-terminal.

The terminal runs read the child's output with `select` until it exits; a prompt is
answered as soon as its text appears. Nothing waits on a timer except the overall
deadline that turns a hang into a failure.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "codex-threads"
DEADLINE_S = 60.0


_DROPPED = ("CODEX_THREADS_STORE", "CODEX_THREADS_DEBUG", "NO_COLOR", "COLUMNS", "LINES")


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment, without settings that would change the output."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


@dataclass
class Run:
    code: int
    output: str


def run_piped(
    args: Sequence[str], *, input: bytes = b"", **env: str
) -> subprocess.CompletedProcess[bytes]:
    """The script with stdin, stdout and stderr all pipes (no terminal anywhere)."""
    return subprocess.run(
        [str(SCRIPT), *args],
        input=input,
        capture_output=True,
        env=child_env(**env),
        timeout=DEADLINE_S,
        check=False,
    )


def run_on_terminal(
    args: Sequence[str],
    *,
    answers: Sequence[tuple[str, str]] = (),
    columns: int = 140,
    **env: str,
) -> Run:
    """The script with stdin, stdout and stderr on one pseudo-terminal.

    `answers` are (prompt text, reply) pairs: each reply is typed once its prompt shows.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [str(SCRIPT), *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=child_env(**env),
        close_fds=True,
    )
    os.close(slave)
    pending = list(answers)
    chunks: list[bytes] = []
    deadline = time.monotonic() + DEADLINE_S
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"codex-threads {args} hung; output: {b''.join(chunks)!r}")
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
            seen = b"".join(chunks).decode(errors="replace")
            if pending and pending[0][0] in seen:
                os.write(master, pending.pop(0)[1].encode())
    finally:
        os.close(master)
    code = proc.wait(timeout=DEADLINE_S)
    return Run(code, b"".join(chunks).decode(errors="replace"))


def strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", text)
