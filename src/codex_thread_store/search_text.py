"""The search contract shared by every store: a thread matches when *every* word of the
search term occurs, case-insensitively, in its searchable text; the snippet is a
short window of the first text that contains the first word."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["make_snippet", "matches", "search_words"]

SNIPPET_WIDTH = 120


def search_words(term: str) -> list[str]:
    return [w.casefold() for w in term.split() if w]


def matches(words: Sequence[str], texts: Sequence[str]) -> bool:
    if not words:
        return True
    folded = [t.casefold() for t in texts if t]
    return all(any(w in t for t in folded) for w in words)


def make_snippet(words: Sequence[str], texts: Sequence[str], width: int = SNIPPET_WIDTH) -> str:
    """A one-line excerpt around the first match, with `…` where text was cut."""
    for text in texts:
        if not text:
            continue
        folded = text.casefold()
        for word in words:
            at = folded.find(word)
            if at < 0:
                continue
            start = max(0, at - width // 3)
            end = min(len(text), start + width)
            body = " ".join(text[start:end].split())
            return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
    first = next((t for t in texts if t), "")
    body = " ".join(first[:width].split())
    return body + ("…" if len(first) > width else "")
