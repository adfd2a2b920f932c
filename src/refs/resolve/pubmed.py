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
from refs.resolve.http import Http, garbled
from refs.resolve.service import ncbi_identity

__all__ = ["PubMed"]

NAME = "pubmed"
MAX_BATCH = 200


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
