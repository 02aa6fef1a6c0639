"""Codex-home paths and rollout file names (pure functions; no I/O except where named).

```
CODEX_HOME/
  sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<thread id>.jsonl[.zst]
  sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<thread id>_<rollout id>.jsonl[.zst]
  archived_sessions/rollout-YYYY-MM-DDThh-mm-ss-<thread id>.jsonl[.zst]   (flat)
  session_index.jsonl                                                      (names)
```
A name with a second id is a *revert* rollout (Codex 0.171 `thread/revert`): a new file
that continues the thread from a point in an older rollout (its `history_base`). A
thread then has several files; its current one is the newest by name (timestamp, then
rollout id), as Codex picks it without its database.
The timestamp in a file name is the *local* wall-clock time at creation, as Codex
writes it; readers take it as UTC, which is Codex's long-standing quirk.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import InvalidRequest

__all__ = [
    "ARCHIVED_DIR",
    "SESSIONS_DIR",
    "SESSION_INDEX",
    "CodexHome",
    "RolloutName",
    "default_codex_home",
    "parse_rollout_name",
    "rollout_file_name",
    "rollout_generation",
    "rollout_id_of",
]

SESSIONS_DIR = "sessions"
ARCHIVED_DIR = "archived_sessions"
SESSION_INDEX = "session_index.jsonl"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_NAME_RE = re.compile(
    r"^rollout-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-"
    rf"({_UUID})(?:_({_UUID}))?\.jsonl(\.zst)?$"
)


def default_codex_home() -> Path:
    """`CODEX_HOME`, else `~/.codex`."""
    env = os.environ.get("CODEX_HOME")
    return Path(env).expanduser() if env else Path.home() / ".codex"


@dataclass(frozen=True, slots=True)
class RolloutName:
    """What a rollout file name says: its thread id, its timestamp, whether it is zstd,
    and the id Codex keys its projection by (the thread id, or a revert's own id)."""

    thread_id: str
    timestamp: datetime  # naive wall-clock time from the name, read as UTC
    compressed: bool
    rollout_id: str

    @property
    def is_revert(self) -> bool:
        return self.rollout_id != self.thread_id

    @property
    def generation(self) -> tuple[datetime, str]:
        """Orders one thread's rollouts, current last, as Codex picks the current one from
        file names: by the name's timestamp (a revert's is the revert time), then by
        rollout id (UUIDv7: creation order within a second)."""
        return (self.timestamp, self.rollout_id)

    @property
    def date_parts(self) -> tuple[str, str, str]:
        t = self.timestamp
        return f"{t.year:04d}", f"{t.month:02d}", f"{t.day:02d}"


def parse_rollout_name(name: str) -> RolloutName | None:
    """Parse `rollout-<ts>-<uuid>.jsonl[.zst]`; None for anything else."""
    m = _NAME_RE.match(name)
    if m is None:
        return None
    try:
        y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
        stamp = datetime(y, mo, d, h, mi, s, tzinfo=UTC)
        thread_id = str(uuid.UUID(m.group(7)))
        rollout_id = str(uuid.UUID(m.group(8))) if m.group(8) else thread_id
    except ValueError:
        return None
    return RolloutName(thread_id, stamp, m.group(9) is not None, rollout_id)


def rollout_id_of(path: Path) -> str:
    """The id Codex keys a rollout's projection by: the thread id, or for a revert
    rollout (`<thread id>_<rollout id>`) its own id."""
    parsed = parse_rollout_name(path.name)
    if parsed is not None:
        return parsed.rollout_id
    return path.name.removesuffix(".zst").removesuffix(".jsonl")[-36:]


def rollout_generation(path: str | Path) -> tuple[datetime, str]:
    """`RolloutName.generation` of a path (unparsable names first)."""
    parsed = parse_rollout_name(Path(path).name)
    return (datetime.min.replace(tzinfo=UTC), "") if parsed is None else parsed.generation


def rollout_file_name(thread_id: str, local_time: datetime) -> str:
    return f"rollout-{local_time.strftime('%Y-%m-%dT%H-%M-%S')}-{thread_id}.jsonl"


@dataclass(frozen=True)
class CodexHome:
    """A Codex home folder and the paths inside it."""

    root: Path

    @property
    def sessions(self) -> Path:
        return self.root / SESSIONS_DIR

    @property
    def archived(self) -> Path:
        return self.root / ARCHIVED_DIR

    @property
    def session_index(self) -> Path:
        return self.root / SESSION_INDEX

    def new_rollout_path(self, thread_id: str, local_time: datetime) -> Path:
        """`sessions/YYYY/MM/DD/rollout-<local ts>-<id>.jsonl` for a new thread."""
        day = self.sessions / f"{local_time:%Y}" / f"{local_time:%m}" / f"{local_time:%d}"
        return day / rollout_file_name(thread_id, local_time)

    def archived_path_for(self, active: Path) -> Path:
        return self.archived / active.name

    def active_path_for(self, archived: Path) -> Path:
        parsed = parse_rollout_name(archived.name)
        if parsed is None:
            raise InvalidRequest(f"{archived.name} is not a rollout file name")
        year, month, day = parsed.date_parts
        return self.sessions / year / month / day / archived.name

    def is_archived_path(self, path: Path) -> bool:
        return path.parent == self.archived

    def resolve_inside(self, raw: str | os.PathLike[str]) -> list[Path]:
        """The spellings, as the store records paths, of a user-given rollout path
        (relative paths are relative to the home): a rollout file name inside `sessions/`
        or `archived_sessions/`. Best first: the path as written with `..` collapsed (so
        the home's own folders may be symbolic links to another disk, while `..` cannot
        climb out of them), then its real path mapped back into those folders (a link
        inside them, or the real path of a file under a relocated folder).

        Raises:
            InvalidRequest: the path escapes those folders or is no rollout file name.
        """
        try:
            given = Path(raw)
            if "\x00" in str(given):
                raise ValueError("embedded NUL byte")
            absolute = given if given.is_absolute() else self.root / given
            found = [
                p
                for p in (
                    self._inside_layout(Path(os.path.normpath(absolute))),
                    self._inside_layout_resolved(absolute.resolve(strict=False)),
                )
                if p is not None
            ]
        except (OSError, RuntimeError, ValueError) as exc:  # NUL bytes, symlink loops
            raise InvalidRequest(f"rollout path {str(raw)!r} cannot be used: {exc}") from None
        if not found:
            raise InvalidRequest(
                f"rollout path {str(raw)!r} is outside this Codex home's sessions and "
                "archived_sessions folders"
            )
        if parse_rollout_name(found[0].name) is None:
            raise InvalidRequest(f"{found[0].name!r} is not a rollout file name")
        return list(dict.fromkeys(found))

    def _inside_layout(self, lexical: Path) -> Path | None:
        for root in {self.root, Path(os.path.normpath(self.root.absolute()))}:
            for folder in (SESSIONS_DIR, ARCHIVED_DIR):
                base = root / folder
                if lexical.is_relative_to(base) and lexical != base:
                    return self.root / folder / lexical.relative_to(base)
        return None

    def _inside_layout_resolved(self, real: Path) -> Path | None:
        for folder in (SESSIONS_DIR, ARCHIVED_DIR):
            base = (self.root / folder).resolve(strict=False)
            if real.is_relative_to(base) and real != base:
                return self.root / folder / real.relative_to(base)
        return None
