"""Parse, validate and normalise DOIs, PMIDs and PMCIDs. Pure: never touches the network.

Two entry points:

* :func:`parse_identifier` takes one identifier as a person would type it
  (``doi:10.1186/s10194-023-01626-w``, ``https://doi.org/…``, ``PMID: 37438700``,
  ``PMC10337094``, a PubMed or PMC URL …) and returns an :class:`Identifier`
  or raises :class:`~refs.errors.IdentifierError`.
* :func:`scan` finds every identifier in a run of text and returns
  :class:`Found` spans (scheme, canonical id, raw text, start, end).

Canonical forms: DOIs lower-case without prefix or URL (DOIs are case-insensitive
with ASCII case folding, DOI Handbook 2.4); PMIDs 1-8 digits without leading zeros or
version suffix (NLM MEDLINE/PubMed element descriptions); PMCIDs ``PMC`` + digits
without version.

Speed: each family of identifiers is found by a pattern that starts with a literal
(``10.``, ``pm``, ``pubmed`` …), which Python's regex engine searches for with a fast
prefix scan; the context rules that would need look-behinds run only at the few hits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

from refs.errors import IdentifierError

__all__ = [
    "Found",
    "Identifier",
    "Scheme",
    "canonical",
    "normalise_doi",
    "normalise_pmcid",
    "normalise_pmid",
    "parse_identifier",
    "scan",
]


class Scheme(StrEnum):
    """The identifier schemes refs knows."""

    DOI = "doi"
    PMID = "pmid"
    PMCID = "pmcid"


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A canonical identifier: ``Identifier(Scheme.DOI, "10.1186/s10194-023-01626-w")``."""

    scheme: Scheme
    value: str

    def __str__(self) -> str:
        return f"{self.scheme.value}:{self.value}"


@dataclass(frozen=True, slots=True)
class Found:
    """One identifier found in text: ``text[start:end] == raw``."""

    scheme: Scheme
    id: str
    raw: str
    start: int
    end: int

    @property
    def identifier(self) -> Identifier:
        return Identifier(self.scheme, self.id)


# --------------------------------------------------------------------------- DOIs

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
_URL_HEAD_BEFORE = re.compile(
    r"(?:https?://|www\.|(?<![\w.])(?:dx\.)?doi\.org/)[^\s\"'<>()\[\]{}|\\]*\Z", re.IGNORECASE
)
_DOI_FULL = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")


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


def _scan_dois(text: str, out: list[Found]) -> None:
    for m in _DOI_ANCHOR.finditer(text):
        start = m.start()
        before = text[start - 1] if start else ""
        if before and (before.isalnum() or before in "._-"):
            continue
        in_url = before in ("/", "=")
        if in_url:  # https://doi.org/10…, /doi/full/10…: raw starts at the URL's start
            head = _URL_HEAD_BEFORE.search(text, max(0, start - 300), start)
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


def normalise_doi(text: str) -> str:
    """Return the canonical form of one DOI given in any common form.

    >>> normalise_doi("https://doi.org/10.1186/S10194-023-01626-W")
    '10.1186/s10194-023-01626-w'
    """
    ident = parse_identifier(text)
    if ident.scheme is not Scheme.DOI:
        msg = f"{text!r} is a {ident.scheme.value.upper()}, not a DOI"
        raise IdentifierError(msg, text=text, scheme="doi")
    return ident.value


# ------------------------------------------------------------------ PMIDs and PMCIDs

# The PMID/PMCID families are found by searching a lower-cased copy of the text for
# "pm", "pubmed", "|", "{{" and "list_uids=" with str.find (memchr speed); the full
# case-insensitive patterns below run only where such an anchor stands.
_I = re.IGNORECASE
# "PMID: 37438700", "PMID 37438700", "pmid:37438700", "PMID=123", "citation_pmid=123", "@pmid:123"
# Between a label and its number: white space, ":", "=" or "#", and (in JATS) markup
# such as "PubMed</publisher-name><comment>: 17699505".
_SEP = r"(?:\s|<[^<>]{0,80}>)*(?:[:=#](?:\s|<[^<>]{0,80}>)*)?"
_PMID_LABEL = re.compile(
    r"pmid(?=[\s:=#<])" + _SEP + r"(0*)(\d{1,8})(?:\.\d{1,3})?(?![\d.]*\d)", _I
)
# "PMCID: PMC10337094", "PMCID PMC 10337094", "pmcid:10337094", "@pmcid:PMC123"
_PMCID_LABEL = re.compile(
    r"pmcid(?=[\s:=#<])" + _SEP + r"(?:pmc\s?){0,2}(0*)(\d{1,9})(?:\.\d{1,3})?(?![\d.]*\d)", _I
)
# Bare "PMC10337094" (also "PMC10337094.1"): at least 4 digits so gene names such as
# PMC1 are not taken for PMCIDs.
_PMC_BARE = re.compile(r"pmc(0*)(\d{4,9})(?:\.\d{1,3})?(?![\w])", _I)
_PMC_BARE_URL = re.compile(r"pmc(0*)(\d{1,9})(?:\.\d{1,3})?(?![\w])", _I)
_PUBMED_HOST = re.compile(r"pubmed\.ncbi\.nlm\.nih\.gov/(?:\?term=)?(0*)(\d{1,8})(?!\d)/?", _I)
_PUBMED_PATH = re.compile(r"pubmed/(?:\?term=)?(0*)(\d{1,8})(?!\d)/?", _I)
_PUBMED_LABEL = re.compile(
    r"pubmed\s*(?:id|pmid|identifier|uid)(?=[\s:=#<])" + _SEP + r"(0*)(\d{1,8})(?!\d)"
    r"|pubmed(?:\s|<[^<>]{0,80}>)*:(?:\s|<[^<>]{0,80}>)*(0*)(\d{1,8})(?!\d)",
    _I,
)
_EUROPEPMC = re.compile(
    r"europepmc\.org/(?:article|abstract|articles)/(MED|PMC)/(?:PMC)?(0*)(\d{1,9})(?!\d)/?", _I
)
_TEMPLATE = re.compile(
    r"\|\s*(pmid|pmc)\s*=\s*(?:PMC)?(0*)(\d{1,9})(?!\d)|\{\{\s*(pmid|pmc)\s*\|\s*(?:PMC)?(0*)(\d{1,9})(?!\d)",
    _I,
)
_LIST_UIDS = re.compile(r"list_uids=(0*)(\d{1,8})(?!\d)")
_NCBI_BEFORE = re.compile(r"ncbi\.nlm\.nih\.gov/(?:entrez/)?\Z", _I)
_URL_SCHEME_BEFORE = re.compile(r"(?:https?://)?(?:www\.)?\Z", _I)


def _left_ok(text: str, pos: int) -> bool:
    """True when the character before ``pos`` does not glue a label to a longer word."""
    return pos == 0 or not text[pos - 1].isalnum()


def _with_url_head(text: str, start: int) -> int:
    """Extend a URL match back over ``https://`` / ``www.``."""
    m = _URL_SCHEME_BEFORE.search(text, max(0, start - 12), start)
    return m.start() if m else start


def _add_pmid(out: list[Found], text: str, start: int, end: int, digits: str) -> None:
    if digits and len(digits) <= 8 and digits != "0" * len(digits):
        out.append(Found(Scheme.PMID, digits.lstrip("0"), text[start:end], start, end))


def _add_pmcid(out: list[Found], text: str, start: int, end: int, digits: str) -> None:
    digits = digits.lstrip("0")
    if digits and len(digits) <= 9:
        out.append(Found(Scheme.PMCID, "PMC" + digits, text[start:end], start, end))


def _find_all(haystack: str, needle: str, text: str) -> Iterator[int]:
    """Positions of ``needle`` in ``haystack`` (a lower-cased ``text``), case-insensitively."""
    if len(haystack) != len(text):
        # Lower-casing changed the length (e.g. U+0130): offsets would not align.
        for m in re.finditer(re.escape(needle), text, re.IGNORECASE):
            yield m.start()
        return
    i = haystack.find(needle)
    while i >= 0:
        yield i
        i = haystack.find(needle, i + 1)


def _scan_ncbi(text: str, out: list[Found]) -> None:
    low = text.lower()
    for pos in _find_all(low, "pm", text):
        nxt = low[pos + 2 : pos + 3]
        if nxt == "i":
            if low.startswith("pmid", pos) and _left_ok(text, pos):
                lm = _PMID_LABEL.match(text, pos)
                if lm:
                    _add_pmid(out, text, pos, lm.end(), lm.group(2))
        elif nxt == "c":
            _scan_pmc_at(text, low, pos, out)

    for pos in _find_all(low, "pubmed", text):
        hm = _PUBMED_HOST.match(text, pos)
        if hm and (pos == 0 or text[pos - 1] in "/.\t\n \"'(<[=>"):
            _add_pmid(out, text, _with_url_head(text, pos), hm.end(), hm.group(2))
            continue
        pm = _PUBMED_PATH.match(text, pos)
        if pm and pos > 0 and text[pos - 1] == "/":
            ncbi = _NCBI_BEFORE.search(text, max(0, pos - 40), pos)
            if ncbi:
                _add_pmid(out, text, _with_url_head(text, ncbi.start()), pm.end(), pm.group(2))
            continue
        if not _left_ok(text, pos):
            continue
        lm = _PUBMED_LABEL.match(text, pos)
        if lm:
            _add_pmid(out, text, pos, lm.end(), lm.group(2) or lm.group(4))

    for needle in ("|", "{{"):
        for pos in _find_all(low, needle, text):
            tm = _TEMPLATE.match(text, pos)
            if not tm:
                continue
            name = (tm.group(1) or tm.group(4)).lower()
            digits = tm.group(3) or tm.group(6)
            if name == "pmid":
                _add_pmid(out, text, pos, tm.end(), digits)
            else:
                _add_pmcid(out, text, pos, tm.end(), digits)

    for pos in _find_all(low, "list_uids=", text):
        um = _LIST_UIDS.match(text, pos)
        if um and "pubmed" in low[max(0, pos - 200) : pos]:
            _add_pmid(out, text, pos, um.end(), um.group(2))


def _scan_pmc_at(text: str, low: str, pos: int, out: list[Found]) -> None:
    """A "pmc" at ``pos``: a PMCID label, a bare PMCID, or a Europe PMC URL."""
    if low.startswith("pmcid", pos) and _left_ok(text, pos):
        lm = _PMCID_LABEL.match(text, pos)
        if lm:
            _add_pmcid(out, text, pos, lm.end(), lm.group(2))
            return
    if pos >= 6 and low.startswith("europepmc.org/", pos - 6):
        em = _EUROPEPMC.match(text, pos - 6)
        if em:
            start = _with_url_head(text, pos - 6)
            if em.group(1).upper() == "MED":
                _add_pmid(out, text, start, em.end(), em.group(3))
            else:
                _add_pmcid(out, text, start, em.end(), em.group(3))
        return
    in_path = pos > 0 and text[pos - 1] in "/="
    if not (in_path or _left_ok(text, pos)):
        return
    bm = (_PMC_BARE_URL if in_path else _PMC_BARE).match(text, pos)
    if not bm or (not in_path and text[pos : pos + 3] != "PMC"):
        return  # lower-case "pmc123" only counts inside URLs
    start = pos
    if in_path:
        head = _URL_HEAD_BEFORE.search(text, max(0, pos - 300), pos)
        if head:
            start = head.start()
    _add_pmcid(out, text, start, bm.end(), bm.group(2))


def normalise_pmid(text: str) -> str:
    """Return the canonical PMID of one PMID given in any common form."""
    ident = parse_identifier(text, default=Scheme.PMID)
    if ident.scheme is not Scheme.PMID:
        msg = f"{text!r} is a {ident.scheme.value.upper()}, not a PMID"
        raise IdentifierError(msg, text=text, scheme="pmid")
    return ident.value


def normalise_pmcid(text: str) -> str:
    """Return the canonical PMCID (``PMC`` + digits) of one PMCID in any common form."""
    ident = parse_identifier(text, default=Scheme.PMCID)
    if ident.scheme is not Scheme.PMCID:
        msg = f"{text!r} is a {ident.scheme.value.upper()}, not a PMCID"
        raise IdentifierError(msg, text=text, scheme="pmcid")
    return ident.value


# ------------------------------------------------------------------------ scanning


def scan(text: str) -> list[Found]:
    """Every DOI, PMID and PMCID in ``text``, in order of position.

    Overlapping finds are resolved in favour of the longer one, so a PMCID that
    happens to stand inside a DOI or a URL is not reported twice.
    """
    found: list[Found] = []
    if "10." in text:
        _scan_dois(text, found)
    _scan_ncbi(text, found)
    if len(found) < 2:
        return found
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Found] = []
    last_end = -1
    for f in found:
        if f.start >= last_end:
            kept.append(f)
            last_end = f.end
    return kept


# ------------------------------------------------------------- single identifiers

_EXPECTED = (
    "expected a DOI such as 10.1186/s10194-023-01626-w or doi:…, a PMID such as "
    "PMID:37438700, or a PMCID such as PMC10337094 (a doi.org, PubMed or PMC URL also works)"
)
_SCHEME_PREFIX = re.compile(r"^\s*(doi|pmid|pmcid|pmc)\s*[:=]?\s*", re.IGNORECASE)
_TRAILING_NOISE = " \t\r\n.,;/"
_LABELS = {"", "doi", "pmid", "pmcid", "pmc"}
_WHOLE_PMC = re.compile(r"pmc\s?\d{1,9}(?:\.\d{1,3})?", re.IGNORECASE)


def parse_identifier(text: str, *, default: Scheme | None = None) -> Identifier:
    """Parse one identifier written in any common form.

    A bare number is only taken as a PMID (or PMCID) when ``default`` says so;
    the command line never does that, because a bare number is ambiguous.

    Raises :class:`~refs.errors.IdentifierError` naming the input and what was expected.
    """
    if not isinstance(text, str):
        msg = f"{text!r} is not text: {_EXPECTED}"
        raise IdentifierError(msg, text=str(text))
    stripped = text.strip().rstrip(_TRAILING_NOISE[:-1]).strip()
    if not stripped:
        msg = f"{text!r} is empty: {_EXPECTED}"
        raise IdentifierError(msg, text=text)
    if default is not None and stripped.isdigit():
        stripped = ("PMID:" if default is Scheme.PMID else "PMCID:") + stripped
    elif _WHOLE_PMC.fullmatch(stripped):
        # Given on its own, "PMC1" is a PMCID; in running text short ones are gene names.
        stripped = "PMCID:" + stripped
    found = [f for f in scan(stripped) if f.end - f.start > 0]
    if len(found) == 1:
        f = found[0]
        head, tail = stripped[: f.start], stripped[f.end :]
        if not head and _is_url_tail(f.raw, tail):
            return f.identifier  # the rest of a URL: /epdf, ?utm_source=…, v1.full
        rest = (head + tail).strip(_TRAILING_NOISE)
        if rest.rstrip(":= ").lstrip("@").lower() in _LABELS:
            return f.identifier
    raise IdentifierError(_explain(text, stripped), text=text, scheme=_guess_scheme(stripped))


def _is_url_tail(raw: str, tail: str) -> bool:
    return (
        bool(tail)
        and not any(c.isspace() for c in tail)
        and raw.lower().startswith(("http://", "https://", "www.", "doi.org/", "dx.doi.org/"))
    )


def _guess_scheme(text: str) -> str | None:
    m = _SCHEME_PREFIX.match(text)
    if m:
        name = m.group(1).lower()
        return "pmcid" if name == "pmc" else name
    if text.startswith("10.") or "doi.org" in text.lower():
        return "doi"
    return None


def _explain(original: str, text: str) -> str:
    scheme = _guess_scheme(text)
    if scheme == "doi":
        if not _DOI_FULL.search(text.replace("%2F", "/").replace("%2f", "/")):
            return (
                f"{original!r} is not a valid DOI: expected 10.<registrant>/<suffix>, "
                "e.g. 10.1186/s10194-023-01626-w"
            )
        return f"{original!r} is not a single valid DOI: expected one DOI such as 10.1186/s10194-023-01626-w"
    if scheme == "pmid":
        return (
            f"{original!r} is not a valid PMID: expected 1 to 8 digits with no leading "
            "zeros, e.g. PMID:37438700"
        )
    if scheme == "pmcid":
        return (
            f"{original!r} is not a valid PMCID: expected PMC followed by digits, e.g. PMC10337094"
        )
    if text.isdigit():
        return (
            f"{original!r} is a bare number, which refs never takes as an identifier: "
            "write PMID:37438700 or PMC10337094"
        )
    return f"{original!r} is not a DOI, PMID or PMCID: {_EXPECTED}"


def canonical(value: object, scheme: Scheme) -> str | None:
    """The canonical form of ``value`` as an identifier of ``scheme``, or ``None``.

    For values a service or markup labels with their scheme (an idconv ``"pmid"``
    field, a ``pub-id-type="pmcid"`` element): bare numbers are accepted, and a value
    that turns out to be another kind of identifier is refused.
    """
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        return None
    try:
        ident = parse_identifier(str(value), default=scheme)
    except IdentifierError:
        return None
    return ident.value if ident.scheme is scheme else None


def iter_identifiers(text: str) -> Iterator[Identifier]:
    """The distinct identifiers in ``text`` in order of first appearance."""
    seen: set[Identifier] = set()
    for f in scan(text):
        ident = f.identifier
        if ident not in seen:
            seen.add(ident)
            yield ident
