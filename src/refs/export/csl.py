"""Works → CSL-JSON (valid against the CSL data schema 1.0). Pure.

Each item has ``id`` and ``citation-key`` (the citation key), the CSL variables the work
has (``note`` says a retraction, correction, expression of concern or withdrawal, so
every style prints it), and ``custom``: ``sources`` (the documents citing it, as given: paths or URLs),
``status`` (retractions, corrections … with notice, date and reporting service),
``orcids`` (author name → ORCID, since CSL names cannot carry one), ``relations``
(preprint links), ``provenance`` (the records it was built from) and, for a work found
from a citation without an identifier, ``match`` (``method``, ``score``, ``query``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from refs.export import bulk
from refs.export.entries import ExportEntry
from refs.work import Name, status_note

__all__ = ["csl_entry", "to_csl_items", "to_csl_json"]


def _name(name: Name) -> dict[str, str]:
    out: dict[str, str] = {}
    if name.family:
        out["family"] = name.family
        if name.given:
            out["given"] = name.given
        if name.non_dropping_particle:
            out["non-dropping-particle"] = name.non_dropping_particle
        if name.dropping_particle:
            out["dropping-particle"] = name.dropping_particle
        if name.suffix:
            out["suffix"] = name.suffix
    elif name.literal:
        out["literal"] = name.literal
    elif name.given:
        out["given"] = name.given
    return out


def _nocase_italics(rich: str | None) -> str | None:
    """Italics in titles (species, genes, Latin) must keep their case in title-casing styles."""
    if not rich or "<i>" not in rich:
        return _csl_text(rich)
    return _csl_text(rich.replace("<i>", '<i><span class="nocase">').replace("</i>", "</span></i>"))


def _csl_text(rich: str | None) -> str | None:
    """CSL-JSON has no escape for a literal "<" (pandoc prints "&lt;" as written)."""
    return rich.replace("&lt;", "<") if rich and "&lt;" in rich else rich


def to_csl_items(entries: Iterable[ExportEntry]) -> list[dict[str, Any]]:
    items = []
    for entry in entries:
        w = entry.work
        item: dict[str, Any] = {"id": entry.key, "citation-key": entry.key, "type": w.type}
        for key, value in (
            ("title", _nocase_italics(w.title)),
            ("container-title", _csl_text(w.container_title)),
            ("container-title-short", _csl_text(w.container_title_short)),
        ):
            if value:
                item[key] = value
        if w.author:
            item["author"] = [_name(n) for n in w.author]
        if w.editor:
            item["editor"] = [_name(n) for n in w.editor]
        if w.issued:
            item["issued"] = {"date-parts": [list(w.issued.parts)]}
        for key, value in (
            ("volume", w.volume),
            ("issue", w.issue),
            ("page", w.page),
            ("DOI", w.doi),
            ("PMID", w.pmid),
            ("PMCID", w.pmcid),
            ("URL", w.url),
            ("ISSN", w.issn[0] if w.issn else None),
            ("ISBN", w.isbn[0] if w.isbn else None),
            ("publisher", w.publisher),
            ("language", w.language),
            ("genre", w.genre),
            ("abstract", _csl_text(w.abstract)),
        ):
            if value:
                item[key] = value
        note = status_note(w)
        if note:
            # CSL styles print `note`, none prints custom fields: a retraction must show.
            item["note"] = note
        custom: dict[str, Any] = {"sources": list(entry.documents)}
        if w.status:
            custom["status"] = [e.model_dump(mode="json", exclude_none=True) for e in w.status]
        orcids = {n.display(): n.orcid for n in [*w.author, *w.editor] if n.orcid}
        if orcids:
            custom["orcids"] = orcids
        if w.relations:
            custom["relations"] = [r.model_dump(mode="json") for r in w.relations]
        if w.provenance:
            custom["provenance"] = [f"{p.service}:{p.key}" for p in w.provenance]
        if entry.match is not None:
            custom["match"] = entry.match
        item["custom"] = custom
        items.append(item)
    return items


def csl_entry(entry: ExportEntry) -> str:
    """One item's line in a CSL-JSON file (see :func:`to_csl_json`)."""
    return json.dumps(to_csl_items([entry])[0], ensure_ascii=False)


def to_csl_json(entries: Iterable[ExportEntry]) -> str:
    """A CSL-JSON file: a list with one item per line (UTF-8), so diffs show whole items.

    (json's C encoder only runs without ``indent``; an indented file of 100,000 items
    takes several times longer to write.)
    """
    parts = ["[\n"]
    with bulk():
        for item in to_csl_items(entries):
            if len(parts) > 1:
                parts.append(",\n")
            parts.append(json.dumps(item, ensure_ascii=False))
    if len(parts) == 1:
        return "[]\n"
    parts.append("\n]\n")
    return "".join(parts)  # one copy of what may be 100+ MB
