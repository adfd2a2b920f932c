"""Identifiers → raw records, in the fewest requests the services' limits allow.

The plan for one run:

* every (service, key) is looked up once (memoised), from the cache when it is fresh;
* each service has a batcher whose workers (one per allowed concurrent request) take
  as many waiting keys as fit in one request at the moment they are ready to send, so
  batches are full while keys keep coming and partial only at the end;
* services run concurrently; the HTTP layer keeps each pool within its limits;
* DOIs go to Crossref, then DataCite, then doi.org content negotiation (DataCite
  prefixes skip Crossref); PMIDs to PubMed efetch; PMCIDs to the PMC ID converter and
  then efetch (or the DOI chain when PubMed has no record). A PMCID that a record
  already names (PubMed lists the PMCID of each article) needs no ID-converter
  request, so PMCIDs are planned after the PMIDs of the run are fetched, which costs
  no time: NCBI's one budget is spent in the same total either way.

Failures are per identifier: a not-found answer or a request that still fails after
its retries becomes that identifier's outcome; the run always finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import httpx

from refs.config import Settings
from refs.errors import ServiceError
from refs.identifiers import Identifier, Scheme
from refs.models import Record
from refs.progress import NullReporter, Reporter
from refs.registry import REGISTRY, Pool, chain
from refs.resolve.http import Http, make_client, pools_for
from refs.resolve.service import Service
from refs.storage import RecordCache

__all__ = ["Lookup", "Resolution", "ResolveReport", "Resolver", "Status", "build_services"]

Status = Literal["resolved", "not_found", "failed"]
STAGE = "resolving"
_LABELS = {Scheme.DOI: "DOI", Scheme.PMID: "PMID", Scheme.PMCID: "PMCID"}


def _describes(record: Record) -> bool:
    """A record of a service that describes works (not only links identifiers)."""
    spec = REGISTRY.get(record.service)
    return spec is not None and spec.normaliser is not None


def build_services(
    settings: Settings, *, since: dict[str, dict[str, str]] | None = None
) -> dict[str, Service]:
    """One service client per registered service; ``since`` asks for incremental ones.

    ``since`` maps a service name to {key: date}: a refresh's "changed since" dates,
    for services whose spec has an incremental fetcher (Crossref's from-index-date).
    """
    services: dict[str, Service] = {
        name: spec.make_incremental(settings, since[name])
        if since and name in since
        else spec.make(settings)
        for name, spec in REGISTRY.items()
    }
    return services


@dataclass(slots=True)
class Resolution:
    """What became of one identifier."""

    identifier: Identifier
    status: Status
    identifiers: dict[Scheme, str] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list, repr=False)
    via: str | None = None
    reason: str | None = None
    stale: bool = False
    # For an alias (a shortDOI): the identifier it stands for, which the work is found by.
    canonical: Identifier | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "identifier": str(self.identifier),
            "status": self.status,
            "identifiers": {s.value: v for s, v in sorted(self.identifiers.items())},
            "sources": [f"{r.service}:{r.key}" for r in self.records],
            "via": self.via,
            "reason": self.reason,
            "stale": self.stale,
        }


@dataclass(slots=True)
class ResolveReport:
    """The outcome of a run: one resolution per identifier, and what it cost."""

    resolutions: list[Resolution]
    requests: dict[str, int]
    retries: dict[str, int]
    from_cache: int
    elapsed: float

    def count(self, status: Status) -> int:
        return sum(1 for r in self.resolutions if r.status == status)

    @property
    def unresolved(self) -> list[Resolution]:
        return [r for r in self.resolutions if r.status != "resolved"]


@dataclass(frozen=True, slots=True)
class Lookup:
    record: Record | None = None
    error: str | None = None
    stale: bool = False
    cached: bool = False


class _Batcher:
    """Keys waiting for one service; workers send them in batches as slots open."""

    def __init__(self, resolver: Resolver, service: Service, workers: int) -> None:
        self.resolver = resolver
        self.service = service
        self.pending: deque[str] = deque()
        # Every future waiting for a key: a key asked again while it waits or is in flight
        # (by the completion of one chunk and the first round of the next) is sent once.
        self.futures: dict[str, list[asyncio.Future[Lookup]]] = {}
        self.wake = asyncio.Event()
        self.tasks = [asyncio.create_task(self._work()) for _ in range(workers)]

    def submit(self, key: str, future: asyncio.Future[Lookup]) -> None:
        waiting = self.futures.get(key)
        if waiting is not None:
            waiting.append(future)
            return
        self.futures[key] = [future]
        self.pending.append(key)
        self.wake.set()

    async def _work(self) -> None:
        while True:
            while not self.pending:
                self.wake.clear()
                await self.wake.wait()
            await asyncio.sleep(0)  # let keys submitted in the same burst join this batch
            if not self.pending:
                continue
            window = [self.pending[i] for i in range(min(len(self.pending), 256))]
            n = max(1, min(self.service.take(window), len(window)))
            keys = [self.pending.popleft() for _ in range(n)]
            await self._send(keys)

    async def _send(self, keys: list[str]) -> None:
        try:
            records = await self.service.fetch(self.resolver.http, keys)
        except ServiceError as exc:
            if not exc.transient and len(keys) > 1:
                # A permanent error on a batch (e.g. 400 for one odd identifier):
                # bisect so the bad key fails alone and the others still resolve.
                half = len(keys) // 2
                await self._send(keys[:half])
                await self._send(keys[half:])
                return
            for key in keys:
                self._settle(key, Lookup(error=str(exc)))
            return
        except Exception as exc:  # a bug must not lose the run: fail these keys loudly
            self.resolver.reporter.warning(
                f"{self.service.name}: unexpected {type(exc).__name__}: {exc}"
            )
            for key in keys:
                self._settle(key, Lookup(error=f"internal error: {type(exc).__name__}: {exc}"))
            return
        self.resolver.remember(records.values())
        for key in keys:
            record = records.get(key)
            if record is None:
                self._settle(key, Lookup(error=f"{self.service.name}: no answer for {key}"))
            else:
                self._settle(key, Lookup(record=record))

    def _settle(self, key: str, result: Lookup) -> None:
        for future in self.futures.pop(key, ()):
            if not future.done():
                future.set_result(result)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Resolver:
    """Resolves identifiers through the cache and the services. One per run."""

    def __init__(
        self,
        settings: Settings,
        cache: RecordCache,
        services: Mapping[str, Service] | None = None,
        *,
        offline: bool = False,
        max_age: float | None = None,
        reporter: Reporter | None = None,
        client: httpx.AsyncClient | None = None,
        pools: Mapping[str, Pool] | None = None,
        stale_if_error: bool = True,
        lazy_payloads: bool = False,
    ) -> None:
        self.settings = settings
        # Cached records are read without their payloads (the caller loads those it
        # normalises): a run whose records did not change never reads them.
        self.lazy_payloads = lazy_payloads
        self.cache = cache
        self.offline = offline
        self.max_age = max_age
        self.stale_if_error = stale_if_error
        self.reporter = reporter or NullReporter()
        self._client = client
        self._pools = dict(pools) if pools is not None else pools_for(settings)
        self.services: Mapping[str, Service] = (
            services if services is not None else build_services(settings)
        )
        self._lookups: dict[tuple[str, str], asyncio.Future[Lookup]] = {}
        self._batchers: dict[str, _Batcher] = {}
        self._names: dict[tuple[Scheme, str], list[Record]] = {}
        # Handed each batch of fetched records (e.g. to normalise it while requests wait).
        self.on_records: Callable[[Sequence[Record]], None] | None = None
        self.from_cache = 0
        self._coverage: dict[str, tuple[float, str]] | None = None  # whole snapshots loaded
        # Cached records read in bulk when the run starts (see _prefetch).
        self._prefetched: dict[tuple[str, str], Record] = {}
        self._prefetched_slots: set[tuple[str, str]] = set()
        self._prefetched_names: dict[tuple[Scheme, str], list[Record]] = {}
        self._prefetched_named: set[tuple[Scheme, str]] = set()
        self.http: Http
        self._started = time.time()  # when the run's session began
        # Complete every work: ask for the identifiers its records name but nobody cited.
        self.complete = settings.complete

    # ------------------------------------------------------------------ completion

    async def _complete(self, resolutions: Sequence[Resolution]) -> None:
        """The round after the first answers: a DOI that only a PubMed or ID-converter
        record gave is asked of Crossref (DataCite for its prefixes), batched like any DOI;
        a DOI without a PMID is asked of the ID converter by DOI (200 per request), and a
        PMID it gives is fetched from PubMed. The records join the resolution they
        complete (one work); a completion that finds nothing changes nothing."""
        describing = {
            s.name for s in REGISTRY.values() if Scheme.DOI in s.serves and s.normaliser is not None
        }

        def merge(r: Resolution, records: Iterable[Record]) -> None:
            held = {(x.service, x.key) for x in r.records}
            for record in records:
                if record.status != "ok" or (record.service, record.key) in held:
                    continue
                r.records.append(record)
                held.add((record.service, record.key))
                for scheme, value in record.names.items():
                    r.identifiers.setdefault(scheme, value)

        # Every lookup is submitted before any is awaited, so the batchers fill whole
        # batches; answers cached at any age are used (completion is best effort, and a
        # refresh re-checks what a work holds). The round has its own lookups (it may
        # run beside the next chunk's first round, which has its own).
        memo: dict[tuple[str, str], asyncio.Future[Lookup]] = {}
        held: dict[tuple[str, str], Record | None] = {}

        def submit(service: str, key: str) -> asyncio.Future[Lookup]:
            return self._submit(service, key, memo, held)

        def prefetch(slots: set[tuple[str, str]]) -> None:
            self._prefetch_slots(slots, memo, held)

        first: list[tuple[Resolution, asyncio.Future[Lookup]]] = []
        second: list[tuple[Resolution, asyncio.Future[Lookup]]] = []
        # What another identifier of this run already brought (the DOI cited beside the
        # PMID): clustering joins them into one work, nothing needs asking.
        described = {
            x.names.get(Scheme.DOI)
            for r in resolutions
            for x in r.records
            if x.service in describing
        }
        with_pmid = {
            r.identifiers.get(Scheme.DOI) for r in resolutions if Scheme.PMID in r.identifiers
        }
        planned: list[tuple[Resolution, str, str, bool]] = []  # (r, service, key, first?)
        for r in resolutions:
            doi = r.identifiers.get(Scheme.DOI)
            if r.status != "resolved" or not doi:
                continue
            if doi not in described and not any(x.service in describing for x in r.records):
                specs = [s for s in chain(Scheme.DOI, doi) if s.name in ("crossref", "datacite")]
                if specs and specs[0].name in self.services:
                    planned.append((r, specs[0].name, doi, True))
            if doi not in with_pmid and "idconv-doi" in self.services:
                planned.append((r, "idconv-doi", doi, False))
        prefetch({(service, key) for _, service, key, _ in planned})
        for r, service, key, is_first in planned:
            (first if is_first else second).append((r, submit(service, key)))
        if not first and not second:
            return
        await asyncio.gather(*(f for _, f in first + second))
        for r, f in first:
            if f.result().record is not None:
                merge(r, [f.result().record])  # type: ignore[list-item]
        wanted: list[tuple[Resolution, str]] = []  # the PMIDs the ID converter gave
        unknown: list[tuple[Resolution, str]] = []  # DOIs it has no PMID for
        for r, f in second:
            record = f.result().record
            if record is None:
                continue  # the converter failed: nothing is known, nothing more asked
            if record.status == "ok":
                merge(r, [record])
            pmid = record.names.get(Scheme.PMID) if record.status == "ok" else None
            if pmid and "pubmed" in self.services:
                if not any(x.service == "pubmed" for x in r.records):
                    wanted.append((r, pmid))
            elif not pmid and Scheme.PMID not in r.identifiers:
                unknown.append((r, r.identifiers[Scheme.DOI]))
        if unknown and "pubmed" in self._whole():
            # A whole PubMed snapshot is loaded: the articles naming these DOIs are in the
            # cache, and a DOI none names is not in PubMed. Nothing is asked.
            named = self.cache.naming_many(
                [(Scheme.DOI, doi) for _, doi in unknown], payloads=not self.lazy_payloads
            )
            for r, doi in unknown:
                articles = [x for x in named.get((Scheme.DOI, doi), []) if x.service == "pubmed"]
                pmid = articles[0].names.get(Scheme.PMID) if articles else None
                if pmid and not any(x.service == "pubmed" for x in r.records):
                    wanted.append((r, pmid))
            unknown = []
        if unknown and "pubmed-doi" in self.services:
            # Not in PMC: PubMed itself, by DOI (esearch [doi] in batches, then efetch).
            prefetch({("pubmed-doi", doi) for _, doi in unknown})
            fourth = [(r, submit("pubmed-doi", doi)) for r, doi in unknown]
            await asyncio.gather(*(f for _, f in fourth))
            for r, f in fourth:
                result = f.result()
                record = result.record
                pmid = record.names.get(Scheme.PMID) if record and record.status == "ok" else None
                if record is None or not pmid:
                    continue
                merge(r, [record])
                if not result.cached and record.payload is not None:
                    # The answer is PubMed's article: PubMed's record of that PMID too.
                    self.remember([dataclasses.replace(record, service="pubmed", key=pmid)])
                if "pubmed" in self.services and not any(x.service == "pubmed" for x in r.records):
                    wanted.append((r, pmid))
        prefetch({("pubmed", pmid) for _, pmid in wanted})
        third = [(r, submit("pubmed", pmid)) for r, pmid in wanted]
        if third:
            await asyncio.gather(*(f for _, f in third))
            for r, f in third:
                if f.result().record is not None:
                    merge(r, [f.result().record])  # type: ignore[list-item]

    def _prefetch_slots(
        self,
        slots: set[tuple[str, str]],
        memo: Mapping[tuple[str, str], object],
        held: dict[tuple[str, str], Record | None],
    ) -> None:
        """Read the cached records of these slots in a few queries (not one each) into
        ``held`` (None: read, not cached)."""
        slots = {s for s in slots if s not in memo and s not in held}
        if not slots:
            return
        found = self.cache.get_many(slots, payloads=not self.lazy_payloads)
        held.update({s: found.get(s) for s in slots})

    def _submit(
        self,
        service: str,
        key: str,
        memo: dict[tuple[str, str], asyncio.Future[Lookup]],
        held: dict[tuple[str, str], Record | None],
    ) -> asyncio.Future[Lookup]:
        """Start a lookup now (without awaiting it); cached answers of any age count."""
        slot = (service, key)
        future = memo.get(slot)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            memo[slot] = future
            cached = held.pop(slot) if slot in held else self.cache.get(service, key)
            self._start_lookup(service, key, future, lenient=True, cached=cached)
        return future

    # ------------------------------------------------------------------ lookups

    def _fresh(self, record: Record, now: float) -> bool:
        age = now - record.fetched_at
        if record.status == "not_found" and age > self.settings.negative_ttl:
            return False
        return self.max_age is None or age <= self.max_age

    def _base(self, service: str) -> str | None:
        spec = REGISTRY.get(service)
        return self.settings.url(spec.url.name) if spec is not None else None

    def remember(self, records: Iterable[Record]) -> None:
        """Write fetched records to the cache and index what they name for this run."""
        records = [dataclasses.replace(r, base=self._base(r.service)) for r in records]
        self.cache.put(records)
        if self.on_records is not None:
            self.on_records(records)

    def _index(self, record: Record | None) -> None:
        """What a record of this chunk's first round names (the crosswalk of its PMCIDs).
        Only the chunk's own lookups are indexed: what another chunk's completion fetches
        meanwhile must not change how this chunk resolves."""
        if record is not None and record.status == "ok":
            for scheme, value in record.names.items():
                self._names.setdefault((scheme, value), []).append(record)

    async def lookup(self, service: str, key: str) -> Lookup:
        """One service's record for ``key``: cached if fresh, else fetched (once per run)."""
        slot = (service, key)
        future = self._lookups.get(slot)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._lookups[slot] = future
            self._start_lookup(service, key, future)
        result = await future
        self._index(result.record)
        if result.error and not result.record and self.stale_if_error:
            # Stale-if-error: a cached record, even old, beats no record.
            cached = self.cache.get(service, key)
            if cached is not None:
                return Lookup(record=cached, error=None, stale=True, cached=True)
        return result

    def _prefetch(self, identifiers: Sequence[Identifier]) -> None:
        """Read the cached records every identifier's chain may ask for, and the cached
        records naming each PMCID, in a few queries (not one or more per identifier)."""
        slots = {
            (spec.name, ident.value)
            for ident in identifiers
            for spec in chain(ident.scheme, ident.value)
            if spec.name in self.services
        }
        self._prefetched = self.cache.get_many(slots, payloads=not self.lazy_payloads)
        self._prefetched_slots = slots
        pmcids: set[tuple[Scheme, str]] = {
            (i.scheme, i.value) for i in identifiers if i.scheme is Scheme.PMCID
        }
        self._prefetched_names = self.cache.naming_many(pmcids, payloads=not self.lazy_payloads)
        self._prefetched_named = pmcids

    def _cached(self, service: str, key: str) -> Record | None:
        slot = (service, key)
        if slot in self._prefetched_slots:
            self._prefetched_slots.discard(slot)
            return self._prefetched.pop(slot, None)
        return self.cache.get(service, key)

    def _whole(self) -> dict[str, tuple[float, str]]:
        """The services whose whole dataset a loaded snapshot holds: (its date, its file)."""
        if self._coverage is None:
            self._coverage = self.cache.coverage()
        return self._coverage

    def _covered(self, service: str, key: str) -> Record | None:
        """A key missing from a snapshot of the service's whole dataset: "not found" as of
        that snapshot's date (a PMC-ids.csv without this DOI: the article is not in PMC)."""
        held = self._whole().get(service)
        if held is None:
            return None
        stamp, file = held
        day = time.strftime("%Y-%m-%d", time.gmtime(stamp))
        return Record(
            service,
            key,
            "not_found",
            stamp,
            reason=f"not in {file} ({day})",
            base=self._base(service),
        )

    def _start_lookup(
        self,
        service: str,
        key: str,
        future: asyncio.Future[Lookup],
        *,
        lenient: bool = False,
        cached: Record | None = None,
    ) -> None:
        if not lenient:
            cached = self._cached(service, key)
        if cached is None:
            cached = self._covered(service, key)
        if lenient and cached is not None:
            # Completion: any answer held will do, as it is (its reason is never shown).
            self.from_cache += 1
            future.set_result(Lookup(record=cached, cached=True))
            return
        if (
            cached is not None
            and cached.status == "not_found"
            and cached.base not in (None, self._base(service))
        ):
            cached = None  # "not found" at another base URL (a mistyped REFS_*_URL)
        if cached is not None and cached.status == "not_found":
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(cached.fetched_at))
            cached = dataclasses.replace(
                cached, reason=f"{cached.reason or 'not found'} (from the cache, asked {when})"
            )
        now = time.time()
        if cached is not None and (self.offline or self._fresh(cached, now)):
            self.from_cache += 1
            stale = cached.status == "ok" and not self._fresh(cached, now)
            future.set_result(Lookup(record=cached, stale=stale, cached=True))
            return
        if self.offline:
            future.set_result(
                Lookup(error=f"{service}: not in the cache, and --offline forbids asking")
            )
            return
        batcher = self._batchers.get(service)
        if batcher is None:
            svc = self.services[service]
            pool = self._pools.get(svc.pool)
            batcher = _Batcher(self, svc, pool.concurrency if pool else 1)
            self._batchers[service] = batcher
        batcher.submit(key, future)

    def _named(self, scheme: Scheme, value: str) -> list[Record]:
        """Records of this run, or fresh cached ones, that name an identifier."""
        found = list(self._names.get((scheme, value), []))
        if not found:
            now = time.time()
            if (scheme, value) in self._prefetched_named:
                named = self._prefetched_names.get((scheme, value), [])
            else:
                named = self.cache.naming(scheme, value)
            # Not what this run fetched (another chunk's completion, still under way, may
            # or may not have cached it yet: the outcome must not depend on timing).
            found = [
                r
                for r in named
                if r.fetched_at < self._started and (self.offline or self._fresh(r, now))
            ]
        return found

    # ------------------------------------------------------------------ chains

    def _resolved(
        self, ident: Identifier, records: list[Record], via: str, *, stale: bool
    ) -> Resolution:
        ids: dict[Scheme, str] = {ident.scheme: ident.value}
        for record in records:
            for scheme, value in record.names.items():
                ids.setdefault(scheme, value)
        return Resolution(ident, "resolved", ids, records, via=via, stale=stale)

    async def _chain(self, ident: Identifier, *, first: Sequence[Record] = ()) -> Resolution:
        """Ask the services of the identifier's chain in turn until one has a record.

        An alias (a shortDOI, claimed by a service that only links identifiers) is
        first expanded to the identifier it stands for, which is then resolved.
        """
        specs = chain(ident.scheme, ident.value)
        if specs and specs[0].normaliser is None and specs[0].claim(ident.value):
            return await self._alias(ident, specs[0].name)
        reasons = []
        for spec in specs:
            if spec.name not in self.services or spec.normaliser is None:
                continue
            result = await self.lookup(spec.name, ident.value)
            if result.record is None:
                return Resolution(ident, "failed", {ident.scheme: ident.value}, reason=result.error)
            if result.record.status == "ok":
                resolution = self._resolved(
                    ident, [*first, result.record], spec.name, stale=result.stale
                )
                answered = result.record.names.get(ident.scheme)
                if answered and answered != ident.value:
                    # An alias answered with its prime record (or, warned, another one):
                    # the work is found by what the record says it is.
                    resolution.canonical = Identifier(ident.scheme, answered)
                    resolution.identifiers[ident.scheme] = answered
                if result.record.warning:
                    self.reporter.warning(f"{ident}: {result.record.warning}")
                return resolution
            reasons.append(result.record.reason or f"not in {spec.name}")
        if len(reasons) == 1:
            reason = reasons[0]
        else:
            reason = (
                f"no registration agency knows this {_LABELS[ident.scheme]} ("
                + "; ".join(reasons)
                + ")"
            )
        return Resolution(ident, "not_found", {ident.scheme: ident.value}, reason=reason)

    async def _alias(self, ident: Identifier, service: str) -> Resolution:
        result = await self.lookup(service, ident.value)
        record = result.record
        if record is None:
            return Resolution(ident, "failed", {}, reason=result.error)
        target = record.names.get(ident.scheme) if record.status == "ok" else None
        if target is None:
            return Resolution(ident, "not_found", {}, reason=record.reason or f"not in {service}")
        full = await self._chain(Identifier(ident.scheme, target))
        full.identifier, full.canonical = ident, full.identifier
        if full.via:
            full.via = f"{service} {ident.value} → {full.via}"
        return full

    async def _pmcid(self, ident: Identifier, pmids_done: asyncio.Event) -> Resolution:
        await pmids_done.wait()
        named = [r for r in self._named(ident.scheme, ident.value) if _describes(r)]
        if named:
            return self._resolved(
                ident, named[:1], f"crosswalk ({named[0].service}:{named[0].key})", stale=False
            )
        crosswalks = [
            s.name for s in chain(ident.scheme) if s.normaliser is None and s.name in self.services
        ]
        if not crosswalks:
            return await self._chain(ident)
        result = await self.lookup(crosswalks[0], ident.value)
        if result.record is None:
            return Resolution(ident, "failed", {ident.scheme: ident.value}, reason=result.error)
        if result.record.status != "ok" or (
            result.record.payload is None and not result.record.lazy
        ):
            return Resolution(
                ident, "not_found", {ident.scheme: ident.value}, reason=result.record.reason
            )
        ids = dict(result.record.names)
        pubmed_reason = None
        if Scheme.PMID in ids:
            pmid = await self._chain(Identifier(Scheme.PMID, ids[Scheme.PMID]))
            if pmid.status == "resolved":
                return self._resolved(
                    ident,
                    [*pmid.records, result.record],
                    f"{crosswalks[0]} → {pmid.via}",
                    stale=pmid.stale or result.stale,
                )
            if pmid.status == "failed":
                pubmed_reason = pmid.reason
                if Scheme.DOI not in ids:
                    return Resolution(ident, "failed", ids, reason=pmid.reason)
            else:
                pubmed_reason = f"PMID {ids[Scheme.PMID]}: {pmid.reason}"
        if Scheme.DOI in ids:
            doi = await self._chain(Identifier(Scheme.DOI, ids[Scheme.DOI]), first=[result.record])
            doi.identifier = ident
            doi.identifiers = {**ids, **doi.identifiers}
            if doi.status == "resolved":
                doi.via = f"{crosswalks[0]} → {doi.via}"
            elif pubmed_reason:
                doi.reason = f"{pubmed_reason}; DOI {ids[Scheme.DOI]}: {doi.reason}"
            return doi
        if pubmed_reason:
            return Resolution(ident, "not_found", ids, reason=pubmed_reason)
        return Resolution(
            ident, "not_found", ids, reason="PMC knows this PMCID but gives no PMID or DOI"
        )

    def _rescue(self, resolution: Resolution) -> Resolution:
        """An identifier no service resolved, but that a record of this run names."""
        ident = resolution.identifier
        named = [r for r in self._names.get((ident.scheme, ident.value), []) if _describes(r)]
        if not named:
            return resolution
        rescued = self._resolved(
            ident, named[:1], f"crosswalk ({named[0].service}:{named[0].key})", stale=False
        )
        rescued.reason = resolution.reason
        return rescued

    # ------------------------------------------------------------------ the run

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        """The HTTP client and pools for one run; the batchers stop when it ends."""
        owns_client = self._client is None
        settings = self.settings
        client = self._client or (lambda: make_client(settings))
        self.http = Http(client, self.settings, self._pools, warn=self.reporter.warning)
        self._started = time.time()
        try:
            yield
        finally:
            for batcher in self._batchers.values():
                await batcher.close()
            self._batchers.clear()
            if owns_client and self.http.started:
                await self.http.client.aclose()

    async def resolve(self, identifiers: Sequence[Identifier]) -> ResolveReport:
        """Resolve every identifier (duplicates once); results in the order given."""
        async with self.session():
            return await self._resolve(identifiers)

    async def resolve_chunks(
        self,
        chunks: Iterable[Sequence[Identifier]],
        deliver: Callable[[ResolveReport], Awaitable[None]],
        before: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Resolve chunk after chunk in one session (one client, the same pools and rate
        limits), handing each chunk's report to ``deliver`` as soon as it is complete and
        forgetting its records: a run's memory is bounded by a chunk, not the run.
        ``before`` is awaited before each chunk starts (the caller's back-pressure)."""
        chunks = [list(dict.fromkeys(c)) for c in chunks]
        self.reporter.start(STAGE, sum(len(c) for c in chunks))

        async def finish(
            report: ResolveReport, started: float, prior: asyncio.Task[None] | None
        ) -> None:
            # A chunk's completion round runs while the next chunk's first round is
            # asked (their requests share the pools, so neither waits for the other to
            # end); chunks are delivered in order.
            if self.complete:
                await self._complete(report.resolutions)
            report.requests = dict(sorted(self.http.requests.items()))
            report.retries = dict(sorted(Counter(self.http.retries).items()))
            report.elapsed = time.monotonic() - started
            if prior is not None:
                await prior
            await deliver(report)

        delivered: asyncio.Task[None] | None = None
        try:
            async with self.session():
                try:
                    for chunk in chunks:
                        if before is not None:
                            await before()
                        if delivered is not None and delivered.done():
                            delivered.result()  # a failed chunk ends the run now
                        started = time.monotonic()
                        report = await self._resolve(chunk, track=False, complete=False)
                        self._lookups.clear()
                        self._names = {}
                        delivered = asyncio.create_task(finish(report, started, delivered))
                    if delivered is not None:
                        await delivered
                finally:
                    if delivered is not None and not delivered.done():
                        delivered.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await delivered
        finally:
            self.reporter.finish(STAGE)

    async def _resolve(
        self, identifiers: Sequence[Identifier], *, track: bool = True, complete: bool = True
    ) -> ResolveReport:
        started = time.monotonic()
        unique = list(dict.fromkeys(identifiers))
        self._prefetch(unique)
        if track:
            self.reporter.start(STAGE, len(unique))
        pmids_done = asyncio.Event()

        async def tracked(
            coro: asyncio.Future[Resolution] | asyncio.Task[Resolution],
        ) -> Resolution:
            result = await coro
            self.reporter.advance(STAGE)
            return result

        try:
            tasks: dict[Identifier, asyncio.Task[Resolution]] = {}
            for ident in unique:
                if ident.scheme is not Scheme.PMCID:
                    tasks[ident] = asyncio.create_task(self._chain(ident))
            pmid_tasks = [t for i, t in tasks.items() if i.scheme is Scheme.PMID]

            async def mark_pmids_done() -> None:
                await asyncio.gather(*pmid_tasks, return_exceptions=True)
                pmids_done.set()

            marker = asyncio.create_task(mark_pmids_done())
            for ident in unique:
                if ident.scheme is Scheme.PMCID:
                    tasks[ident] = asyncio.create_task(self._pmcid(ident, pmids_done))
            results = await asyncio.gather(*(tracked(tasks[i]) for i in unique))
            await marker
        finally:
            if track:
                self.reporter.finish(STAGE)
        resolutions = [r if r.status == "resolved" else self._rescue(r) for r in results]
        if complete and self.complete:
            await self._complete(resolutions)
        return ResolveReport(
            resolutions=resolutions,
            requests=dict(sorted(self.http.requests.items())),
            retries=dict(sorted(Counter(self.http.retries).items())),
            from_cache=self.from_cache,
            elapsed=time.monotonic() - started,
        )
