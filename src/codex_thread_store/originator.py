"""The effective originator of a thread: which client a thread's requests speak for.

It is resolved once, when a thread is created, and persisted in its
`session_meta.originator`. Precedence, each rule beating the ones after it:

1. *persisted*: resume and fork read back the first `session_meta`'s originator;
2. *inherited*: a subagent spawned without persisted session metadata, or a fork
   that kept only its last N turns (so lost its `session_meta`), takes its live
   parent's originator;
3. the `CODEX_INTERNAL_ORIGINATOR_OVERRIDE` environment variable;
4. the service-name table (`CODEX_WORK_LOCAL` → `codex_work_desktop`, ...);
5. the process default (`codex_cli_rs` unless configured).

Rules 3 and 4 follow Codex's June 2026 order, where the environment override
precedes service-name remapping.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "DEFAULT_ORIGINATOR",
    "DEFAULT_SERVICE_ORIGINATORS",
    "ORIGINATOR_OVERRIDE_ENV",
    "OriginatorResolver",
]

ORIGINATOR_OVERRIDE_ENV: Final = "CODEX_INTERNAL_ORIGINATOR_OVERRIDE"
DEFAULT_ORIGINATOR: Final = "codex_cli_rs"

DEFAULT_SERVICE_ORIGINATORS: Final[Mapping[str, str]] = {
    "codex_work_local": "codex_work_desktop",
    "codex_work_cloud": "codex_work_cloud",
    "codex_work_desktop": "codex_work_desktop",
    "codex_work_web": "codex_work_web",
    "codex_work_mobile": "codex_work_mobile",
}
"""Service names (matched trimmed and case-insensitively) and the originator each maps to."""


def _valid_header_value(value: str) -> bool:
    # The originator travels as an HTTP header; Codex falls back when it cannot.
    return bool(value) and all(0x20 <= ord(c) < 0x7F for c in value)


@dataclass(frozen=True)
class OriginatorResolver:
    """Resolves effective originators; configure it once per process.

    Args:
        default: the process originator (rule 5).
        service_originators: the service-name table (rule 4).
        environ: where rule 3 reads its variable (defaults to `os.environ`).
    """

    default: str = DEFAULT_ORIGINATOR
    service_originators: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_SERVICE_ORIGINATORS)
    )
    environ: Mapping[str, str] | None = None

    def env_override(self) -> str | None:
        env = os.environ if self.environ is None else self.environ
        value = env.get(ORIGINATOR_OVERRIDE_ENV)
        if not value:
            return None  # unset and empty both count as absent
        # An override that is not a valid header value falls back to the default.
        return value if _valid_header_value(value) else DEFAULT_ORIGINATOR

    def for_service(self, service_name: str | None) -> str | None:
        if not service_name:
            return None
        key = service_name.strip().lower()
        table = {k.lower(): v for k, v in self.service_originators.items()}
        return table.get(key)

    def resolve(
        self,
        *,
        service_name: str | None = None,
        persisted: str | None = None,
        inherited: str | None = None,
    ) -> str:
        """Apply the precedence in the module docstring; empty strings count as absent."""
        for candidate in (
            persisted or None,
            inherited or None,
            self.env_override(),
            self.for_service(service_name),
        ):
            if candidate:
                return candidate
        return self.default
