"""Citations that carry no identifier: reference-list entries and scholarly links. Pure.

Two kinds of mention, both found beside the identifier mentions of a document:

* ``reference``: an entry of a reference list or bibliography (HTML lists and
  paragraphs under a References/Bibliography/Sources/Literature heading or inside an
  element whose class or id says so, JATS ``<ref>`` elements, numbered, bulleted or
  hanging entries after such a heading in text and Markdown, Markdown footnotes,
  wiki ``{{cite journal}}``/``{{cite book}}``/``{{citation}}`` templates). ``id`` is
  the entry's text with markup removed and whitespace collapsed.
* ``link``: a link or bare URL to an article page of a publisher, journal or preprint
  host. ``id`` is the URL.

An entry or link that holds an identifier mention is left to that mention. Precision
goes before recall: an entry must read like a citation (:func:`looks_like_reference`)
and a link must name an article path on a known host, so that navigation lists, tips,
tables of contents and "related articles" boxes stay out.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable, Sequence

from refs.extract.context import markup_to_text
from refs.identifiers import Scheme
from refs.models import Mention

__all__ = [
    "article_link",
    "looks_like_reference",
    "unidentified_html",
    "unidentified_text",
    "unidentified_wiki",
    "unidentified_xml",
]

_SPACE = re.compile(r"\s+")
_CONTEXT_MAX = 300
# Headings that open a reference list, alone on their line or in their element.
_HEADING_WORDS = (
    r"references?(?:\s+and\s+notes)?|bibliography|sources(?:\s+cited)?|literature(?:\s+cited)?|"
    r"works\s+cited|cited\s+(?:works|literature)|citations|reference\s+list|"
    r"notes\s+and\s+references|further\s+reading|selected\s+references|studies\s+cited"
)
_HEADING = re.compile(rf"^\W{{0,4}}(?:\d+(?:\.\d+)*\.?\s+)?(?:{_HEADING_WORDS})\W{{0,4}}$", re.I)
# Sections that end a reference list in text.
_AFTER = re.compile(
    r"^\W{0,4}(?:acknowledge?ments?|appendi(?:x|ces)|about\s+the\s+authors?|author\s+"
    r"contributions|conflicts?\s+of\s+interest|funding|disclosures?|footnotes|tables?|"
    r"figures?|supplementary\s+material|related\s+(?:articles|posts|stories)|"
    r"read\s+(?:more|next)|comments?|share\s+this)\W{0,4}$",
    re.I,
)

# ---------------------------------------------------------------- is it a citation?

_YEAR = re.compile(r"(?<![\d/.-])(?:1[6-9]\d\d|20[0-4]\d)[a-z]?(?![\d/-])|\bn\.\s?d\.", re.I)
# A person as reference lists print them: "Elliott JM", "Elliott, J. M.", "J. M. Elliott",
# "Elliott J", "de la Cruz, M.", "et al".
_AUTHOR = re.compile(
    r"\b[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)?,?\s(?:[A-Z]\.?\s?-?){1,3}(?:[,.;:&]|\s(?:and|&)\s|$)"
    r"|\b(?:[A-Z]\.\s?){1,3}[A-Z][\w'’-]+\b"
    r"|^\W*[A-Z][\w'’-]+,\s[A-Z][a-z]+(?:\s[A-Z]\.)?[.,;]"
    r"|\bet\.?\s+al\b",
)
# Where a work was published: "2015;40(12):E694-700", "47(15), 9967", "pp. 3-9",
# "vol. 12", "Spine. 2015", "(eds.)", a publisher's city, a journal's "J. ".
_VENUE = re.compile(
    r"\d{4}\s*[;,]\s*\d+|\b\d+\s*\(\s*[\w-]+\s*\)\s*[:,]|[:,]\s*[eE]?\d+\s*[-–—]\s*[eE]?\d+"
    r"|\bpp?\.\s*\d|\bvol\.\s*\d|\bno\.\s*\d|\(eds?\.?\)|\beds?\.\s|\bin:\s|\bpress\b|"
    r"\bpublish|\bjournal\b|\bproc(?:eedings|\.)|\bj\.\s|\bdoi\b|\bretrieved\b|\baccessed\b|"
    r"\bavailable\s+(?:at|from)\b|\bthesis\b|\bdissertation\b|\breport\b",
    re.I,
)
_URL = re.compile(r"https?://[^\s<>\"'\]]+", re.I)


def _url_end(url: str) -> str:
    """A bare URL without the punctuation after it (a closing bracket it did not open)."""
    while url:
        if url[-1] in ".,;:!?" or (url[-1] == ")" and url.count(")") > url.count("(")):
            url = url[:-1]
        else:
            break
    return url


def looks_like_reference(text: str, *, strict: bool = False) -> bool:
    """True when ``text`` reads like one citation: a year, people or a venue, enough words.

    ``strict`` (for entries found without a reference heading) wants both people and a
    venue."""
    if not 25 <= len(text) <= 2500:
        return False
    bare = _URL.sub(" ", text)
    words = bare.split()
    if len(words) < 5 or len(bare.strip()) < 20:
        return False
    if _YEAR.search(bare) is None:
        return False
    people = _AUTHOR.search(bare) is not None
    venue = _VENUE.search(bare) is not None
    if strict:
        return people and venue
    # Sentences of prose ("Tip 3: drink water in 2024 ...") rarely hold a person in
    # citation form or a venue; a citation almost always has one or the other.
    return people or venue


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


# ---------------------------------------------------------------- scholarly links

# Hosts whose article pages are citations, with the path forms of an article.
_ARTICLE_PATH = re.compile(
    r"/(?:doi/(?:abs|full|pdf|epdf)?/?|article(?:s|/abs|/pii|/fulltext|/full)?/|fullarticle/|"
    r"full(?:text)?/|content/(?:early/)?\d|science/article/(?:abs/)?pii/|retrieve/pii/|"
    r"abs/|pdf/|pii/|cgi/content/|journals/[^/]+/(?:article|fullarticle|fulltext)|"
    r"[^/]*article[^/]*/)",
    re.I,
)
_SCHOLARLY_HOSTS = (
    "jamanetwork.com",
    "cell.com",
    "nature.com",
    "sciencedirect.com",
    "thelancet.com",
    "nejm.org",
    "bmj.com",
    "academic.oup.com",
    "onlinelibrary.wiley.com",
    "link.springer.com",
    "springer.com",
    "tandfonline.com",
    "journals.sagepub.com",
    "frontiersin.org",
    "mdpi.com",
    "biorxiv.org",
    "medrxiv.org",
    "arxiv.org",
    "pnas.org",
    "science.org",
    "sciencemag.org",
    "ahajournals.org",
    "jstor.org",
    "karger.com",
    "thieme-connect.com",
    "thieme-connect.de",
    "cambridge.org",
    "acpjournals.org",
    "annals.org",
    "atsjournals.org",
    "journals.lww.com",
    "jneurosci.org",
    "jci.org",
    "elifesciences.org",
    "plos.org",
    "biomedcentral.com",
    "hindawi.com",
    "cochranelibrary.com",
    "diabetesjournals.org",
    "aacrjournals.org",
    "ascopubs.org",
    "psychiatryonline.org",
    "apa.org",
    "ajronline.org",
    "neurology.org",
    "jwatch.org",
    "healthaffairs.org",
    "royalsocietypublishing.org",
    "iopscience.iop.org",
    "pubs.acs.org",
    "pubs.rsc.org",
    "ieeexplore.ieee.org",
    "dl.acm.org",
    "spinejournal.com",
)


def article_link(url: str) -> bool:
    """True for an http(s) URL of an article page on a known scholarly host."""
    m = re.match(r"https?://([^/\s?#]+)(/[^\s]*)?", url, re.I)
    if m is None or not m.group(2):
        return False
    host = m.group(1).lower().split(":")[0]
    if not any(host == h or host.endswith("." + h) for h in _SCHOLARLY_HOSTS):
        return False
    path = m.group(2)
    # Listings, searches and topic pages are not articles.
    if re.search(
        r"/(?:search|topics?|subjects?|collections?|issues?|toc|browse)(?:/|\?|$)", path, re.I
    ):
        return False
    return _ARTICLE_PATH.search(path) is not None and len(path) > 8


# ---------------------------------------------------------------- building mentions


class _Taken:
    """Spans of the identifier mentions already found: nothing found here overlaps them."""

    def __init__(self, mentions: Iterable[Mention]) -> None:
        spans = sorted((m.start, m.end) for m in mentions)
        self.starts = [s for s, _ in spans]
        self.reach: list[int] = []  # the furthest end among the first i+1 spans
        for _, e in spans:
            self.reach.append(max(e, self.reach[-1]) if self.reach else e)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, end)
        return i > 0 and self.reach[i - 1] > start


# Before the entry proper: stray punctuation, its printed number, Wikipedia's "^ a b".
_LEADING = re.compile(r"^(?:[\s.,;:]+|\[?\d{1,4}[.)\]]\s+|\^(?:\s+[a-z](?=\s))*\s*)+")


def _reference(source: str, text: str, start: int, end: int, entry: str) -> Mention:
    entry = _LEADING.sub("", entry)  # a stray ". " or the entry's number printed in it
    context = entry if len(entry) <= _CONTEXT_MAX else entry[: _CONTEXT_MAX - 1] + "…"
    return Mention(source, Scheme.REFERENCE, entry, text[start:end], start, end, context)


def _link(source: str, text: str, start: int, end: int, url: str, context: str) -> Mention:
    return Mention(source, Scheme.LINK, url, text[start:end], start, end, context)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# ---------------------------------------------------------------- text and Markdown

_LINE = re.compile(r"[^\n]*\n?")
_MARKER = re.compile(r"^[ \t]*(?:\d{1,4}[.)]|\[\d{1,4}\]|\(\d{1,4}\)|[-*•+])[ \t]+")
_MD_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^[ \t]*(?:=+|-{3,})[ \t]*$")
_FOOTNOTE = re.compile(r"^\[\^[^\]\s]+\]:[ \t]+", re.M)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_MD_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def _markdown_text(raw: str) -> str:
    text = _MD_LINK.sub(r"\1", raw)
    text = _MD_AUTOLINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return _collapse(html.unescape(text) if "&" in text else text)


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    pos = 0
    for m in _LINE.finditer(text):
        if m.start() == m.end():
            break
        out.append((pos, m.group().rstrip("\n")))
        pos = m.end()
    return out


def _heading_text(line: str, following: str | None) -> str | None:
    """The text of a heading line (Markdown ATX, setext, bold, or alone on its line)."""
    m = _MD_HEADING.match(line)
    if m:
        return m.group(2)
    if following is not None and _SETEXT.match(following) and line.strip():
        return line
    stripped = line.strip().strip("*_").strip()
    if stripped and len(stripped) <= 40 and not stripped.endswith((".", ",", ";")):
        return stripped
    return None


def _text_entries(lines: list[tuple[int, str]], first: int) -> Iterable[tuple[int, int]]:
    """Entry spans (offsets) in the lines after a reference heading."""
    entries: list[list[tuple[int, str]]] = []
    markers = any(_MARKER.match(line) for _, line in lines[first : first + 6])
    current: list[tuple[int, str]] = []
    blank_run = 0
    for i in range(first, len(lines)):
        pos, line = lines[i]
        following = lines[i + 1][1] if i + 1 < len(lines) else None
        if not line.strip():
            blank_run += 1
            if current and not markers:
                entries.append(current)
                current = []
            if blank_run >= 3 and (current or entries):
                break
            continue
        after_blank = blank_run > 0
        blank_run = 0
        if _MD_HEADING.match(line) or (following is not None and _SETEXT.match(following)):
            break
        if _AFTER.match(line.strip().strip("*_")):
            break
        if _SETEXT.match(line):
            continue
        if markers:
            if _MARKER.match(line):
                if current:
                    entries.append(current)
                current = [(pos, line)]
            elif current and (not after_blank or line[:1].isspace()):
                current.append((pos, line))  # a wrapped or indented continuation
            elif current or entries:
                break  # a paragraph after the list: the list has ended
            continue
        current.append((pos, line))
    if current:
        entries.append(current)
    for entry in entries:
        start = entry[0][0]
        m = _MARKER.match(entry[0][1])
        if m:
            start += m.end()
        end = entry[-1][0] + len(entry[-1][1])
        yield start, end


def _split_hanging(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A paragraph of several one-line citations (no blank lines) is several entries."""
    block = text[start:end]
    rows = block.split("\n")
    if len(rows) < 2 or not all(looks_like_reference(_markdown_text(r)) for r in rows if r.strip()):
        return [(start, end)]
    out = []
    pos = start
    for row in rows:
        if row.strip():
            out.append((pos, pos + len(row)))
        pos += len(row) + 1
    return out


def unidentified_text(
    source: str, text: str, identified: Sequence[Mention], *, markdown: bool = True
) -> list[Mention]:
    """Reference entries and scholarly URLs in plain text or Markdown."""
    taken = _Taken(identified)
    lines = _lines(text)
    mentions: list[Mention] = []
    entry_spans: list[tuple[int, int]] = []
    for i, (_pos, line) in enumerate(lines):
        following = lines[i + 1][1] if i + 1 < len(lines) else None
        heading = _heading_text(line, following)
        if heading is None or not _HEADING.match(heading.strip()):
            continue
        first = i + 1 + (1 if following is not None and _SETEXT.match(following) else 0)
        for s, e in _text_entries(lines, first):
            for s2, e2 in _split_hanging(text, s, e):
                entry_spans.append((s2, e2))
    # Footnote definitions ([^1]: ...) are references when they read like one.
    for m in _FOOTNOTE.finditer(text):
        end = text.find("\n\n", m.end())
        end = len(text) if end < 0 else end
        entry_spans.append((m.end(), end))
    seen: set[tuple[int, int]] = set()
    for s, e in sorted(entry_spans):
        s, e = _trim(text, s, e)
        if (s, e) in seen or s >= e:
            continue
        seen.add((s, e))
        entry = _markdown_text(text[s:e]) if markdown else _collapse(text[s:e])
        if taken.overlaps(s, e) or not looks_like_reference(entry):
            continue
        mentions.append(_reference(source, text, s, e, entry))
    mentions += _bare_links(source, text, taken, [(m.start, m.end) for m in mentions])
    return sorted(mentions, key=lambda m: (m.start, m.end))


def _bare_links(
    source: str, text: str, taken: _Taken, inside: list[tuple[int, int]]
) -> list[Mention]:
    from refs.extract.context import sentence_context

    spans = sorted(inside)
    starts = [s for s, _ in spans]
    out = []
    for m in _URL.finditer(text):
        url = _url_end(m.group())
        start, end = m.start(), m.start() + len(url)
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0 and spans[i][1] >= end:
            continue  # part of a reference entry
        if taken.overlaps(start, end) or not article_link(url):
            continue
        out.append(_link(source, text, start, end, url, sentence_context(text, start, end)))
    return out


# ---------------------------------------------------------------- HTML

_H_OPEN = re.compile(r"<(h[1-6]|p|div|dt|strong|b|span|header)\b[^>]*>", re.I)
_BLOCK_END = re.compile(
    r"<(?:h[1-6]|section|footer|aside|nav|article|main)\b|</(?:section|article|main|body)\s*>", re.I
)
_CLASSY = re.compile(
    r"<(ol|ul|div|section|aside|dl)\b[^>]*?\b(?:class|id)\s*=\s*[\"'][^\"']*"
    r"(?<![\w-])(?:references?|bibliography|ref-?list|reflist|references-list|citation-list|"
    r"citations|literature|works-cited|footnotes|endnotes|sources)(?![\w-])[^\"']*[\"'][^>]*>",
    re.I,
)
_LI = re.compile(r"<li\b[^>]*>", re.I)
_P = re.compile(r"<p\b[^>]*>", re.I)
_ENTRY_END = re.compile(r"<li\b|</li\s*>|</ol\s*>|</ul\s*>", re.I)
_BR = re.compile(r"<br\s*/?>", re.I)
_P_END = re.compile(r"</p\s*>|<p\b|<h[1-6]\b|</div\s*>", re.I)
_NAV = re.compile(r"<nav\b.*?(?:</nav\s*>|\Z)", re.I | re.S)
_A_HREF = re.compile(r"<a\b[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))[^>]*>", re.I)
_SKIP = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|template|head)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.S | re.I
)


def _element_end(src: str, name: str, start: int) -> int:
    """End of the element of tag ``name`` opened at ``start`` (nesting counted)."""
    pattern = re.compile(rf"<(/?){name}\b[^>]*>", re.I)
    depth = 0
    for m in pattern.finditer(src, start):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return m.end()
    return len(src)


def _html_regions(src: str) -> list[tuple[int, int]]:
    """Spans of the markup that hold a reference list."""
    regions: list[tuple[int, int]] = []
    for m in _H_OPEN.finditer(src):
        name = m.group(1).lower()
        close = re.compile(rf"</{name}\s*>", re.I).search(src, m.end(), m.end() + 400)
        if close is None:
            continue
        title = _collapse(markup_to_text(src[m.end() : close.start()], xml=False))
        if not title or not _HEADING.match(title):
            continue
        nxt = _BLOCK_END.search(src, close.end())
        regions.append((close.end(), nxt.start() if nxt else len(src)))
    for m in _CLASSY.finditer(src):
        regions.append((m.end(), _element_end(src, m.group(1), m.start())))
    return regions


def _html_entries(src: str, start: int, end: int) -> list[tuple[int, int]]:
    items = list(_LI.finditer(src, start, end))
    if items:
        out = []
        for m in items:
            stop = _ENTRY_END.search(src, m.end(), end)
            out.append((m.end(), stop.start() if stop else end))
        return out
    out = []
    for m in _P.finditer(src, start, end):
        stop = _P_END.search(src, m.end(), end)
        out.append((m.end(), stop.start() if stop else end))
    if not out:
        # Entries separated by <br>: one block of text.
        pos = start
        for br in _BR.finditer(src, start, end):
            out.append((pos, br.start()))
            pos = br.end()
        out.append((pos, end))
    return out


def _hidden(src: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(src)]


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    return any(s <= pos < e for s, e in spans)


def unidentified_html(source: str, src: str, identified: Sequence[Mention]) -> list[Mention]:
    """Reference entries and scholarly links of an HTML page (outside <nav>, scripts)."""
    taken = _Taken(identified)
    skipped = _hidden(src, _SKIP) + _hidden(src, _NAV)
    mentions: list[Mention] = []
    seen: set[tuple[int, int]] = set()
    entry_spans: list[tuple[int, int]] = []
    for rs, re_ in _html_regions(src):
        if _inside(skipped, rs):
            continue
        for s, e in _html_entries(src, rs, re_):
            s, e = _trim(src, s, e)
            if (s, e) in seen or s >= e:
                continue
            seen.add((s, e))
            entry = _collapse(markup_to_text(src[s:e], xml=False))
            if taken.overlaps(s, e) or not looks_like_reference(entry):
                continue
            entry_spans.append((s, e))
            mentions.append(_reference(source, src, s, e, entry))
    entry_spans.sort()
    starts = [s for s, _ in entry_spans]
    for m in _A_HREF.finditer(src):
        group = 1 if m.group(1) is not None else 2 if m.group(2) is not None else 3
        url = html.unescape(m.group(group)).strip()
        start, end = m.start(group), m.end(group)
        if _inside(skipped, m.start()) or not article_link(url) or taken.overlaps(start, end):
            continue
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0 and entry_spans[i][1] >= end:
            continue
        close = src.find("</a", m.end(), m.end() + 2000)
        label = _collapse(markup_to_text(src[m.end() : close if close > 0 else m.end()], xml=False))
        mentions.append(_link(source, src, start, end, url, label or url))
    return sorted(mentions, key=lambda m: (m.start, m.end))


# ---------------------------------------------------------------- JATS

_REF = re.compile(r"<ref(?=[\s>/])[^>]*>", re.I)
_CITATION = re.compile(r"<(mixed-citation|element-citation|citation|nlm-citation)\b[^>]*>")


_XML_TAG = re.compile(r"<[^>]+>")
_NAME_JOIN = re.compile(r"</surname>\s*<given-names>|</given-names>\s*<surname>")
_SPACE_BEFORE = re.compile(r"\s+([.,;:)\]–-])")
_SPACE_AFTER = re.compile(r"([(\[–-])\s+")
_NAME_PARTS = re.compile(r"</(surname|given-names|name|string-name|collab)>\s*(?=<)")


def _citation_text(body: str, *, mixed: bool) -> str:
    """A JATS citation's text: a mixed citation keeps its own punctuation; an element
    citation (no punctuation of its own) gets its parts joined by ". "."""
    body = _NAME_JOIN.sub(" ", body)  # <surname>Elliott</surname><given-names>JM → "Elliott JM"
    if mixed:
        # Tags go; elements printed without punctuation between them ("Society</collab>
        # </person-group><year>2007") are kept apart by a space.
        pieces = [p for p in _XML_TAG.split(body) if p]
        text = ""
        for piece in pieces:
            if text and text[-1].isalnum() and piece[0].isalnum():
                text += " "
            text += piece
    else:
        parts = [p.strip() for p in _XML_TAG.split(body)]
        text = ". ".join(p for p in parts if p)
    return _SPACE_BEFORE.sub(r"\1", _collapse(html.unescape(text)))


def unidentified_xml(source: str, src: str, identified: Sequence[Mention]) -> list[Mention]:
    """JATS ``<ref>`` entries that carry no identifier."""
    taken = _Taken(identified)
    mentions = []
    for m in _REF.finditer(src):
        end = src.find("</ref>", m.end())
        end = len(src) if end < 0 else end
        if taken.overlaps(m.start(), end):
            continue
        c = _CITATION.search(src, m.end(), end)
        if c is None:
            continue
        stop = src.find(f"</{c.group(1)}>", c.end(), end)
        s, e = c.end(), (stop if stop > 0 else end)
        body = src[s:e]
        if "<pub-id" in body or ("<ext-link" in body and ("doi" in body or "pubmed" in body)):
            continue
        entry = _citation_text(body, mixed=c.group(1) != "element-citation")
        # A <ref> is a reference by its markup: it only needs to say something.
        if len(entry) >= 20 and len(entry.split()) >= 3:
            mentions.append(_reference(source, src, s, e, entry))
    return mentions


# ---------------------------------------------------------------- wiki templates

_CITE = re.compile(r"\{\{\s*(cite\s+(?:journal|book|report|thesis|conference)|citation)\s*\|", re.I)
_ID_PARAMS = {"doi", "pmid", "pmc", "pmcid"}


def _template_end(src: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(src) - 1:
        pair = src[i : i + 2]
        if pair == "{{":
            depth += 1
            i += 2
            continue
        if pair == "}}":
            depth -= 1
            i += 2
            if depth == 0:
                return i
            continue
        i += 1
    return len(src)


def _params(body: str) -> dict[str, str]:
    params: dict[str, str] = {}
    depth = 0
    piece: list[str] = []
    parts: list[str] = []
    for ch in body:
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        if ch == "|" and depth <= 0:
            parts.append("".join(piece))
            piece = []
        else:
            piece.append(ch)
    parts.append("".join(piece))
    for part in parts[1:]:
        key, eq, value = part.partition("=")
        if eq:
            params[key.strip().lower()] = _collapse(value)
    return params


def _wiki_plain(value: str) -> str:
    value = re.sub(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]", r"\1", value)
    value = re.sub(r"\[https?://\S+\s+([^\]]*)\]", r"\1", value)
    value = re.sub(r"'{2,}", "", value)
    return _collapse(html.unescape(value))


def _template_text(params: dict[str, str]) -> str:
    """A citation string from a template's parameters, in Vancouver-like order."""
    people = []
    for n in ["", *map(str, range(1, 10))]:
        last = params.get(f"last{n}") or params.get(f"surname{n}")
        first = params.get(f"first{n}") or params.get(f"given{n}")
        author = params.get(f"author{n}")
        if last:
            people.append(f"{last}, {first}" if first else last)
        elif author:
            people.append(author)
    for key in ("vauthors", "authors"):
        if params.get(key) and not people:
            people.append(params[key])
    date = params.get("date") or params.get("year") or ""
    year = m.group() if (m := _YEAR.search(date)) else date
    pieces = []
    if people:
        pieces.append("; ".join(people) + ".")
    if year:
        pieces.append(f"({year}).")
    for key in ("title", "chapter"):
        if params.get(key):
            pieces.append(params[key].rstrip(".") + ".")
    venue = params.get("journal") or params.get("work") or params.get("book-title")
    if venue:
        pieces.append(venue.rstrip(".") + ".")
    tail = []
    if params.get("volume"):
        tail.append(params["volume"] + (f"({params['issue']})" if params.get("issue") else ""))
    if params.get("pages") or params.get("page"):
        tail.append(params.get("pages") or params.get("page") or "")
    if tail:
        pieces.append(":".join(tail) + ".")
    if params.get("publisher"):
        pieces.append(params["publisher"] + ".")
    return _wiki_plain(" ".join(pieces))


def unidentified_wiki(source: str, src: str, identified: Sequence[Mention]) -> list[Mention]:
    """``{{cite journal}}``-style templates without an identifier, then the text rules."""
    taken = _Taken(identified)
    mentions = []
    spans = []
    for m in _CITE.finditer(src):
        end = _template_end(src, m.start())
        spans.append((m.start(), end))
        params = _params(src[m.start() + 2 : end - 2])
        if any(params.get(k) for k in _ID_PARAMS) or taken.overlaps(m.start(), end):
            continue
        entry = _template_text(params)
        # A citation template is a citation by definition: it needs a title, no more.
        if entry and (params.get("title") or params.get("chapter")):
            mentions.append(_reference(source, src, m.start(), end, entry))
    text_found = [
        t
        for t in unidentified_text(source, src, identified, markdown=False)
        if not any(s <= t.start < e for s, e in spans)
    ]
    return sorted(mentions + text_found, key=lambda m: (m.start, m.end))
