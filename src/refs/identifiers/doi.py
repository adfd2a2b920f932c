"""Finding DOIs in text: anchors, suffix runs, trimming and canonical form. Pure."""

from __future__ import annotations

import re
from urllib.parse import unquote

from refs.identifiers.model import Found, Scheme

__all__ = ["DOI_FULL", "is_short_doi", "scan_dois", "url_head_before"]

# Prefix "10." + registrant code (4-9 digits, optionally dotted sub-prefixes), then
# "/" or its URL encoding. Crossref's DOI-matching blog (2015-08-11) uses 4-9 digits.
_DOI_ANCHOR = re.compile(r"10\.\d{4,9}(?:\.\d+)*(?:/|%2[Ff])")
# Characters a DOI suffix runs over. Stops at white space (incl. NBSP, zero-width
# space), quotes, "|", "<" ">" (SICI "<...>" parts are re-joined below), backslash,
# control characters and typographic quotes.
_DOI_SUFFIX = re.compile(
    '[^\\s"|<>\\\\^`\\x00-\\x1f\\x7f\\u200b-\\u200d\\u2060\\ufeff'
    "\\u2018\\u2019\\u201a\\u201b\\u201c\\u201d\\u201e\\u201f\\u00ab\\u00bb\\u3002\\u3001]+"
)
# A SICI part such as "<1::AID-CNCR1>" or its HTML-escaped form "&lt;1::AID-CNCR1&gt;":
# starts with a digit and holds a colon, which an HTML tag right after a DOI does not.
_SICI_PART = re.compile(
    r"<\d[^<>\s\"]*:[^<>\s\"]*>"
    r"|&(?:lt|#60|#[xX]0*3[cC]);\d[^<>&\s\"]*:[^<>&\s\"]*&(?:gt|#62|#[xX]0*3[eE]);"
)
_ESCAPED_LT = re.compile(r"&(?:lt|#60|#[xX]0*3[cC]);")
_ESCAPED_GT = re.compile(r"&(?:gt|#62|#[xX]0*3[eE]);")
# An HTML/XML entity ends a DOI ("&amp;" after a DOI in an attribute or text).
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,8}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
# "…; citation_pmid=123" inside a citation_reference meta tag.
_FIELD_AFTER = re.compile(r";\s*[A-Za-z_]+=")
# The next query parameter of a URL: "…?uri=info:doi/10.1371/journal.pmed.1001779&type=…".
# (DOIs holding "&" have it before a digit: 10.1207/S15327949PAM0103&4_2.)
_PARAM_AFTER = re.compile(r"&[A-Za-z_][\w.-]*=")
# A DOI directly followed by an ellipsis was cut short for display (link text, tables).
_ELLIPSES = ("...", "\u2026")
# Before a percent-encoded DOI inside another URL's query: "info%3Adoi%2F10.…".
_ENCODED_BEFORE = ("%2f", "%3a", "%3d")
# Publisher URL tails after a complete DOI: /full, /abstract, /pdf, /epdf …
_PUBLISHER_TAIL = re.compile(
    r"/(?:full|abstract|abs|pdf|epdf|pdfft|pdfdirect|pdfplus|fulltext|full-text|html|epub|"
    r"reader|summary|meta|references|figures|tables|suppinfo|supplemental|"
    r"supplementary|citedby|metrics|media|download|issuetoc|toc)"
    r"(?:\.pdf|\.html?)?/?$",
    re.IGNORECASE,
)
# bioRxiv/medRxiv URLs glue a version and a view to the DOI: 10.1101/2020.12.01.406702v1.full
# (and views after the version: .full, .full.pdf, .full.pdf+html, .supplementary-material).
_BIORXIV_TAIL = re.compile(
    r"^(10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,8})v\d+(?:[./][a-z][a-z0-9.+-]*)*/?$",
    re.IGNORECASE,
)
# shortDOIs, registered aliases of DOIs (DOI Handbook; shortdoi.org): 10/aabbe. Only
# after a resolver or a label, where "10/" cannot be a date or a fraction. Found like
# the other families: a literal search for "10/", the context checked only there.
_SHORT_DOI_BEFORE = re.compile(r"(?:(?:https?://)?(?:dx\.)?doi\.org/|\b(?:doi|DOI|Doi)\s*:\s*)\Z")
_SHORT_DOI = re.compile(r"10/(?=[A-Za-z0-9]{0,15}[A-Za-z])[A-Za-z0-9]{3,16}(?![\w/])(?![.-]\w)")
_TRAILING_PUNCT = ".,;:!?'*"
_BRACKETS = {")": "(", "]": "[", "}": "{"}
# A label or resolver URL right before a DOI, included in the raw text.
_DOI_LABEL_BEFORE = re.compile(
    r"(?:\b(?:doi|DOI|Doi)\s*:\s*|\b(?:doi|DOI|Doi)\s+|info:doi/|urn:doi:)\Z"
)
# Where the URL holding an identifier starts: the leftmost scheme, "www." or doi.org/ host
# in the run of URL characters that ends at the identifier (see url_start_before).
_URL_HEAD = re.compile(r"https?://|www\.|(?<![\w.])(?:dx\.)?doi\.org/", re.IGNORECASE)
_URL_RUN_REVERSED = re.compile(r"[^\s\"'<>()\[\]{}|\\]*")
DOI_FULL = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")


# No registered DOI comes near this length (Crossref's longest are a few hundred
# characters); a longer run is not a DOI, and the cap keeps every scan linear.
MAX_RUN = 1000


def url_head_before(text: str, pos: int, reach: int = 300) -> re.Match[str] | None:
    """The start of the URL that ``text[pos]`` stands in (``https://``, ``www.``, a doi.org
    host), searched within ``reach`` characters back; None when there is none.

    The run of URL characters ending at ``pos`` is measured by one match over the
    reversed window (a regex search ending in ``\\Z`` would retry from every position),
    then the leftmost head is searched in that run alone.
    """
    lo = max(0, pos - reach)
    run = _URL_RUN_REVERSED.match(text[lo:pos][::-1])
    run_start = pos - (run.end() if run else 0)
    return _URL_HEAD.search(text, run_start, pos)


def _doi_suffix_end(text: str, pos: int) -> int:
    """Where the run of suffix characters starting at ``pos`` ends, SICI parts included
    (at most ``MAX_RUN`` characters on)."""
    end = pos
    n = min(len(text), pos + MAX_RUN)
    while end < n:
        m = _DOI_SUFFIX.match(text, end, n)
        if m:
            end = m.end()
        # Only "<" stops the run mid-DOI; escaped SICI parts ("&lt;…&gt;") are
        # inside it and handled by _trim_doi.
        sici = _SICI_PART.match(text, end, n) if end < n and text[end] == "<" else None
        if sici is None:
            break
        end = sici.end()
    return end


def _trim_doi(candidate: str, *, in_url: bool, publisher: bool, bracketed: bool = False) -> str:
    """Cut a raw DOI candidate down to the DOI itself."""
    if "&" in candidate:  # most DOIs hold none: no search at all
        m = _ENTITY.search(candidate)
        while m:
            # An escaped SICI part is kept; any other entity ends the DOI.
            sici = _SICI_PART.match(candidate, m.start())
            if sici is None:
                candidate = candidate[: m.start()]
                break
            m = _ENTITY.search(candidate, sici.end())
        m = _PARAM_AFTER.search(candidate)
        if m:
            candidate = candidate[: m.start()]
    if ";" in candidate:
        m = _FIELD_AFTER.search(candidate)
        if m:
            candidate = candidate[: m.start()]
    cut = candidate.find("](")  # a Markdown link: [doi:10.1/x](https://doi.org/10.1/x)
    if cut >= 0:
        candidate = candidate[:cut]
    if in_url:
        for sep in "?#":
            cut = candidate.find(sep)
            if cut >= 0:
                candidate = candidate[:cut]
    if bracketed:
        candidate = _cut_unbalanced(candidate)
    while candidate:
        last = candidate[-1]
        if last in _TRAILING_PUNCT or (
            last in _BRACKETS and candidate.count(_BRACKETS[last]) < candidate.count(last)
        ):
            candidate = candidate[:-1]
        else:
            break
    slash = candidate.find("/")
    if slash < 0:
        return candidate
    if publisher:
        prefix, suffix = candidate[:slash], candidate[slash:]
        stripped = _PUBLISHER_TAIL.sub("", suffix)
        if len(stripped) > 1:
            candidate = prefix + stripped
    bio = _BIORXIV_TAIL.match(candidate)
    if bio:
        candidate = bio.group(1)
    return candidate


def _cut_unbalanced(candidate: str) -> str:
    """Inside brackets opened before it, a closing bracket with no opening one in the DOI
    ends it, even if more path follows: ``(DOI:10.1000/ABC.D5)/S/URI`` holds
    ``10.1000/ABC.D5`` (PDF link annotations). Elsewhere only a trailing one is cut, so
    that any DOI written alone stays whole."""
    if ")" not in candidate and "]" not in candidate and "}" not in candidate:
        return candidate
    depth = dict.fromkeys(_BRACKETS.values(), 0)
    for i, ch in enumerate(candidate):
        if ch in depth:
            depth[ch] += 1
        elif ch in _BRACKETS:
            opener = _BRACKETS[ch]
            if depth[opener] == 0:
                return candidate[:i]
            depth[opener] -= 1
    return candidate


def _glued_ok(text: str, start: int) -> bool:
    """May a DOI start at ``start``, given what stands right before it?

    Letters, digits, ``.`` and ``_`` glue ``10.`` to a longer token; so does ``-``,
    except after the digits of a page range (BioMed Central prints
    ``12 (1): 201-10.1186/1471-2458-12-201``). A percent-encoded ``/``, ``:`` or ``=``
    (``info%3Adoi%2F10.…`` in a query) opens an encoded DOI.
    """
    if not start:
        return True
    before = text[start - 1]
    if before == "-":
        return start >= 2 and text[start - 2].isdigit()
    if before.isalnum():
        return text[max(0, start - 3) : start].lower() in _ENCODED_BEFORE
    return before not in "._"


def _canonical_doi(candidate: str) -> str:
    if "%" in candidate:
        candidate = unquote(candidate)
    if "&" in candidate:  # an HTML-escaped SICI part: &lt;953::AID-YEA293&gt;
        candidate = _ESCAPED_GT.sub(">", _ESCAPED_LT.sub("<", candidate))
    return candidate.lower()


def scan_dois(text: str, out: list[Found], doi_at: list[int], short_at: list[int]) -> None:
    """DOIs (and shortDOIs) starting at the ``10.`` (``10/``) anchors found in ``text``."""
    for at in short_at:
        _short_doi(text, at, out)
    anchor_end = -1
    for at in doi_at:
        if at < anchor_end:
            continue  # inside the previous anchor ("10.1234.10.5/")
        m = _DOI_ANCHOR.match(text, at)
        if m is None:
            continue
        anchor_end = m.end()
        start = at
        if not _glued_ok(text, start):
            continue
        before = text[start - 1] if start else ""
        in_url = before in ("/", "=") or (before.isalnum() and start >= 3)
        if in_url:  # https://doi.org/10…, /doi/full/10…: raw starts at the URL's start
            head = url_head_before(text, start)
        else:  # doi:10…, DOI: 10…, doi 10…
            head = _DOI_LABEL_BEFORE.search(text, max(0, start - 12), start)
        raw_start = head.start() if head else start
        # Publisher URLs put views after the DOI (/full, /epdf); a resolver URL does not.
        publisher = in_url and "doi.org/" not in text[raw_start:start].lower()
        end = _doi_suffix_end(text, m.end())
        if end - m.end() >= MAX_RUN:
            continue  # a run this long is no DOI
        run = text[start:end]
        if _ELLIPSES[1] in run:
            continue  # "10.1016/j.jhep.2019.01…": the rest of the DOI was left out
        bracketed = raw_start > 0 and text[raw_start - 1] in "([{"
        trimmed = _trim_doi(run, in_url=in_url, publisher=publisher, bracketed=bracketed)
        end = start + len(trimmed)
        if text.startswith(_ELLIPSES, end):
            continue  # "10.1016/j.jhep.2019.01...": cut short (the href has it whole)
        doi = _canonical_doi(trimmed)
        slash = doi.find("/")
        if slash < 0 or slash == len(doi) - 1:
            continue
        out.append(Found(Scheme.DOI, doi, text[raw_start:end], raw_start, end))


def _short_doi(text: str, at: int, out: list[Found]) -> None:
    """A shortDOI at ``at`` (``https://doi.org/10/aabbe``, ``doi:10/aabbe``): a DOI mention
    whose id is the alias (``10/aabbe``), expanded to the full DOI when resolved."""
    m = _SHORT_DOI.match(text, at)
    head = _SHORT_DOI_BEFORE.search(text, max(0, at - 30), at) if m else None
    if m and head:
        start = head.start()
        out.append(Found(Scheme.DOI, m.group(0).lower(), text[start : m.end()], start, m.end()))


def is_short_doi(doi: str) -> bool:
    """``10/aabbe``: a shortDOI (a registered alias of a full DOI)."""
    return doi.startswith("10/")
