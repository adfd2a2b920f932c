"""Text pieces shared by the normalisers: markup, names, pages, dates, types. Pure.

Markup in titles and abstracts (HTML, JATS with or without the ``jats:`` prefix,
MathML, IEEE's inline TeX) becomes CSL rich text: italics, bold, superscript, subscript
and small caps are kept as ``<i>``, ``<b>``, ``<sup>``, ``<sub>`` and the small-caps
span (citeproc's and pandoc's vocabulary); everything else is unwrapped to its text,
entities are decoded and white space is collapsed.
"""

from __future__ import annotations

import contextvars
import html
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from refs.work import DateParts, Name

__all__ = [
    "CSL_TYPES",
    "clean_markup",
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

_SMALL_CAPS = '<span style="font-variant:small-caps;">'
_TAG_MAP = {
    "i": "i",
    "em": "i",
    "italic": "i",
    "var": "i",
    "b": "b",
    "strong": "b",
    "bold": "b",
    "sup": "sup",
    "superscript": "sup",
    "sub": "sub",
    "subscript": "sub",
    "sc": "sc",
    "scp": "sc",
    "smallcaps": "sc",
    "small-caps": "sc",
}
_BLOCK = {"p", "title", "sec", "list-item", "li", "div", "br"}
_DROP = {"script", "style", "xref", "fn", "object-id", "label"}
_MARKUP_HINT = re.compile(r"<[A-Za-z!/]|&[#A-Za-z]")
# A literal "<" in text that would read as one of the rich-text tags (an escaped
# "&lt;b&gt;" in a PubMed title) is kept as "&lt;", so it stays text (see refs.work).
_TAG_LIKE = re.compile(r"<(?=/?(?:i|b|sup|sub)>|/?span\b)")
# Control characters (but the white space collapse() handles), bidi overrides and
# isolates never reach the library: they can forge terminal output and reorder text.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# A well-formed tag (or comment, CDATA, declaration): any other "<" is a literal one
# ("n<p & x>y" in a JSON title is text, not a <p> element), escaped before parsing.
_WELL_FORMED = re.compile(
    r"""<(?:!|/?[A-Za-z][\w:.-]*(?:\s+[A-Za-z_:][\w:.-]*(?:\s*=\s*(?:"[^"<]*"|'[^'<]*'|[^\s"'=<>`]+))?)*\s*/?>)"""
)


def _escape_stray_lt(value: str) -> str:
    out, last, at = [], 0, value.find("<")
    while at >= 0:
        if not _WELL_FORMED.match(value, at):
            out.append(value[last:at])
            out.append("&lt;")
            last = at + 1
        at = value.find("<", at + 1)
    return "".join(out) + value[last:] if out else value


def _literal(text: str) -> str:
    return _TAG_LIKE.sub("&lt;", text) if "<" in text else text


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


def clean_markup(value: Any, *, paragraphs: bool = False) -> str | None:
    """HTML/JATS/MathML/TeX markup → CSL rich text (see the module docstring).

    ``paragraphs`` keeps paragraph breaks (for abstracts) as blank lines.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    if not _MARKUP_HINT.search(value):
        return collapse(value)
    value = _escape_stray_lt(value)
    try:
        root = lxml_html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return collapse(_literal(re.sub(r"<[^>]*>", " ", html.unescape(value))))
    parts: list[str] = []
    _render(root, parts, paragraphs=paragraphs)
    text = "".join(parts)
    if paragraphs:
        blocks = [collapse(b) for b in text.split("\n\n")]
        kept = [b for b in blocks if b]
        if kept and kept[0].lower().rstrip(":.") in {"abstract", "summary"}:
            kept = kept[1:]
        return "\n\n".join(kept) or None
    return collapse(text.replace("\n\n", " "))


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    name = tag.rsplit("}", 1)[-1]
    return name.split(":", 1)[-1].lower()


def _render(el: Any, out: list[str], *, paragraphs: bool) -> None:
    name = _local(el.tag)
    if name in _DROP:
        out.append(" " if el.tail is None else _literal(el.tail))
        return
    if name in {"math", "mml"} or (name.startswith("m") and name in _MATHML):
        out.append(_mathml(el))
        if el.tail:
            out.append(el.tail)
        return
    if name == "tex" or name == "tex-math":
        out.append(_tex(el.text_content() if hasattr(el, "text_content") else (el.text or "")))
        if el.tail:
            out.append(el.tail)
        return
    if name == "alternatives":
        # Prefer MathML, then TeX, then anything else among the alternatives.
        children = list(el)
        pick = next((c for c in children if _local(c.tag) in {"math", "mml"}), None)
        pick = pick or next((c for c in children if _local(c.tag) in {"tex-math", "tex"}), None)
        if pick is None and children:
            pick = children[0]
        if pick is not None:
            tail, pick.tail = pick.tail, None
            _render(pick, out, paragraphs=paragraphs)
            pick.tail = tail
        if el.tail:
            out.append(el.tail)
        return
    mapped = _TAG_MAP.get(name)
    if name in _BLOCK and paragraphs:
        out.append("\n\n")
    if mapped:
        out.append(_SMALL_CAPS if mapped == "sc" else f"<{mapped}>")
    if el.text:
        out.append(_literal(el.text))
    for child in el:
        _render(child, out, paragraphs=paragraphs)
    if mapped:
        out.append("</span>" if mapped == "sc" else f"</{mapped}>")
    if name in _BLOCK and paragraphs:
        out.append("\n\n")
    elif name in _BLOCK:
        out.append(" ")
    if el.tail:
        out.append(_literal(el.tail))


_MATHML = {
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "msub",
    "msup",
    "msubsup",
    "mrow",
    "mfrac",
    "msqrt",
    "mroot",
    "mstyle",
    "mspace",
    "mover",
    "munder",
    "munderover",
    "mfenced",
    "mtable",
    "mtr",
    "mtd",
    "mpadded",
    "mphantom",
    "semantics",
    "annotation",
}


def _mathml(el: Any) -> str:
    name = _local(el.tag)
    kids = [c for c in el if _local(c.tag) != "annotation"]
    if name == "annotation":
        return ""
    if name == "msub" and len(kids) >= 2:
        return f"{_mathml(kids[0])}<sub>{_mathml(kids[1])}</sub>"
    if name == "msup" and len(kids) >= 2:
        return f"{_mathml(kids[0])}<sup>{_mathml(kids[1])}</sup>"
    if name == "msubsup" and len(kids) >= 3:
        return f"{_mathml(kids[0])}<sub>{_mathml(kids[1])}</sub><sup>{_mathml(kids[2])}</sup>"
    if name == "mfrac" and len(kids) >= 2:
        return f"{_mathml(kids[0])}/{_mathml(kids[1])}"
    if name == "msqrt":
        return "√" + "".join(_mathml(k) for k in kids)
    text = el.text or ""
    return text.strip() + "".join(_mathml(k) + (k.tail or "").strip() for k in kids)


_TEX_SUB = re.compile(r"_\{([^{}]*)\}|_([A-Za-z0-9])")
_TEX_SUP = re.compile(r"\^\{([^{}]*)\}|\^([A-Za-z0-9])")
_TEX_WRAP = re.compile(r"\\(?:hbox|mbox|mathrm|text|textrm|rm|mathit|it)\s*\{([^{}]*)\}")


def _tex(source: str) -> str:
    """Inline TeX such as IEEE's ``$\\hbox{GeO}_{2}$`` → ``GeO<sub>2</sub>``."""
    from pylatexenc.latex2text import LatexNodes2Text

    text = source.strip().strip("$")
    text = _TEX_WRAP.sub(r"\1", text)
    marks: list[str] = []

    def keep(tag: str) -> Any:
        def repl(m: re.Match[str]) -> str:
            marks.append(f"<{tag}>{m.group(1) or m.group(2)}</{tag}>")
            return f"\x00{len(marks) - 1}\x00"

        return repl

    text = _TEX_SUP.sub(keep("sup"), _TEX_SUB.sub(keep("sub"), text))
    try:
        text = LatexNodes2Text(math_mode="text").latex_to_text(text)
    except Exception:
        text = text.replace("\\", "")
    return re.sub(r"\x00(\d+)\x00", lambda m: marks[int(m.group(1))], text).replace(" ", "")


# ------------------------------------------------------------------ names

# Lower-case particles that start a family name ("van der Berg", "de la Cruz").
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
