"""The HTTP layer and each service client over httpx.MockTransport: no sockets, no waits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import stamina

from refs.config import Settings, load_settings
from refs.errors import ServiceError
from refs.identifiers import Identifier, Scheme
from refs.models import Record
from refs.registry import POOLS, Pool
from refs.resolve.crossref import Crossref
from refs.resolve.datacite import DataCite
from refs.resolve.doi_cn import DoiContentNegotiation
from refs.resolve.engine import Resolver, ResolveReport
from refs.resolve.http import Http
from refs.resolve.idconv import IdConverter
from refs.resolve.pubmed import PubMed
from refs.testing.replay import ReplayData, transport

FIX = Path(__file__).parent / "fixtures"
# The registered pools, fast (their public floors kept).
FAST = {name: Pool(name, 1000.0, 4, floor=pool.floor) for name, pool in POOLS.items()}


@pytest.fixture(autouse=True)
def _no_waits() -> Iterator[None]:
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


def settings() -> Settings:
    return load_settings({"mailto": "tests@example.org", "ncbi_api_key": "k"}, environ={})


def call(
    handler: Callable[[httpx.Request], httpx.Response], coro: Callable[[Http], object]
) -> object:
    async def go() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await coro(Http(client, settings(), FAST))  # type: ignore[misc]

    return asyncio.run(go())


def test_transient_statuses_are_retried_and_counted() -> None:
    """503 then 200: one retry, the answer is returned, attempts are counted per service."""
    answers = [httpx.Response(503, text="busy"), httpx.Response(200, text="ok")]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    async def ask(http: Http) -> tuple[str, dict[str, int], dict[str, int]]:
        _, text = await http.request(
            "crossref", "crossref-list", "GET", "https://x/works", validate=lambda r: r.text
        )
        return text, dict(http.requests), dict(http.retries)

    assert call(handler, ask) == ("ok", {"crossref": 2}, {"crossref": 1})
    assert len(seen) == 2


def test_permanent_errors_fail_at_once_and_404_is_an_answer() -> None:
    """A 400 is not retried and says what the service answered; a 404 is 'no record'."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/missing":
            return httpx.Response(404, text="Resource not found.")
        return httpx.Response(400, text="bad filter")

    async def ask(http: Http) -> object:
        _, missing = await http.request("crossref", "crossref-list", "GET", "https://x/missing")
        assert missing is None
        with pytest.raises(ServiceError, match="HTTP 400: bad filter") as info:
            await http.request("crossref", "crossref-list", "GET", "https://x/bad")
        assert info.value.transient is False
        return dict(http.requests)

    assert call(handler, ask) == {"crossref": 2}


def test_rate_headers_lower_the_pool_rate() -> None:
    """x-rate-limit-limit / -interval below the assumed rate slow the pool down."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, text="{}", headers={"x-rate-limit-limit": "5", "x-rate-limit-interval": "1s"}
        )

    async def ask(http: Http) -> float:
        await http.request("crossref", "crossref-list", "GET", "https://x/works")
        return http._pools["crossref-list"].rate

    assert call(handler, ask) == 5.0


@pytest.fixture(scope="module")
def data() -> ReplayData:
    return ReplayData.from_fixtures(FIX)


def fetch(
    data: ReplayData, service: object, keys: list[str], base: str
) -> tuple[dict[str, Record], list[httpx.Request]]:
    """Ask one service client for ``keys`` through the replay answers (no socket)."""
    seen: list[httpx.Request] = []
    inner = transport(data)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        rewritten = request.url.copy_with(raw_path=base.encode() + request.url.raw_path)
        return inner.handle_request(
            httpx.Request(
                request.method, rewritten, headers=request.headers, content=request.content
            )
        )

    async def go() -> dict[str, Record]:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(handler), follow_redirects=True
        ) as client:
            return await service.fetch(Http(client, settings(), FAST), keys)  # type: ignore[attr-defined,no-any-return]

    return asyncio.run(go()), seen


def local(url_setting: str) -> Settings:
    """Settings whose base URL for ``url_setting`` is a bare host (the mount is added by fetch)."""
    return load_settings(
        {url_setting: "http://replay.test/", "mailto": "tests@example.org", "ncbi_api_key": "k"},
        environ={},
    )


def test_crossref_batches_in_one_list_request(data: ReplayData) -> None:
    """Two DOIs → one /works?filter=doi:…,doi:… request; the unknown one is not found."""
    client = Crossref(local("crossref_url"))
    records, seen = fetch(
        data, client, ["10.1371/journal.pone.0033693", "10.9999/nope"], "/crossref"
    )
    assert len(seen) == 1
    assert "filter=doi" in str(seen[0].url)
    assert records["10.1371/journal.pone.0033693"].status == "ok"
    assert records["10.1371/journal.pone.0033693"].names == {
        Scheme.DOI: "10.1371/journal.pone.0033693"
    }
    assert records["10.9999/nope"].status == "not_found"


def test_pubmed_posts_ids_with_ncbi_identity(data: ReplayData) -> None:
    """efetch is a POST carrying the ids, tool, email and api_key; unknown PMIDs are not found."""
    client = PubMed(local("eutils_url"))
    records, seen = fetch(data, client, ["38147649", "1"], "/eutils")
    form = dict(x.split("=", 1) for x in seen[0].content.decode().split("&"))
    assert seen[0].method == "POST"
    assert (form["id"], form["tool"], form["api_key"]) == ("38147649%2C1", "refs", "k")
    assert records["38147649"].names[Scheme.DOI] == "10.1073/pnas.2308706120"
    assert records["1"].status == "not_found"


def test_idconv_datacite_and_doi_org_clients(data: ReplayData) -> None:
    """The ID converter links ids; DataCite and doi.org answer one DOI per request."""
    records, _ = fetch(data, IdConverter(local("idconv_url")), ["PMC3292175"], "/idconv")
    assert records["PMC3292175"].names[Scheme.PMID] == "22389645"
    records, seen = fetch(
        data, DataCite(local("datacite_url")), ["10.5281/zenodo.1196821"], "/datacite"
    )
    assert records["10.5281/zenodo.1196821"].status == "ok"
    assert len(seen) == 1
    records, seen = fetch(
        data, DoiContentNegotiation(local("doi_url")), ["10.1126/science.169.3946.635"], "/doi"
    )
    assert seen[0].headers["accept"] == "application/vnd.citationstyles.csl+json"
    assert records["10.1126/science.169.3946.635"].status == "ok"


class MemoryCache:
    """A RecordCache in a dict: the resolver needs nothing more."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], Record] = {}

    def get(self, service: str, key: str) -> Record | None:
        return self.records.get((service, key))

    def naming(self, scheme: Scheme, value: str) -> list[Record]:
        return [
            r for r in self.records.values() if r.status == "ok" and r.names.get(scheme) == value
        ]

    def get_many(self, slots: object, *, payloads: bool = True) -> dict[tuple[str, str], Record]:
        return {s: self.records[s] for s in slots if s in self.records}  # type: ignore[attr-defined]

    def naming_many(
        self, identifiers: object, *, payloads: bool = True
    ) -> dict[tuple[Scheme, str], list[Record]]:
        found = {(s, v): self.naming(s, v) for s, v in identifiers}  # type: ignore[attr-defined]
        return {k: v for k, v in found.items() if v}

    def put(self, records: object) -> None:
        for r in records:  # type: ignore[attr-defined]
            self.records[(r.service, r.key)] = r

    def add_snapshot(
        self, file: str, service: str, stamp: float, *, whole: bool, records: int
    ) -> None:
        return None

    def coverage(self) -> dict[str, tuple[float, str]]:
        return {}

    def close(self) -> None:
        return None


def test_resolver_with_injected_cache_and_transport(data: ReplayData) -> None:
    """A DOI, a PMID and a PMCID resolve through the replay answers into a memory cache;
    a second run is answered from that cache alone."""
    from refs.testing.replay.answers import mounts

    s = load_settings(  # the first round only: this test counts its requests
        {
            **{name: f"http://replay.test{mount}" for name, mount in mounts().items()},
            "complete": False,
        },
        environ={},
    )
    cache = MemoryCache()
    ids = [
        Identifier(Scheme.DOI, "10.1371/journal.pone.0033693"),
        Identifier(Scheme.PMID, "38147649"),
        Identifier(Scheme.PMCID, "PMC10769841"),  # PubMed 38147649 names it: no idconv
    ]

    def run() -> ResolveReport:
        async def go() -> ResolveReport:
            async with httpx.AsyncClient(transport=transport(data)) as client:
                return await Resolver(s, cache, client=client, pools=FAST).resolve(ids)

        return asyncio.run(go())

    report = run()
    assert [r.status for r in report.resolutions] == ["resolved"] * 3
    assert report.requests == {"crossref": 1, "pubmed": 1}
    again = run()
    assert again.requests == {}
    assert again.from_cache == len(cache.records)
    assert (report.resolutions[2].via or "").startswith("crosswalk (pubmed:38147649")
    assert ("idconv", "PMC10769841") not in cache.records
    assert (
        json.loads(cache.records[("crossref", "10.1371/journal.pone.0033693")].payload or "{}")[
            "DOI"
        ]
        == "10.1371/journal.pone.0033693"
    )


def test_a_body_is_never_resent_to_another_origin() -> None:
    """A 307 moving efetch's POST (with api_key) to another host is refused; that host is
    never asked. A GET redirect is followed, without the original query."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.method} {request.url.host}{request.url.path}")
        if request.url.host == "eutils.test":
            return httpx.Response(307, headers={"location": "https://elsewhere.test/grab"})
        if request.url.host == "doi.test":
            return httpx.Response(302, headers={"location": "https://api.test/work"})
        return httpx.Response(200, text="answer")

    async def ask(http: Http) -> str:
        with pytest.raises(ServiceError, match="does not re-send a request body") as info:
            await http.request(
                "pubmed", "ncbi", "POST", "https://eutils.test/efetch.fcgi", data={"api_key": "k"}
            )
        assert info.value.transient is False
        _, text = await http.request(
            "doi.org", "doi", "GET", "https://doi.test/10.1/x", validate=lambda r: r.text
        )
        return str(text)

    assert call(handler, ask) == "answer"
    assert asked == ["POST eutils.test/efetch.fcgi", "GET doi.test/10.1/x", "GET api.test/work"]


def test_rate_headers_never_slow_a_pool_below_its_public_rate() -> None:
    """x-rate-limit-limit 1 per 100000 s is clamped to the public pool's rate, with a warning."""
    warnings: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, text="{}", headers={"x-rate-limit-limit": "1", "x-rate-limit-interval": "100000s"}
        )

    async def go() -> float:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = Http(client, settings(), FAST, warn=warnings.append)
            await http.request("crossref", "crossref-list", "GET", "https://x/works")
            await http.request("crossref", "crossref-list", "GET", "https://x/works")
            return http._pools["crossref-list"].rate

    assert asyncio.run(go()) == 1.0
    assert len(warnings) == 1
    assert "keeping 1/s" in warnings[0]


def _real_http(timeout: float) -> Settings:
    return load_settings({"timeout": timeout, "max_answer_bytes": 1_000_000}, environ={})


def test_stacked_compression_in_an_answer_fails_at_the_limit(web: object) -> None:
    """gzip, gzip around 50 MB of zeros is refused at REFS_MAX_ANSWER_BYTES, not inflated."""
    import gzip

    bomb = gzip.compress(gzip.compress(b"\x00" * 50_000_000))
    url = web.add("/bomb", bomb, "application/json", headers=(("Content-Encoding", "gzip, gzip"),))  # type: ignore[attr-defined]

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            http = Http(client, _real_http(10), FAST)
            with pytest.raises(ServiceError, match="REFS_MAX_ANSWER_BYTES"):
                await http.request("crossref", "crossref-list", "GET", url)

    asyncio.run(go())


def test_a_dripping_service_hits_the_request_deadline(web: object) -> None:
    """One byte every 0.2 s: the request fails after REFS_TIMEOUT in all, not per byte."""
    import time

    url = web.add("/drip", b"{}" * 20, "application/json", trickle=0.2)  # type: ignore[attr-defined]

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            http = Http(client, _real_http(1.0), FAST)
            with pytest.raises(ServiceError, match="no answer within 1 s"):
                await http.request("crossref", "crossref-list", "GET", url)

    started = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - started < 8  # 3 attempts (stamina testing) of at most 1 s each


def test_local_services_may_be_asked_without_the_published_limits() -> None:
    """REFS_UNLIMITED_LOCAL lifts a pool's limits only when every service of the pool
    is on a loopback address (a local mirror, the replay server), never otherwise."""
    from refs.config import load_settings
    from refs.registry import POOLS
    from refs.resolve.http import LOCAL_RATE, pools_for

    local = {
        "crossref_url": "http://127.0.0.1:9/crossref",
        "datacite_url": "http://localhost:9/datacite",
        "doi_url": "http://[::1]:9/doi",
        "eutils_url": "http://127.0.0.1:9/eutils",
        "idconv_url": "http://127.0.0.1:9/idconv/",
        "europepmc_url": "http://127.0.0.1:9/europepmc",
    }
    on = load_settings({**local, "unlimited_local": True}, environ={})
    assert all(p.rate == LOCAL_RATE for p in pools_for(on).values())
    # Without the setting, or with one service elsewhere, the published limits stand.
    off = load_settings(local, environ={})
    assert pools_for(off) == dict(POOLS)
    mixed = load_settings(
        {**local, "crossref_url": "https://api.crossref.org", "unlimited_local": True},
        environ={"REFS_UNLIMITED_LOCAL": "1"},
    )
    pools = pools_for(mixed)
    assert pools["crossref-list"] == POOLS["crossref-list"]
    assert pools["ncbi"].rate == LOCAL_RATE
    env = load_settings(local, environ={"REFS_UNLIMITED_LOCAL": "yes"})
    assert env.unlimited_local
