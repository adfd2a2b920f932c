"""Finding DOIs in text: anchors, suffix runs, trimming and canonical form. Pure."""

from __future__ import annotations

import re
from urllib.parse import unquote

from refs.identifiers.model import Found, Scheme

__all__ = ["DOI_FULL", "URL_HEAD_BEFORE", "scan_dois"]

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
# Publisher URL tails after a complete DOI: /full, /abstract, /pdf, /epdf …
_PUBLISHER_TAIL = re.compile(
    r"/(?:full|abstract|abs|pdf|epdf|pdfft|pdfdirect|pdfplus|fulltext|full-text|html|epub|"
    r"reader|summary|meta|references|figures|tables|suppinfo|supplemental|"
    r"supplementary|citedby|metrics|media|download|issuetoc|toc)"
    r"(?:\.pdf|\.html?)?/?$",
    re.IGNORECASE,
)
# bioRxiv/medRxiv URLs glue a version and a view to the DOI: 10.1101/2020.12.01.406702v1.full
_BIORXIV_TAIL = re.compile(
    r"^(10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,8})v\d+(?:\.[a-z][a-z.-]*)?$", re.IGNORECASE
)
_TRAILING_PUNCT = ".,;:!?'*"
_BRACKETS = {")": "(", "]": "[", "}": "{"}
# A label or resolver URL right before a DOI, included in the raw text.
_DOI_LABEL_BEFORE = re.compile(
    r"(?:\b(?:doi|DOI|Doi)\s*:\s*|\b(?:doi|DOI|Doi)\s+|info:doi/|urn:doi:)\Z"
)
URL_HEAD_BEFORE = re.compile(
    r"(?:https?://|www\.|(?<![\w.])(?:dx\.)?doi\.org/)[^\s\"'<>()\[\]{}|\\]*\Z", re.IGNORECASE
)
DOI_FULL = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")


def _doi_suffix_end(text: str, pos: int) -> int:
    """Where the run of suffix characters starting at ``pos`` ends, SICI parts included."""
    end = pos
    n = len(text)
    while end < n:
        m = _DOI_SUFFIX.match(text, end)
        if m:
            end = m.end()
        # Only "<" stops the run mid-DOI; escaped SICI parts ("&lt;…&gt;") are
        # inside it and handled by _trim_doi.
        sici = _SICI_PART.match(text, end) if end < n and text[end] == "<" else None
        if sici is None:
            break
        end = sici.end()
    return end


def _trim_doi(candidate: str, *, in_url: bool, publisher: bool) -> str:
    """Cut a raw DOI candidate down to the DOI itself."""
    m = _ENTITY.search(candidate)
    while m:
        # An escaped SICI part is kept; any other entity ends the DOI.
        sici = _SICI_PART.match(candidate, m.start())
        if sici is None:
            candidate = candidate[: m.start()]
            break
        m = _ENTITY.search(candidate, sici.end())
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


def _canonical_doi(candidate: str) -> str:
    if "%" in candidate:
        candidate = unquote(candidate)
    if "&" in candidate:  # an HTML-escaped SICI part: &lt;953::AID-YEA293&gt;
        candidate = _ESCAPED_GT.sub(">", _ESCAPED_LT.sub("<", candidate))
    return candidate.lower()


def scan_dois(text: str, out: list[Found]) -> None:
    for m in _DOI_ANCHOR.finditer(text):
        start = m.start()
        before = text[start - 1] if start else ""
        if before and (before.isalnum() or before in "._-"):
            continue
        in_url = before in ("/", "=")
        if in_url:  # https://doi.org/10…, /doi/full/10…: raw starts at the URL's start
            head = URL_HEAD_BEFORE.search(text, max(0, start - 300), start)
        else:  # doi:10…, DOI: 10…, doi 10…
            head = _DOI_LABEL_BEFORE.search(text, max(0, start - 12), start)
        raw_start = head.start() if head else start
        # Publisher URLs put views after the DOI (/full, /epdf); a resolver URL does not.
        publisher = in_url and "doi.org/" not in text[raw_start:start].lower()
        end = _doi_suffix_end(text, m.end())
        trimmed = _trim_doi(text[start:end], in_url=in_url, publisher=publisher)
        doi = _canonical_doi(trimmed)
        slash = doi.find("/")
        if slash < 0 or slash == len(doi) - 1:
            continue
        end = start + len(trimmed)
        out.append(Found(Scheme.DOI, doi, text[raw_start:end], raw_start, end))
