"""CSL-JSON from doi.org content negotiation → Work. Pure.

Agencies answer CSL-JSON of varying strictness (Crossref's transform passes some of its
own fields through), so only CSL variables are read, and unknown types become the
closest CSL type.
"""

from __future__ import annotations

from typing import Any

from refs.identifiers import Scheme, canonical
from refs.normalise.crossref import CROSSREF_TYPES
from refs.normalise.markup import clean_markup
from refs.normalise.text import (
    CSL_TYPES,
    collapse,
    date_parts,
    make_name,
    normalise_page,
    scalar,
    str_list,
)
from refs.records.csl import parse_csl
from refs.work import DateParts, Name, Provenance, Work

__all__ = ["normalise", "work_from_csl"]


def _names(people: Any) -> list[Name]:
    out = []
    for person in people if isinstance(people, list) else []:
        if not isinstance(person, dict):
            continue
        family = person.get("family")
        particle = person.get("non-dropping-particle")
        if isinstance(family, str) and isinstance(particle, str):
            family = f"{particle} {family}"
        name = make_name(
            family=family,
            given=person.get("given"),
            literal=person.get("literal") or person.get("name"),
            orcid=person.get("ORCID"),
            suffix=person.get("suffix"),
        )
        if name is not None:
            out.append(name)
    return out


def _date(value: Any) -> DateParts | None:
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        return date_parts(*parts[0])
    raw = value.get("raw") or value.get("literal")
    return date_parts(*str(raw)[:10].split("-")) if raw else None


def _id(value: Any, scheme: Scheme) -> str | None:
    return canonical(value, scheme)


def _one(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def work_from_csl(payload: str | dict[str, Any], *, key: str = "", fetched_at: float = 0.0) -> Work:
    """A CSL-JSON item → Work."""
    item = parse_csl(payload) if isinstance(payload, str) else payload
    raw_type = str(item.get("type") or "document")
    csl_type = raw_type if raw_type in CSL_TYPES else CROSSREF_TYPES.get(raw_type, "document")
    doi = _id(item.get("DOI"), Scheme.DOI)
    issn, isbn = item.get("ISSN"), item.get("ISBN")
    return Work(
        type=csl_type,
        genre="preprint" if raw_type == "posted-content" else collapse(_one(item.get("genre"))),
        title=clean_markup(_one(item.get("title"))),
        container_title=clean_markup(_one(item.get("container-title"))),
        container_title_short=clean_markup(
            _one(item.get("container-title-short")) or _one(item.get("journalAbbreviation"))
        ),
        author=_names(item.get("author")),
        editor=_names(item.get("editor")),
        issued=_date(item.get("issued"))
        or _date(item.get("published-print"))
        or _date(item.get("published-online")),
        volume=scalar(item.get("volume"), "volume"),
        issue=scalar(item.get("issue"), "issue"),
        page=normalise_page(item.get("page")),
        doi=doi,
        pmid=_id(item.get("PMID"), Scheme.PMID),
        pmcid=_id(item.get("PMCID"), Scheme.PMCID),
        url=f"https://doi.org/{doi}" if doi else collapse(_one(item.get("URL"))),
        issn=str_list(issn, "ISSN"),
        isbn=str_list(isbn, "ISBN"),
        publisher=collapse(_one(item.get("publisher"))),
        language=_one(item.get("language")),
        abstract=clean_markup(_one(item.get("abstract")), paragraphs=True),
        provenance=[Provenance(service="doi.org", key=key or (doi or ""), fetched_at=fetched_at)],
    )


def normalise(payload: str, key: str, fetched_at: float) -> Work:
    """The registry's normaliser for doi.org records."""
    return work_from_csl(payload, key=key, fetched_at=fetched_at)
