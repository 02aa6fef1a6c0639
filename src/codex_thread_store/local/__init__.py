"""`LocalThreadStore`: a Codex home (rollout JSONL + a derived SQLite index)."""

from .config import LocalThreadStoreConfig
from .store import LocalThreadStore

__all__ = ["LocalThreadStore", "LocalThreadStoreConfig"]
