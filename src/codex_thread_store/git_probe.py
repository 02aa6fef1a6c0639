"""Collect git facts for a thread's cwd, off the event loop, never failing the caller."""

from __future__ import annotations

import asyncio
import os

from .protocol.session_meta import GitInfo

__all__ = ["collect_git_info"]

_TIMEOUT_S = 5.0


async def _git(cwd: str, *args: str) -> str | None:
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except OSError:
        return None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), _TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None
    if proc.returncode != 0:
        return None
    text = out.decode(errors="replace").strip()
    return text or None


async def collect_git_info(cwd: str | None) -> GitInfo | None:
    """Commit, branch and origin URL of the repository holding `cwd`; None outside git."""
    if not cwd or not await asyncio.to_thread(os.path.isdir, cwd):
        return None
    if await _git(cwd, "rev-parse", "--is-inside-work-tree") != "true":
        return None
    sha, branch, origin = await asyncio.gather(
        _git(cwd, "rev-parse", "HEAD"),
        _git(cwd, "symbolic-ref", "--short", "-q", "HEAD"),
        _git(cwd, "config", "--get", "remote.origin.url"),
    )
    info = GitInfo(commit_hash=sha, branch=branch, repository_url=origin)
    return None if info.is_empty() else info
