"""`codex-threads`: the command line over any `ThreadStore` (a Codex home by default).

The group and its error handling are in `app.py`; each command is a module under
`commands/`; the shared pieces are `open_store.py` (which store), `resolve.py` (id
prefixes and names), `render.py` / `transcript` (what is printed) and `progress.py`.
Exit codes are listed in `exit_codes.py` and at the end of `codex-threads --help`.
"""

from .app import main

__all__ = ["main"]
