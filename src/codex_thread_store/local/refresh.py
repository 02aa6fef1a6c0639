"""Planning the incremental refresh: which folders and files changed since the last look.

Cost is proportional to what changed, not to the size of the home:

1. stat every day folder (a few hundred per year of use) and compare its mtime with the
   recorded one: a folder whose mtime moved had a file added, removed or renamed;
2. load the recorded file watermarks of just those folders (plus the newest few day
   folders, where live threads append without changing any folder's mtime);
3. list those folders and stat their files: a file is re-read only when its size or
   mtime moved.

Appends to older files are found through Codex's own database (see `codex_db.py`).
These functions do blocking I/O and never touch the index; the store runs them in a
worker thread and does the index reads and writes on the index thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .index import FileState
from .layout import CodexHome
from .rollout_files import existing_rollout
from .scan import iter_rollout_dirs, rollout_files

__all__ = ["RECENT_DAY_FOLDERS", "Changes", "FolderPlan", "changed_files", "plan_folders"]

#: Day folders whose files are always stat-ed: live threads append there.
RECENT_DAY_FOLDERS = 3


@dataclass
class FolderPlan:
    """Folders to re-list (`check`, with their current mtimes) and folders that vanished."""

    check: dict[Path, int] = field(default_factory=dict)
    vanished: list[str] = field(default_factory=list)


@dataclass
class Changes:
    scan: list[tuple[Path, bool]] = field(default_factory=list)  # (path, archived)
    gone: list[str] = field(default_factory=list)
    dirs: dict[str, int] = field(default_factory=dict)


def plan_folders(home: CodexHome, dirs_before: dict[str, int]) -> FolderPlan:
    plan = FolderPlan()
    folders = list(iter_rollout_dirs(home))
    days = [d for d in folders if d != home.archived]
    recent = set(days[-RECENT_DAY_FOLDERS:])
    seen = set()
    for folder in folders:
        key = str(folder)
        seen.add(key)
        try:
            mtime = folder.stat().st_mtime_ns
        except FileNotFoundError:
            continue
        if dirs_before.get(key) != mtime or folder in recent:
            plan.check[folder] = mtime
    plan.vanished = [key for key in dirs_before if key not in seen]
    return plan


def changed_files(home: CodexHome, plan: FolderPlan, files_before: dict[str, FileState]) -> Changes:
    """Compare the planned folders' files with their recorded watermarks."""
    changes = Changes()
    # Grouped in one pass: the work is O(files), not O(folders x files).
    by_folder: dict[str, list[str]] = {}
    for recorded in files_before:
        by_folder.setdefault(os.path.dirname(recorded), []).append(recorded)
    for folder, mtime in plan.check.items():
        changes.dirs[str(folder)] = mtime
        archived = folder == home.archived
        present = rollout_files(folder)
        present_keys = {str(p) for p in present}
        changes.scan.extend((p, archived) for p in present if _moved(p, files_before))
        changes.gone.extend(p for p in by_folder.get(str(folder), ()) if p not in present_keys)
    for key in plan.vanished:
        changes.gone.extend(by_folder.get(key, ()))
    return changes


def stale_files(
    home: CodexHome, paths: list[str], files_before: dict[str, FileState], queued: set[str]
) -> list[tuple[Path, bool]]:
    """Of `paths` (rollouts Codex says it touched), those whose size or mtime moved."""
    roots = (home.sessions, home.archived)
    out = []
    for raw in paths:
        path = Path(raw)
        if raw in queued or not any(path.is_relative_to(r) for r in roots):
            continue  # a path from another machine (a copied home) is not ours to scan
        if _moved(path, files_before):
            out.append((path, home.is_archived_path(path)))
    return out


def _moved(path: Path, files_before: dict[str, FileState]) -> bool:
    """Whether the rollout exists and its size or mtime differs from the watermark."""
    actual = existing_rollout(path)
    if actual is None:
        return False
    try:
        st = actual.stat()
    except FileNotFoundError:  # removed between the two calls
        return False
    before = files_before.get(str(path))
    return before is None or (before.size, before.mtime_ns) != (st.st_size, st.st_mtime_ns)
