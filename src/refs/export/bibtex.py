"""Works → BibTeX, through bibtexparser v2. Pure: a function of works and their links.

Entry types: ``@article`` (journal, magazine and newspaper articles), ``@book``,
``@incollection`` (chapters), ``@inproceedings`` (conference papers), ``@phdthesis`` /
``@mastersthesis``, ``@techreport``, and ``@misc`` for the rest (preprints, datasets,
software, reviews, web pages). Fields beyond the standard ones: ``doi``, ``pmid``,
``pmcid``, ``url``, ``issn``, ``isbn``, ``shortjournal``, ``date`` (ISO, full precision),
``language``, ``abstract`` (only when asked: ``--abstracts``), and ``sources``: the
documents citing the entry, as given to refs (paths or URLs), separated by ``; ``. Retractions, corrections, expressions of concern,
withdrawals and preprint links go in ``note``.
"""

from __future__ import annotations

from collections.abc import Iterable

from refs.export import bulk
from refs.export.entries import ExportEntry
from refs.export.latex import to_latex
from refs.work import STATUS_LABELS, Name, Work

__all__ = ["ENTRY_TYPES", "bibtex_entry", "entry_type", "to_bibtex"]

Field = tuple[str, str]  # (name, value as written, braces included)

ENTRY_TYPES = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "book": "book",
    "chapter": "incollection",
    "entry": "incollection",
    "entry-dictionary": "incollection",
    "entry-encyclopedia": "incollection",
    "paper-conference": "inproceedings",
    "thesis": "phdthesis",
    "report": "techreport",
}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CONTAINER_FIELD = {"article": "journal", "incollection": "booktitle", "inproceedings": "booktitle"}


def entry_type(work: Work) -> str:
    kind = ENTRY_TYPES.get(work.type, "misc")
    if kind == "phdthesis" and work.genre and "master" in work.genre.lower():
        return "mastersthesis"
    return kind


def _name(name: Name, *, unicode: bool) -> str:
    if name.literal and not name.family:
        return "{" + to_latex(name.literal, unicode=unicode) + "}"  # an organisation: never split
    family = " ".join(p for p in (name.non_dropping_particle, name.family) if p)
    parts = [to_latex(family, unicode=unicode)]
    if name.suffix:
        parts.append(to_latex(name.suffix, unicode=unicode))
    if name.given:
        parts.append(to_latex(name.given, unicode=unicode))
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts)


def _names(names: list[Name], *, unicode: bool) -> str:
    return " and ".join(_name(n, unicode=unicode) for n in names)


def note_for(work: Work) -> str | None:
    """The human note: status events first, then preprint links."""
    parts = []
    for label in STATUS_LABELS:
        events = [e for e in work.status if e.kind == label]
        if events:
            details = "; ".join(e.details() for e in events)
            parts.append(f"{STATUS_LABELS[label]} ({details})")
    for rel in work.relations:
        what = (
            "Has preprint"
            if rel.type == "has-preprint"
            else "Preprint of"
            if rel.type == "is-preprint-of"
            else "Version"
        )
        parts.append(f"{what} doi:{rel.doi}")
    return ". ".join(parts) or None


def _fields(entry: ExportEntry, *, unicode: bool, abstracts: bool = False) -> list[Field]:
    work = entry.work
    kind = entry_type(work)
    fields: list[Field] = []

    def add(name: str, value: str | None, *, protect: bool = False, raw: bool = False) -> None:
        if value:
            fields.append(
                _braced(name, value if raw else to_latex(value, unicode=unicode, protect=protect))
            )

    if work.author:
        fields.append(_braced("author", _names(work.author, unicode=unicode)))
    if work.editor:
        fields.append(_braced("editor", _names(work.editor, unicode=unicode)))
    add("title", work.title, protect=True)
    container_field = _CONTAINER_FIELD.get(kind)
    if container_field:
        add(container_field, work.container_title, protect=True)
    elif work.container_title and kind == "misc":
        add("howpublished", work.container_title, protect=True)
    if kind == "article":
        add("shortjournal", work.container_title_short)
    if work.issued:
        fields.append(_braced("year", str(work.issued.year)))
        if len(work.issued.parts) > 1:
            fields.append(("month", MONTHS[work.issued.parts[1] - 1]))  # a BibTeX macro: no braces
        fields.append(_braced("date", work.issued.iso()))
    add("volume", work.volume)
    add("number", work.issue)
    if work.page:
        fields.append(
            _braced("pages", "--".join(to_latex(p, unicode=True) for p in work.page.split("–")))
        )
    if kind in {"phdthesis", "mastersthesis"}:
        add("school", work.publisher)
    elif kind == "techreport":
        add("institution", work.publisher)
    else:
        add("publisher", work.publisher)
    if kind == "misc" and work.genre:
        add("type", work.genre.capitalize() if work.genre.islower() else work.genre)
    add("doi", work.doi)
    add("pmid", work.pmid, raw=True)
    add("pmcid", work.pmcid, raw=True)
    if work.url:
        fields.append(_braced("url", to_latex(work.url, unicode=True)))
    if work.issn:
        add("issn", ", ".join(work.issn))
    if work.isbn:
        add("isbn", ", ".join(work.isbn))
    add("language", work.language)
    if abstracts:
        add("abstract", work.abstract)
    add("note", note_for(work))
    if entry.documents:
        add("sources", "; ".join(entry.documents))
    return fields


def _braced(name: str, value: str) -> Field:
    """A field whose value is already enclosed (to_latex keeps braces balanced)."""
    return (name, "{" + value + "}")


def bibtex_entry(entry: ExportEntry, *, unicode: bool = False, abstracts: bool = False) -> str:
    """One entry as written in the file: ``@type{key,`` a field per line, ``}``.

    The layout is bibtexparser v2's writer's with a two-space indent (which refs wrote
    through it before); written directly, as a file is hundreds of thousands of these.
    """
    fields = _fields(entry, unicode=unicode, abstracts=abstracts)
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return (
        f"@{entry_type(entry.work)}{{{entry.key},\n{body}\n}}\n"
        if fields
        else (f"@{entry_type(entry.work)}{{{entry.key},\n}}\n")
    )


def to_bibtex(
    entries: Iterable[ExportEntry], *, unicode: bool = False, abstracts: bool = False
) -> str:
    """A BibTeX file for ``entries`` (in the order given; the library sorts by key).

    Abstracts are left out unless ``abstracts`` is set: classic BibTeX's buffers
    overflow on long fields, and most styles never print them (CSL-JSON keeps them).
    Entries are separated by a blank line.
    """
    with bulk():
        return "\n".join(bibtex_entry(e, unicode=unicode, abstracts=abstracts) for e in entries)
