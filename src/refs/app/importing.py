"""``refs import``: an existing bibliography (BibTeX, CSL-JSON) into the library.

Each entry's identifiers (``doi``, ``pmid``, ``pmcid``, ``eprint`` with ``eprinttype =
pubmed``, a doi.org ``url``, ``PMID: …`` in a note or Zotero's ``extra``) are resolved as
a document's would be; an entry without one is matched as a reference string built from
its fields. The file becomes a document of the library (``--document NAME``, default
its path), whose citations are its entries: so refresh watches them for retractions.
The user's keys become aliases of the works (BibTeX ``ids``), so documents citing them
still compile. Each entry is reported: the work it became, the fields refs adds and the
fields where the services disagree with the file; for those, the library's exports keep
the user's values (a person set them) unless ``--update-fields`` asks for the services'. A file that does not parse is
reported by line and nothing is stored; ``--dry-run`` works on a throw-away copy of the
library and cache and writes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refs.config import Settings
from refs.errors import IdentifierError, InputError
from refs.identifiers import Identifier, Scheme, parse_identifier
from refs.models import Mention

__all__ = ["ImportReport", "ImportedEntry", "import_bibliography", "read_bibliography"]

_NOTE_IDS = re.compile(r"\b(PMID|PMCID)\s*:\s*(PMC\d+|\d+)", re.I)
# Fields compared with the work (file field → what refs calls it).
_COMPARED = {
    "title": "title",
    "journal": "container",
    "journaltitle": "container",
    "container-title": "container",
    "booktitle": "container",
    "volume": "volume",
    "number": "issue",
    "issue": "issue",
    "pages": "page",
    "page": "page",
    "year": "year",
    "date": "year",
    "doi": "doi",
    "pmid": "pmid",
    "pmcid": "pmcid",
}


@dataclass(slots=True)
class ImportedEntry:
    """One entry of the file: its key, line, identifiers, and what refs made of it."""

    key: str
    line: int
    identifiers: list[Identifier] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # the file's values, compared
    reference: str = ""  # a citation string from its fields (entries without identifier)
    work_key: str | None = None
    added: dict[str, str] = field(default_factory=dict)
    differs: dict[str, tuple[str, str]] = field(default_factory=dict)  # (file, services)
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "line": self.line,
            "identifiers": [str(i) for i in self.identifiers],
            "work": self.work_key,
            "added": self.added,
            "differs": {k: {"file": a, "refs": b} for k, (a, b) in self.differs.items()},
            "problem": self.problem,
        }


@dataclass(slots=True)
class ImportReport:
    document: str
    entries: list[ImportedEntry]
    dry_run: bool
    refused_aliases: list[str] = field(default_factory=list)
    update_fields: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "dry_run": self.dry_run,
            "entries": [e.to_dict() for e in self.entries],
            "refused_aliases": self.refused_aliases,
        }


# ---------------------------------------------------------------- reading


def _identifiers(values: dict[str, str]) -> list[Identifier]:
    found: list[Identifier] = []

    def add(text: str, default: Scheme | None = None) -> None:
        try:
            ident = (
                parse_identifier(text.strip(), default=default)
                if default
                else parse_identifier(text.strip())
            )
        except (IdentifierError, ValueError):
            return
        if ident not in found:
            found.append(ident)

    if values.get("doi"):
        add(values["doi"], Scheme.DOI)
    if values.get("pmid"):
        add(values["pmid"], Scheme.PMID)
    if values.get("eprint") and values.get("eprinttype", "").lower() == "pubmed":
        add(values["eprint"], Scheme.PMID)
    if values.get("pmcid"):
        add(values["pmcid"], Scheme.PMCID)
    url = values.get("url", "")
    if "doi.org/10." in url:
        add(url)
    for text in (values.get("note", ""), values.get("extra", ""), values.get("annote", "")):
        for kind, value in _NOTE_IDS.findall(text):
            add(value, Scheme.PMID if kind.upper() == "PMID" else Scheme.PMCID)
    return found


def _plain(value: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text

    try:
        text = LatexNodes2Text().latex_to_text(value)
    except Exception:
        text = value
    return " ".join(text.replace("{", "").replace("}", "").split())


def _reference(values: dict[str, str]) -> str:
    """A citation string from an entry's fields (for matching an entry without ids)."""
    people = values.get("author") or values.get("editor") or ""
    authors = "; ".join(p.strip() for p in re.split(r"\s+and\s+", people) if p.strip())
    parts = [authors + "." if authors else ""]
    if values.get("year"):
        parts.append(f"({values['year']}).")
    if values.get("title"):
        parts.append(values["title"].rstrip(".") + ".")
    venue = values.get("journal") or values.get("container") or values.get("booktitle")
    if venue:
        parts.append(venue.rstrip(".") + ".")
    tail = values.get("volume", "")
    if values.get("issue"):
        tail += f"({values['issue']})"
    if values.get("page"):
        tail += (":" if tail else "") + values["page"]
    if tail:
        parts.append(tail + ".")
    if values.get("publisher"):
        parts.append(values["publisher"] + ".")
    return " ".join(p for p in parts if p)


def _read_bibtex(path: Path, text: str) -> list[ImportedEntry]:
    import bibtexparser

    library = bibtexparser.parse_string(text)  # type: ignore[attr-defined]
    if library.failed_blocks:
        problems = []
        for block in library.failed_blocks[:10]:
            error = getattr(block, "error", None)
            why = (
                str(error).splitlines()[0]
                if error is not None and str(error)
                else type(block).__name__
            )
            problems.append(f"line {(block.start_line or 0) + 1}: {why}")
        msg = (
            f"{path}: {len(library.failed_blocks)} entr(y/ies) could not be read, nothing was "
            f"imported: " + "; ".join(problems)
        )
        raise InputError(msg, source=str(path))
    entries = []
    for e in library.entries:
        raw = {k.lower(): str(f.value) for k, f in e.fields_dict.items()}
        values = {k: _plain(v) for k, v in raw.items()}
        values["doi"] = raw.get("doi", "").strip()
        values["url"] = raw.get("url", "").strip()
        compared = {_COMPARED[k]: values[k] for k in values if k in _COMPARED and values[k]}
        if "year" in compared:  # biblatex's date = {2024-01-02}
            compared["year"] = compared["year"][:4]
        if values.get("eprinttype", "").lower() == "pubmed" and values.get("eprint"):
            compared["pmid"] = values["eprint"]
        entries.append(
            ImportedEntry(
                e.key,
                (e.start_line or 0) + 1,
                _identifiers(values),
                compared,
                _reference({**values, **compared}),
            )
        )
    return entries


def _csl_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value) if value is not None else ""


def _read_csl(path: Path, text: str) -> list[ImportedEntry]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: line {exc.lineno}, column {exc.colno}: not JSON ({exc.msg}); nothing was imported"
        raise InputError(msg, source=str(path)) from exc
    if isinstance(items, dict) and isinstance(items.get("items"), list):
        items = items["items"]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        msg = f"{path}: expected a CSL-JSON list of items (a Zotero or BBT export); nothing was imported"
        raise InputError(msg, source=str(path))
    lines = [m.start() for m in re.finditer(r"\n", text)]
    entries = []
    for n, item in enumerate(items):
        key = str(item.get("id") or item.get("citation-key") or f"item{n + 1}")
        at = text.find(json.dumps(key))
        line = 1 + sum(1 for p in lines if p < at) if at >= 0 else 0
        values = {
            "doi": _csl_text(item.get("DOI")),
            "pmid": _csl_text(item.get("PMID")),
            "pmcid": _csl_text(item.get("PMCID")),
            "url": _csl_text(item.get("URL")),
            "note": _csl_text(item.get("note")),
        }
        authors = "; ".join(
            ", ".join(p for p in (a.get("family"), a.get("given")) if p)
            or str(a.get("literal", ""))
            for a in item.get("author") or []
            if isinstance(a, dict)
        )
        year = ""
        parts = (
            (item.get("issued") or {}).get("date-parts")
            if isinstance(item.get("issued"), dict)
            else None
        )
        if parts and parts[0]:
            year = str(parts[0][0])
        compared = {
            k: v
            for k, v in {
                "title": _csl_text(item.get("title")),
                "container": _csl_text(item.get("container-title")),
                "volume": _csl_text(item.get("volume")),
                "issue": _csl_text(item.get("issue")),
                "page": _csl_text(item.get("page")),
                "year": year,
                "doi": values["doi"],
                "pmid": values["pmid"],
                "pmcid": values["pmcid"],
            }.items()
            if v
        }
        entries.append(
            ImportedEntry(
                key,
                line,
                _identifiers(values),
                compared,
                _reference({**compared, "author": authors.replace("; ", " and ")}),
            )
        )
    return entries


def read_bibliography(path: Path) -> list[ImportedEntry]:
    """The entries of a ``.bib`` or CSL-JSON file; InputError (by line) if it is broken."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot be read ({exc}); expected a UTF-8 .bib or CSL-JSON file"
        raise InputError(msg, source=str(path)) from exc
    if path.suffix.lower() in (".json", ".csljson") or text.lstrip().startswith(("[", "{")):
        return _read_csl(path, text)
    return _read_bibtex(path, text)


# ---------------------------------------------------------------- importing


def _work_value(work: Any, name: str) -> str:
    if name == "container":
        return work.container_title or ""
    if name == "year":
        return str(work.issued.parts[0]) if work.issued else ""
    return str(getattr(work, name, None) or "")


def _same(a: str, b: str) -> bool:
    def norm(x: str) -> str:
        return re.sub(r"[^0-9a-z]+", "", x.lower().replace("–", "-"))

    return norm(a) == norm(b)


def import_bibliography(
    settings: Settings,
    path: Path,
    *,
    document: str | None = None,
    dry_run: bool = False,
    update_fields: bool = False,
    wait: float = 30.0,
    reporter: Any = None,
) -> ImportReport:
    """``refs import FILE``: see the module docstring."""
    from refs.app.inputs import DocumentResult
    from refs.app.resolving import resolve_documents
    from refs.app.stores import stored
    from refs.match.matcher import MatchSettings

    entries = read_bibliography(path)  # a broken file stops here: nothing stored
    name = document or str(path)
    mentions: list[Mention] = []
    others: list[Mention] = []
    for e in entries:
        for ident in e.identifiers:
            mentions.append(Mention(name, ident.scheme, ident.value, e.key, e.line, e.line, e.key))
        if not e.identifiers and e.reference:
            others.append(
                Mention(name, Scheme.REFERENCE, e.reference, e.key, e.line, e.line, e.reference)
            )
    scratch = None
    if dry_run:  # a throw-away copy: the real library and cache are never written
        scratch = Path(tempfile.mkdtemp(prefix="refs-import-"))
        for source, target in (
            (settings.library, scratch / "library"),
            (settings.cache, scratch / "cache"),
        ):
            if Path(source).is_dir():
                shutil.copytree(source, target)
        settings = dataclasses.replace(
            settings, library=scratch / "library", cache=scratch / "cache"
        )
    try:
        result = DocumentResult(name, mentions, unidentified=others)
        run = resolve_documents(
            [result], [], settings, match=MatchSettings(), wait=wait, reporter=reporter
        )
        matched = {o.mention.raw: o.identifier for o in run.matching.outcomes if o.identifier}
        report = ImportReport(name, entries, dry_run, update_fields=update_fields)
        with stored(settings, wait=wait) as library:
            idents = [i for e in entries for i in e.identifiers] + list(matched.values())
            held = library.holdings(identifiers=idents)
            owners = dict(held.owners.items())
            works = {w.id: w for w in library.works(ids=set(owners.values()))}
            aliases = []
            for e in entries:
                candidates = e.identifiers or [m for m in [matched.get(e.key)] if m is not None]
                found = [owners[i] for i in candidates if i in owners]
                if not found:
                    e.problem = (
                        "no identifier resolved" if e.identifiers else "no identifier, and no match"
                    )
                    continue
                held_work = works[found[0]]
                e.work_key = held_work.key
                if held_work.key != e.key:
                    aliases.append((e.key, held_work.id))
                for field_name in (
                    "title",
                    "container",
                    "volume",
                    "issue",
                    "page",
                    "year",
                    "doi",
                    "pmid",
                    "pmcid",
                ):
                    mine, theirs = (
                        e.fields.get(field_name, ""),
                        _work_value(held_work.work, field_name),
                    )
                    if theirs and not mine:
                        e.added[field_name] = theirs
                    elif mine and theirs and not _same(mine, theirs):
                        e.differs[field_name] = (mine, theirs)
            report.refused_aliases = library.add_aliases(aliases) if aliases else []
            # The fields the user set and the services disagree with: kept as the user's
            # in the library's exports, unless they asked for the services' values.
            from refs.work import OVERRIDABLE

            for e in entries:
                if e.work_key is None:
                    continue
                wid = next(w.id for w in works.values() if w.key == e.work_key)
                kept = {k: pair[0] for k, pair in e.differs.items() if k in OVERRIDABLE}
                library.set_overrides(wid, {} if update_fields else kept, f"import:{name}")
            if aliases or any(e.differs for e in entries):
                from refs.app.exporting import write_library_exports

                write_library_exports(library, settings)
        return report
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
