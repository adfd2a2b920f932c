"""The one place where the stages are composed.

documents ─extract→ mentions ─resolve→ raw records ─normalise→ works ─dedup→ library ─export→ files

Each stage is a pure function of its input except reading documents, talking to the
services and the store, which this module wires together.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refs.config import Settings
from refs.errors import ExportError, IdentifierError, InputError
from refs.identifiers import Identifier, parse_identifier
from refs.models import Document, Mention
from refs.progress import NullReporter, Reporter

if TYPE_CHECKING:
    from refs.export.entries import ExportEntry
    from refs.identifiers import Scheme
    from refs.resolve.engine import ResolveReport
    from refs.store.library import Library, WorkUpdate
    from refs.work import Work

__all__ = [
    "DocumentResult",
    "ExportFormat",
    "ResolveRun",
    "StoreSummary",
    "build_clusters",
    "export_library",
    "extract_inputs",
    "library_entries",
    "render",
    "resolve_inputs",
    "split_inputs",
    "store_run",
    "write_exports",
    "write_library_exports",
]


@dataclass(slots=True)
class DocumentResult:
    """What one input yielded: its mentions, or the reason it could not be read."""

    source: str
    mentions: list[Mention] = field(default_factory=list)
    error: InputError | None = None
    document: Document | None = None


def extract_inputs(
    inputs: Sequence[str], settings: Settings, reporter: Reporter | None = None
) -> Iterator[DocumentResult]:
    """Read every input (files, directories, URLs) and extract its mentions, in order.

    An input that cannot be read yields a result carrying its :class:`InputError`
    (and a warning to ``reporter``); the others go on.
    """
    from refs.documents import expand_inputs, fetch_url, read_file
    from refs.extract import extract

    reporter = reporter or NullReporter()
    client = None
    try:
        for item in expand_inputs(inputs):
            try:
                if item.url:
                    if client is None:
                        import httpx

                        client = httpx.Client(headers={"User-Agent": settings.user_agent})
                    document = fetch_url(
                        item.name,
                        client=client,
                        max_bytes=settings.fetch_max_bytes,
                        timeout=settings.fetch_timeout,
                    )
                else:
                    document = read_file(item.name)
            except InputError as exc:
                reporter.warning(str(exc))
                yield DocumentResult(item.name, error=exc)
                continue
            yield DocumentResult(item.name, extract(document), document=document)
    finally:
        if client is not None:
            client.close()


def split_inputs(inputs: Sequence[str]) -> tuple[list[str], list[Identifier]]:
    """Command-line arguments → (documents to read, identifiers given directly).

    An existing file or directory is a document; then anything that parses as one
    identifier (``doi:…``, ``10.…``, ``PMID:…``, ``PMC…``, a doi.org or PubMed URL) is an
    identifier; then other http(s) URLs are web pages to read. Anything else raises
    :class:`IdentifierError`, naming the argument and what was expected.
    """
    from refs.documents import is_url

    documents: list[str] = []
    identifiers: list[Identifier] = []
    for item in inputs:
        if os.path.exists(item):
            documents.append(item)
            continue
        try:
            identifiers.append(parse_identifier(item))
            continue
        except IdentifierError as exc:
            error = exc
        if is_url(item):
            documents.append(item)
            continue
        if error.scheme is None:
            msg = (
                f"{item!r} is not an existing file or directory, a URL, or an identifier: expected "
                "a path, an http(s) URL, or an identifier such as doi:10.1186/s10194-023-01626-w, "
                "PMID:37438700 or PMC10337094"
            )
            raise IdentifierError(msg, text=item) from error
        raise error
    return documents, identifiers


@dataclass(slots=True)
class StoreSummary:
    """What storing a run did to the library."""

    updates: list[WorkUpdate] = field(default_factory=list)
    duplicates_merged: int = 0
    warnings: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for u in self.updates if u.outcome == outcome)

    @property
    def keys(self) -> list[str]:
        return sorted({u.key for u in self.updates})


@dataclass(slots=True)
class ResolveRun:
    """One ``refs resolve`` run: what was read, what was asked, what came back."""

    documents: list[DocumentResult]
    given: list[Identifier]
    report: ResolveReport
    stored: StoreSummary = field(default_factory=StoreSummary)

    @property
    def mentions(self) -> list[Mention]:
        return [m for d in self.documents for m in d.mentions]

    @property
    def failed_inputs(self) -> list[DocumentResult]:
        return [d for d in self.documents if d.error is not None]


def resolve_inputs(
    inputs: Sequence[str],
    settings: Settings,
    *,
    offline: bool = False,
    max_age: float | None = None,
    reporter: Reporter | None = None,
    wait: float = 30.0,
) -> ResolveRun:
    """Extract identifiers from documents (and take given ones), resolve and store them.

    Holds the library's lock for the whole run (waiting up to ``wait`` seconds for it).
    """
    from refs.store.lock import library_lock

    paths, given = split_inputs(inputs)  # usage errors before waiting for anything
    with library_lock(settings.library, wait=wait):
        return _resolve_locked(
            paths, given, settings, offline=offline, max_age=max_age, reporter=reporter
        )


def _resolve_locked(
    paths: list[str],
    given: list[Identifier],
    settings: Settings,
    *,
    offline: bool,
    max_age: float | None,
    reporter: Reporter | None,
) -> ResolveRun:
    from refs.resolve.engine import Resolver
    from refs.store.cache import Cache
    from refs.store.library import Library

    reporter = reporter or NullReporter()
    documents = list(extract_inputs(paths, settings, reporter)) if paths else []
    identifiers = given + [m.identifier for d in documents for m in d.mentions]
    cache = Cache(settings.cache)
    try:
        resolver = Resolver(settings, cache, offline=offline, max_age=max_age, reporter=reporter)
        report = asyncio.run(resolver.resolve(identifiers))
    finally:
        cache.close()
    run = ResolveRun(documents, given, report)
    with Library(settings.library) as library:
        run.stored = store_run(library, run)
        run.stored.written = write_library_exports(library, settings)
    for warning in run.stored.warnings:
        reporter.warning(warning)
    return run


def build_clusters(
    report: ResolveReport,
) -> tuple[list[tuple[dict[Scheme, str], list[Work], list[str]]], list[str], int]:
    """Resolved identifiers → (clusters of normalised records, warnings, duplicates merged)."""
    from refs.dedup import cluster_records
    from refs.normalise import normalise_record

    resolved = [r for r in report.resolutions if r.status == "resolved"]
    clusters, _where = cluster_records((r.identifier, r.identifiers, r.records) for r in resolved)
    out = []
    warnings = []
    for cluster in clusters:
        works = []
        for record in cluster.records:
            try:
                work = normalise_record(record)
            except ValueError as exc:
                warnings.append(str(exc))
                continue
            if work is not None:
                works.append(work)
        if works:
            out.append((cluster.identifiers, works, cluster.notes))
        else:
            ids = ", ".join(str(i) for i in cluster.identifier_list())
            warnings.append(
                f"{ids}: resolved, but no record describes the work (only identifier links)"
            )
    return out, warnings, max(0, len(resolved) - len(clusters))


def store_run(library: Library, run: ResolveRun) -> StoreSummary:
    """Normalise, deduplicate and store a run's works and documents in the library."""
    clusters, warnings, duplicates = build_clusters(run.report)
    docs = [(d.source, d.mentions) for d in run.documents if d.error is None]
    updates = library.store(clusters, documents=docs)
    return StoreSummary(updates, duplicates, warnings)


class ExportFormat(StrEnum):
    bibtex = "bibtex"
    csl_json = "csl-json"


def render(
    entries: Sequence[ExportEntry],
    fmt: ExportFormat,
    *,
    unicode: bool = False,
    abstracts: bool = False,
) -> str:
    from refs.export.bibtex import to_bibtex
    from refs.export.csl import to_csl_json

    if fmt is ExportFormat.bibtex:
        return to_bibtex(entries, unicode=unicode, abstracts=abstracts)
    return to_csl_json(entries)


def export_library(
    library: Library, *, document: str | None = None, keys: Sequence[str] | None = None
) -> list[ExportEntry]:
    """The library's works (or one document's, or some keys'), in key order, as export entries."""
    from refs.export.entries import ExportEntry

    if document is not None and not library.has_document(document):
        known = library.documents()
        hint = (
            f"; the library knows {len(known)} document(s), e.g. {known[0]!r}"
            if known
            else "; the library has no documents yet"
        )
        msg = f"{document!r} is not a document in the library{hint}"
        raise ExportError(msg)
    return [
        ExportEntry(w.key, w.work, w.documents) for w in library.works(document=document, keys=keys)
    ]


def library_entries(
    settings: Settings, *, document: str | None = None, keys: Sequence[str] | None = None
) -> list[ExportEntry]:
    """Export entries from the library at ``settings.library`` (which must exist)."""
    from refs.errors import StoreError
    from refs.store.library import FILENAME, Library

    if not (settings.library / FILENAME).exists():
        msg = f"no library at {str(settings.library)!r}: run `refs resolve` on your documents first"
        raise StoreError(msg)
    with Library(settings.library) as library:
        return export_library(library, document=document, keys=keys)


LIBRARY_EXPORTS = {"library.bib": ExportFormat.bibtex, "library.json": ExportFormat.csl_json}
# Below this many works, writing the two exports one after the other is quicker than forking.
PARALLEL_MIN_WORKS = 20_000


def write_library_exports(library: Library, settings: Settings) -> list[str]:
    """Rewrite references/library.bib and library.json (atomically, only when changed)."""
    entries = export_library(library)
    return write_exports(
        entries, [(settings.library / name, fmt) for name, fmt in LIBRARY_EXPORTS.items()]
    )


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
    """Write each target (path, format) atomically; return the paths whose content changed.

    With many works and more than one target, each extra target is written by a forked
    child while this process writes the first: the files are independent and rendering
    is CPU-bound, so two formats take the time of the slower one.
    """
    if len(targets) < 2 or len(entries) < PARALLEL_MIN_WORKS or not _can_fork():
        return [str(path) for path, fmt in targets if _write_one(entries, path, fmt, unicode)]
    import multiprocessing

    context = multiprocessing.get_context("fork")
    children = []
    for path, fmt in targets[1:]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_child_write, args=(entries, path, fmt, unicode, sender), daemon=True
        )
        child.start()
        sender.close()
        children.append((path, child, receiver))
    first_path, first_fmt = targets[0]
    written = [str(first_path)] if _write_one(entries, first_path, first_fmt, unicode) else []
    for path, child, receiver in children:
        try:
            status, detail = receiver.recv()
        except EOFError:
            status, detail = "error", f"the process writing it died (exit status {child.exitcode})"
        child.join()
        if status == "error":
            msg = f"cannot write {str(path)!r}: {detail}"
            raise ExportError(msg)
        if detail:
            written.append(str(path))
    return written


def _child_write(
    entries: Sequence[ExportEntry], path: Path, fmt: ExportFormat, unicode: bool, sender: Any
) -> None:
    try:
        sender.send(("ok", _write_one(entries, path, fmt, unicode)))
    except BaseException as exc:  # report anything to the parent, which raises it
        sender.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()
