"""DataCite REST API: DOIs of other registration agencies (Zenodo, arXiv, Dryad, …).

``/dois/{doi}`` answers a JSON:API document or 404 with an ``errors`` list
(datacite/lupo specs). DataCite's search is case-sensitive on ids (datacite#2115), so
DOIs are sent in lower case, which is also our canonical form.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from refs.config import Settings
from refs.models import Record
from refs.records.datacite import names_of, parse_doi_record
from refs.resolve.http import Http, garbled, validators_of
from refs.resolve.service import OneByOne

__all__ = ["DATACITE_PREFIXES", "DataCite", "is_datacite_doi"]

NAME = "datacite"
# Prefixes registered with DataCite that are common in articles: Zenodo, arXiv,
# figshare, Dryad, DataCite, Harvard Dataverse, PANGAEA, KNB, LIPIcs, OSF, GBIF.
DATACITE_PREFIXES = frozenset(
    {
        "10.5281",
        "10.48550",
        "10.6084",
        "10.5061",
        "10.5438",
        "10.7910",
        "10.1594",
        "10.5063",
        "10.4230",
        "10.17605",
        "10.15468",
        "10.25504",
        "10.24433",
        "10.5683",
        "10.13140",
    }
)


def is_datacite_doi(doi: str) -> bool:
    """True for DOIs whose prefix is a well-known DataCite one (skip Crossref)."""
    return doi.split("/", 1)[0] in DATACITE_PREFIXES


class DataCite(OneByOne):
    """DataCite's REST API (one DOI per request)."""

    name = NAME
    pool = "datacite"

    def __init__(self, settings: Settings) -> None:
        self.base = settings.url("datacite_url")

    async def fetch_one(self, http: Http, key: str, now: float) -> Record:
        def parse(response: httpx.Response) -> str:
            try:
                parse_doi_record(response.content)
            except ValueError as exc:
                raise garbled(NAME, f"answered something that is not a DOI record ({exc})") from exc
            return response.text

        url = f"{self.base}/dois/{quote(key, safe='/:;()')}"
        response, payload = await http.request(NAME, "datacite", "GET", url, validate=parse)
        if payload is None:
            return Record(NAME, key, "not_found", now, http_status=404, reason="not in DataCite")
        return Record(
            NAME,
            key,
            "ok",
            now,
            payload,
            200,
            response.headers.get("content-type"),
            validators=validators_of(response),
            names=names_of(payload),
        )
