"""The library → BibTeX and CSL-JSON files."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from refs.choices import ExportFormat
from refs.config import Settings
from refs.errors import ExportError, UnknownDocument
from refs.export.entries import ExportEntry
from refs.storage import ExportRow, Library
from refs.work import Work, with_overrides

T = TypeVar("T")

__all__ = [
    "LIBRARY_EXPORTS",
    "check_documents",
    "export_library",
    "export_pieces",
    "library_entries",
    "library_pieces",
    "pieces",
    "prerender",
    "render",
    "render_library",
    "write_exports",
    "write_library_exports",
]

LIBRARY_EXPORTS = {"library.bib": ExportFormat.bibtex, "library.json": ExportFormat.csl_json}
# Below this many works, writing the two exports one after the other is quicker than forking.
PARALLEL_MIN_WORKS = 2_000


def render(
    entries: Sequence[ExportEntry],
    fmt: ExportFormat,
    *,
    unicode: bool = False,
    abstracts: bool = False,
) -> str:
    """Export entries as the text of one file."""
    from refs.export.bibtex import to_bibtex
    from refs.export.csl import to_csl_json

    if fmt is ExportFormat.bibtex:
        return to_bibtex(entries, unicode=unicode, abstracts=abstracts)
    return to_csl_json(entries)


def check_documents(library: Library, documents: Sequence[str]) -> None:
    """Raise :class:`UnknownDocument` for the first document the library does not know."""
    for document in documents:
        if library.has_document(document):
            continue
        known = library.documents()
        hint = (
            f"; the library knows {len(known)} document(s), e.g. {', '.join(repr(k) for k in known[:3])}"
            if known
            else "; the library has no documents yet"
        )
        msg = f"{document!r} is not a document in the library{hint}"
        raise UnknownDocument(msg, document=document)


def library_entries(
    library: Library, *, document: str | None = None, keys: Sequence[str] | None = None
) -> list[ExportEntry]:
    """The library's works (or one document's, or some keys'), in key order, as export entries."""
    if document is not None:
        check_documents(library, [document])
    rows = {r.work_id: r for r in library.export_rows(document=document, keys=keys)}
    return [
        ExportEntry(
            w.key,
            with_overrides(w.work, rows[w.id].overrides) if w.id in rows else w.work,
            w.documents,
            rows[w.id].match if w.id in rows else None,
            rows[w.id].aliases if w.id in rows else [],
        )
        for w in library.works(document=document, keys=keys)
    ]


def export_library(
    settings: Settings,
    fmt: ExportFormat,
    *,
    document: str | None = None,
    unicode: bool = False,
    abstracts: bool = False,
) -> str:
    """``refs export``: the text of the library's (or one document's) export."""
    return "".join(
        export_pieces(settings, fmt, document=document, unicode=unicode, abstracts=abstracts)
    )


# A pandoc citation key: begins with a letter, digit or _, then alphanumerics and internal
# punctuation (pandoc's manual, "Citation syntax"); a DOI URL is one.
_CITEKEY = re.compile(r"[\w][\w:.#$%&\-+?<>~/]*[\w/]|\w")


def _cited_entries(library: Library, document: str, *, as_cited: bool) -> list[ExportEntry]:
    """The works ``document`` cites, in the order it cites them: with ``as_cited``, one
    entry per way it cites a work, keyed exactly as it does (``doi:10.…``, ``pmid:…``,
    ``pmcid:…``, a DOI URL …; a mention whose text is no citation key, a reference string
    matched to a work, is left out: nothing in the document could use its key); else one
    entry per work, keyed as in the library, where it is first cited."""
    check_documents(library, [document])
    cited = library.cited_as(document)
    if as_cited:
        cited = [(raw, wid) for raw, wid in cited if _CITEKEY.fullmatch(raw)]
    else:
        cited = [("", wid) for wid in dict.fromkeys(wid for _, wid in cited)]
    rows = {r.work_id: r for r in library.export_rows(ids=[wid for _, wid in cited])}
    works = {w.id: w for w in library.works(ids=list(rows))}
    return [
        ExportEntry(
            raw if as_cited else works[wid].key,
            with_overrides(works[wid].work, rows[wid].overrides),
            works[wid].documents,
            rows[wid].match,
        )
        for raw, wid in cited
        if wid in works
    ]


def as_cited_pieces(
    settings: Settings,
    fmt: ExportFormat,
    document: str,
    *,
    unicode: bool = False,
    abstracts: bool = False,
) -> Iterator[str]:
    """``refs export --document D --as-cited``: the bibliography of one document, keyed
    as it cites each work, so ``pandoc --citeproc`` finds every key."""
    from refs.app.stores import opened_library
    from refs.export import bulk

    with opened_library(settings, must_exist=True) as library:
        entries = _cited_entries(library, document, as_cited=True)
    with bulk():
        texts = [render_entry(e, fmt, unicode=unicode, abstracts=abstracts) for e in entries]
    return pieces(texts, fmt)


def format_references(
    settings: Settings, *, document: str | None = None, style: str = "vancouver", to: str = "text"
) -> str:
    """``refs format``: a document's references in citation order, or the library's in
    alphabetical order, in a CSL style; retracted and corrected works marked."""
    from refs.app.stores import opened_library
    from refs.export.formatted import format_entries

    with opened_library(settings, must_exist=True) as library:
        if document is None:
            entries = library_entries(library)
        else:  # a work cited twice (PMID and PMCID) is listed once, where first cited
            entries = _cited_entries(library, document, as_cited=False)
    return format_entries(entries, style, to=to, sort=document is None)


def write_report(
    settings: Settings, output: Path, *, documents: Sequence[str] = (), style: str = "vancouver"
) -> dict[str, int]:
    """``refs report -o FILE``: the editors' page for these documents (all by default),
    written atomically. Returns its counts (articles, citations, retracted …)."""
    from refs.app.stores import opened_library
    from refs.export.formatted import render_each
    from refs.export.report_html import ArticleView, CitationView, ProblemView, render_report
    from refs.files import write_atomic
    from refs.work import STATUS_LABELS

    with opened_library(settings, must_exist=True) as library:
        check_documents(library, list(documents))
        chosen = list(documents) or library.documents()
        articles = []
        for document in chosen:
            entries = _cited_entries(library, document, as_cited=False)
            texts = dict(render_each(entries, style, html_out=True))
            view = ArticleView(document)
            for e in entries:
                w = e.work
                view.citations.append(
                    CitationView(
                        e.key,
                        texts.get(e.key, html.escape(w.title or e.key)),
                        w.doi,
                        w.pmid,
                        w.pmcid,
                        [(ev.kind, ev.details()) for ev in w.status if ev.kind in STATUS_LABELS],
                        (
                            f"matched by {e.match['method']}"
                            if e.match and e.match.get("method")
                            else None
                        ),
                    )
                )
            for ident, raw in library.unresolved(document):
                view.problems.append(ProblemView("failed", raw, f"{ident} did not resolve"))
            for m in library.matches(document=document):
                if m.status in ("unmatched", "failed"):
                    view.problems.append(ProblemView(m.status, m.text, m.reason or m.status))
            articles.append(view)
    page = render_report(articles)
    write_atomic(output, page, only_if_changed=False)
    counts = {"articles": len(articles), "bytes": len(page.encode("utf-8"))}
    for a in articles:
        for c in a.citations:
            for kind, _ in c.status:
                counts[kind] = counts.get(kind, 0) + 1
        for p in a.problems:
            counts[p.kind] = counts.get(p.kind, 0) + 1
    return counts


def export_pieces(
    settings: Settings,
    fmt: ExportFormat,
    *,
    document: str | None = None,
    unicode: bool = False,
    abstracts: bool = False,
) -> Iterator[str]:
    """:func:`export_library` piece by piece (``refs export`` streams them to the file)."""
    from refs.app.stores import opened_library

    with opened_library(settings, must_exist=True) as library:
        return library_pieces(library, fmt, document=document, unicode=unicode, abstracts=abstracts)


def exports_fingerprint(paths: Sequence[Path]) -> int:
    """A number that changes when any of these files changes (size, modification time,
    inode) or refs' version does (a new version may render differently); 0 when a file is
    missing."""
    import hashlib

    from refs import __version__

    parts = [__version__]
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            return 0
        parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    digest = hashlib.sha256("\n".join(parts).encode()).digest()
    return int.from_bytes(digest[:7], "big") or 1


# Bump when the text an entry renders to changes for the same work (the stamps of
# entries rendered before then no longer match, so they are rendered again).
RENDER_REVISION = 2


def _variant(fmt: ExportFormat, unicode: bool, abstracts: bool) -> str:
    from refs import __version__

    return f"{fmt.value}|unicode={int(unicode)}|abstracts={int(abstracts)}|{__version__}|{RENDER_REVISION}"


def _stamp(row: ExportRow) -> str | None:
    """What a rendered entry was rendered from: the work's data, key and citing documents."""
    if row.digest is None:
        return None
    text = "\x1f".join([row.digest, row.key, *row.documents])
    if row.match is not None:
        text += "\x1e" + json.dumps(row.match, sort_keys=True)
    if row.aliases:
        text += "\x1d" + "\x1f".join(row.aliases)
    if row.overrides:
        text += "\x1c" + json.dumps(row.overrides, sort_keys=True)
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def render_entry(entry: ExportEntry, fmt: ExportFormat, *, unicode: bool, abstracts: bool) -> str:
    """One entry's text as it stands in an export file."""
    from refs.export.bibtex import bibtex_entry
    from refs.export.csl import csl_entry

    if fmt is ExportFormat.bibtex:
        return bibtex_entry(entry, unicode=unicode, abstracts=abstracts)
    return csl_entry(entry)


def assemble(texts: Sequence[str], fmt: ExportFormat) -> str:
    """A whole file from its entries' texts, as :func:`render` writes it."""
    return "".join(pieces(texts, fmt))


def pieces(texts: Sequence[str], fmt: ExportFormat) -> Iterator[str]:
    """The file :func:`assemble` makes, piece by piece (for streaming it to disk)."""
    if fmt is ExportFormat.bibtex:
        for i, text in enumerate(texts):
            yield "\n" + text if i else text
        return
    if not texts:
        yield "[]\n"
        return
    yield "[\n"
    for i, text in enumerate(texts):
        yield ",\n" + text if i else text
    yield "\n]\n"


@dataclass(slots=True)
class _Rendering:
    """One export's entries: those rendered before and still current, and the rest."""

    fmt: ExportFormat
    variant: str
    rows: list[ExportRow]
    cached: dict[int, tuple[str, str]]
    unicode: bool = False
    abstracts: bool = False

    def stale(self) -> list[int]:
        return [
            r.work_id
            for r in self.rows
            if (stamp := _stamp(r)) is None or self.cached.get(r.work_id, ("",))[0] != stamp
        ]

    def text(self, works: dict[int, Work]) -> tuple[str, list[tuple[int, str, str]]]:
        """The file's text, and the entries rendered now (work id, stamp, text). Pure."""
        texts, fresh = self.entries(works)
        return assemble(texts, self.fmt), fresh

    def entries(self, works: dict[int, Work]) -> tuple[list[str], list[tuple[int, str, str]]]:
        """Every entry's text in order, and those rendered now (work id, stamp, text)."""
        from refs.export import bulk

        texts, fresh = [], []
        with bulk():
            for row in self.rows:
                stamp = _stamp(row)
                cached = self.cached.get(row.work_id)
                if stamp is not None and cached is not None and cached[0] == stamp:
                    texts.append(cached[1])
                    continue
                work = with_overrides(works[row.work_id], row.overrides)
                entry = ExportEntry(row.key, work, row.documents, row.match, row.aliases)
                text = render_entry(entry, self.fmt, unicode=self.unicode, abstracts=self.abstracts)
                texts.append(text)
                if stamp is not None:
                    fresh.append((row.work_id, stamp, text))
        return texts, fresh


def _renderings(
    library: Library,
    formats: Sequence[ExportFormat],
    *,
    document: str | None = None,
    keys: Sequence[str] | None = None,
    unicode: bool = False,
    abstracts: bool = False,
) -> tuple[list[_Rendering], dict[int, Work]]:
    """What each export needs, and the works whose entries must be rendered (loaded once
    for all formats; a library whose works did not change loads none)."""
    rows = library.export_rows(document=document, keys=keys)
    ids = [r.work_id for r in rows]
    renderings = []
    for fmt in formats:
        variant = _variant(fmt, unicode, abstracts)
        renderings.append(
            _Rendering(fmt, variant, rows, library.renders(variant, ids), unicode, abstracts)
        )
    stale = sorted({i for r in renderings for i in r.stale()})
    works = {w.id: w.work for w in library.works(ids=stale)} if stale else {}
    return renderings, works


def prerender(library: Library, works: dict[int, Work]) -> None:
    """Render and keep the library exports' entries of works just written (in memory),
    so the exports at the end of a run assemble them instead of loading every work."""
    if not works:
        return
    rows = library.export_rows(ids=list(works))
    for fmt in LIBRARY_EXPORTS.values():
        rendering = _Rendering(fmt, _variant(fmt, False, False), rows, {})
        _text, fresh = rendering.text(works)
        library.store_renders(rendering.variant, fresh)


def render_library(
    library: Library,
    fmt: ExportFormat,
    *,
    document: str | None = None,
    keys: Sequence[str] | None = None,
    unicode: bool = False,
    abstracts: bool = False,
) -> str:
    """The library's (or one document's, or some keys') export, rendering only the
    entries whose work, key or citing documents changed since they were last rendered."""
    if document is not None:
        check_documents(library, [document])
    return "".join(
        library_pieces(
            library, fmt, document=document, keys=keys, unicode=unicode, abstracts=abstracts
        )
    )


def library_pieces(
    library: Library,
    fmt: ExportFormat,
    *,
    document: str | None = None,
    keys: Sequence[str] | None = None,
    unicode: bool = False,
    abstracts: bool = False,
) -> Iterator[str]:
    """:func:`render_library` piece by piece, to stream a large export to a file (the
    entries are read, rendered and kept before the first piece is returned)."""
    if document is not None:
        check_documents(library, [document])
    (rendering,), works = _renderings(
        library, [fmt], document=document, keys=keys, unicode=unicode, abstracts=abstracts
    )
    texts, fresh = rendering.entries(works)
    library.store_renders(rendering.variant, fresh)
    return pieces(texts, fmt)


def write_library_exports(library: Library, settings: Settings) -> list[str]:
    """Rewrite references/library.bib and library.json (atomically, only when changed).

    Nothing is rendered when the library has not changed since the exports were last
    written whole and the files are still the ones written then (same fingerprint);
    otherwise only the entries of works that changed are. Temporary files a killed run
    left beside them are removed first.
    """
    from refs.files import clean_orphans, write_atomic

    clean_orphans(settings.library)
    paths = [settings.library / name for name in LIBRARY_EXPORTS]
    generation, exported = library.generation()
    if generation == exported and exports_fingerprint(paths) == library.export_fingerprint():
        return []
    renderings, works = _renderings(library, list(LIBRARY_EXPORTS.values()))
    if len(works) < PARALLEL_MIN_WORKS:
        # Little to render: one file after the other, each one's entries freed before
        # the next is assembled (a whole library's entries are hundreds of MB).
        written = []
        for path, rendering in zip(paths, renderings, strict=True):
            texts, fresh = rendering.entries(works)
            if write_atomic(path, pieces(texts, rendering.fmt)):
                written.append(str(path))
            rendering.cached, texts = {}, []
            library.store_renders(rendering.variant, fresh)
        library.mark_exported(generation, exports_fingerprint(paths))
        return written

    def job(path: Path, rendering: _Rendering) -> Callable[[], tuple[bool, list[Any]]]:
        def write() -> tuple[bool, list[Any]]:
            text, fresh = rendering.text(works)
            return write_atomic(path, text), fresh

        return write

    results = run_jobs(
        [(str(p), job(p, r)) for p, r in zip(paths, renderings, strict=True)],
        parallel=len(works) >= PARALLEL_MIN_WORKS,
    )
    for rendering, (_changed, fresh) in zip(renderings, results, strict=True):
        library.store_renders(rendering.variant, fresh)
    # Only reached when every file was written.
    library.mark_exported(generation, exports_fingerprint(paths))
    return [str(p) for p, (changed, _) in zip(paths, results, strict=True) if changed]


def _write_one(
    entries: Sequence[ExportEntry], path: Path, fmt: ExportFormat, unicode: bool
) -> bool:
    from refs.files import write_atomic

    return write_atomic(path, render(entries, fmt, unicode=unicode))


def _can_fork() -> bool:
    import multiprocessing
    import threading

    # fork() with other threads alive can deadlock the child; never risk it.
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def write_exports(
    entries: Sequence[ExportEntry],
    targets: Sequence[tuple[Path, ExportFormat]],
    *,
    unicode: bool = False,
) -> list[str]:
    """Write each target (path, format) atomically; return the paths whose content changed."""

    def job(path: Path, fmt: ExportFormat) -> Callable[[], bool]:
        return lambda: _write_one(entries, path, fmt, unicode)

    results = run_jobs(
        [(str(path), job(path, fmt)) for path, fmt in targets],
        parallel=len(entries) >= PARALLEL_MIN_WORKS,
    )
    return [str(path) for (path, _), changed in zip(targets, results, strict=True) if changed]


def run_jobs(jobs: Sequence[tuple[str, Callable[[], T]]], *, parallel: bool) -> list[T]:
    """Run each (label, job) and return their results in order.

    With ``parallel`` and more than one job, each job but the first runs in a forked
    child while this process runs the first: writing two exports is CPU-bound and the
    files are independent, so two formats take the time of the slower one. A job that
    fails raises :class:`ExportError` naming its label.
    """
    if len(jobs) < 2 or not parallel or not _can_fork():
        return [job() for _, job in jobs]
    import multiprocessing

    context = multiprocessing.get_context("fork")
    children = []
    for label, job in jobs[1:]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child_run, args=(job, sender), daemon=True)
        child.start()
        sender.close()
        children.append((label, child, receiver))
    results = [jobs[0][1]()]
    for label, child, receiver in children:
        try:
            status, detail = receiver.recv()
        except EOFError:
            status, detail = "error", f"the process writing it died (exit status {child.exitcode})"
        child.join()
        if status == "error":
            msg = f"cannot write {label!r}: {detail}"
            raise ExportError(msg)
        results.append(detail)
    return results


def _child_run(job: Callable[[], Any], sender: Any) -> None:
    try:
        sender.send(("ok", job()))
    except BaseException as exc:  # report anything to the parent, which raises it
        sender.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()
