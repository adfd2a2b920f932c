"""The search endpoints matching asks, as services of the registry (one module, one
entry each in :mod:`refs.registry`).

Each search is a *key* (the query as sent) whose record is the service's answer, so
search answers are cached, rate-limited and retried exactly like records: a repeated
run asks nothing.

* ``crossref-bibliographic``: Crossref ``/works?query.bibliographic=<string>&rows=5``
  (a list request: the polite list pool, 3/s; Crossref's tips: "use rows=5 if you do
  validation of your own");
* ``crossref-pii``: Crossref ``/works?filter=alternative-id:A,alternative-id:B`` for
  Elsevier/Cell PIIs, up to 50 per request;
* ``pubmed-ecitmatch``: E-utilities ``ecitmatch.cgi`` (journal|year|volume|first
  page|author → PMID) for citations whose parts a Vancouver string shows;
* ``pubmed-esearch``: E-utilities ``esearch.fcgi`` on db=pubmed with field tags;
* ``europepmc``: Europe PMC ``/search`` (``resultType=core``), for ``refs suggest``.

Answers are parsed by the functions below into :class:`~refs.match.score.Candidate`
lists; the parsers raise ``ValueError`` on a garbled body.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx
from lxml import etree

from refs import jsonio
from refs.config import Settings
from refs.identifiers import Scheme
from refs.match.score import Candidate
from refs.models import Record
from refs.records.pubmed import esearch_pmids
from refs.resolve.http import Http, garbled
from refs.resolve.service import OneByOne, ncbi_identity

__all__ = [
    "CrossrefBibliographic",
    "CrossrefPii",
    "EuropePmc",
    "PubMedCitmatch",
    "PubMedSearch",
    "crossref_candidates",
    "ecitmatch_pmids",
    "esearch_pmids",
    "europepmc_candidates",
    "names_none",
    "pii_forms",
]

ROWS = 5  # Crossref: rows=5 when the client validates candidates itself
PUBMED_ROWS = 5
EUROPEPMC_ROWS = 10
PII_BATCH = 50
_XML = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)


def names_none(payload: str) -> dict[Scheme, str]:
    """A search answer names no identifier of its own (its items are candidates)."""
    return {}


def _record(service: str, key: str, response: httpx.Response, payload: str, now: float) -> Record:
    return Record(
        service,
        key,
        "ok",
        now,
        payload,
        response.status_code,
        response.headers.get("content-type", "").split(";")[0] or None,
    )


class _Search(OneByOne):
    """A search endpoint asked once per key (the query as sent): a GET of ``url`` with
    ``params(key)``; ``check`` raises ValueError for a body that is not an answer (it is
    then retried as garbled); the record's payload is the body as received."""

    url: str
    what: str  # what an answer is, for the garbled-answer message

    def params(self, key: str) -> dict[str, str]:
        raise NotImplementedError

    def check(self, body: bytes) -> None:
        raise NotImplementedError

    async def fetch_one(self, http: Http, key: str, now: float) -> Record:
        def parse(response: httpx.Response) -> str:
            try:
                self.check(response.content)
            except ValueError as exc:
                raise garbled(
                    self.name, f"answered something that is not {self.what} ({exc})"
                ) from exc
            return response.text

        response, payload = await http.request(
            self.name, self.pool, "GET", self.url, params=self.params(key), validate=parse
        )
        if payload is None:
            return Record(self.name, key, "not_found", now, http_status=404, reason="no such route")
        return _record(self.name, key, response, payload, time.time())


# ---------------------------------------------------------------- Crossref


def crossref_items(payload: str | bytes) -> list[dict[str, Any]]:
    """The work items of a Crossref list answer; ``ValueError`` if it is not one."""
    body = jsonio.loads(payload)
    if not isinstance(body, dict) or body.get("message-type") != "work-list":
        msg = "not a Crossref work list"
        raise ValueError(msg)
    items = body.get("message", {}).get("items")
    if not isinstance(items, list):
        msg = "a work list without items"
        raise ValueError(msg)
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("DOI"), str)]


def crossref_candidates(payload: str, source: str = "crossref-bibliographic") -> list[Candidate]:
    """Candidates of a Crossref search answer, in the service's order."""
    from refs.normalise.crossref import work_from_crossref

    out = []
    for item in crossref_items(payload):
        work = work_from_crossref(item, key=item["DOI"].lower())
        relevance = item.get("score")
        out.append(
            candidate_of(
                work,
                f"doi:{item['DOI'].lower()}",
                source,
                relevance=float(relevance) if isinstance(relevance, int | float) else None,
            )
        )
    return out


def candidate_of(
    work: Any, ident: str, source: str, *, relevance: float | None = None
) -> Candidate:
    """A :class:`Candidate` from a normalised :class:`~refs.work.Work`."""
    pages = (work.page or "").replace("–", "-").split("-")
    first = pages[0].strip() or None
    last = pages[-1].strip() if len(pages) > 1 else None
    if first and last and len(last) < len(first) and last.isdigit() and first.isdigit():
        last = first[: len(first) - len(last)] + last  # "694-700" printed as "694-7"
    also = []
    if work.doi and not ident.startswith("doi:"):
        also.append(f"doi:{work.doi}")
    if work.pmid and not ident.startswith("pmid:"):
        also.append(f"pmid:{work.pmid}")
    return Candidate(
        id=ident,
        title=work.title,
        authors=tuple(a.family or a.literal or "" for a in work.author),
        year=work.issued.parts[0] if work.issued else None,
        container=tuple(c for c in (work.container_title, work.container_title_short) if c),
        volume=work.volume,
        issue=work.issue,
        page=first,
        last_page=last,
        type=work.type,
        relevance=relevance,
        source=source,
        also=tuple(also),
    )


class CrossrefBibliographic(_Search):
    """Crossref's bibliographic search: the key is the reference string."""

    name = "crossref-bibliographic"
    pool = "crossref-list"
    what = "a work list"

    def __init__(self, settings: Settings) -> None:
        self.url = f"{settings.url('crossref_url')}/works"
        self.mailto = settings.mailto

    def params(self, key: str) -> dict[str, str]:
        params = {"query.bibliographic": key, "rows": str(ROWS)}
        if self.mailto:
            params["mailto"] = self.mailto
        return params

    def check(self, body: bytes) -> None:
        crossref_items(body)


# Elsevier PIIs: S + ISSN (with X) + (yy) + 5 digits + check character.
_PII = re.compile(r"S?(\d{4})-?(\d{3}[\dXx])\(?(\d{2})\)?(\d{5})-?([\dXx])")


def pii_forms(pii: str) -> tuple[str, str] | None:
    """A PII's punctuated (Crossref's alternative-id) and compact forms."""
    m = _PII.fullmatch(pii.strip().removeprefix("PII").removeprefix("pii"))
    if m is None:
        return None
    a, b, yy, n, c = m.groups()
    return f"S{a}-{b.upper()}({yy}){n}-{c.upper()}", f"S{a}{b.upper()}{yy}{n}{c.upper()}"


class CrossrefPii:
    """Crossref works by Elsevier/Cell PII (``alternative-id``), many per request."""

    name = "crossref-pii"
    pool = "crossref-list"

    def __init__(self, settings: Settings) -> None:
        self.base = settings.url("crossref_url")
        self.mailto = settings.mailto

    def take(self, pending: Sequence[str]) -> int:
        return max(1, min(len(pending), PII_BATCH // 2))

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        from refs.records.crossref import names_of

        now = time.time()
        values = []
        for key in keys:
            forms = pii_forms(key)
            values += list(forms) if forms else [key]
        filters = ",".join("alternative-id:" + quote(v, safe="()-") for v in values)
        query = f"filter={filters}&rows={len(values)}"
        if self.mailto:
            query += "&mailto=" + quote(self.mailto, safe="@.")

        def parse(response: httpx.Response) -> list[dict[str, Any]]:
            try:
                return crossref_items(response.content)
            except ValueError as exc:
                raise garbled(
                    self.name, f"answered something that is not a work list ({exc})"
                ) from exc

        _response, items = await http.request(
            self.name, self.pool, "GET", f"{self.base}/works?{query}", validate=parse
        )
        by_pii: dict[str, dict[str, Any]] = {}
        for item in items or []:
            for alt in item.get("alternative-id") or []:
                forms = pii_forms(alt) if isinstance(alt, str) else None
                if forms:
                    by_pii.setdefault(forms[1], item)
        out = {}
        for key in keys:
            forms = pii_forms(key)
            item = by_pii.get(forms[1]) if forms else None
            if item is None:
                out[key] = Record(
                    self.name,
                    key,
                    "not_found",
                    now,
                    http_status=200,
                    reason="no Crossref work lists this PII",
                )
            else:
                payload = jsonio.dumps(item)
                out[key] = Record(
                    self.name,
                    key,
                    "ok",
                    now,
                    payload,
                    200,
                    "application/json",
                    names=names_of(payload),
                )
        return out


# ---------------------------------------------------------------- PubMed


def ecitmatch_pmids(payload: str) -> list[str]:
    """PMIDs of an ecitmatch answer (``journal|year|volume|page|author|key|PMID``);
    NOT_FOUND and AMBIGUOUS lines give none."""
    out = []
    for line in payload.splitlines():
        parts = line.strip().split("|")
        if len(parts) >= 7 and parts[6].strip().isdigit():
            out.append(parts[6].strip())
    return out


class PubMedSearch(_Search):
    """E-utilities esearch on PubMed: the key is the term as sent."""

    name = "pubmed-esearch"
    pool = "ncbi"
    what = "an esearch result"

    def __init__(self, settings: Settings) -> None:
        self.url = f"{settings.url('eutils_url')}/esearch.fcgi"
        self.identity = ncbi_identity(settings.mailto, settings.ncbi_api_key)

    def params(self, key: str) -> dict[str, str]:
        return {"db": "pubmed", "term": key, "retmax": str(PUBMED_ROWS), **self.identity}

    def check(self, body: bytes) -> None:
        esearch_pmids(body)


class PubMedCitmatch(_Search):
    """E-utilities ecitmatch: the key is one ``bdata`` line."""

    name = "pubmed-ecitmatch"
    pool = "ncbi"
    what = "citation lines"

    def __init__(self, settings: Settings) -> None:
        self.url = f"{settings.url('eutils_url')}/ecitmatch.cgi"
        self.identity = ncbi_identity(settings.mailto, settings.ncbi_api_key)

    def params(self, key: str) -> dict[str, str]:
        return {"db": "pubmed", "retmode": "xml", "bdata": key, **self.identity}

    def check(self, body: bytes) -> None:
        if b"<html" in body[:200].lower():
            msg = "an HTML page"
            raise ValueError(msg)


# ---------------------------------------------------------------- Europe PMC


def europepmc_results(payload: str | bytes) -> list[dict[str, Any]]:
    body = jsonio.loads(payload)
    if not isinstance(body, dict) or not isinstance(body.get("resultList"), dict):
        msg = "not a Europe PMC search answer"
        raise ValueError(msg)
    results = body["resultList"].get("result") or []
    return [r for r in results if isinstance(r, dict)]


def _int(value: Any) -> int | None:
    try:
        return int(str(value)[:4])
    except (TypeError, ValueError):
        return None


def europepmc_candidates(payload: str) -> list[Candidate]:
    """Candidates of a Europe PMC search answer (``core`` or ``lite`` results)."""
    out = []
    for r in europepmc_results(payload):
        pmid, doi = r.get("pmid"), r.get("doi")
        ident = f"pmid:{pmid}" if pmid else f"doi:{str(doi).lower()}" if doi else None
        if ident is None:
            ident = f"{str(r.get('source', 'epmc')).lower()}:{r.get('id')}"
        authors: list[str] = []
        author_list = (r.get("authorList") or {}).get("author") or []
        for a in author_list:
            if isinstance(a, dict):
                authors.append(a.get("lastName") or a.get("collectiveName") or "")
        if not authors and isinstance(r.get("authorString"), str):
            authors = [p.strip().rsplit(" ", 1)[0] for p in r["authorString"].split(",")]
        info = r.get("journalInfo") or {}
        journal = info.get("journal") or {}
        names = tuple(
            n
            for n in (journal.get("title"), journal.get("isoabbreviation"), r.get("journalTitle"))
            if isinstance(n, str) and n
        )
        page = r.get("pageInfo")
        also = (f"doi:{str(doi).lower()}",) if doi and pmid else ()
        out.append(
            Candidate(
                id=ident,
                title=r.get("title") if isinstance(r.get("title"), str) else None,
                authors=tuple(authors),
                year=_int(r.get("pubYear")),
                container=names,
                volume=info.get("volume") or r.get("journalVolume"),
                issue=info.get("issue") or r.get("issue"),
                page=str(page).split("-")[0] if page else None,
                source="europepmc",
                also=also,
            )
        )
    return out


def europepmc_texts(payload: str) -> dict[str, str]:
    """Each result's title, abstract and affiliations (what a description is compared with)."""
    out = {}
    for c, r in zip(europepmc_candidates(payload), europepmc_results(payload), strict=True):
        affiliations = " ".join(
            str(x.get("affiliation") or "")
            for a in (r.get("authorList") or {}).get("author") or []
            if isinstance(a, dict)
            for x in (a.get("authorAffiliationDetailsList") or {}).get("authorAffiliation") or []
        )
        out[c.id] = " ".join(
            str(v)
            for v in (r.get("title"), r.get("abstractText"), r.get("affiliation"), affiliations)
            if v
        )
    return out


class EuropePmc(_Search):
    """Europe PMC's REST search: the key is the query as sent."""

    name = "europepmc"
    pool = "europepmc"
    what = "a search result"

    def __init__(self, settings: Settings) -> None:
        self.url = f"{settings.url('europepmc_url')}/search"

    def params(self, key: str) -> dict[str, str]:
        return {
            "query": key,
            "format": "json",
            "resultType": "core",
            "pageSize": str(EUROPEPMC_ROWS),
        }

    def check(self, body: bytes) -> None:
        europepmc_results(body)
