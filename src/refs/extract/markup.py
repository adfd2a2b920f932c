"""HTML and JATS/XML: which identifiers in the markup are citations.

Offsets of mentions point into the markup itself (the decoded source), so that
``source[start:end] == raw`` holds for every format. No HTML parser that is fast
enough (selectolax/lexbor, lxml) reports source offsets, so this module finds the
identifiers with the text scanner and then classifies each hit by where it stands:

* HTML: visible text (not in ``<head>``, ``<script>``, ``<style>``, ``<template>`` or
  comments), ``href`` of ``<a>``/``<area>``, and ``content`` of ``<meta>`` tags named
  ``citation_doi``, ``citation_pmid``, ``citation_pmcid`` or ``citation_reference``.
* XML: element text and ``xlink:href``/``href`` attributes, plus ``<pub-id>`` and
  ``<object-id>`` values and ``<ext-link>`` targets typed pmid/pmc/doi; the
  article's own ``<article-id>`` is not a citation and is left out.

Hits are rare, so the classification (a few ``rfind`` calls and one tag match) costs
little; the only full passes are the scanner's literal-prefixed searches and one
search for the regions to skip.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

from refs.extract.context import HTML_BLOCK, XML_BLOCK, markup_to_text, sentence_context
from refs.identifiers import Found, Scheme, parse_identifier, scan
from refs.models import Mention

__all__ = ["extract_html", "extract_xml"]

# A start tag with its attributes; quoted values may hold ">".
# Possessive quantifiers and no "<" in names or bare values: a start tag that does not
# close fails at once instead of backtracking (`'<meta ' * 8000` stays linear).
_TAG = re.compile(
    r"<([A-Za-z][A-Za-z0-9:_.-]*+)"
    r"((?:\s++[^\s\"'<>/=]++(?:\s*+=\s*+(?:\"[^\"]*+\"|'[^']*+'|[^\s\"'=<>`]++))?+)*+)\s*+/?>"
)
_ATTR = re.compile(r"([^\s\"'>/=]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?")

# Region patterns that skip to a closing mark end at the end of the text (``|\Z``,
# as browsers do for comments and scripts): a pattern that can fail after scanning
# ahead would rescan from each start and make hostile input quadratic. Elements that
# may lack their end tag (<head>, <self-uri/>) are found by _element_spans instead.
_HTML_SKIP = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|template)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.S | re.I
)
_XML_SKIP = re.compile(r"<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)|<!DOCTYPE[^>]*>", re.S)
# Elements whose content is left out, found with plain searches (see _element_spans).
_XML_SKIP_ELEMENTS = ("article-id", "self-uri")
_META = re.compile(r"<meta\b", re.I)
_META_NAMES = {"citation_doi", "citation_pmid", "citation_pmcid", "citation_reference"}
# Meta tags whose content is a bare value of a known scheme ("37438700").
_META_VALUE_SCHEMES = {"citation_pmid": Scheme.PMID, "citation_pmcid": Scheme.PMCID}
_LINK_TAGS = {"a", "area"}
_WINDOW = 700
_XML_ID = re.compile(r"<(pub-id|object-id)\b([^>]*)>([^<]*)</\1\s*>")
_SPACE = re.compile(r"\s+")
_XML_EXT_LINK = re.compile(r"<ext-link\b")
_TYPE_SCHEME = {
    "doi": Scheme.DOI,
    "pmid": Scheme.PMID,
    "pubmed": Scheme.PMID,
    "pmcid": Scheme.PMCID,
    "pmc": Scheme.PMCID,
}


@dataclass(frozen=True, slots=True)
class _Tag:
    name: str
    start: int
    end: int
    attrs: dict[str, tuple[str, int, int]]  # lower-case name -> (value, start, end)


class _Regions:
    """Sorted, non-overlapping spans of the source to leave out."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]

    def __contains__(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]


# Tags are parsed within this many characters: every parse and every look back for
# the tag around a hit is bounded, so extraction stays linear in hostile markup.
TAG_MAX = 16_384


def _parse_tag(src: str, lt: int) -> _Tag | None:
    m = _TAG.match(src, lt, lt + TAG_MAX)
    if m is None:
        return None
    attrs: dict[str, tuple[str, int, int]] = {}
    base = m.start(2)
    for a in _ATTR.finditer(m.group(2)):
        for group in (2, 3, 4):
            if a.group(group) is not None:
                attrs[a.group(1).lower()] = (
                    a.group(group),
                    base + a.start(group),
                    base + a.end(group),
                )
                break
        else:
            attrs[a.group(1).lower()] = ("", base + a.end(1), base + a.end(1))
    return _Tag(m.group(1).lower(), m.start(), m.end(), attrs)


def _enclosing_tag(src: str, pos: int) -> _Tag | None:
    """The tag whose markup holds ``pos`` (inside an attribute value), if any."""
    lt = src.rfind("<", max(0, pos - TAG_MAX), pos)
    if lt < 0 or src.rfind(">", lt, pos) >= 0:
        return None
    tag = _parse_tag(src, lt)
    if tag is None or tag.end <= pos:
        return None
    return tag


def _attr_at(tag: _Tag, pos: int) -> str | None:
    for name, (_value, start, end) in tag.attrs.items():
        if start <= pos < end:
            return name
    return None


class _Blocks:
    """Where the block-level tags of a document stand (one pass over the markup), so a
    mention's context is rendered from its own paragraph or list entry, not from a
    fixed window of markup around it (three times the text, in most pages)."""

    def __init__(self, src: str, *, xml: bool) -> None:
        pattern = XML_BLOCK if xml else HTML_BLOCK
        spans = [m.span() for m in pattern.finditer(src)]
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]

    def around(self, lo: int, hi: int) -> tuple[int, int]:
        """The end of the last block tag before ``lo`` and the start of the first after ``hi``."""
        i = bisect.bisect_right(self.ends, lo) - 1
        j = bisect.bisect_left(self.starts, hi)
        return (self.ends[i] if i >= 0 else 0, self.starts[j] if j < len(self.starts) else -1)


def _mention(
    source: str, src: str, f: Found, tag: _Tag | None, blocks: _Blocks, *, xml: bool
) -> Mention:
    # The markup of the block holding the mention (at most _WINDOW characters each
    # side), rendered in one pass; two sentinel characters mark where the mention stands.
    lo, hi = (tag.start, tag.end) if tag is not None else (f.start, f.end)
    block_start, block_end = blocks.around(lo, hi)
    start = max(0, lo - _WINDOW, block_start)
    stop = hi + _WINDOW if block_end < 0 else min(hi + _WINDOW, block_end)
    before = src[start:lo]
    after = src[hi:stop]
    gt, lt = before.find(">"), before.find("<")
    if gt >= 0 and (lt < 0 or gt < lt):
        before = before[gt + 1 :]  # the window starts inside a tag
    cut = after.rfind("<")
    if cut >= 0 and after.find(">", cut) < 0:
        after = after[:cut]  # the window ends inside a tag
    middle = "" if tag is not None else f.raw
    text = markup_to_text(f"{before}\x00{middle}\x01{after}", xml=xml)
    start, end = text.find("\x00"), text.find("\x01")
    if 0 <= start < end:
        text = text[:start] + text[start + 1 : end] + text[end + 1 :]
        context = sentence_context(text, start, end - 1)
    else:  # a sentinel fell into something markup_to_text removes; render the parts
        tb, tm = markup_to_text(before, xml=xml), markup_to_text(middle, xml=xml)
        context = sentence_context(
            tb + tm + markup_to_text(after, xml=xml), len(tb), len(tb) + len(tm)
        )
    return Mention(source, f.scheme, f.id, f.raw, f.start, f.end, context)


def _value_found(scheme: Scheme, value: str, start: int) -> Found | None:
    """A mention for a bare value whose scheme its markup states (``pub-id-type="pmid"``).

    The value is the whole identifier, so its entities are decoded before parsing
    (``&amp;`` inside a DOI is an ``&``); ``raw`` stays the markup as written.
    """
    text = value.strip()
    if not text:
        return None
    offset = value.find(text)
    plain = html.unescape(text) if "&" in text else text
    # The element says what the value is, so white space inside it is a typo
    # ("10.1371/journal.pmed. 1001779"), not the end of the identifier.
    plain = _SPACE.sub("", plain)
    try:
        if scheme is Scheme.DOI:
            ident = parse_identifier(plain)
        else:
            ident = parse_identifier(plain, default=scheme)
    except ValueError:
        return None
    if ident.scheme is not scheme:
        return None
    return Found(scheme, ident.value, text, start + offset, start + offset + len(text))


def _dedupe(mentions: list[Mention]) -> list[Mention]:
    seen: set[tuple[int, int, Scheme]] = set()
    out: list[Mention] = []
    for m in sorted(mentions, key=lambda m: (m.start, m.end)):
        key = (m.start, m.end, m.scheme)
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def extract_html(source: str, src: str) -> list[Mention]:
    """Citations in an HTML page: visible text, link targets and citation meta tags."""
    hidden = _Regions(_merge([m.span() for m in _HTML_SKIP.finditer(src)]))
    head_start, head_end = _head(src)
    blocks = _Blocks(src, xml=False)
    mentions: list[Mention] = []
    for f in scan(src):
        if f.start in hidden:
            continue
        tag = _enclosing_tag(src, f.start)
        if tag is None:
            # Text: visible unless it stands in <head> (e.g. the <title>).
            if head_start <= f.start < head_end or _inside_any_tag(src, f.start):
                continue
        elif not _html_attr_ok(tag, _attr_at(tag, f.start)):
            continue
        mentions.append(_mention(source, src, f, tag, blocks, xml=False))
    for m in _META.finditer(src):
        if m.start() in hidden:
            continue
        tag = _parse_tag(src, m.start())
        if tag is None:
            continue
        scheme = _META_VALUE_SCHEMES.get(_meta_name(tag))
        content = tag.attrs.get("content")
        if scheme is None or content is None:
            continue
        found = _value_found(scheme, content[0], content[1])
        if found is not None:
            mentions.append(_mention(source, src, found, tag, blocks, xml=False))
    return _dedupe(mentions)


def _meta_name(tag: _Tag) -> str:
    return tag.attrs.get("name", tag.attrs.get("property", ("", 0, 0)))[0].strip().lower()


def _inside_any_tag(src: str, pos: int) -> bool:
    """True for a hit inside markup that ``_enclosing_tag`` could not parse (e.g. ``</a``)."""
    lt = src.rfind("<", max(0, pos - 2000), pos)
    if lt < 0 or src.rfind(">", lt, pos) >= 0:
        return False
    nxt = src[lt + 1 : lt + 2]
    return nxt.isalpha() or nxt in "/!?"


def _html_attr_ok(tag: _Tag, attr: str | None) -> bool:
    if attr is None:
        return False
    if tag.name in _LINK_TAGS:
        return attr == "href"
    if tag.name == "meta" and attr == "content":
        return _meta_name(tag) in _META_NAMES
    return False


def extract_xml(source: str, src: str) -> list[Mention]:
    """Citations in JATS (or other) XML: text, links and typed identifier elements."""
    spans = [m.span() for m in _XML_SKIP.finditer(src)]
    for name in _XML_SKIP_ELEMENTS:
        spans += _element_spans(src, name)
    skip = _Regions(_merge(spans))
    blocks = _Blocks(src, xml=True)
    typed = [m for m in _XML_ID.finditer(src) if _typed_scheme(src, m) is not None]
    # Hits inside a typed element are read from its whole value below.
    values = _Regions(_merge([m.span(3) for m in typed]))
    mentions: list[Mention] = []
    for f in scan(src):
        if f.start in skip or f.start in values or f.end - 1 in values:
            continue
        tag = _enclosing_tag(src, f.start)
        if tag is not None and _attr_at(tag, f.start) not in {"xlink:href", "href"}:
            continue
        if tag is None and _inside_any_tag(src, f.start):
            continue
        mentions.append(_mention(source, src, f, tag, blocks, xml=True))
    for m in typed:
        scheme = _typed_scheme(src, m)
        if m.start() in skip or scheme is None:
            continue
        found = _value_found(scheme, m.group(3), m.start(3))
        if found is not None:
            mentions.append(_mention(source, src, found, None, blocks, xml=True))
    for m in _XML_EXT_LINK.finditer(src):
        tag = _parse_tag(src, m.start())
        if tag is None or m.start() in skip:
            continue
        scheme = _TYPE_SCHEME.get(tag.attrs.get("ext-link-type", ("", 0, 0))[0].lower())
        href = tag.attrs.get("xlink:href") or tag.attrs.get("href")
        if scheme is None or href is None or scheme is Scheme.DOI:
            continue  # typed DOI links are found by the scanner already
        found = _value_found(scheme, href[0], href[1])
        if found is not None:
            mentions.append(_mention(source, src, found, tag, blocks, xml=True))
    return _dedupe(mentions)


def _typed_scheme(src: str, m: re.Match[str]) -> Scheme | None:
    """The scheme a ``<pub-id pub-id-type="…">`` (or ``<object-id>``) element states."""
    tag = _parse_tag(src, m.start())
    kind = tag.attrs.get("pub-id-type", ("", 0, 0))[0].lower() if tag else ""
    return _TYPE_SCHEME.get(kind)


_HEAD_OPEN = re.compile(r"<head\b[^>]*>", re.I)
_HEAD_END = re.compile(r"</head\s*>|<body\b", re.I)


def _head(src: str) -> tuple[int, int]:
    """The span of the page's <head> (its end tag may be omitted, then <body> ends it; with
    neither, only the start tag). Two searches, each at most one pass."""
    start = _HEAD_OPEN.search(src)
    if start is None:
        return (0, 0)
    end = _HEAD_END.search(src, start.end())
    return (start.start(), end.start() if end else start.end())


def _element_spans(src: str, name: str) -> list[tuple[int, int]]:
    """Spans of ``<name …>…</name>`` (or a self-closing ``<name …/>``), in linear time.

    An element whose end tag never comes covers only its start tag: the rest of the
    document stays visible. Searches go forward only; an opening with no end after it
    costs nothing more, because the last end tag's position is known.
    """
    opening, closing = f"<{name}", f"</{name}"
    last_end = src.rfind(closing)
    spans: list[tuple[int, int]] = []
    at = src.find(opening)
    while at >= 0:
        after = at + len(opening)
        if after < len(src) and (src[after].isalnum() or src[after] in "-_:."):
            at = src.find(opening, after)
            continue  # <header>, <article-ids>: another element
        gt = src.find(">", after)
        if gt < 0:
            break
        if src[gt - 1] == "/" or at > last_end:  # self-closing, or no end tag after it
            spans.append((at, gt + 1))
            at = src.find(opening, gt + 1)
            continue
        close = src.find(">", src.find(closing, gt + 1))
        end = (close if close >= 0 else len(src) - 1) + 1
        spans.append((at, end))
        at = src.find(opening, end)
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
