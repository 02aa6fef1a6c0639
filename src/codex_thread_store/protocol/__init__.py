"""Codex wire types that appear in rollout files and on the app-server wire."""

from .messages import UserMessage, agent_message_text, message_texts, user_message
from .rollout import (
    ITEM_KINDS,
    MalformedLine,
    RolloutItem,
    RolloutLine,
    decode_line,
    encode_line,
    first_session_meta,
    history_mode_of,
)
from .session_meta import GitInfo, SessionMeta
from .sources import SessionSource, SourceKind, ThreadSource

__all__ = [
    "ITEM_KINDS",
    "GitInfo",
    "MalformedLine",
    "RolloutItem",
    "RolloutLine",
    "SessionMeta",
    "SessionSource",
    "SourceKind",
    "ThreadSource",
    "UserMessage",
    "agent_message_text",
    "decode_line",
    "encode_line",
    "first_session_meta",
    "history_mode_of",
    "message_texts",
    "user_message",
]
