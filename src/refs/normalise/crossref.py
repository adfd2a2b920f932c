"""Crossref work messages → :class:`~refs.work.Work`. Pure.

Types follow Crossref's vocabulary (``/types``) mapped to CSL; status comes from
``updated-by`` (retraction, correction, expression_of_concern, withdrawal; source
``publisher`` for Crossmark deposits or ``retraction-watch``); preprint links from
``relation`` (``has-preprint`` / ``is-preprint-of``).
"""

from __future__ import annotations

from typing import Any

from refs import jsonio
from refs.identifiers import Scheme, parse_identifier
from refs.normalise.markup import clean_markup
from refs.normalise.text import (
    collapse,
    date_parts,
    make_name,
    normalise_page,
    scalar,
    str_list,
)
from refs.work import Name, Provenance, Relation, StatusEvent, Work

__all__ = ["CROSSREF_TYPES", "STATUS_TYPES", "normalise", "work_from_crossref"]

CROSSREF_TYPES = {
    "journal-article": "article-journal",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "book-track": "chapter",
    "reference-entry": "entry",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "proceedings-article": "paper-conference",
    "proceedings": "book",
    "proceedings-series": "book",
    "posted-content": "article",
    "dataset": "dataset",
    "database": "dataset",
    "dissertation": "thesis",
    "report": "report",
    "report-component": "report",
    "report-series": "report",
    "standard": "standard",
    "standard-series": "standard",
    "peer-review": "review",
    "journal-issue": "periodical",
    "journal-volume": "periodical",
    "journal": "periodical",
    "component": "document",
    "grant": "document",
    "other": "document",
}

# Crossref update types that change a work's standing (Crossmark and Retraction Watch).
STATUS_TYPES = {
    "retraction": "retraction",
    "partial_retraction": "retraction",
    "correction": "correction",
    "erratum": "correction",
    "corrigendum": "correction",
    "expression_of_concern": "expression_of_concern",
    "expression-of-concern": "expression_of_concern",
    "withdrawal": "withdrawal",
    "removal": "withdrawal",
}


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _date(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return None
    parts = obj.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        return date_parts(*parts[0])
    return None


def _names(people: Any) -> list[Name]:
    out = []
    for person in people if isinstance(people, list) else []:
        if not isinstance(person, dict):
            continue
        name = make_name(
            family=person.get("family"),
            given=person.get("given"),
            literal=person.get("name"),
            orcid=person.get("ORCID"),
            suffix=person.get("suffix"),
        )
        if name is not None:
            out.append(name)
    return out


def _doi(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        ident = parse_identifier(value)
    except ValueError:
        return None
    return ident.value if ident.scheme is Scheme.DOI else None


def _container(titles: list[str], crossref_type: str) -> str | None:
    """Journals may list [abbreviation, full title]: take the full one; books keep the first."""
    if not titles:
        return None
    if crossref_type in {"journal-article", "journal-issue", "journal-volume"}:
        return max(titles, key=len)
    return titles[0]


def status_events(message: dict[str, Any]) -> list[StatusEvent]:
    events = []
    for update in message.get("updated-by") or []:
        if not isinstance(update, dict):
            continue
        kind = STATUS_TYPES.get(str(update.get("type", "")).lower())
        if kind is None:
            continue
        notice = _doi(update.get("DOI"))
        when = _date(update.get("updated"))
        source = str(update.get("source") or "publisher")
        events.append(
            StatusEvent(
                kind=kind,
                notice=f"doi:{notice}" if notice else None,
                date=when.iso() if when else None,
                source=f"crossref ({source})",
                label=collapse(update.get("label"))
                if isinstance(update.get("label"), str)
                else None,
            )
        )
    return events


def work_from_crossref(message: dict[str, Any], *, key: str = "", fetched_at: float = 0.0) -> Work:
    """A Crossref work message (from ``/works/{doi}`` or a ``work-list`` item) → Work."""
    crossref_type = str(message.get("type") or "other")
    csl_type = CROSSREF_TYPES.get(crossref_type, "document")
    genre = None
    if crossref_type == "posted-content":
        genre = (
            "preprint"
            if message.get("subtype", "preprint") == "preprint"
            else collapse(message.get("subtype"))
        )
    if crossref_type == "dissertation":
        # The degree when the record names it ("PhD Thesis"), as CSL's genre is used.
        degree = _first(message.get("degree"))
        genre = collapse(degree) if isinstance(degree, str) and degree.strip() else "Thesis"
    title = clean_markup(_first(message.get("title")))
    subtitle = clean_markup(_first(message.get("subtitle")))
    if title and subtitle and subtitle.lower() not in title.lower():
        title = f"{title}: {subtitle}"
    containers = [c for c in message.get("container-title") or [] if isinstance(c, str)]
    shorts = [c for c in message.get("short-container-title") or [] if isinstance(c, str)]
    publisher = (
        collapse(message.get("publisher")) if isinstance(message.get("publisher"), str) else None
    )
    institution = _first(message.get("institution"))
    if isinstance(institution, dict) and institution.get("name"):
        if crossref_type == "dissertation" or not publisher:
            publisher = collapse(institution["name"])
        if not containers and crossref_type == "posted-content":
            containers = [institution["name"]]
    issued = (
        _date(message.get("issued"))
        or _date(message.get("published-print"))
        or _date(message.get("published-online"))
        or _date(message.get("published"))
        or _date(message.get("created"))
    )
    relations = []
    for rel_type in ("has-preprint", "is-preprint-of"):
        for rel in (message.get("relation") or {}).get(rel_type) or []:
            doi = (
                _doi(rel.get("id"))
                if isinstance(rel, dict) and rel.get("id-type") == "doi"
                else None
            )
            if doi:
                relations.append(Relation(type=rel_type, doi=doi))
    doi = _doi(message.get("DOI"))
    language = message.get("language")
    return Work(
        type=csl_type,
        title=title,
        container_title=clean_markup(_container(containers, crossref_type)),
        container_title_short=clean_markup(
            _first(shorts) or (min(containers, key=len) if len(containers) > 1 else None)
        ),
        author=_names(message.get("author")),
        editor=_names(message.get("editor")),
        issued=issued,
        volume=scalar(message.get("volume"), "volume"),
        issue=scalar(message.get("issue"), "issue"),
        page=normalise_page(message.get("page") or message.get("article-number")),
        doi=doi,
        url=f"https://doi.org/{doi}" if doi else None,
        issn=str_list(message.get("ISSN"), "ISSN"),
        isbn=str_list(message.get("ISBN"), "ISBN"),
        publisher=publisher,
        language=language if isinstance(language, str) else None,
        abstract=clean_markup(message.get("abstract"), paragraphs=True),
        genre=genre,
        status=status_events(message),
        provenance=[Provenance(service="crossref", key=key or (doi or ""), fetched_at=fetched_at)],
        relations=relations,
    )


def normalise(payload: str, key: str, fetched_at: float) -> Work:
    """The registry's normaliser for Crossref records (a work message's JSON)."""
    return work_from_crossref(jsonio.loads(payload), key=key, fetched_at=fetched_at)
