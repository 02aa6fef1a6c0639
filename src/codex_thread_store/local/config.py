"""`LocalThreadStoreConfig`: where the home is and how hard to sync."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import InvalidRequest
from .layout import default_codex_home
from .recorder import Durability

__all__ = ["DEFAULT_MAX_ITEM_BYTES", "INDEX_FILE_NAME", "LocalThreadStoreConfig"]

DEFAULT_MAX_ITEM_BYTES = 64 * 1024 * 1024
INDEX_FILE_NAME = "codex-thread-store-index.sqlite"
STATE_DIR_NAME = "codex-thread-store"


@dataclass(frozen=True)
class LocalThreadStoreConfig:
    """Settings of a `LocalThreadStore`.

    Args:
        codex_home: the home folder (default: `CODEX_HOME`, else `~/.codex`).
        durability: `"os"`, `"flush"` (default) or `"append"`; see `recorder.py`.
        max_item_bytes: the largest rollout line accepted by `append_items`.
        default_model_provider: provider for rollouts that do not name one.
        refresh_interval_s: how often listing looks for files other processes wrote.
        progress: called as `progress(done, total)` while the index is rebuilt.
        history_mode: the history mode of threads created without one. `"auto"` follows
            the home: paginated where the home's Codex writes paginated history (it has
            Codex's history database, or paginated threads), legacy otherwise, so that
            Codex reads every turn of what this store writes.
    """

    codex_home: Path = field(default_factory=default_codex_home)
    durability: Durability = "flush"
    max_item_bytes: int = DEFAULT_MAX_ITEM_BYTES
    default_model_provider: str = "openai"
    refresh_interval_s: float = 1.0
    progress: Callable[[int, int], None] | None = None
    history_mode: Literal["auto", "legacy", "paginated"] = "auto"

    def __post_init__(self) -> None:
        if self.history_mode not in ("auto", "legacy", "paginated"):
            raise InvalidRequest(
                f"history_mode must be 'auto', 'legacy' or 'paginated', got {self.history_mode!r}"
            )

    @property
    def state_dir(self) -> Path:
        """Our own folder inside the home (index, metadata journal)."""
        return Path(self.codex_home) / STATE_DIR_NAME

    @property
    def index_path(self) -> Path:
        return self.state_dir / INDEX_FILE_NAME

    @property
    def journal_path(self) -> Path:
        return self.state_dir / "metadata-journal.jsonl"
