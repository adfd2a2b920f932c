"""Works → BibTeX, through bibtexparser v2. Pure: a function of works and their links.

Entry types: ``@article`` (journal, magazine and newspaper articles), ``@book``,
``@incollection`` (chapters), ``@inproceedings`` (conference papers), ``@phdthesis`` /
``@mastersthesis``, ``@techreport``, and ``@misc`` for the rest (preprints, datasets,
software, reviews, web pages). Fields follow biblatex's data model wherever it has one,
so ``biber --validate-datamodel`` finds nothing to say but about ``sources``: ``doi``
and ``url`` are verbatim (written as they are, never LaTeX-escaped: ``_`` and ``<``
stay links), the PMID is ``eprint`` with ``eprinttype = {pubmed}`` (as Zotero's
BibLaTeX export writes it), the PMCID goes in ``addendum`` (``PMCID: PMC…``, where NLM
styles print it), ``langid`` is a biblatex language name (not ``language = {en}``,
which biblatex prints after every title), one ``issn``, ``isbn``, ``shortjournal``,
``date`` (ISO, full precision), no ``publisher`` on an ``@article`` and no ``url`` that
only repeats the DOI; a corporate publisher is one name (``{Springer … and … LLC}``).
``abstract`` only when asked (``--abstracts``); ``sources``, refs' one field of its
own: the documents citing the entry, as given to refs (paths or URLs), separated by
``; ``. Retractions, corrections, expressions of concern, withdrawals and preprint
links go in ``note``.
"""

from __future__ import annotations

from collections.abc import Iterable

from refs.export import bulk
from refs.export.entries import ExportEntry
from refs.export.latex import Protect, to_latex
from refs.work import Name, Work, status_note

__all__ = ["ENTRY_TYPES", "LANGIDS", "bibtex_entry", "entry_type", "to_bibtex"]

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
# ISO 639-1 → biblatex language names (babel/polyglossia), for langid.
LANGIDS = {
    "en": "english", "de": "ngerman", "fr": "french", "es": "spanish", "it": "italian",
    "pt": "portuguese", "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norsk",
    "nb": "norsk", "nn": "nynorsk", "fi": "finnish", "pl": "polish", "cs": "czech",
    "sk": "slovak", "sl": "slovene", "hr": "croatian", "sr": "serbian", "ru": "russian",
    "uk": "ukrainian", "bg": "bulgarian", "el": "greek", "tr": "turkish", "hu": "magyar",
    "ro": "romanian", "ca": "catalan", "eu": "basque", "gl": "galician", "et": "estonian",
    "lv": "latvian", "lt": "lithuanian", "he": "hebrew", "ko": "korean", "ja": "japanese",
    "zh": "chinese", "ar": "arabic", "fa": "farsi", "hi": "hindi", "id": "indonesian",
    "ms": "malay", "vi": "vietnamese", "th": "thai", "is": "icelandic", "ga": "irish",
    "cy": "welsh", "la": "latin", "af": "afrikaans",
}  # fmt: skip
_PUBLISHER_FIELD = {
    "book": "publisher", "incollection": "publisher", "inproceedings": "publisher",
    "phdthesis": "school", "mastersthesis": "school", "techreport": "institution",
    "misc": "organization",
}  # fmt: skip


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
    status = status_note(work)
    parts = [status] if status else []
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

    def add(name: str, value: str | None, *, protect: Protect = False, raw: bool = False) -> None:
        if value:
            fields.append(
                _braced(name, value if raw else to_latex(value, unicode=unicode, protect=protect))
            )

    if entry.aliases:  # biblatex's other keys: \cite{the-old-key} still finds the entry
        fields.append(("ids", "{" + ", ".join(a for a in entry.aliases if "," not in a) + "}"))
    if work.author:
        fields.append(_braced("author", _names(work.author, unicode=unicode)))
    if work.editor:
        fields.append(_braced("editor", _names(work.editor, unicode=unicode)))
    add("title", work.title, protect="title")
    container_field = _CONTAINER_FIELD.get(kind)
    if container_field:
        # A book's title is sentence-cased by pandoc like the work's (a journal's is not).
        add(
            container_field,
            work.container_title,
            protect="title" if container_field == "booktitle" else True,
        )
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
    publisher_field = _PUBLISHER_FIELD.get(kind)  # an @article has none in biblatex
    if publisher_field and work.publisher:
        name = to_latex(work.publisher, unicode=unicode)
        # A list field: "Springer Science and Business Media LLC" is one name, not two.
        fields.append(_braced(publisher_field, "{" + name + "}" if " and " in name else name))
    if kind in ("misc", "phdthesis", "mastersthesis") and work.genre:
        # A thesis's type as the record names it (biblatex prints it instead of its
        # default "PhD thesis"; pandoc reads it as the genre CSL-JSON carries).
        add("type", work.genre.capitalize() if work.genre.islower() else work.genre)
    if work.doi:
        fields.append(_verbatim("doi", work.doi))
    if work.pmid:
        fields.append(_verbatim("eprint", work.pmid))
        fields.append(("eprinttype", "{pubmed}"))
    if work.pmcid:
        fields.append(_braced("addendum", f"PMCID: {work.pmcid}"))
    if work.url and not _repeats_doi(work.url, work.doi):
        fields.append(_verbatim("url", work.url))
    if work.issn:
        add("issn", work.issn[0])
    if work.isbn:
        add("isbn", work.isbn[0])
    langid = LANGIDS.get((work.language or "").split("-")[0].lower())
    if langid:
        fields.append(_braced("langid", langid))
    if abstracts:
        add("abstract", work.abstract)
    add("note", note_for(work))
    if entry.documents:
        add("sources", "; ".join(entry.documents))
    return fields


def _repeats_doi(url: str, doi: str | None) -> bool:
    if not doi:
        return False
    lower = url.lower()
    for head in (
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
    ):
        if lower.startswith(head):
            from urllib.parse import unquote

            return unquote(lower[len(head) :]) == doi.lower()
    return False


def _verbatim(name: str, value: str) -> Field:
    """A verbatim field (biblatex's doi, url, eprint): written as it is. Only braces
    must balance in a BibTeX value; an unbalanced one is left out."""
    depth = 0
    for ch in value:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            break
    if depth:
        value = value.replace("{", "").replace("}", "")
    return (name, "{" + value + "}")


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
