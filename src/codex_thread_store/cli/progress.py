"""Progress bars for long operations: drawn on stderr when the command runs on a terminal
(stdout and stderr both terminals), silent when either is piped or redirected.

`progress_bar(...)` yields a `(done, total)` callback, the shape `LocalThreadStoreConfig`'s
`progress` and the doctor/import helpers take, so the library never knows about rich.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from .console import err_console, stderr_is_terminal, stdout_is_terminal

__all__ = ["Progress", "progress_bar"]

Progress = Callable[[int, int], None]


def _quiet(done: int, total: int) -> None:
    pass


@contextlib.contextmanager
def progress_bar(description: str, *, unit: str = "files") -> Iterator[Progress]:
    """A progress callback for one operation; the bar disappears when it ends."""
    if not (stdout_is_terminal() and stderr_is_terminal()):
        yield _quiet
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    with RichProgress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err_console(),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
