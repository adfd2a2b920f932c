"""DataCite JSON:API records → Work. Pure.

DataCite offers a CSL type per record (``types.citeproc``); ``resourceTypeGeneral``
is the fallback. Preprint links come from ``relatedIdentifiers`` (IsPreprintOf,
HasPreprint).
"""

from __future__ import annotations

from typing import Any

from refs import jsonio
from refs.identifiers import Scheme, parse_identifier
from refs.normalise.markup import clean_markup
from refs.normalise.text import (
    CSL_TYPES,
    collapse,
    date_parts,
    make_name,
    normalise_page,
    scalar,
)
from refs.work import DateParts, Name, Provenance, Relation, Work

__all__ = [
    "RESOURCE_TYPES",
    "normalise",
    "work_from_datacite",
]

RESOURCE_TYPES = {
    "Dataset": "dataset",
    "Software": "software",
    "ComputationalNotebook": "software",
    "JournalArticle": "article-journal",
    "DataPaper": "article-journal",
    "Preprint": "article",
    "ConferencePaper": "paper-conference",
    "ConferenceProceeding": "book",
    "Dissertation": "thesis",
    "Book": "book",
    "BookChapter": "chapter",
    "Report": "report",
    "Standard": "standard",
    "Image": "graphic",
    "Audiovisual": "motion_picture",
    "Sound": "song",
    "Collection": "collection",
    "PeerReview": "review",
    "Text": "document",
    "Event": "event",
}


def _names(people: Any, *, role: str | None = None) -> list[Name]:
    out = []
    for person in people if isinstance(people, list) else []:
        if not isinstance(person, dict):
            continue
        if role and person.get("contributorType") != role:
            continue
        orcid = next(
            (
                i.get("nameIdentifier")
                for i in person.get("nameIdentifiers") or []
                if isinstance(i, dict) and str(i.get("nameIdentifierScheme", "")).upper() == "ORCID"
            ),
            None,
        )
        organisational = person.get("nameType") == "Organizational"
        name = make_name(
            family=None if organisational else person.get("familyName"),
            given=None if organisational else person.get("givenName"),
            literal=person.get("name"),
            orcid=orcid,
        )
        if name is not None:
            out.append(name)
    return out


def _issued(attrs: dict[str, Any]) -> DateParts | None:
    for entry in attrs.get("dates") or []:
        if (
            isinstance(entry, dict)
            and entry.get("dateType") == "Issued"
            and isinstance(entry.get("date"), str)
        ):
            pieces = entry["date"][:10].split("-")
            parsed = date_parts(*pieces)
            if parsed:
                return parsed
    return date_parts(attrs.get("publicationYear"))


def _doi(value: Any) -> str | None:
    try:
        ident = parse_identifier(str(value))
    except ValueError:
        return None
    return ident.value if ident.scheme is Scheme.DOI else None


def work_from_datacite(
    payload: str | dict[str, Any], *, key: str = "", fetched_at: float = 0.0
) -> Work:
    """A DataCite ``/dois/{doi}`` answer → Work."""
    data = jsonio.loads(payload) if isinstance(payload, str) else payload
    attrs = data["data"]["attributes"]
    types = attrs.get("types") or {}
    general = types.get("resourceTypeGeneral")
    mapped = RESOURCE_TYPES.get(str(general))
    if "BlogPosting" in (types.get("schemaOrg"), types.get("resourceType")):
        csl_type = "post-weblog"
    elif mapped and mapped != "document":
        csl_type = mapped
    elif types.get("citeproc") in CSL_TYPES:
        csl_type = types["citeproc"]
    else:
        csl_type = "document"
    titles = [t for t in attrs.get("titles") or [] if isinstance(t, dict) and t.get("title")]
    main = next(
        (t["title"] for t in titles if not t.get("titleType")),
        titles[0]["title"] if titles else None,
    )
    subtitle = next((t["title"] for t in titles if t.get("titleType") == "Subtitle"), None)
    title = clean_markup(main)
    if title and subtitle:
        title = f"{title}: {clean_markup(subtitle)}"
    container = attrs.get("container") or {}
    publisher = attrs.get("publisher")
    if isinstance(publisher, dict):
        publisher = publisher.get("name")
    pages = None
    if container.get("firstPage"):
        pages = normalise_page(
            f"{container['firstPage']}-{container['lastPage']}"
            if container.get("lastPage")
            else container["firstPage"]
        )
    abstract = next(
        (
            d.get("description")
            for d in attrs.get("descriptions") or []
            if isinstance(d, dict) and d.get("descriptionType") == "Abstract"
        ),
        None,
    )
    relations = []
    for rel in attrs.get("relatedIdentifiers") or []:
        if not isinstance(rel, dict) or rel.get("relatedIdentifierType") != "DOI":
            continue
        kind = {"IsPreprintOf": "is-preprint-of", "HasPreprint": "has-preprint"}.get(
            str(rel.get("relationType"))
        )
        doi = _doi(rel.get("relatedIdentifier"))
        if kind and doi:
            relations.append(Relation(type=kind, doi=doi))
    doi = _doi(attrs.get("doi") or data["data"].get("id"))
    language = attrs.get("language")
    return Work(
        type=csl_type,
        genre="preprint"
        if general == "Preprint"
        else collapse(types.get("resourceType"))
        if csl_type == "thesis"
        else None,
        title=title,
        container_title=clean_markup(container.get("title")),
        author=_names(attrs.get("creators")),
        editor=_names(attrs.get("contributors"), role="Editor"),
        issued=_issued(attrs),
        volume=scalar(container.get("volume"), "volume"),
        issue=scalar(container.get("issue"), "issue"),
        page=pages,
        doi=doi,
        url=f"https://doi.org/{doi}" if doi else collapse(attrs.get("url")),
        publisher=collapse(publisher) if isinstance(publisher, str) else None,
        language=language if isinstance(language, str) else None,
        abstract=clean_markup(abstract, paragraphs=True),
        relations=relations,
        provenance=[Provenance(service="datacite", key=key or (doi or ""), fetched_at=fetched_at)],
    )


def normalise(payload: str, key: str, fetched_at: float) -> Work:
    """The registry's normaliser for DataCite records."""
    return work_from_datacite(payload, key=key, fetched_at=fetched_at)
