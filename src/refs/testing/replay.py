"""A replay server for the metadata services, for tests, benchmarks and offline demos.

It listens on 127.0.0.1 and answers on the services' real paths, each under a prefix
(``/crossref``, ``/datacite``, ``/doi``, ``/eutils``, ``/idconv/``), so pointing refs at
it is a matter of base URLs (:meth:`ReplayServer.environ`). Answers are the genuine
recorded responses in a fixtures folder; batch answers are composed from single
records the way each service does (a Crossref ``work-list``, a ``PubmedArticleSet``
holding several articles, an idconv ``records`` list). Unknown identifiers get the
services' genuine not-found answers (Crossref's ``Resource not found.``, DataCite's
JSON:API 404, doi.org's 404 page, efetch leaving the id out, idconv error records).

Each pool (crossref-list, crossref-single, ncbi, datacite, doi) enforces a rate (token
bucket holding one second's worth) and a concurrency cap, answering 429 beyond them,
and every answer can be delayed by a fixed latency. Faults are injected on demand:
429 with and without ``Retry-After``, 500/502/503, a delay past the client's timeout,
a connection reset, truncated JSON, a body cut off mid-transfer, an HTML page with
status 200.

Run it alone with ``python -m refs.testing.replay --fixtures tests/fixtures``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import re
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import h11
from lxml import etree

__all__ = ["Fault", "Limit", "ReplayData", "ReplayServer", "published_limits"]

PREFIXES = {
    "crossref": "/crossref",
    "datacite": "/datacite",
    "doi": "/doi",
    "eutils": "/eutils",
    "idconv": "/idconv/",
}
# Genuine bodies (tests/fixtures/PROVENANCE.md) for the not-found answers.
CROSSREF_NOT_FOUND = b"Resource not found."
DATACITE_NOT_FOUND = (
    b'{"errors":[{"status":"404","title":"The resource you are looking for doesn\'t exist."}]}'
)
PUBMED_HEADER = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
# Not recorded anywhere public; shapes as documented (API-FACTS.md §3) or plain text.
NCBI_TOO_MANY = b'{"error":"API rate limit exceeded","count":"4"}'
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service temporarily unavailable</title></head>"
    b"<body><h1>We'll be back soon</h1><p>Maintenance in progress.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class Limit:
    """``rate`` requests per second (bucket of one second's worth) and ``concurrency``."""

    rate: float
    concurrency: int


def published_limits(*, ncbi_key: bool = False) -> dict[str, Limit]:
    """The services' published limits (API-FACTS.md), as the pools refs uses."""
    return {
        "crossref-list": Limit(3, 3),
        "crossref-single": Limit(10, 3),
        "ncbi": Limit(10 if ncbi_key else 3, 3),
        "datacite": Limit(1000 / 300, 3),
        "doi": Limit(1000 / 300, 3),
    }


@dataclass(slots=True)
class Fault:
    """Answer the next ``times`` matching requests of ``pool`` with ``kind``.

    kinds: ``429``, ``429-retry-after`` (with ``Retry-After: retry_after``), ``500``,
    ``502``, ``503``, ``400-bad-request``, ``delay`` (answer after ``delay`` seconds),
    ``reset`` (TCP reset),
    ``truncated`` (half the body, consistent length), ``incomplete`` (announce the
    whole body, send half, close), ``html`` (an HTML page with status 200).
    """

    pool: str
    kind: str
    times: int = 1
    retry_after: float = 1.0
    delay: float = 5.0


@dataclass
class ReplayData:
    """The records the server knows, by identifier."""

    crossref: dict[str, dict[str, Any]] = field(default_factory=dict)
    datacite: dict[str, str] = field(default_factory=dict)
    csl: dict[str, str] = field(default_factory=dict)
    pubmed: dict[str, str] = field(default_factory=dict)
    idconv: dict[str, dict[str, Any]] = field(default_factory=dict)
    doi_not_found_page: bytes = b"<html><body>DOI Not Found</body></html>"

    @classmethod
    def from_fixtures(cls, directory: Path) -> ReplayData:
        """Load every genuine recorded record under ``directory``."""
        data = cls()
        for path in sorted(directory.glob("crossref*/*.json")):
            body = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(body, dict) and body.get("message-type") == "work":
                data.crossref[body["message"]["DOI"].lower()] = body["message"]
        for path in sorted(directory.glob("datacite/*.json")):
            text = path.read_text(encoding="utf-8")
            body = json.loads(text)
            if isinstance(body, dict) and isinstance(body.get("data"), dict):
                data.datacite[body["data"]["attributes"]["doi"].lower()] = text
        for path in sorted(directory.glob("doi-cn/*.csl.json")):
            text = path.read_text(encoding="utf-8")
            data.csl[json.loads(text)["DOI"].lower()] = text
        page = directory / "doi-cn" / "10.1126_foo.doi-org-404.html"
        if page.exists():
            data.doi_not_found_page = page.read_bytes()
        for path in sorted(directory.glob("ncbi-eutils/efetch_*.xml")):
            root = etree.fromstring(
                path.read_bytes(), etree.XMLParser(load_dtd=False, no_network=True)
            )
            for article in root:
                pmid = article.findtext("MedlineCitation/PMID") or article.findtext(
                    "BookDocument/PMID"
                )
                if pmid:
                    data.pubmed[pmid.strip()] = etree.tostring(
                        article, encoding="unicode", with_tail=False
                    )
        for path in sorted(directory.glob("ncbi-idconv/*.json")):
            body = json.loads(path.read_text(encoding="utf-8"))
            for record in body.get("records", []) if isinstance(body, dict) else []:
                if record.get("status") != "error" and record.get("pmcid"):
                    data.idconv[record["pmcid"]] = record
        return data

    def synthesize(
        self, dois: int, pmids: int, pmcids: int, *, prefix: str = "10.5555/refs-bench"
    ) -> tuple[list[str], list[str], list[str]]:
        """Add load-test records derived from the genuine ones; return their identifiers.

        NOT genuine data: each synthetic record is a deep copy of a genuine recorded
        record (Crossref work messages, PubMed articles, idconv records) with only its
        identifiers replaced, so every shape and size is real. Used by benchmarks.
        """
        crossref_templates = [m for m in self.crossref.values() if "reference" in m] or list(
            self.crossref.values()
        )
        pubmed_templates = [self.pubmed[k] for k in sorted(self.pubmed)]
        idconv_template = next(iter(self.idconv.values()))
        self.synthetic: tuple[list[str], list[str], list[str]] = ([], [], [])
        new_dois = []
        for i in range(dois):
            doi = f"{prefix}.{i}"
            message = copy.deepcopy(crossref_templates[i % len(crossref_templates)])
            message["DOI"] = doi
            message["URL"] = f"https://doi.org/{doi}"
            self.crossref[doi] = message
            new_dois.append(doi)
        new_pmids, new_pmcids = [], []
        for i in range(pmids + pmcids):
            pmid = str(90_000_000 + i)
            pmcid = f"PMC{90_000_000 + i}"
            doi = f"{prefix}.pm{i}"
            xml = pubmed_templates[i % len(pubmed_templates)]
            self.pubmed[pmid] = _retag_pubmed(xml, pmid, doi, pmcid)
            if i < pmids:
                new_pmids.append(pmid)
            else:
                record = copy.deepcopy(idconv_template)
                record.update({"pmcid": pmcid, "pmid": pmid, "doi": doi})
                record.pop("versions", None)
                self.idconv[pmcid] = record
                new_pmcids.append(pmcid)
        self.synthetic = (new_dois, new_pmids, new_pmcids)
        return new_dois, new_pmids, new_pmcids

    def change(self, dois: list[str], pmids: list[str], *, indexed: tuple[int, int, int]) -> None:
        """Derived "after" versions, for refresh tests and benchmarks (NOT genuine data).

        Crossref works get a retraction in ``updated-by`` (the shape of the Retraction
        Watch entry in crossref-trimmed's Wakefield record, with a synthetic notice), a
        changed page range and a new ``indexed`` date; PubMed articles get a
        ``Retracted Publication`` type and a ``RetractionIn`` comment in the shape of the
        genuine ``ErratumIn`` ones (tests/fixtures/derived/README.md).
        """
        for i, doi in enumerate(dois):
            message = copy.deepcopy(self.crossref[doi])
            message["updated-by"] = [
                *(message.get("updated-by") or []),
                {
                    "DOI": f"10.5555/retraction.{i}",
                    "type": "retraction",
                    "label": "Retraction",
                    "source": "retraction-watch",
                    "record-id": str(90000 + i),
                    "updated": {"date-parts": [list(indexed)]},
                },
            ]
            message["page"] = f"{100 + i}-{110 + i}"
            message["indexed"] = {"date-parts": [list(indexed)]}
            self.crossref[doi] = message
        for i, pmid in enumerate(pmids):
            article = etree.fromstring(self.pubmed[pmid].encode("utf-8"))
            types = article.find("MedlineCitation/Article/PublicationTypeList")
            if types is not None:
                added = etree.SubElement(types, "PublicationType", UI="D016441")
                added.text = "Retracted Publication"
            citation = article.find("MedlineCitation")
            comments = citation.find("CommentsCorrectionsList") if citation is not None else None
            if citation is not None and comments is None:
                comments = etree.SubElement(citation, "CommentsCorrectionsList")
            if comments is not None:
                cc = etree.SubElement(comments, "CommentsCorrections", RefType="RetractionIn")
                etree.SubElement(
                    cc, "RefSource"
                ).text = f"Synthetic notice. {indexed[0]} Nov {indexed[2]}."
                etree.SubElement(cc, "PMID", Version="1").text = str(95_000_000 + i)
            self.pubmed[pmid] = etree.tostring(article, encoding="unicode")


def _retag_pubmed(xml: str, pmid: str, doi: str, pmcid: str) -> str:
    """A PubMed article with its own identifiers replaced (its references untouched)."""
    article = etree.fromstring(xml.encode("utf-8"))
    for el in article.iter("PMID"):
        parent = el.getparent()
        if parent is not None and parent.tag in ("MedlineCitation", "BookDocument"):
            el.text = pmid
    id_list = article.find("PubmedData/ArticleIdList")
    if id_list is not None:
        for el in list(id_list):
            id_list.remove(el)
        for kind, value in (("pubmed", pmid), ("doi", doi), ("pmc", pmcid)):
            sub = etree.SubElement(id_list, "ArticleId", IdType=kind)
            sub.text = value
    for el in article.iter("ELocationID"):
        if el.get("EIdType") == "doi":
            el.text = doi
    return etree.tostring(article, encoding="unicode")


class _Bucket:
    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.capacity = max(1.0, limit.rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.active = 0

    def admit(self) -> str | None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.limit.rate)
        self.stamp = now
        if self.active >= self.limit.concurrency:
            return "concurrency"
        if self.tokens < 1.0:
            return "rate"
        self.tokens -= 1.0
        return None


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    action: str | None = None  # reset | incomplete


class ReplayServer:
    """The replay server; use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(
        self,
        data: ReplayData,
        *,
        limits: dict[str, Limit] | None = None,
        latency: float = 0.0,
        port: int = 0,
    ) -> None:
        self.data = data
        self.limits = dict(limits) if limits is not None else {}
        self.latency = latency
        self.port = port
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()  # per pool, admitted or not
        self.rejected: Counter[str] = Counter()  # 429s for exceeding a limit
        self.log: list[tuple[float, str, str]] = []  # (time, pool, target)
        self._buckets: dict[str, _Bucket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        """``REFS_*_URL`` variables that point refs at this server."""
        return {
            "REFS_CROSSREF_URL": self.url + PREFIXES["crossref"],
            "REFS_DATACITE_URL": self.url + PREFIXES["datacite"],
            "REFS_DOI_URL": self.url + PREFIXES["doi"],
            "REFS_EUTILS_URL": self.url + PREFIXES["eutils"],
            "REFS_IDCONV_URL": self.url + PREFIXES["idconv"],
        }

    def settings_overrides(self) -> dict[str, str]:
        return {k.removeprefix("REFS_").lower(): v for k, v in self.environ().items()}

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._run, name="replay-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            msg = "replay server did not start"
            raise RuntimeError(msg)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=256)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def serve_forever(self) -> None:
        """Run in the current event loop (the command-line entry point)."""
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=256)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        async with self._server:
            await self._server.serve_forever()

    def reset_counters(self) -> None:
        self.requests.clear()
        self.rejected.clear()
        self.log.clear()

    # ---------------------------------------------------------------- HTTP

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                event = await self._next(conn, reader)
                if not isinstance(event, h11.Request):
                    break
                body = b""
                while True:
                    part = await self._next(conn, reader)
                    if isinstance(part, h11.Data):
                        body += part.data
                    elif isinstance(part, h11.EndOfMessage):
                        break
                    else:
                        return
                answer = await self._answer(event, body)
                if answer.action == "reset":
                    sock = writer.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                    writer.transport.abort()
                    return
                headers = [
                    ("content-type", answer.content_type),
                    ("content-length", str(len(answer.body))),
                    *answer.headers,
                ]
                writer.write(conn.send(h11.Response(status_code=answer.status, headers=headers)))
                if answer.action == "incomplete":
                    writer.write(conn.send(h11.Data(data=answer.body[: len(answer.body) // 2])))
                    await writer.drain()
                    writer.close()
                    return
                writer.write(conn.send(h11.Data(data=answer.body)))
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _next(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
                continue
            return event

    async def _answer(self, request: h11.Request, body: bytes) -> _Answer:
        target = request.target.decode("latin-1")
        method = request.method.decode("ascii")
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in request.headers}
        pool, route = self._route(target)
        if pool is None:
            if target.startswith("/_stats"):
                stats = {"requests": dict(self.requests), "rejected": dict(self.rejected)}
                return _Answer(200, json.dumps(stats).encode(), "application/json")
            if target.startswith("/_change"):  # benchmarks: ?n=N changes N synthetic DOIs and PMIDs
                n = int(parse_qs(urlsplit(target).query).get("n", ["0"])[0])
                dois, pmids, _ = getattr(self.data, "synthetic", ([], [], []))
                today = time.gmtime()
                self.data.change(
                    dois[:n], pmids[:n], indexed=(today.tm_year, today.tm_mon, today.tm_mday)
                )
                return _Answer(200, b"changed", "text/plain")
            return _Answer(404, b"no such route", "text/plain")
        self.requests[pool] += 1
        self.log.append((time.monotonic(), pool, target))
        bucket = self._buckets.get(pool)
        if bucket is None and pool in self.limits:
            bucket = self._buckets[pool] = _Bucket(self.limits[pool])
        if bucket is not None:
            why = bucket.admit()
            if why is not None:
                self.rejected[pool] += 1
                return self._too_many(pool)
            bucket.active += 1
        try:
            fault = self._take_fault(pool)
            if self.latency:
                await asyncio.sleep(self.latency)
            if fault is not None and fault.kind == "delay":
                await asyncio.sleep(fault.delay)
            answer = self._dispatch(route, method, target, headers, body)
            if pool.startswith("crossref") and pool in self.limits:
                limit = self.limits[pool]
                answer.headers += [
                    ("x-rate-limit-limit", f"{limit.rate:g}"),
                    ("x-rate-limit-interval", "1s"),
                ]
            return self._apply(fault, pool, answer) if fault is not None else answer
        finally:
            if bucket is not None:
                bucket.active -= 1

    def _too_many(self, pool: str) -> _Answer:
        if pool == "ncbi":
            return _Answer(429, NCBI_TOO_MANY, "application/json")
        return _Answer(429, b"Too Many Requests", "text/plain")

    def _take_fault(self, pool: str) -> Fault | None:
        for fault in self.faults:
            if fault.pool == pool and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _apply(self, fault: Fault, pool: str, answer: _Answer) -> _Answer:
        kind = fault.kind
        if kind == "429":
            return self._too_many(pool)
        if kind == "429-retry-after":
            too_many = self._too_many(pool)
            too_many.headers.append(("retry-after", f"{fault.retry_after:g}"))
            return too_many
        if kind in {"500", "502", "503"}:
            return _Answer(int(kind), HTML_PAGE, "text/html")
        if kind == "reset":
            return _Answer(0, b"", "", action="reset")
        if kind == "truncated":
            return _Answer(
                answer.status, answer.body[: max(1, len(answer.body) // 2)], answer.content_type
            )
        if kind == "incomplete":
            answer.action = "incomplete"
            return answer
        if kind == "html":
            return _Answer(200, HTML_PAGE, "text/html; charset=utf-8")
        if kind == "400-bad-request":  # Crossref's genuine validation-failure shape
            return _json(
                {
                    "status": "failed",
                    "message-type": "validation-failure",
                    "message": [
                        {
                            "type": "parameter-not-allowed",
                            "value": "filter",
                            "message": "This route does not support this filter",
                        }
                    ],
                },
                status=400,
            )
        return answer  # "delay" has already waited

    @staticmethod
    def _route(target: str) -> tuple[str | None, str]:
        path = urlsplit(target).path
        if path.startswith(PREFIXES["crossref"] + "/works/"):
            return "crossref-single", "crossref-work"
        if path.rstrip("/") == PREFIXES["crossref"] + "/works":
            return "crossref-list", "crossref-list"
        if path.startswith(PREFIXES["datacite"] + "/dois/"):
            return "datacite", "datacite"
        if path.startswith(PREFIXES["eutils"] + "/efetch.fcgi"):
            return "ncbi", "efetch"
        if path.startswith(PREFIXES["idconv"]) or path == PREFIXES["idconv"].rstrip("/"):
            return "ncbi", "idconv"
        if path.startswith(PREFIXES["doi"] + "/10."):
            return "doi", "doi"
        return None, ""

    # ---------------------------------------------------------------- answers

    def _dispatch(
        self, route: str, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> _Answer:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        if route == "crossref-work":
            doi = unquote(parts.path[len(PREFIXES["crossref"] + "/works/") :]).lower()
            message = self.data.crossref.get(doi)
            if message is None:
                return _Answer(404, CROSSREF_NOT_FOUND, "text/plain")
            return _json(
                {
                    "status": "ok",
                    "message-type": "work",
                    "message-version": "1.0.0",
                    "message": message,
                }
            )
        if route == "crossref-list":
            return self._crossref_list(query)
        if route == "datacite":
            doi = unquote(parts.path[len(PREFIXES["datacite"] + "/dois/") :]).lower()
            text = self.data.datacite.get(doi)
            if text is None:
                return _Answer(404, DATACITE_NOT_FOUND, "application/json; charset=utf-8")
            return _Answer(200, text.encode(), "application/json; charset=utf-8")
        if route == "doi":
            doi = unquote(parts.path[len(PREFIXES["doi"] + "/") :]).lower()
            csl = self.data.csl.get(doi)
            if csl is None:
                return _Answer(404, self.data.doi_not_found_page, "text/html;charset=utf-8")
            return _Answer(200, csl.encode(), "application/vnd.citationstyles.csl+json")
        if route == "efetch":
            form = (
                parse_qs(body.decode("utf-8"), keep_blank_values=True)
                if method == "POST"
                else query
            )
            ids = [i.strip() for i in ",".join(form.get("id", [])).split(",") if i.strip()]
            articles = "".join(self.data.pubmed[i] + "\n" for i in ids if i in self.data.pubmed)
            xml = f"{PUBMED_HEADER}<PubmedArticleSet>\n{articles}</PubmedArticleSet>\n"
            return _Answer(200, xml.encode(), "text/xml; charset=UTF-8")
        if route == "idconv":
            return self._idconv(query)
        return _Answer(404, b"no such route", "text/plain")

    def _crossref_list(self, query: dict[str, list[str]]) -> _Answer:
        filters = ",".join(query.get("filter", []))
        dois: list[str] = []
        since: tuple[int, ...] | None = None
        for item in _split_filters(filters):
            name, _, value = item.partition(":")
            if name == "doi":
                dois.append(unquote(value).lower())
            elif name == "from-index-date":
                since = tuple(int(x) for x in value.split("-"))
            else:
                return _json(
                    {
                        "status": "failed",
                        "message-type": "validation-failure",
                        "message": [
                            {
                                "type": "filter-not-available",
                                "value": name,
                                "message": f"Filter {name} specified but there is no such filter for this route.",
                            }
                        ],
                    },
                    status=400,
                )
        rows = int(query.get("rows", ["20"])[0])
        items = []
        for doi in dict.fromkeys(dois):
            message = self.data.crossref.get(doi)
            if message is None:
                continue
            if since is not None:
                indexed = tuple(message.get("indexed", {}).get("date-parts", [[0]])[0])
                if indexed < since:
                    continue
            items.append(message)
        items = items[:rows]
        return _json(
            {
                "status": "ok",
                "message-type": "work-list",
                "message-version": "1.0.0",
                "message": {
                    "facets": {},
                    "total-results": len(items),
                    "items": items,
                    "items-per-page": rows,
                    "query": {"start-index": 0, "search-terms": None},
                },
            }
        )

    def _idconv(self, query: dict[str, list[str]]) -> _Answer:
        ids = [i.strip() for i in ",".join(query.get("ids", [])).split(",") if i.strip()]
        idtype = query.get("idtype", ["pmcid"])[0]
        if idtype != "pmcid" and any(i.upper().startswith("PMC") for i in ids):
            message = f"ID%20type%20%27{idtype}%27%20mismatch%20for%20%27{ids[0]}%27"
            return _json({"status": "error", "message": message}, status=404)
        records = []
        for raw in ids:
            pmcid = raw.upper() if raw.upper().startswith("PMC") else f"PMC{raw}"
            pmcid = pmcid.split(".")[0]
            record = self.data.idconv.get(pmcid)
            if record is None:
                records.append(
                    {
                        "pmcid": pmcid,
                        "live": "false",
                        "status": "error",
                        "errmsg": "invalid article id",
                    }
                )
            else:
                records.append(record)
        return _json(
            {
                "status": "ok",
                "responseDate": time.strftime("%Y-%m-%d %H:%M:%S"),
                "request": "format=json;ids=" + ",".join(ids),
                "records": records,
            }
        )


def _split_filters(value: str) -> Iterator[str]:
    """``doi:A,doi:B,from-index-date:…`` → items (a comma starts a new ``name:`` item)."""
    for item in re.split(r",(?=[a-z-]+:)", value):
        if item:
            yield item


def _json(data: Any, status: int = 200) -> _Answer:
    return _Answer(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m refs.testing.replay", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--fixtures", type=Path, default=Path("tests/fixtures"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--limits", choices=["published", "none"], default="none")
    parser.add_argument(
        "--synthetic", default="", help="DOIS,PMIDS,PMCIDS load-test records to derive"
    )
    parser.add_argument("--ids-file", type=Path, help="write the synthetic identifiers here (JSON)")
    args = parser.parse_args(argv)
    data = ReplayData.from_fixtures(args.fixtures)
    if args.synthetic:
        n_doi, n_pmid, n_pmcid = (int(x) for x in args.synthetic.split(","))
        ids = data.synthesize(n_doi, n_pmid, n_pmcid)
        if args.ids_file:
            args.ids_file.write_text(json.dumps({"doi": ids[0], "pmid": ids[1], "pmcid": ids[2]}))
    server = ReplayServer(
        data,
        limits=published_limits() if args.limits == "published" else None,
        latency=args.latency,
        port=args.port,
    )

    async def run() -> None:
        task = asyncio.create_task(server.serve_forever())
        while not server._ready.is_set():
            await asyncio.sleep(0.01)
        print(f"listening on {server.url}", flush=True)
        await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    sys.exit(0)


if __name__ == "__main__":
    main()
