"""The effective originator of a thread: which client a thread's requests speak for.

It is resolved once, when a thread is created, and persisted in its
`session_meta.originator`. Precedence, each rule beating the ones after it, as every
released Codex CLI from 0.163.0 to 0.171.0 resolves it (`effective_originator_value` in
`codex-rs/core/src/thread_manager.rs`):

1. *service name*: the `serviceName` a client starts the thread with, when it is one of
   `codex_work_desktop`, `codex_work_web`, `codex_work_mobile`, `codex_work_cca`,
   `chatgpt_cca` (trimmed, compared case-insensitively; the entry itself is the result);
2. *persisted*: resume and fork read back the first `session_meta`'s originator;
3. *inherited*: a sub-agent, or a fork that lost its `session_meta` (it kept only its last
   N turns), takes its live parent's originator;
4. the `CODEX_INTERNAL_ORIGINATOR_OVERRIDE` environment variable: when it is set (even
   empty), the process originator, which is its value when that is a valid header value;
5. the process default (`codex_cli_rs` unless configured).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEFAULT_ORIGINATOR",
    "ORIGINATOR_OVERRIDE_ENV",
    "SERVICE_ORIGINATORS",
    "OriginatorResolver",
]

ORIGINATOR_OVERRIDE_ENV: Final = "CODEX_INTERNAL_ORIGINATOR_OVERRIDE"
DEFAULT_ORIGINATOR: Final = "codex_cli_rs"

SERVICE_ORIGINATORS: Final = (
    "codex_work_desktop",
    "codex_work_web",
    "codex_work_mobile",
    "codex_work_cca",
    "chatgpt_cca",
)
"""Service names that name the originator themselves; no other name, and no alias, does."""


def _valid_header_value(value: str) -> bool:
    # The originator travels as an HTTP header; Codex falls back when it cannot.
    return bool(value) and all(0x20 <= ord(c) < 0x7F for c in value)


@dataclass(frozen=True)
class OriginatorResolver:
    """Resolves effective originators; configure it once per process.

    Args:
        default: the process originator (rule 5), e.g. your client's name.
        environ: where rule 4 reads its variable (defaults to `os.environ`).
    """

    default: str = DEFAULT_ORIGINATOR
    environ: Mapping[str, str] | None = None

    def process_originator(self) -> str:
        """The originator of this process: a valid `CODEX_INTERNAL_ORIGINATOR_OVERRIDE`,
        else the configured default."""
        env = os.environ if self.environ is None else self.environ
        value = env.get(ORIGINATOR_OVERRIDE_ENV)
        return value if value is not None and _valid_header_value(value) else self.default

    def env_override(self) -> str | None:
        """Rule 4: the process originator when the variable is set at all, else None."""
        env = os.environ if self.environ is None else self.environ
        return self.process_originator() if ORIGINATOR_OVERRIDE_ENV in env else None

    @staticmethod
    def for_service(service_name: str | None) -> str | None:
        """Rule 1: the table entry `service_name` names (trimmed, any case), or None."""
        if not service_name:
            return None
        key = service_name.strip()
        if not key.isascii():  # Codex folds ASCII case only: no Unicode look-alikes
            return None
        key = key.lower()
        return key if key in SERVICE_ORIGINATORS else None

    def resolve(
        self,
        *,
        service_name: str | None = None,
        persisted: str | None = None,
        inherited: str | None = None,
    ) -> str:
        """Apply the precedence in the module docstring; empty strings count as absent."""
        for candidate in (
            self.for_service(service_name),
            persisted or None,
            inherited or None,
            self.env_override(),
        ):
            if candidate:
                return candidate
        return self.process_originator()
