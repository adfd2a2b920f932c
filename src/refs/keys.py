"""Citation keys: readable, and stable once given. Pure.

``base_key(work)`` is the first author's family name (ASCII, lower case) + year + the
first significant word of the title: ``sollmann2023headache``. Without authors, the
first editor, the organisation or the container stands in; without a year, ``nd``;
without a title, nothing. The library gives each work its key once (adding a suffix
``a``, ``b`` … on a collision) and never changes it.
"""

from __future__ import annotations

import re
import unicodedata

from refs.work import Name, Work, plain_text

__all__ = ["ascii_fold", "base_key", "next_free"]

_STOP = {
    "a",
    "an",
    "the",
    "of",
    "on",
    "in",
    "for",
    "and",
    "to",
    "with",
    "from",
    "by",
    "at",
    "as",
    "is",
    "are",
    "via",
    "into",
    "its",
    "or",
    "de",
    "la",
    "le",
    "les",
    "el",
    "los",
    "las",
    "der",
    "die",
    "das",
    "den",
    "und",
    "du",
    "des",
    "et",
    "une",
    "un",
    "il",
    "lo",
    "retracted",
    "withdrawn",
    "erratum",
    "correction",
    "editorial",
    "re",
    "do",
    "does",
    "why",
    "how",
    "what",
    "when",
    "who",
    "which",
}
_WORD = re.compile(r"[a-z0-9]+")


def ascii_fold(text: str) -> str:
    """Letters without accents: "Mendonça" → "Mendonca"; other scripts are dropped."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and not unicodedata.combining(c))


def _ascii_word(text: str) -> str:
    return "".join(_WORD.findall(ascii_fold(text).lower()))


def _person_part(names: list[Name]) -> str:
    for name in names:
        if name.family:
            part = _ascii_word(name.family)
        else:
            words = _WORD.findall(ascii_fold(name.literal or "").lower())
            part = next((w for w in words if w not in _STOP), words[0] if words else "")
        if part:
            return part[:24]
    return ""


def base_key(work: Work) -> str:
    """The key a work would get if no other work had it."""
    who = _person_part(work.author) or _person_part(work.editor)
    if not who and work.container_title:
        words = _WORD.findall(ascii_fold(plain_text(work.container_title)).lower())
        who = next((w for w in words if w not in _STOP), "")
    who = who or (_ascii_word(work.publisher or "")[:16]) or "anon"
    year = str(work.issued.year) if work.issued else "nd"
    words = _WORD.findall(ascii_fold(plain_text(work.title)).lower())
    title = next((w for w in words if w not in _STOP and len(w) > 1 and not w.isdigit()), "")
    return f"{who}{year}{title[:20]}"


def _suffix(n: int) -> str:
    """0 → a, 25 → z, 26 → aa, 27 → ab …"""
    suffix = ""
    while True:
        suffix = chr(ord("a") + n % 26) + suffix
        n = n // 26 - 1
        if n < 0:
            return suffix


def next_free(base: str, taken: set[str], hints: dict[str, int] | None = None) -> str:
    """``base`` if free, else ``base`` + a, b, … z, aa, ab … (the first free one).

    ``hints`` remembers, per base, where the last search ended: while ``taken`` only
    grows (one batch), the first free suffix never moves back, so the next search for
    the same base starts there instead of at ``a`` (the search was O(n²) in works
    sharing a base key).
    """
    if base not in taken:
        return base
    n = hints.get(base, 0) if hints is not None else 0
    while base + _suffix(n) in taken:
        n += 1
    if hints is not None:
        hints[base] = n
    return base + _suffix(n)
