"""Finding PMIDs and PMCIDs in text: labels, URLs, templates. Pure."""

from __future__ import annotations

import re

from refs.identifiers.doi import url_head_before
from refs.identifiers.model import Found, Scheme

__all__ = ["scan_ncbi"]

# The PMID/PMCID families are found at the anchors one pass over the text finds ("pm" and
# "bmed" in any case, "|", "{{", "list_uids="; see refs.identifiers.anchors); the full
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


def scan_ncbi(
    text: str,
    out: list[Found],
    pm_at: list[int],
    bmed_at: list[int],
    template_at: list[int],
    list_uids_at: list[int],
) -> None:
    """PMIDs and PMCIDs at the anchors :func:`refs.identifiers.anchors.find_anchors` found:
    "pm" and "bmed" in any case (labels, bare PMCIDs, PubMed/PMC/Europe PMC URLs), "|" and
    "{{" (wiki templates), "list_uids=" (old Entrez URLs)."""
    for pos in pm_at:
        nxt = text[pos + 2 : pos + 3]
        if nxt in ("i", "I"):
            if text[pos : pos + 4].lower() == "pmid" and _left_ok(text, pos):
                lm = _PMID_LABEL.match(text, pos)
                if lm:
                    _add_pmid(out, text, pos, lm.end(), lm.group(2))
        elif nxt in ("c", "C"):
            _scan_pmc_at(text, pos, out)

    for bmed in bmed_at:
        pos = bmed - 2
        if pos < 0 or text[pos : pos + 2].lower() != "pu":
            continue
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

    for pos in template_at:
        tm = _TEMPLATE.match(text, pos)
        if not tm:
            continue
        name = (tm.group(1) or tm.group(4)).lower()
        digits = tm.group(3) or tm.group(6)
        if name == "pmid":
            _add_pmid(out, text, pos, tm.end(), digits)
        else:
            _add_pmcid(out, text, pos, tm.end(), digits)

    for pos in list_uids_at:
        um = _LIST_UIDS.match(text, pos)
        if um and "pubmed" in text[max(0, pos - 200) : pos].lower():
            _add_pmid(out, text, pos, um.end(), um.group(2))


def _scan_pmc_at(text: str, pos: int, out: list[Found]) -> None:
    """A "pmc" at ``pos``: a PMCID label, a bare PMCID, or a Europe PMC URL."""
    if text[pos : pos + 5].lower() == "pmcid" and _left_ok(text, pos):
        lm = _PMCID_LABEL.match(text, pos)
        if lm:
            _add_pmcid(out, text, pos, lm.end(), lm.group(2))
            return
    if pos >= 6 and text[pos - 6 : pos + 8].lower() == "europepmc.org/":
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
        head = url_head_before(text, pos)
        if head:
            start = head.start()
    _add_pmcid(out, text, start, bm.end(), bm.group(2))
