"""`LocalThreadStoreConfig`: where the home is and how hard to sync."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import InvalidRequest
from ..protocol.rollout import MAX_LINE_BYTES
from .layout import default_codex_home
from .recorder import Durability

__all__ = ["DEFAULT_MAX_ITEM_BYTES", "INDEX_FILE_NAME", "LocalThreadStoreConfig"]

DEFAULT_MAX_ITEM_BYTES = MAX_LINE_BYTES
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
        state_dir: where our index and metadata journal live. Default: the home's
            `codex-thread-store/` folder, or, when the home cannot be written (a mounted
            backup, another user's home), a folder of the user's cache
            (`$XDG_CACHE_HOME/codex-thread-store/<home hash>`), and the store is read-only.
        lock_timeout_s: how long a write waits for another process's lock on the index
            before it fails with a retryable `Unavailable` (reads never wait).
    """

    codex_home: Path = field(default_factory=default_codex_home)
    durability: Durability = "flush"
    max_item_bytes: int = DEFAULT_MAX_ITEM_BYTES
    default_model_provider: str = "openai"
    refresh_interval_s: float = 1.0
    progress: Callable[[int, int], None] | None = None
    history_mode: Literal["auto", "legacy", "paginated"] = "auto"
    state_dir: Path | None = None
    lock_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.history_mode not in ("auto", "legacy", "paginated"):
            raise InvalidRequest(
                f"history_mode must be 'auto', 'legacy' or 'paginated', got {self.history_mode!r}"
            )
        if not 1 <= self.max_item_bytes <= MAX_LINE_BYTES:
            raise InvalidRequest(
                f"max_item_bytes must be between 1 and {MAX_LINE_BYTES} (the longest line "
                f"readers decode), got {self.max_item_bytes}"
            )
        if not self.lock_timeout_s >= 0:
            raise InvalidRequest(f"lock_timeout_s must be >= 0, got {self.lock_timeout_s!r}")

    @property
    def own_dir(self) -> Path:
        """Our own folder (index, metadata journal); see `state_dir`."""
        if self.state_dir is not None:
            return Path(self.state_dir)
        return default_state_dir(Path(self.codex_home))

    @property
    def read_only(self) -> bool:
        """Whether the home cannot be written (reads still work; writes are refused)."""
        return not home_is_writable(Path(self.codex_home))

    @property
    def index_path(self) -> Path:
        return self.own_dir / INDEX_FILE_NAME

    @property
    def journal_path(self) -> Path:
        return self.own_dir / "metadata-journal.jsonl"


def home_is_writable(home: Path) -> bool:
    """Whether files can be created in the home (a missing home will be created)."""
    probe = home
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return os.access(probe, os.W_OK)


def default_state_dir(home: Path) -> Path:
    """`<home>/codex-thread-store`, or a per-home folder of the user's cache when the home
    cannot be written."""
    own = home / STATE_DIR_NAME
    if home_is_writable(home) and (not own.exists() or os.access(own, os.W_OK)):
        return own
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(str(home.absolute()).encode()).hexdigest()[:16]
    return cache / STATE_DIR_NAME / key
