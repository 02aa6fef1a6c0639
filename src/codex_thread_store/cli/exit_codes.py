"""Exit codes of `codex-threads`, and the errors the command line raises itself.

Every failure ends as one `error: ...` line on stderr (a traceback only with
`--debug`) and one of these codes, so scripts can branch on them.
"""

from __future__ import annotations

import enum

from ..errors import Conflict, InvalidRequest, ThreadNotFound, Unavailable

__all__ = ["EXIT_CODES_HELP", "CliError", "ExitCode", "exit_code_for", "is_unavailable"]


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    NOT_FOUND = 3
    CONFLICT = 4
    PROBLEMS = 5
    UNAVAILABLE = 6
    INTERRUPTED = 130


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 error; 2 bad usage (unknown option, bad value, bad cursor); "
    "3 not found (no such thread or home, or an ambiguous id prefix or name); "
    "4 conflict (duplicate id, thread open in another writer); "
    "5 problems found (doctor, reindex --check; copy: a thread failed or differs); "
    "6 store unavailable (busy with another process, storage error, PostgreSQL "
    "unreachable; nothing half-written, retry later); "
    "130 interrupted."
)


class CliError(Exception):
    """A failure the command line reports itself: `message` is the whole error line;
    `details` are printed under it (e.g. the candidates of an ambiguous prefix)."""

    def __init__(
        self, message: str, code: ExitCode = ExitCode.ERROR, details: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or []


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code of an error raised by a command."""
    if isinstance(exc, CliError):
        return exc.code
    if is_unavailable(exc):
        return ExitCode.UNAVAILABLE
    if isinstance(exc, ThreadNotFound):
        return ExitCode.NOT_FOUND
    if isinstance(exc, InvalidRequest):
        return ExitCode.USAGE
    if isinstance(exc, Conflict):
        return ExitCode.CONFLICT
    return ExitCode.ERROR


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the store cannot serve the request now (a lock another process
    holds, an unreachable server): nothing was half-written, retrying later is safe."""
    return isinstance(exc, Unavailable) and exc.retryable
