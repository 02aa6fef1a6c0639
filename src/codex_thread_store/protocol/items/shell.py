"""A command array as Codex shows it: joined as a POSIX shell would quote it, with
secrets (API keys, tokens) redacted."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["redact_secrets", "shlex_join"]


_UNQUOTED: Final = frozenset(
    b"+-./:@]_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_NUL_COMMAND: Final = "<command included NUL byte>"


def _quote_word(word: str) -> str:
    """One word quoted as Rust's `shlex` 1.3 quotes it: bare when safe, else in maximal
    chunks that are bare, single-quoted or double-quoted, whichever each chunk allows."""
    data = word.encode()
    if not data:
        return "''"
    out = bytearray()
    rest = data
    bare, single, double = 1, 2, 4
    while rest:
        allowed = bare | single | double
        i = 0
        if rest[0] == ord("^"):  # a leading caret must be single-quoted
            allowed, i = single, 1
        while i < len(rest):
            c = rest[i]
            now = allowed
            if c >= 0x80 or c not in _UNQUOTED:
                now &= ~bare
            if c in b"'^\\":
                now &= ~single
            if c in b"`$!^":
                now &= ~double
            if not now:
                break
            allowed = now
            i += 1
        chunk, rest = rest[:i], rest[i:]
        if allowed & bare and not rest and not out:
            return word
        if allowed & bare:
            out += chunk
        elif allowed & single:
            out += b"'" + chunk + b"'"
        else:
            out += b'"'
            for c in chunk:
                if c in b'$`"\\':
                    out.append(ord("\\"))
                out.append(c)
            out += b'"'
    return out.decode()


def shlex_join(words: list[str]) -> str:
    """A command array as one string a POSIX shell would split back into it."""
    if any("\0" in word for word in words):
        return _NUL_COMMAND
    return " ".join(_quote_word(word) for word in words)


_SECRET_RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"sk-[A-Za-z0-9]{20,}"), "[REDACTED_SECRET]"),
    (re.compile(r"(?i:\bBearer)[ \t]+[A-Za-z0-9._~+/-]{16,}=*"), "Bearer [REDACTED_SECRET]"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "[REDACTED_SECRET]"),
    (
        re.compile(r"(?i)\b(api[_-]?key|token|secret|password)\b(\s*[:=]\s*)([\"']?)[^\s\"']{8,}"),
        r"\1\2\3[REDACTED_SECRET]",
    ),
)


def redact_secrets(text: str) -> str:
    """Mask API keys, bearer tokens, AWS key ids and `token=...` values, as Codex does
    before it shows a command."""
    for pattern, replacement in _SECRET_RULES:
        text = pattern.sub(replacement, text)
    return text
