"""A stored thread as Codex's app-server shows it: the v2 `Thread` of `thread/list` and
`thread/read`.

Codex answers the two methods slightly differently: a listing leaves `forkedFromId` and
`threadSource` null (only a read fills them in). Fields for surfaces this store does not
keep yet (sections, projects, environments, attachments) are null, as Codex has them for a
thread that uses none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .codec import to_builtins
from .protocol.items import Turn
from .timeutil import to_ms
from .types import StoredThread

__all__ = ["app_server_thread"]


def _seconds(value: Any) -> int:
    return to_ms(value) // 1000


def app_server_thread(
    thread: StoredThread, *, turns: Sequence[Turn] = (), listed: bool = False
) -> dict[str, Any]:
    """The v2 `Thread` JSON object (`listed`: as `thread/list` answers, else as
    `thread/read`), with `turns` as given (Codex lists none)."""
    git = thread.git_info
    return {
        "id": thread.thread_id,
        "environments": None,
        "extra": None,
        "sessionId": thread.session_id,
        "forkedFromId": None if listed else thread.forked_from_id,
        "attachedToThreadId": None,
        "parentThreadId": thread.parent_thread_id,
        "preview": thread.preview,
        "ephemeral": False,
        "section": None,
        "sectionEnteredAt": None,
        "projectId": None,
        "historyMode": thread.history_mode,
        "modelProvider": thread.model_provider,
        "model": thread.model,
        "reasoningEffort": thread.reasoning_effort,
        "createdAt": _seconds(thread.created_at),
        "updatedAt": _seconds(thread.updated_at),
        "recencyAt": _seconds(thread.recency_at),
        "status": {"type": "notLoaded"},
        "path": thread.rollout_path,
        "cwd": thread.cwd,
        "cliVersion": thread.cli_version,
        "originator": thread.originator,
        "source": thread.source.to_app_server(),
        "canAcceptDirectInput": None,
        "threadSource": None if listed else thread.thread_source,
        "agentNickname": thread.agent_nickname,
        "agentRole": thread.agent_role,
        "gitInfo": None
        if git is None or git.is_empty()
        else {"sha": git.commit_hash, "branch": git.branch, "originUrl": git.repository_url},
        "name": thread.name,
        "daybreakEnabled": None,
        "turns": to_builtins(list(turns)),
    }
