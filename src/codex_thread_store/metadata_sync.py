"""`ThreadMetadataSync`: derives metadata patches from canonical history. Pure: no I/O.

One instance per live thread. It merges everything it derives into one
pending patch with a generation counter; the caller applies the patch and then
calls `mark_pending_update_applied`, which clears it only if nothing new was
merged meanwhile. A failed apply therefore leaves the patch pending for the
next barrier to retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from msgspec import UNSET

from ._version import __version__
from .patch import GitInfoPatch, ThreadMetadataPatch, TokenUsage
from .protocol.messages import user_message
from .protocol.rollout import RolloutItem
from .protocol.session_meta import GitInfo, SessionMeta
from .timeutil import parse_timestamp, utc_now
from .types import CreateThreadParams

__all__ = ["DEFAULT_TOUCH_INTERVAL_S", "PendingUpdate", "ThreadMetadataSync", "preview_text"]

DEFAULT_TOUCH_INTERVAL_S: Final = 5.0
REQUEST_MARKER: Final = "## My request for Codex:"
IMAGE_PLACEHOLDER: Final = "[Image]"
_TURN_STARTS: Final = frozenset({"task_started", "turn_started"})


@dataclass(frozen=True, slots=True)
class PendingUpdate:
    """A copy of the pending patch and the generation it was taken at."""

    patch: ThreadMetadataPatch
    generation: int


def _strip_request(text: str) -> str:
    at = text.find(REQUEST_MARKER)
    if at >= 0:
        text = text[at + len(REQUEST_MARKER) :]
    return text.strip()


def preview_text(text: str, has_images: bool) -> str | None:
    """The preview a user message gives: text after Codex's request marker, trimmed;
    `[Image]` for an image-only message; None when there is nothing."""
    stripped = _strip_request(text)
    if stripped:
        return stripped
    return IMAGE_PLACEHOLDER if has_images else None


def _affects_metadata(item: RolloutItem) -> bool:
    if item.type in ("session_meta", "turn_context"):
        return True
    if item.type != "event_msg":
        return False
    tag = item.payload_type
    if tag in ("token_count", "user_message", "thread_goal_updated", "thread_settings_applied"):
        return True
    return tag == "item_completed" and user_message(item) is not None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _nested(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


class ThreadMetadataSync:
    """Per-thread metadata derivation; see core-api sections 5.2 and 5.3 for the rules it follows.

    Args:
        thread_id: the thread whose `session_meta` counts (copies from fork sources
            carry other ids and are ignored).
        touch_interval_s: at most one bare `updated_at` patch is sent per interval.
        clock: the wall clock for `updated_at`/`recency_at` values.
        monotonic: the clock for the touch debounce.
    """

    def __init__(
        self,
        thread_id: str,
        *,
        history_mode: str = "legacy",
        touch_interval_s: float = DEFAULT_TOUCH_INTERVAL_S,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.thread_id = thread_id
        self.history_mode = history_mode
        self._touch_interval_s = touch_interval_s
        self._clock = clock
        self._monotonic = monotonic
        self._pending: ThreadMetadataPatch | None = None
        self._generation = 0
        self._last_touch_persisted: float | None = None
        self.cwd_seen = False
        self.preview_seen = False
        self.first_user_message_seen = False
        self.title_seen = False
        self._defer_create = False
        self._defer_resume = False

    # -- construction -------------------------------------------------------------
    @classmethod
    def for_create(
        cls,
        params: CreateThreadParams,
        *,
        git_info: GitInfo | None = None,
        **options: Any,
    ) -> ThreadMetadataSync:
        """Hold back the create patch until the thread has history (or is persisted)."""
        sync = cls(params.thread_id, history_mode=params.history_mode or "legacy", **options)
        now = sync._clock()
        source = params.source
        cwd = params.metadata.cwd or ""
        git = git_info if git_info is not None else params.git_info
        sync._pending = ThreadMetadataPatch(
            model_provider=params.metadata.model_provider,
            created_at=now,
            updated_at=now,
            source=source,
            thread_source=None if params.thread_source is None else str(params.thread_source),
            agent_nickname=source.agent_nickname,
            agent_role=source.agent_role,
            agent_path=source.agent_path,
            cwd=cwd,
            cli_version=params.cli_version or __version__,
            git_info=(
                GitInfoPatch.set_all(git) if git is not None and not git.is_empty() else UNSET
            ),
            memory_mode=params.metadata.memory_mode,
            originator=params.originator or UNSET,
        )
        sync._generation = 1
        sync.cwd_seen = bool(cwd)
        sync._defer_create = True
        return sync

    @classmethod
    def for_resume(
        cls,
        thread_id: str,
        history: Iterable[RolloutItem] | None = None,
        **options: Any,
    ) -> ThreadMetadataSync:
        """Replay `history` without counting it as an update; defer until the next append."""
        sync = cls(thread_id, **options)
        items = list(history or ())
        if items:
            patch = sync._derive(items)
            if sync.history_mode == "paginated":
                patch = patch.without("git_info", "memory_mode")
            if not patch.is_empty():
                sync._merge(patch)
                sync._defer_resume = True
        return sync

    # -- pending state ------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    def _merge(self, patch: ThreadMetadataPatch) -> None:
        self._pending = patch if self._pending is None else self._pending.merge(patch)
        self._generation += 1

    def take_pending_update(self) -> PendingUpdate | None:
        """The pending patch (not cleared: a failed apply can be retried)."""
        if self._pending is None or self._pending.is_empty():
            return None
        return PendingUpdate(self._pending, self._generation)

    def take_pending_update_for_existing_history(self) -> PendingUpdate | None:
        """Like `take_pending_update`, but nothing while create/resume metadata is held back."""
        if self._defer_create or self._defer_resume:
            return None
        return self.take_pending_update()

    def mark_pending_update_applied(self, taken: PendingUpdate) -> None:
        """Clear the pending patch if nothing was merged since `taken`."""
        if taken.patch.updated_at is not UNSET:
            self._last_touch_persisted = self._monotonic()
        if taken.generation == self._generation:
            self._pending = None

    # -- observation --------------------------------------------------------------
    def observe_appended_items(self, items: Iterable[RolloutItem]) -> PendingUpdate | None:
        """Merge what `items` (canonical) imply into the pending patch.

        Returns the whole pending patch to send now, or None when it is a bare
        `updated_at` touch inside the debounce window (it stays pending).
        """
        items = list(items)
        self._defer_create = False
        self._defer_resume = False
        now = self._clock()
        affects = any(_affects_metadata(i) for i in items)
        if affects:
            patch = self._derive(items)
            patch = ThreadMetadataPatch(updated_at=now).merge(patch)
        else:
            patch = ThreadMetadataPatch(updated_at=now)
        if any(i.type == "event_msg" and i.payload_type in _TURN_STARTS for i in items):
            patch = patch.merge(ThreadMetadataPatch(advance_recency_at=now))
        self._merge(patch)
        assert self._pending is not None
        if (
            not affects
            and not self._pending.has_metadata_fact()
            and self._last_touch_persisted is not None
            and self._monotonic() - self._last_touch_persisted < self._touch_interval_s
        ):
            return None
        return PendingUpdate(self._pending, self._generation)

    def _derive(self, items: list[RolloutItem]) -> ThreadMetadataPatch:
        fields: dict[str, Any] = {}
        for item in items:
            if item.type == "session_meta":
                self._from_session_meta(item, fields)
            elif item.type == "turn_context":
                self._from_turn_context(item.payload, fields)
            elif item.type == "event_msg":
                self._from_event(item, fields)
        return ThreadMetadataPatch(**fields)

    def _from_session_meta(self, item: RolloutItem, fields: dict[str, Any]) -> None:
        meta = item.as_session_meta()
        if meta is None or meta.id != self.thread_id:
            return
        created = parse_timestamp(meta.timestamp)
        if created is None:
            fields.pop("created_at", None)  # a bad timestamp cancels an earlier one
        else:
            fields["created_at"] = created
        fields["source"] = meta.source
        fields["thread_source"] = None if meta.thread_source is None else str(meta.thread_source)
        fields["agent_nickname"] = meta.agent_nickname
        fields["agent_role"] = meta.agent_role
        fields["agent_path"] = meta.agent_path
        if meta.model_provider:
            fields["model_provider"] = meta.model_provider
        if meta.cli_version:
            fields["cli_version"] = meta.cli_version
        if meta.cwd:
            fields["cwd"] = meta.cwd
            self.cwd_seen = True
        git = SessionMeta.git_from_payload(item.payload)
        if git is not None:
            previous = fields.get("git_info")
            patch = GitInfoPatch.set_all(git)
            fields["git_info"] = (
                previous.merge(patch) if isinstance(previous, GitInfoPatch) else patch
            )
        if meta.memory_mode in ("enabled", "disabled"):
            fields["memory_mode"] = meta.memory_mode
        if meta.originator:
            fields["originator"] = meta.originator
        self.history_mode = meta.history_mode

    def _from_turn_context(self, payload: Any, fields: dict[str, Any]) -> None:
        if not isinstance(payload, dict):
            return
        cwd = _str(payload.get("cwd"))
        if cwd and not self.cwd_seen:
            fields["cwd"] = cwd
            self.cwd_seen = True
        model = _str(payload.get("model"))
        if model:
            fields["model"] = model
        effort = _str(payload.get("effort")) or _str(
            _nested(payload, "collaboration_mode", "settings", "reasoning_effort")
        )
        if effort:
            fields["reasoning_effort"] = effort
        if payload.get("approval_policy") is not None:
            fields["approval_mode"] = payload["approval_policy"]
        if payload.get("permission_profile") is not None:
            fields["permission_profile"] = payload["permission_profile"]

    def _from_event(self, item: RolloutItem, fields: dict[str, Any]) -> None:
        payload = item.payload if isinstance(item.payload, dict) else {}
        tag = item.payload_type
        message = user_message(item)
        if message is not None:
            preview = preview_text(message.text, message.has_images)
            if preview is not None:
                if not self.first_user_message_seen:
                    fields["first_user_message"] = preview
                    self.first_user_message_seen = True
                if not self.preview_seen:
                    fields["preview"] = preview
                    self.preview_seen = True
            title = _strip_request(message.text)
            if title and not self.title_seen:
                fields["title"] = title
                self.title_seen = True
        elif tag == "token_count":
            usage = TokenUsage.from_json(_nested(payload, "info", "total_token_usage"))
            if usage is not None:
                fields["token_usage"] = usage
        elif tag == "thread_goal_updated":
            objective = _str(_nested(payload, "goal", "objective"))
            if objective and objective.strip() and not self.preview_seen:
                fields["preview"] = objective.strip()
                self.preview_seen = True
        elif tag == "thread_settings_applied":
            self._from_settings(payload.get("thread_settings"), fields)

    def _from_settings(self, settings: Any, fields: dict[str, Any]) -> None:
        if not isinstance(settings, dict):
            return
        if _str(settings.get("model")):
            fields["model"] = settings["model"]
        provider = _str(settings.get("model_provider_id")) or _str(settings.get("model_provider"))
        if provider:
            fields["model_provider"] = provider
        effort = _str(settings.get("reasoning_effort")) or _str(
            _nested(settings, "collaboration_mode", "settings", "reasoning_effort")
        )
        if effort:
            fields["reasoning_effort"] = effort
        if _str(settings.get("cwd")):
            fields["cwd"] = settings["cwd"]
            self.cwd_seen = True
        if settings.get("approval_policy") is not None:
            fields["approval_mode"] = settings["approval_policy"]
        if settings.get("permission_profile") is not None:
            fields["permission_profile"] = settings["permission_profile"]
