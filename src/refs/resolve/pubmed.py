"""PubMed E-utilities ``efetch``: PMIDs → PubMed XML, up to 200 per POST.

efetch's ``id`` takes a comma list with "no set maximum", but beyond ~200 UIDs NCBI
asks for POST (NBK25499). PubMed XML carries the DOI and PMCID in ``ArticleIdList``,
the publication types and ``CommentsCorrectionsList`` that later stages need. Unknown
PMIDs are silently left out of the answer, so a PMID missing from it is "not found".
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from refs.config import Settings
from refs.identifiers import Scheme
from refs.models import Record
from refs.records.pubmed import split_article_set
from refs.resolve.http import Http, garbled, parsed_by
from refs.resolve.service import batch_without, ncbi_identity

__all__ = ["PubMed", "PubMedByDoi"]

NAME = "pubmed"
MAX_BATCH = 200
# DOIs per esearch term (a POST: no URL limit; the term stays a few KB).
DOI_BATCH = 100


class PubMed:
    """NCBI E-utilities efetch on db=pubmed."""

    name = NAME
    pool = "ncbi"

    def __init__(self, settings: Settings) -> None:
        self.url = f"{settings.url('eutils_url')}/efetch.fcgi"
        self.identity = ncbi_identity(settings.mailto, settings.ncbi_api_key)

    def take(self, pending: Sequence[str]) -> int:
        return min(len(pending), MAX_BATCH)

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        now = time.time()

        def parse(response: httpx.Response) -> dict[str, tuple[str, dict[Scheme, str]]]:
            try:
                return split_article_set(response.content)
            except ValueError as exc:
                raise garbled(NAME, f"answered something that is not PubMed XML ({exc})") from exc

        form = {"db": "pubmed", "id": ",".join(keys), "retmode": "xml", **self.identity}
        response, articles = await http.request(
            NAME, "ncbi", "POST", self.url, data=form, validate=parse
        )
        articles = articles or {}
        return {
            key: Record(
                NAME, key, "ok", now, articles[key][0], 200, "text/xml", names=articles[key][1]
            )
            if key in articles
            else Record(
                NAME,
                key,
                "not_found",
                now,
                http_status=response.status_code,
                reason="PubMed has no record with this PMID",
            )
            for key in keys
        }


class PubMedByDoi:
    """PubMed asked by DOI, for completing works the ID converter has no PMID for (it
    knows only articles in PMC): ``esearch`` with ``"A"[doi] OR "B"[doi] …`` (POST, up to
    :data:`DOI_BATCH`), then ``efetch`` of the PMIDs found. esearch does not say which
    PMID came from which DOI, so each fetched article is matched to a DOI by the DOI it
    names itself; a DOI no article names is not in PubMed. Two requests per batch; the
    record of a DOI is its PubMed article (the completion round files it as PubMed's
    record of that PMID too, so it is not fetched again)."""

    name = "pubmed-doi"
    pool = "ncbi"

    def __init__(self, settings: Settings) -> None:
        self.base = settings.url("eutils_url")
        self.identity = ncbi_identity(settings.mailto, settings.ncbi_api_key)

    def take(self, pending: Sequence[str]) -> int:
        # A DOI holding a double quote cannot stand in a quoted term: alone, unasked.
        return batch_without(pending, DOI_BATCH, '"')

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        from refs.records.pubmed import esearch_pmids

        now = time.time()
        asked = [k for k in keys if '"' not in k]

        search = parsed_by(self.name, "esearch XML", esearch_pmids)
        articles = parsed_by(self.name, "PubMed XML", split_article_set)
        found: dict[str, tuple[str, dict[Scheme, str]]] = {}
        if asked:
            form = {
                "db": "pubmed",
                "term": " OR ".join(f'"{doi}"[doi]' for doi in asked),
                "retmax": str(len(asked) * 2),
                **self.identity,
            }
            _, pmids = await http.request(
                self.name, "ncbi", "POST", f"{self.base}/esearch.fcgi", data=form, validate=search
            )
            if pmids:
                form = {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml", **self.identity}
                _, fetched = await http.request(
                    self.name,
                    "ncbi",
                    "POST",
                    f"{self.base}/efetch.fcgi",
                    data=form,
                    validate=articles,
                )
                for xml, names in (fetched or {}).values():
                    doi = names.get(Scheme.DOI)
                    if doi in keys:
                        found.setdefault(doi, (xml, names))
        return {
            key: Record(
                self.name, key, "ok", now, found[key][0], 200, "text/xml", names=found[key][1]
            )
            if key in found
            else Record(
                self.name,
                key,
                "not_found",
                now,
                http_status=200,
                reason="PubMed has no article with this DOI",
            )
            for key in keys
        }
