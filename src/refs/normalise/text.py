"""Text pieces shared by the normalisers: markup, names, pages, dates, types. Pure.

Markup in titles and abstracts (HTML, JATS with or without the ``jats:`` prefix,
MathML, IEEE's inline TeX) becomes CSL rich text: italics, bold, superscript, subscript
and small caps are kept as ``<i>``, ``<b>``, ``<sup>``, ``<sub>`` and the small-caps
span (citeproc's and pandoc's vocabulary); everything else is unwrapped to its text,
entities are decoded and white space is collapsed.
"""

from __future__ import annotations

import contextvars
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from refs.work import DateParts, Name

__all__ = [
    "CSL_TYPES",
    "collapse",
    "collecting_problems",
    "date_parts",
    "make_name",
    "month_number",
    "normalise_page",
    "parse_free_date",
    "scalar",
    "split_family",
    "str_list",
]

# Control characters (but the white space collapse() handles), bidi overrides and
# isolates never reach the library: they can forge terminal output and reorder text.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


_PROBLEMS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "refs_normalise_problems", default=None
)


@contextmanager
def collecting_problems() -> Iterator[list[str]]:
    """Collect what the normalisers dropped (wrong types) while normalising one record."""
    problems: list[str] = []
    token = _PROBLEMS.set(problems)
    try:
        yield problems
    finally:
        _PROBLEMS.reset(token)


def _dropped(field: str, value: Any, expected: str) -> None:
    problems = _PROBLEMS.get()
    if problems is not None:
        shown = repr(value)
        problems.append(
            f"{field}: expected {expected}, got {shown[:60]}{'…' if len(shown) > 60 else ''}; left out"
        )


def scalar(value: Any, field: str) -> str | None:
    """A volume, issue or number as text: strings and whole numbers; anything else (a dict,
    a list, NaN, true) is left out and reported, never written as "{'a': 1}" or "nan"."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return collapse(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    _dropped(field, value, "text or a whole number")
    return None


def str_list(value: Any, field: str) -> list[str]:
    """A list of strings (ISSN, ISBN); one string is a list of one."""
    if value is None or value == []:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        kept = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        if len(kept) != len(value):
            _dropped(field, [v for v in value if not isinstance(v, str)], "strings")
        return kept
    _dropped(field, value, "a list of strings")
    return []


def collapse(text: str | None) -> str | None:
    """White space runs → one space, trimmed; ``None`` for nothing left."""
    if text is None:
        return None
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    out = " ".join(text.split())
    return out or None


_PARTICLES = {
    "van",
    "von",
    "der",
    "den",
    "de",
    "del",
    "della",
    "dela",
    "di",
    "da",
    "du",
    "le",
    "la",
    "les",
    "des",
    "ter",
    "ten",
    "dos",
    "das",
    "do",
    "af",
    "av",
    "zu",
    "zum",
    "zur",
    "op",
    "'t",
    "d'",
    "l'",
    "al",
    "el",
    "bin",
    "ibn",
    "st.",
    "y",
}


def split_family(family: str) -> tuple[str | None, str]:
    """("van der", "Berg") from "van der Berg"; particles are the leading lower-case words."""
    words = family.split()
    particles = []
    while len(words) > 1 and words[0].lower() in _PARTICLES and words[0][:1].islower():
        particles.append(words.pop(0))
    return (" ".join(particles) or None), " ".join(words)


def make_name(
    *,
    family: Any = None,
    given: Any = None,
    literal: Any = None,
    orcid: Any = None,
    suffix: Any = None,
) -> Name | None:
    """A :class:`Name` from loose parts; ``None`` when nothing usable is left."""
    fam = collapse(family) if isinstance(family, str) else None
    giv = collapse(given) if isinstance(given, str) else None
    lit = collapse(literal) if isinstance(literal, str) else None
    orc = _orcid(orcid)
    suf = collapse(suffix) if isinstance(suffix, str) else None
    if fam:
        particle, fam = split_family(fam)
        return Name(family=fam, given=giv, non_dropping_particle=particle, suffix=suf, orcid=orc)
    if lit:
        if "," in lit and lit.count(",") == 1 and not any(c.isdigit() for c in lit):
            fam_part, giv_part = (p.strip() for p in lit.split(","))
            if fam_part and giv_part and len(fam_part.split()) <= 3:
                return make_name(family=fam_part, given=giv_part, orcid=orcid, suffix=suffix)
        return Name(literal=lit, orcid=orc)
    if giv:
        return Name(literal=giv, orcid=orc)
    return None


_ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")


def _orcid(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    m = _ORCID.search(value)
    return m.group(1) if m else None


# ------------------------------------------------------------------ pages and dates

_RANGE = re.compile(r"^\s*([A-Za-z]*)(\d+)\s*[-‐‑‒–—]+\s*([A-Za-z]*)(\d+)\s*$")


def normalise_page(page: Any) -> str | None:
    """Page ranges with an en dash; abbreviated ends expanded ("159-67" → "159–167")."""
    if isinstance(page, int):
        return str(page)
    if not isinstance(page, str) or not page.strip():
        return None
    parts = [p.strip() for p in page.split(",") if p.strip()]
    out = []
    for part in parts:
        m = _RANGE.match(part)
        if not m:
            out.append(re.sub(r"\s*[-‐‑‒–—]+\s*", "–", part))
            continue
        p1, start, p2, end = m.groups()
        if not p2 and len(end) < len(start) and int(start[-len(end) :] or 0) < int(end):
            end = start[: len(start) - len(end)] + end
        out.append(f"{p1}{start}–{p2 or p1}{end}" if p2 or p1 else f"{start}–{end}")
    return ", ".join(out) or None


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}


def month_number(value: Any) -> int | None:
    """1-12 from "7", "07", "Jul", "July"; ``None`` otherwise."""
    if isinstance(value, int):
        return value if 1 <= value <= 12 else None
    if not isinstance(value, str):
        return None
    v = value.strip().lower()
    if v.isdigit():
        n = int(v)
        return n if 1 <= n <= 12 else None
    return _MONTHS.get(v[:3])


def date_parts(*values: Any) -> DateParts | None:
    """A date with its precision from year, month and day in any of the usual forms."""
    parts: list[int] = []
    year = values[0] if values else None
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year.strip())
    if not isinstance(year, int) or not 1000 <= year <= 2999:
        return None
    parts.append(year)
    if len(values) > 1:
        month = month_number(values[1])
        if month:
            parts.append(month)
            if len(values) > 2:
                day = values[2]
                if isinstance(day, str) and day.strip().isdigit():
                    day = int(day.strip())
                if isinstance(day, int) and 1 <= day <= 31:
                    parts.append(day)
    return DateParts(parts=parts)


_FREE_DATE = re.compile(r"(\d{4})(?:[\s-]+([A-Za-z]{3,9}|\d{1,2}))?(?:[\s-]+(\d{1,2}))?")


def parse_free_date(text: Any) -> DateParts | None:
    """PubMed's MedlineDate and RefSource dates: "1998 Feb", "2000 Spring", "2010 Feb 6"."""
    if not isinstance(text, str):
        return None
    m = _FREE_DATE.search(text)
    if not m:
        return None
    year, month, day = m.groups()
    if month and month.lower() in _SEASONS:
        return date_parts(int(year))
    return date_parts(int(year), month, day)


# ------------------------------------------------------------------ types

CSL_TYPES = frozenset(
    {
        "article",
        "article-journal",
        "article-magazine",
        "article-newspaper",
        "bill",
        "book",
        "broadcast",
        "chapter",
        "classic",
        "collection",
        "dataset",
        "document",
        "entry",
        "entry-dictionary",
        "entry-encyclopedia",
        "event",
        "figure",
        "graphic",
        "hearing",
        "interview",
        "legal_case",
        "legislation",
        "manuscript",
        "map",
        "motion_picture",
        "musical_score",
        "pamphlet",
        "paper-conference",
        "patent",
        "performance",
        "periodical",
        "personal_communication",
        "post",
        "post-weblog",
        "regulation",
        "report",
        "review",
        "review-book",
        "software",
        "song",
        "speech",
        "standard",
        "thesis",
        "treaty",
        "webpage",
    }
)
