"""Markup in titles and abstracts → CSL rich text. Pure.

HTML, JATS with or without the ``jats:`` prefix, MathML and IEEE's inline TeX become CSL
rich text: italics, bold, superscript, subscript and small caps are kept as ``<i>``,
``<b>``, ``<sup>``, ``<sub>`` and the small-caps span (citeproc's and pandoc's
vocabulary); everything else is unwrapped to its text, entities are decoded and white
space is collapsed. A literal ``<`` stays text (see :mod:`refs.work`).
"""

from __future__ import annotations

import html
import re
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from refs.normalise.text import collapse

__all__ = ["clean_markup"]

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
