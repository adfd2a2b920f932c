"""Identifiers → records → works → the library: the stages of ``refs resolve``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from refs.app.inputs import DocumentResult, extract_documents, split_inputs
from refs.choices import ExportFormat
from refs.config import Settings
from refs.identifiers import Identifier
from refs.models import Mention, Record
from refs.planner import WorkCluster
from refs.progress import NullReporter, Reporter
from refs.resolve.engine import ResolveReport
from refs.storage import Library, RecordCache, WorkUpdate
from refs.work import Work

__all__ = [
    "BuiltWorks",
    "ResolveRun",
    "StoreSummary",
    "build_works",
    "normalise_records",
    "resolve_identifiers",
    "resolve_inputs",
    "store_works",
]


def resolve_identifiers(
    identifiers: Sequence[Identifier],
    settings: Settings,
    *,
    offline: bool = False,
    max_age: float | None = None,
    reporter: Reporter | None = None,
    cache: RecordCache | None = None,
) -> ResolveReport:
    """Resolve identifiers (duplicates once) through the record cache and the services."""
    from refs.app.stores import open_cache
    from refs.resolve.engine import Resolver

    own = cache is None
    cache = cache or open_cache(settings)
    try:
        resolver = Resolver(settings, cache, offline=offline, max_age=max_age, reporter=reporter)
        return asyncio.run(resolver.resolve(identifiers))
    finally:
        if own:
            cache.close()


def normalise_records(records: Iterable[Record]) -> tuple[list[Work], list[str]]:
    """The works the records describe, and a warning for each record that cannot be read
    and for each value left out of a work (a dict where a volume should be)."""
    from refs.normalise import normalise_record_checked

    works, warnings = [], []
    for record in records:
        try:
            work, problems = normalise_record_checked(record)
        except ValueError as exc:
            warnings.append(str(exc))
            continue
        if work is not None:
            works.append(work)
            warnings += problems
    return works, warnings


@dataclass(slots=True)
class BuiltWorks:
    """A run's works, one cluster per work, ready to be stored."""

    clusters: list[WorkCluster] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicates_merged: int = 0
    # Identifiers that resolved to records describing no work: failures, with the reason.
    failed: dict[Identifier, str] = field(default_factory=dict)


def build_works(report: ResolveReport) -> BuiltWorks:
    """Resolved identifiers → clusters of normalised records (deduplicated). Pure."""
    from refs.dedup import cluster_records

    resolved = [r for r in report.resolutions if r.status == "resolved"]
    clusters, where = cluster_records(
        (r.canonical or r.identifier, r.identifiers, r.records) for r in resolved
    )
    aliases: dict[int, list[Identifier]] = {}
    for r in resolved:
        if r.canonical is not None and r.canonical in where:
            aliases.setdefault(where[r.canonical], []).append(r.identifier)
    built = BuiltWorks(duplicates_merged=max(0, len(resolved) - len(clusters)))
    for index, cluster in enumerate(clusters):
        works, warnings = normalise_records(cluster.records)
        built.warnings += warnings
        if works:
            built.clusters.append(
                WorkCluster(cluster.identifiers, works, cluster.notes, aliases.get(index, []))
            )
        else:
            reason = "; ".join(warnings) or "its records describe no work (only identifier links)"
            for r in resolved:
                if where.get(r.canonical or r.identifier) == index:
                    built.failed[r.identifier] = f"resolved, but nothing could be stored: {reason}"
    return built


def mark_failed(report: ResolveReport, failed: dict[Identifier, str]) -> None:
    """Turn resolutions that stored nothing into failures with their reason."""
    for r in report.resolutions:
        reason = failed.get(r.identifier)
        if reason is not None:
            r.status, r.reason = "failed", reason


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


def store_works(
    library: Library,
    built: BuiltWorks,
    documents: Sequence[tuple[str, Sequence[Mention]]] = (),
    *,
    now: float | None = None,
) -> StoreSummary:
    """Store a run's works and documents in one transaction (the caller holds the lock)."""
    from refs.identifiers import Scheme
    from refs.planner import plan_store

    wanted = [Identifier(s, v) for c in built.clusters for s, v in c.identifiers.items()]
    wanted += [a for c in built.clusters for a in c.aliases]
    wanted += [
        Identifier(Scheme(s), v)
        for c in built.clusters
        for w in c.records
        for s, v in w.identifiers().items()
    ]
    plan = plan_store(
        library.snapshot(wanted),
        built.clusters,
        documents=documents,
        now=time.time() if now is None else now,
    )
    library.apply(plan)
    return StoreSummary(plan.updates, built.duplicates_merged, list(built.warnings))


@dataclass(slots=True)
class ResolveRun:
    """One ``refs resolve`` run: what was read, what was asked, what came back."""

    documents: list[DocumentResult]
    given: list[Identifier]
    report: ResolveReport
    stored: StoreSummary = field(default_factory=StoreSummary)
    export: str | None = None  # this run's works in the format asked for, if any

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
    export: ExportFormat | None = None,
    unicode: bool = False,
    abstracts: bool = False,
) -> ResolveRun:
    """``refs resolve``: extract, resolve, build works; then, under the library's lock
    (waiting up to ``wait`` seconds for it), store them and rewrite the exports.

    The lock is not held while documents are fetched or services asked, so a long
    resolve never keeps a scheduled refresh waiting. ``export`` renders this run's
    works in that format into :attr:`ResolveRun.export`.
    """
    from refs.app.exporting import library_entries, render, write_library_exports
    from refs.app.stores import stored

    reporter = reporter or NullReporter()
    paths, given = split_inputs(inputs)  # usage errors before reading anything
    documents = list(extract_documents(paths, settings, reporter)) if paths else []
    identifiers = given + [m.identifier for d in documents for m in d.mentions]
    report = resolve_identifiers(
        identifiers, settings, offline=offline, max_age=max_age, reporter=reporter
    )
    built = build_works(report)
    mark_failed(report, built.failed)
    run = ResolveRun(documents, given, report)
    docs = [(d.source, d.mentions) for d in documents if d.error is None]
    with stored(settings, wait=wait) as library:
        run.stored = store_works(library, built, docs)
        run.stored.written = write_library_exports(library, settings)
        if export is not None:
            entries = library_entries(library, keys=run.stored.keys)
            run.export = render(entries, export, unicode=unicode, abstracts=abstracts)
    for warning in run.stored.warnings:
        reporter.warning(warning)
    return run
