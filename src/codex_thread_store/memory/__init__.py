"""The in-memory reference store."""

from .store import DEFAULT_MAX_ITEM_BYTES, InMemoryThreadStore

__all__ = ["DEFAULT_MAX_ITEM_BYTES", "InMemoryThreadStore"]
