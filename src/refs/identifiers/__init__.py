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

from refs.errors import IdentifierError
from refs.identifiers.anchors import Anchor, find_anchors
from refs.identifiers.doi import DOI_FULL, is_short_doi, scan_dois
from refs.identifiers.model import IDENTIFIER_SCHEMES, SCHEMES, Found, Identifier, Scheme
from refs.identifiers.ncbi import scan_ncbi
from refs.identifiers.publishers import scan_publisher_urls

__all__ = [
    "IDENTIFIER_SCHEMES",
    "SCHEMES",
    "Found",
    "Identifier",
    "Scheme",
    "canonical",
    "is_short_doi",
    "iter_identifiers",
    "normalise_doi",
    "normalise_pmcid",
    "normalise_pmid",
    "parse_identifier",
    "scan",
]


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
    at = find_anchors(text)
    scan_dois(text, found, at[Anchor.DOI], at[Anchor.SHORT_DOI])  # shortDOIs (10/aabbe) too
    scan_publisher_urls(text, found, at[Anchor.PUBLISHER])
    scan_ncbi(
        text, found, at[Anchor.PM], at[Anchor.PUBMED], at[Anchor.TEMPLATE], at[Anchor.LIST_UIDS]
    )
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
        if not DOI_FULL.search(text.replace("%2F", "/").replace("%2f", "/")):
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
