"""Tests of the `codex-threads` command line, through its real entry points."""
