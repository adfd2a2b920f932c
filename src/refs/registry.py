"""Every metadata service refs talks to, registered once.

A :class:`ServiceSpec` says all the rest of refs needs to know about a service: its
name (as it stands in records, the cache and provenance), the pools its requests use
and their published limits, its base-URL setting and environment variable, where its
fetcher, record parser and normaliser live, its rank when records are merged, and
which identifier chains it serves. The engine, the HTTP layer, normalisation,
deduplication, configuration and the replay server all read :data:`REGISTRY`; adding
a service is one module plus one :func:`register` call.

Implementations are named by import path (``"refs.resolve.crossref:Crossref"``) and
loaded on first use, so this module imports no stage: the pure stages (dedup reads
ranks) never pull in the network code. Callables are accepted too (tests register
fakes that way).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from refs.identifiers import Scheme

if TYPE_CHECKING:
    from refs.config import Settings
    from refs.work import Work

__all__ = [
    "POOLS",
    "REGISTRY",
    "URL_SETTINGS",
    "Pool",
    "ServiceSpec",
    "UrlSetting",
    "chain",
    "precedence",
    "register",
    "registered",
]

Ref = str | Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Pool:
    """A published limit: ``rate`` requests per second, ``concurrency`` at once."""

    name: str
    rate: float
    concurrency: int
    # A higher rate that applies when the setting ``key_setting`` holds a key
    # (NCBI: 10/s with an api_key).
    keyed_rate: float | None = None
    key_setting: str | None = None
    # The public pool's rate: rate headers may slow a pool down, never below this.
    floor: float = 0.0


@dataclass(frozen=True, slots=True)
class UrlSetting:
    """A base-URL setting: ``name`` in config files and Settings, ``env`` its variable."""

    name: str
    env: str
    default: str
    # Base URLs lose a trailing slash; the ID converter's URL is a full endpoint and keeps it.
    keep_slash: bool = False

    @property
    def mount(self) -> str:
        """The path the replay server answers this URL's service under (``/crossref``)."""
        return "/" + self.name.removesuffix("_url") + ("/" if self.keep_slash else "")


def _load(ref: Ref) -> Any:
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One metadata service, as every stage of refs sees it."""

    name: str
    pool: str  # the pool its batches are sized for (its workers = that pool's concurrency)
    url: UrlSetting
    fetcher: Ref  # (Settings) -> Service
    names_of: Ref  # (payload) -> {Scheme: id}: every identifier a record names
    normaliser: Ref | None = None  # (payload, key, fetched_at) -> Work; None: links ids only
    rank: int = 100  # merge precedence of its bibliographic fields: lower wins
    authority: frozenset[str] = frozenset()  # Work fields where it goes before every rank
    serves: tuple[Scheme, ...] = ()  # the identifier chains it answers
    order: int = 100  # its place in those chains: lower is asked first
    claims: Ref | None = None  # (key) -> bool: keys for which the chain starts here
    incremental: Ref | None = None  # (Settings, {key: since}) -> Service, for refresh
    pools: tuple[str, ...] = field(default=())  # every pool its requests may use

    # The service clients are refs.resolve.service.Service objects; typed Any here so
    # that this module (read by the pure stages) never depends on the network code.
    def make(self, settings: Settings) -> Any:
        return _load(self.fetcher)(settings)

    def make_incremental(self, settings: Settings, since: dict[str, str]) -> Any:
        if self.incremental is None:
            return self.make(settings)
        return _load(self.incremental)(settings, since)

    def names(self, payload: str) -> dict[Scheme, str]:
        names: dict[Scheme, str] = _load(self.names_of)(payload)
        return names

    def normalise(self, payload: str, key: str, fetched_at: float) -> Work | None:
        if self.normaliser is None:
            return None
        work: Work = _load(self.normaliser)(payload, key, fetched_at)
        return work

    def claim(self, key: str) -> bool:
        return self.claims is not None and bool(_load(self.claims)(key))


# The published limits (../shared/API-FACTS.md): Crossref polite pool since 2025-12-01
# (list 3/s with 3 at once, single record 10/s with 3 at once); NCBI E-utilities 3/s
# per IP, 10/s with an API key (NBK25497), idconv assumed to share that budget;
# DataCite 1000 requests per 5 minutes for identified clients; doi.org publishes no
# limit, so it gets DataCite's content-negotiation figure.
# Floors are the public (unidentified) pools: Crossref 1/s lists and 5/s singles, NCBI
# 3/s, DataCite 500 per 5 minutes.
POOLS: dict[str, Pool] = {
    "crossref-list": Pool("crossref-list", 3.0, 3, floor=1.0),
    "crossref-single": Pool("crossref-single", 10.0, 3, floor=5.0),
    "ncbi": Pool("ncbi", 3.0, 3, keyed_rate=10.0, key_setting="ncbi_api_key", floor=3.0),
    "datacite": Pool("datacite", 1000 / 300, 3, floor=500 / 300),
    "doi": Pool("doi", 1000 / 300, 2, floor=500 / 300),
    # Europe PMC publishes no limit (API-FACTS.md §6); third parties claim 10/s per IP.
    # Half of that, two at once: refs suggest sends a handful of searches.
    "europepmc": Pool("europepmc", 5.0, 2, floor=5.0),
}

REGISTRY: dict[str, ServiceSpec] = {}
URL_SETTINGS: dict[str, UrlSetting] = {}


def register(service: ServiceSpec, *, pools: tuple[Pool, ...] = ()) -> ServiceSpec:
    """Add a service (and any pools of its own). Names must be new."""
    if service.name in REGISTRY:
        msg = f"a service named {service.name!r} is already registered"
        raise ValueError(msg)
    for pool in pools:
        POOLS.setdefault(pool.name, pool)
    for name in (service.pool, *service.pools):
        if name not in POOLS:
            msg = f"service {service.name!r} uses pool {name!r}, which is not registered"
            raise ValueError(msg)
    known = URL_SETTINGS.get(service.url.name)
    if known is not None and known != service.url:
        msg = f"URL setting {service.url.name!r} is registered with another default or variable"
        raise ValueError(msg)
    URL_SETTINGS[service.url.name] = service.url
    REGISTRY[service.name] = service
    return service


@contextlib.contextmanager
def registered(service: ServiceSpec, *, pools: tuple[Pool, ...] = ()) -> Iterator[ServiceSpec]:
    """Register a service for the duration of a block (tests, plug-ins tried out)."""
    url_known = service.url.name in URL_SETTINGS
    new_pools = [p.name for p in pools if p.name not in POOLS]
    register(service, pools=pools)
    try:
        yield service
    finally:
        REGISTRY.pop(service.name, None)
        if not url_known:
            URL_SETTINGS.pop(service.url.name, None)
        for name in new_pools:
            POOLS.pop(name, None)


def chain(scheme: Scheme, key: str | None = None) -> list[ServiceSpec]:
    """The services that answer identifiers of ``scheme``, in the order they are asked.

    A service that claims ``key`` (DataCite for its own prefixes) starts the chain.
    """
    specs = sorted((s for s in REGISTRY.values() if scheme in s.serves), key=lambda s: s.order)
    if key is not None:
        for i, s in enumerate(specs):
            if s.claim(key):
                return specs[i:]
    return specs


def precedence(field_name: str) -> list[str]:
    """Services in the order they supply ``field_name`` when records are merged."""
    return [
        s.name
        for s in sorted(
            (s for s in REGISTRY.values() if s.normaliser is not None),
            key=lambda s: (field_name not in s.authority, s.rank, s.name),
        )
    ]


_URLS = {
    "crossref": UrlSetting("crossref_url", "REFS_CROSSREF_URL", "https://api.crossref.org"),
    "datacite": UrlSetting("datacite_url", "REFS_DATACITE_URL", "https://api.datacite.org"),
    "doi": UrlSetting("doi_url", "REFS_DOI_URL", "https://doi.org"),
    "eutils": UrlSetting(
        "eutils_url", "REFS_EUTILS_URL", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    ),
    "europepmc": UrlSetting(
        "europepmc_url",
        "REFS_EUROPEPMC_URL",
        "https://www.ebi.ac.uk/europepmc/webservices/rest",
    ),
    "idconv": UrlSetting(
        "idconv_url",
        "REFS_IDCONV_URL",
        "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/",
        keep_slash=True,
    ),
}

# Bibliographic fields: Crossref, then DataCite, doi.org, PubMed; PubMed goes first for
# the identifiers it keeps (PMID, PMCID), MEDLINE's ISO abbreviations and abstracts.
register(
    ServiceSpec(
        name="crossref",
        pool="crossref-list",
        pools=("crossref-single",),
        url=_URLS["crossref"],
        fetcher="refs.resolve.crossref:Crossref",
        incremental="refs.resolve.crossref:CrossrefSince",
        names_of="refs.records.crossref:names_of",
        normaliser="refs.normalise.crossref:normalise",
        rank=10,
        serves=(Scheme.DOI,),
        order=10,
    )
)
# shortDOIs (10/aabbe) are aliases: expanded to the DOI they name, which then resolves.
register(
    ServiceSpec(
        name="handle",
        pool="doi",
        url=_URLS["doi"],
        fetcher="refs.resolve.handle:DoiHandles",
        names_of="refs.records.handle:names_of",
        serves=(Scheme.DOI,),
        order=0,
        claims="refs.identifiers:is_short_doi",
    )
)
register(
    ServiceSpec(
        name="datacite",
        pool="datacite",
        url=_URLS["datacite"],
        fetcher="refs.resolve.datacite:DataCite",
        names_of="refs.records.datacite:names_of",
        normaliser="refs.normalise.datacite:normalise",
        rank=20,
        serves=(Scheme.DOI,),
        order=20,
        claims="refs.resolve.datacite:is_datacite_doi",
    )
)
register(
    ServiceSpec(
        name="doi.org",
        pool="doi",
        url=_URLS["doi"],
        fetcher="refs.resolve.doi_cn:DoiContentNegotiation",
        names_of="refs.records.csl:names_of",
        normaliser="refs.normalise.csl:normalise",
        rank=30,
        serves=(Scheme.DOI,),
        order=30,
    )
)
register(
    ServiceSpec(
        name="pubmed",
        pool="ncbi",
        url=_URLS["eutils"],
        fetcher="refs.resolve.pubmed:PubMed",
        names_of="refs.records.pubmed:names_of",
        normaliser="refs.normalise.pubmed:normalise",
        rank=40,
        authority=frozenset({"pmid", "pmcid", "container_title_short", "abstract"}),
        serves=(Scheme.PMID,),
        order=10,
    )
)
register(
    ServiceSpec(
        name="idconv",
        pool="ncbi",
        url=_URLS["idconv"],
        fetcher="refs.resolve.idconv:IdConverter",
        names_of="refs.records.idconv:names_of",
        serves=(Scheme.PMCID,),
        order=10,
    )
)

# Completion: a DOI's PMID and PMCID, asked by DOI (no chain starts here; the engine's
# completion round asks it for works whose records name a DOI but no PMID).
register(
    ServiceSpec(
        name="idconv-doi",
        pool="ncbi",
        url=_URLS["idconv"],
        fetcher="refs.resolve.idconv:IdConverterByDoi",
        names_of="refs.records.idconv:names_of",
    )
)

# PubMed asked by DOI (esearch [doi], then efetch): the completion round asks it for
# DOIs the ID converter has no PMID for (articles not in PMC).
register(
    ServiceSpec(
        name="pubmed-doi",
        pool="ncbi",
        url=_URLS["eutils"],
        fetcher="refs.resolve.pubmed:PubMedByDoi",
        names_of="refs.records.pubmed:names_of",
    )
)

# Searches, for citations that carry no identifier (refs.match). Each search is a key
# whose record is the service's answer: cached and rate-limited like records. They
# serve no identifier chain and describe no work themselves (their items are
# candidates, validated by refs.match.score).
register(
    ServiceSpec(
        name="crossref-bibliographic",
        pool="crossref-list",
        url=_URLS["crossref"],
        fetcher="refs.match.search:CrossrefBibliographic",
        names_of="refs.match.search:names_none",
    )
)
register(
    ServiceSpec(
        name="crossref-pii",
        pool="crossref-list",
        url=_URLS["crossref"],
        fetcher="refs.match.search:CrossrefPii",
        names_of="refs.records.crossref:names_of",
    )
)
register(
    ServiceSpec(
        name="pubmed-ecitmatch",
        pool="ncbi",
        url=_URLS["eutils"],
        fetcher="refs.match.search:PubMedCitmatch",
        names_of="refs.match.search:names_none",
    )
)
register(
    ServiceSpec(
        name="pubmed-esearch",
        pool="ncbi",
        url=_URLS["eutils"],
        fetcher="refs.match.search:PubMedSearch",
        names_of="refs.match.search:names_none",
    )
)
register(
    ServiceSpec(
        name="europepmc",
        pool="europepmc",
        url=_URLS["europepmc"],
        fetcher="refs.match.search:EuropePmc",
        names_of="refs.match.search:names_none",
    )
)
