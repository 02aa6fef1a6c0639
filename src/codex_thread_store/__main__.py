"""`python -m codex_thread_store` runs the `codex-threads` command line."""

from .cli import main

main()
