"""Output: rich (colour, tables) when stdout is a terminal, plain stable text when piped.

`rich` is imported only when it is used, so piped runs never pay for it. JSON goes out
through the package's msgspec encoder, so `--json` prints the store's wire shapes.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING, Any

import click

from ..codec import encode_json

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "emit_json",
    "emit_jsonl",
    "err_console",
    "out_console",
    "stderr_is_terminal",
    "stdin_is_terminal",
    "stdout_is_terminal",
]


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def stdin_is_terminal() -> bool:
    return _isatty(sys.stdin)


def stdout_is_terminal() -> bool:
    return _isatty(sys.stdout)


def stderr_is_terminal() -> bool:
    return _isatty(sys.stderr)


@cache
def out_console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


@cache
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def emit_json(value: Any) -> None:
    """One JSON document: highlighted and indented on a terminal, one compact line piped."""
    data = encode_json(value)
    if stdout_is_terminal():
        out_console().print_json(data.decode())
    else:
        click.echo(data)


def emit_jsonl(values: Any) -> None:
    """One compact JSON document per line."""
    for value in values:
        click.echo(encode_json(value))
