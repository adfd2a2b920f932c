"""Identifiers → records → works → the library: the stages of ``refs resolve``."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from refs.app.inputs import DocumentResult, extract_documents, split_inputs
from refs.choices import ExportFormat
from refs.config import Settings
from refs.dedup import Cluster
from refs.identifiers import SCHEMES, Identifier, Scheme
from refs.models import Mention, Record
from refs.planner import WorkCluster
from refs.progress import NullReporter, Reporter
from refs.resolve.engine import Resolution, ResolveReport
from refs.storage import Holdings, Library, RecordCache, Snapshot, WorkUpdate, WorkWrite
from refs.work import Work

if TYPE_CHECKING:
    from refs.app.matching import Matching
    from refs.match.matcher import MatchSettings

__all__ = [
    "BuiltWorks",
    "Clustered",
    "Normaliser",
    "ResolveRun",
    "StoreSummary",
    "build_works",
    "cluster_resolutions",
    "mentions_digest",
    "normalise_records",
    "resolve_identifiers",
    "resolve_inputs",
    "store_works",
    "unchanged_clusters",
]


def resolve_identifiers(
    identifiers: Sequence[Identifier],
    settings: Settings,
    *,
    offline: bool = False,
    max_age: float | None = None,
    reporter: Reporter | None = None,
    cache: RecordCache | None = None,
    on_records: Callable[[Sequence[Record]], None] | None = None,
) -> ResolveReport:
    """Resolve identifiers (duplicates once) through the record cache and the services;
    ``on_records`` is handed each batch of records as it is fetched."""
    from refs.app.stores import open_cache
    from refs.resolve.engine import Resolver

    own = cache is None
    cache = cache or open_cache(settings)
    try:
        resolver = Resolver(settings, cache, offline=offline, max_age=max_age, reporter=reporter)
        resolver.on_records = on_records
        return asyncio.run(resolver.resolve(identifiers))
    finally:
        if own:
            cache.close()


Normalised = tuple[Work | None, list[str]] | str  # (work, problems) or why it cannot be read


class Normaliser:
    """Normalises records once each, as they arrive: the resolver hands over every batch
    it fetches (:attr:`Resolver.on_records`) and a worker thread normalises it, so
    parsing and normalising overlap the waits the services' rate limits impose (and
    never hold up the event loop that sends the next requests) instead of following
    the last answer. :meth:`close` stops the thread."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, str, float], Normalised] = {}
        self._pending: dict[tuple[str, str, float], Future[None]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def add(self, records: Sequence[Record]) -> None:
        batch = [r for r in records if r.status == "ok"]
        if not batch:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="refs-normalise")
        future = self._pool.submit(self._all, batch)
        for r in batch:
            self._pending[(r.service, r.key, r.fetched_at)] = future

    def _all(self, batch: Sequence[Record]) -> None:
        for record in batch:
            self._one(record)

    def _one(self, record: Record) -> Normalised:
        from refs.normalise import normalise_record_checked

        slot = (record.service, record.key, record.fetched_at)
        done = self._done.get(slot)
        if done is None:
            try:
                done = normalise_record_checked(record)
            except ValueError as exc:
                done = str(exc)
            self._done[slot] = done
        return done

    def get(self, record: Record) -> Normalised:
        pending = self._pending.pop((record.service, record.key, record.fetched_at), None)
        if pending is not None:
            pending.result()  # its batch is being normalised: wait for it (errors surface)
        return self._one(record)

    def forget(self, records: Iterable[Record]) -> None:
        """Drop what was kept for these records (their chunk is stored)."""
        for record in records:
            slot = (record.service, record.key, record.fetched_at)
            self._done.pop(slot, None)
            self._pending.pop(slot, None)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def normalise_records(
    records: Iterable[Record], normaliser: Normaliser | None = None
) -> tuple[list[Work], list[str]]:
    """The works the records describe, and a warning for each record that cannot be read
    and for each value left out of a work (a dict where a volume should be)."""
    normaliser = normaliser or Normaliser()
    works, warnings = [], []
    for record in records:
        done = normaliser.get(record)
        if isinstance(done, str):
            warnings.append(done)
            continue
        work, problems = done
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


@dataclass(slots=True)
class Clustered:
    """A run's resolved identifiers grouped into works (raw records, not yet normalised)."""

    clusters: list[Cluster]
    where: dict[Identifier, int]
    aliases: dict[int, list[Identifier]]
    resolved: list[Resolution]

    def slots(self) -> list[tuple[str, str]]:
        return [(r.service, r.key) for c in self.clusters for r in c.records]

    def identifiers(self, index: int) -> list[Identifier]:
        cluster = self.clusters[index]
        own = [Identifier(s, v) for s, v in cluster.identifiers.items()]
        return own + self.aliases.get(index, [])

    def all_identifiers(self) -> list[Identifier]:
        return [i for index in range(len(self.clusters)) for i in self.identifiers(index)]


def cluster_resolutions(report: ResolveReport) -> Clustered:
    """Resolved identifiers → clusters of raw records (deduplicated). Pure."""
    from refs.dedup import cluster_records

    resolved = [r for r in report.resolutions if r.status == "resolved"]
    clusters, where = cluster_records(
        (r.canonical or r.identifier, r.identifiers, r.records) for r in resolved
    )
    aliases: dict[int, list[Identifier]] = {}
    for r in resolved:
        if r.canonical is not None and r.canonical in where:
            aliases.setdefault(where[r.canonical], []).append(r.identifier)
    return Clustered(clusters, where, aliases, resolved)


def unchanged_clusters(
    clustered: Clustered,
    held: Holdings,
    digests: dict[tuple[str, str, float], str] | None = None,
) -> dict[int, str]:
    """Clusters the library already holds exactly, by index → the citation key they have.

    A cluster is unchanged when every record describing it is stored, in one work, with
    the same payload digest and fetch time (the very record stored then), and every
    identifier it has (aliases included) already belongs to that work: storing it again
    would merge the same records into the same work. Its records need no parsing.
    Pure.
    """
    from refs.registry import REGISTRY

    digests = {} if digests is None else digests

    def digest(record: Record) -> str | None:
        slot = (record.service, record.key, record.fetched_at)
        value = digests.get(slot)
        if value is None:
            value = record.payload_digest()
            if value is not None:
                digests[slot] = value
        return value

    out: dict[int, str] = {}
    for index, cluster in enumerate(clustered.clusters):
        work_id: int | None = None
        for record in cluster.records:
            spec = REGISTRY.get(record.service)
            if spec is None or spec.normaliser is None:
                continue  # links identifiers only: checked through the identifiers below
            stored = held.sources.get((record.service, record.key))
            if (
                stored is None
                or stored.fetched_at != record.fetched_at
                or (work_id is not None and stored.work_id != work_id)
                or stored.digest is None
                or stored.digest != digest(record)
            ):
                work_id = None
                break
            work_id = stored.work_id
        if work_id is None:
            continue
        if all(held.owners.get(i) == work_id for i in clustered.identifiers(index)):
            key = held.keys.get(work_id)
            if key is not None:
                out[index] = key
    return out


def build_works(
    report: ResolveReport | Clustered,
    *,
    skip: Iterable[int] = (),
    normaliser: Normaliser | None = None,
) -> BuiltWorks:
    """Resolved identifiers → clusters of normalised records (deduplicated), leaving out
    the clusters ``skip`` names (indexes of :func:`cluster_resolutions`). Pure."""
    clustered = report if isinstance(report, Clustered) else cluster_resolutions(report)
    built = BuiltWorks(duplicates_merged=max(0, len(clustered.resolved) - len(clustered.clusters)))
    skipped = set(skip)
    for index, cluster in enumerate(clustered.clusters):
        if index in skipped:
            continue
        works, warnings = normalise_records(cluster.records, normaliser)
        built.warnings += warnings
        if works:
            built.clusters.append(
                WorkCluster(
                    cluster.identifiers, works, cluster.notes, clustered.aliases.get(index, [])
                )
            )
        else:
            reason = "; ".join(warnings) or "its records describe no work (only identifier links)"
            for r in clustered.resolved:
                if clustered.where.get(r.canonical or r.identifier) == index:
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
    # The works this store wrote, by library id (their export entries are rendered next).
    works: dict[int, Work] = field(default_factory=dict, repr=False)

    def add(self, other: StoreSummary) -> None:
        self.updates += other.updates
        self.duplicates_merged += other.duplicates_merged
        self.warnings += other.warnings

    def count(self, outcome: str) -> int:
        return sum(1 for u in self.updates if u.outcome == outcome)

    @property
    def keys(self) -> list[str]:
        return sorted({u.key for u in self.updates})


def mentions_digest(mentions: Sequence[Mention]) -> str:
    """A digest of a document's mentions: the same mentions, the same document write."""
    import hashlib

    h = hashlib.sha256()
    for m in mentions:
        h.update(
            "\x1f".join((m.scheme.value, m.id, m.raw, str(m.start), str(m.end), m.context)).encode(
                "utf-8", "surrogatepass"
            )
        )
        h.update(b"\x1e")
    return h.hexdigest()


def store_works(
    library: Library,
    built: BuiltWorks,
    documents: Sequence[tuple[str, Sequence[Mention]]] = (),
    *,
    now: float | None = None,
    unchanged: Iterable[str] = (),
    held: Holdings | None = None,
) -> StoreSummary:
    """Store a run's works and documents in one transaction (the caller holds the lock).

    ``unchanged`` names the keys of works this run found exactly as stored (see
    :func:`unchanged_clusters`): reported, not written. A document whose mentions have
    the digest ``held`` records for it is not rewritten either.
    """
    from refs.planner import plan_store
    from refs.storage import DocumentWrite

    wanted = [Identifier(s, v) for c in built.clusters for s, v in c.identifiers.items()]
    wanted += [a for c in built.clusters for a in c.aliases]
    wanted += [
        Identifier(SCHEMES[s], v)
        for c in built.clusters
        for w in c.records
        for s, v in w.identifiers().items()
    ]
    known = held.documents if held is not None else {}
    writes = []
    for source, mentions in documents:
        digest = mentions_digest(mentions)
        if known.get(source) != digest:
            writes.append(DocumentWrite(source, mentions, digest))
    plan = plan_store(
        library.snapshot(wanted) if built.clusters else Snapshot(),
        built.clusters,
        documents=writes,
        now=time.time() if now is None else now,
    )
    assigned = library.apply(plan) if plan.ops else {}
    updates = plan.updates + [WorkUpdate(key, "unchanged") for key in unchanged]
    summary = StoreSummary(updates, built.duplicates_merged, list(built.warnings))
    summary.works = {
        assigned.get(op.id, op.id): op.work for op in plan.ops if isinstance(op, WorkWrite)
    }
    return summary


@dataclass(slots=True)
class ResolveRun:
    """One ``refs resolve`` run: what was read, what was asked, what came back."""

    documents: list[DocumentResult]
    given: list[Identifier]
    report: ResolveReport
    stored: StoreSummary = field(default_factory=StoreSummary)
    export: str | None = None  # this run's works in the format asked for, if any
    # Citations without identifiers: what matching concluded (empty with --no-match).
    matching: Matching = field(default_factory=lambda: _matching())
    # The citation key each resolved identifier's work has in the library.
    keys: dict[Identifier, str] = field(default_factory=dict)

    @property
    def mentions(self) -> list[Mention]:
        return [m for d in self.documents for m in d.mentions]

    @property
    def failed_inputs(self) -> list[DocumentResult]:
        return [d for d in self.documents if d.error is not None]


def _matching() -> Matching:
    from refs.app.matching import Matching

    return Matching()


def resolve_inputs(
    inputs: Sequence[str],
    settings: Settings,
    *,
    match: MatchSettings | None = None,
    offline: bool = False,
    max_age: float | None = None,
    reporter: Reporter | None = None,
    wait: float = 30.0,
    export: ExportFormat | None = None,
    unicode: bool = False,
    abstracts: bool = False,
    keys: bool = True,
) -> ResolveRun:
    """``refs resolve``: extract, resolve, build works; then, under the library's lock
    (waiting up to ``wait`` seconds for it), store them and rewrite the exports.

    The lock is not held while documents are fetched or services asked, so a long
    resolve never keeps a scheduled refresh waiting. ``export`` renders this run's
    works in that format into :attr:`ResolveRun.export`. ``match`` (None: no matching)
    also finds the citations that carry no identifier and matches them first; each
    matched one joins its document's mentions with the identifier it was matched to.
    """

    reporter = reporter or NullReporter()
    paths, given = split_inputs(inputs)  # usage errors before reading anything
    documents = (
        list(extract_documents(paths, settings, reporter, unidentified=match is not None))
        if paths
        else []
    )
    return resolve_documents(
        documents,
        given,
        settings,
        match=match,
        offline=offline,
        max_age=max_age,
        reporter=reporter,
        wait=wait,
        export=export,
        unicode=unicode,
        abstracts=abstracts,
        keys=keys,
    )


def resolve_documents(
    documents: list[DocumentResult],
    given: list[Identifier],
    settings: Settings,
    *,
    match: MatchSettings | None = None,
    offline: bool = False,
    max_age: float | None = None,
    reporter: Reporter | None = None,
    wait: float = 30.0,
    export: ExportFormat | None = None,
    unicode: bool = False,
    abstracts: bool = False,
    keys: bool = True,
    normaliser: Callable[[], Normaliser] = Normaliser,
) -> ResolveRun:
    """:func:`resolve_inputs` for documents already read (``refs import`` builds one
    from a bibliography's entries; a distributed run, on the cluster's workers).
    ``normaliser`` makes what normalises the fetched records (on the cluster's
    workers for a distributed run)."""
    from refs.app.exporting import render_library, write_library_exports
    from refs.app.matching import match_documents, matched_mentions, stored_match
    from refs.app.stores import open_cache, stored

    reporter = reporter or NullReporter()
    run = ResolveRun(documents, given, ResolveReport([], {}, {}, 0, 0.0))
    if match is not None and any(d.unidentified for d in documents):
        with stored(settings, wait=wait) as library:
            decisions = library.decisions()
        run.matching = match_documents(
            documents,
            settings,
            match=match,
            decisions=decisions,
            offline=offline,
            reporter=reporter,
        )
        found = matched_mentions(run.matching.outcomes)
        for d in documents:
            if d.source in found:
                d.mentions = sorted(d.mentions + found[d.source], key=lambda m: (m.start, m.end))
    identifiers = given + [m.identifier for d in documents for m in d.mentions]
    docs = [(d.source, d.mentions) for d in documents if d.error is None]
    unique = list(dict.fromkeys(identifiers))
    with stored(settings, wait=wait) as library:
        if match is not None:
            library.store_matches(
                [d.source for d in documents if d.error is None],
                [stored_match(o) for o in run.matching.outcomes],
            )
        # Documents first: each chunk's works are linked to them as they are written.
        held = library.holdings(documents=[s for s, _ in docs])
        run.stored = store_works(library, BuiltWorks(), docs, held=held)
    reports = _resolve_chunked(
        unique,
        settings,
        offline=offline,
        max_age=max_age,
        reporter=reporter,
        normaliser=normaliser,
    )
    digests: dict[tuple[str, str, float], str] = {}
    resolutions: dict[Identifier, Resolution] = {}
    payloads = open_cache(settings)  # this thread's connection, for lazy records
    try:
        _store_chunks(reports, settings, run, resolutions, digests, payloads, wait)
    finally:
        payloads.close()
    run.report.resolutions = [resolutions[i] for i in unique if i in resolutions]
    with stored(settings, wait=wait) as library:
        run.stored.written = write_library_exports(library, settings)
        if keys:  # each identifier's citation key, for the report (skipped when not shown)
            held = library.holdings(identifiers=unique)
            run.keys = {i: held.keys[w] for i, w in held.owners.items() if w in held.keys}
        if export is not None:
            run.export = render_library(
                library, export, keys=run.stored.keys, unicode=unicode, abstracts=abstracts
            )
    for warning in run.stored.warnings:
        reporter.warning(warning)
    return run


def _store_chunks(
    reports: Iterable[tuple[ResolveReport, Normaliser]],
    settings: Settings,
    run: ResolveRun,
    resolutions: dict[Identifier, Resolution],
    digests: dict[tuple[str, str, float], str],
    cache: RecordCache,
    wait: float,
) -> None:
    """Store each chunk as it is resolved, under the lock, and render its entries."""
    from refs.app.exporting import prerender
    from refs.app.stores import stored

    for report, normaliser in reports:
        # What the library already holds exactly is neither normalised nor written
        # again. It is read without the lock; under the lock, a changed generation
        # means another run wrote meanwhile, and the check is made again.
        held, seen = _holdings(settings, report, [])
        plan = _plan(report, held, digests, normaliser, cache)
        with stored(settings, wait=wait) as library:
            if library.generation()[0] != (seen or 0):
                held = _read_holdings(library, report, [])
                plan = _plan(report, held, digests, normaliser, cache)
            built, unchanged = plan
            mark_failed(report, built.failed)
            chunk = store_works(library, built, (), unchanged=unchanged, held=held)
            prerender(library, chunk.works)
        # The run reports what happened to each work, not the works themselves: keeping
        # them would hold every chunk's works in memory.
        chunk.updates = [
            WorkUpdate(u.key, u.outcome, u.changes, u.merged_keys) for u in chunk.updates
        ]
        chunk.works = {}
        run.stored.add(chunk)
        normaliser.forget(r for res in report.resolutions for r in res.records)
        for res in report.resolutions:
            res.records = [dataclasses.replace(r, payload=None) for r in res.records]
            resolutions[res.identifier] = res
        run.report.requests, run.report.retries = report.requests, report.retries
        run.report.from_cache += report.from_cache
        run.report.elapsed += report.elapsed


# Identifiers resolved (and stored) per chunk: memory is bounded by a chunk, and each
# chunk is stored while the next one's requests wait for their rate-limit slots. Chunks
# hold whole batches of each scheme (the services' batch sizes), so chunking adds no
# request.
CHUNK = 2_500
# DOIs in whole batches of both services that take them in bulk: Crossref's lists (100)
# and, in completion, the PMC ID converter (200) and PubMed's [doi] search (100).
_BATCH = {Scheme.DOI: 200, Scheme.PMID: 200, Scheme.PMCID: 200}


def balanced_chunks(
    identifiers: Sequence[Identifier], target: int = CHUNK
) -> list[list[Identifier]]:
    """Identifiers in chunks of about ``target``, each holding an equal share of every
    scheme in whole batches (so every chunk's requests take about as long), in the
    order given within each scheme. Pure."""
    by_scheme: dict[Scheme, list[Identifier]] = {}
    for ident in identifiers:
        by_scheme.setdefault(ident.scheme, []).append(ident)
    count = max(1, math.ceil(len(identifiers) / target))
    chunks: list[list[Identifier]] = [[] for _ in range(count)]
    for scheme, idents in by_scheme.items():
        batch = _BATCH.get(scheme, 100)
        share = math.ceil(math.ceil(len(idents) / batch) / count) * batch
        for k in range(count):
            chunks[k] += idents[k * share : (k + 1) * share]
    return [c for c in chunks if c]


def _resolve_chunked(
    identifiers: Sequence[Identifier],
    settings: Settings,
    *,
    offline: bool,
    max_age: float | None,
    reporter: Reporter,
    normaliser: Callable[[], Normaliser] = Normaliser,
) -> Iterator[tuple[ResolveReport, Normaliser]]:
    """Each chunk's report (and the normaliser holding its works) as soon as the chunk is
    resolved: a thread runs the requests (and, through the normaliser, normalises the
    answers) while the caller stores the chunk before."""
    import queue
    import threading

    from refs.app.stores import open_cache
    from refs.resolve.engine import Resolver

    if not identifiers:
        yield ResolveReport([], {}, {}, 0, 0.0), normaliser()
        return
    ready: queue.Queue[tuple[ResolveReport, Normaliser] | BaseException | None] = queue.Queue(1)
    normalising = normaliser()
    stop = threading.Event()
    # Three chunks in memory at most: one being stored, one finishing its completion
    # round, the next being resolved.
    slots = threading.Semaphore(3)

    def produce() -> None:
        cache = open_cache(settings)
        try:
            resolver = Resolver(
                settings,
                cache,
                offline=offline,
                max_age=max_age,
                reporter=reporter,
                lazy_payloads=True,
            )
            resolver.on_records = normalising.add

            async def deliver(report: ResolveReport) -> None:
                while not stop.is_set():
                    with contextlib.suppress(queue.Full):
                        await asyncio.to_thread(ready.put, (report, normalising), True, 0.5)
                        return

            async def before() -> None:
                while not stop.is_set():
                    if await asyncio.to_thread(slots.acquire, True, 0.5):
                        return

            asyncio.run(resolver.resolve_chunks(balanced_chunks(identifiers), deliver, before))
            ready.put(None)
        except BaseException as exc:  # handed to the caller, which raises it
            ready.put(exc)
        finally:
            cache.close()

    worker = threading.Thread(target=produce, name="refs-resolve", daemon=True)
    worker.start()
    finished = False
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
            slots.release()  # the caller has stored that chunk
        finished = True
    finally:
        stop.set()
        # After a failure (or Ctrl-C) the requests in flight are not waited for: the
        # thread is a daemon, and nothing it would still fetch is stored.
        worker.join(None if finished else 1.0)
        normalising.close()


def unchanged_resolutions(
    report: ResolveReport, held: Holdings, digests: dict[tuple[str, str, float], str]
) -> list[str] | None:
    """When every resolved identifier is exactly as the library holds it (its records
    stored in one work with the same digests and fetch times, every identifier it has
    owned by that work), the keys of those works in first-seen order; else None.

    Clustering such identifiers could only rebuild the works they came from, so a warm
    run skips it (and normalising, and writing). Pure.
    """
    resolved = [r for r in report.resolutions if r.status == "resolved"]
    probe = Clustered(
        [_as_cluster(r) for r in resolved],
        {},
        {i: [r.identifier] for i, r in enumerate(resolved) if r.canonical is not None},
        resolved,
    )
    found = unchanged_clusters(probe, held, digests)
    if len(found) < len(resolved):
        return None
    return list(dict.fromkeys(found[i] for i in range(len(resolved))))


def _as_cluster(r: Resolution) -> Cluster:
    identifiers = dict(r.identifiers)
    for record in r.records:
        for scheme, value in record.names.items():
            identifiers.setdefault(scheme, value)
    if r.canonical is not None:
        identifiers.setdefault(r.canonical.scheme, r.canonical.value)
    return Cluster(identifiers=identifiers, records=list(r.records))


def _plan(
    report: ResolveReport,
    held: Holdings,
    digests: dict[tuple[str, str, float], str],
    normaliser: Normaliser,
    cache: RecordCache | None = None,
) -> tuple[BuiltWorks, list[str]]:
    """The works to store (normalised) and the keys of those found unchanged. Records
    read without their payloads (``Record.lazy``) are loaded from ``cache`` for the
    clusters that are normalised, and only for those."""
    keys = unchanged_resolutions(report, held, digests)
    if keys is not None:
        resolved = report.count("resolved")
        return BuiltWorks(duplicates_merged=max(0, resolved - len(keys))), keys
    clustered = cluster_resolutions(report)
    unchanged = unchanged_clusters(clustered, held, digests)
    load_payloads([c for i, c in enumerate(clustered.clusters) if i not in unchanged], cache)
    built = build_works(clustered, skip=unchanged, normaliser=normaliser)
    return built, list(dict.fromkeys(unchanged.values()))


def load_payloads(clusters: Sequence[Cluster], cache: RecordCache | None) -> None:
    """Replace the clusters' lazy records by whole ones from the cache (in a few
    queries); a record the cache no longer has (deleted meanwhile) stays lazy, and
    normalising it says so."""
    lazy = {(r.service, r.key) for c in clusters for r in c.records if r.lazy}
    if not lazy or cache is None:
        return
    whole = cache.get_many(lazy)
    for cluster in clusters:
        cluster.records = [
            whole.get((r.service, r.key), r) if r.lazy else r for r in cluster.records
        ]


def _read_holdings(library: Library, report: ResolveReport, documents: list[str]) -> Holdings:
    slots, idents = [], []
    for r in report.resolutions:
        if r.status != "resolved":
            continue
        slots += [(rec.service, rec.key) for rec in r.records]
        idents += [Identifier(s, v) for s, v in _as_cluster(r).identifiers.items()]
        idents.append(r.identifier)
    return library.holdings(slots, idents, documents)


def _holdings(
    settings: Settings, report: ResolveReport, documents: list[str]
) -> tuple[Holdings, int | None]:
    """What the library holds for this run, and the library's generation then (None:
    there is no library yet)."""
    from refs.app.stores import library_exists, opened_library

    if not library_exists(settings):
        return Holdings(), None
    with opened_library(settings) as library:
        return _read_holdings(library, report, documents), library.generation()[0]
