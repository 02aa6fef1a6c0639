"""Conversations in plain model items over any `ThreadStore`.

`Conversation` appends and reads back what agent code already holds (Responses API
items, the short form included, and Chat Completions messages) while the thread stays an
ordinary Codex thread: turns, previews, names and token usage as Codex writes them.
"""

from .conversation import Conversation
from .items import ORIGINAL_KEY

__all__ = ["ORIGINAL_KEY", "Conversation"]
