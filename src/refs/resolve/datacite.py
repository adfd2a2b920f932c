"""DataCite REST API: DOIs of other registration agencies (Zenodo, arXiv, Dryad, …).

``/dois/{doi}`` answers a JSON:API document or 404 with an ``errors`` list
(datacite/lupo specs). DataCite's search is case-sensitive on ids (datacite#2115), so
DOIs are sent in lower case, which is also our canonical form.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from refs.config import Settings
from refs.identifiers import Scheme
from refs.models import Record
from refs.resolve.http import Http, garbled, validators_of
from refs.resolve.service import OneByOne

__all__ = ["DATACITE_PREFIXES", "DataCite", "identifiers_of", "is_datacite_doi", "parse_doi_record"]

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


def parse_doi_record(body: bytes | str) -> dict[str, Any]:
    """A ``/dois/{doi}`` answer → the document. Raises ValueError for anything else."""
    data = json.loads(body)
    record = data.get("data") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or not isinstance(record, dict)
        or not isinstance(record.get("attributes"), dict)
    ):
        msg = "not a DataCite DOI record"
        raise ValueError(msg)
    result: dict[str, Any] = data
    return result


def identifiers_of(payload: str) -> dict[Scheme, str]:
    data = json.loads(payload)
    attrs = data.get("data", {}).get("attributes", {})
    doi = attrs.get("doi") or data.get("data", {}).get("id")
    return {Scheme.DOI: doi.lower()} if isinstance(doi, str) else {}


class DataCite(OneByOne):
    """DataCite's REST API (one DOI per request)."""

    name = NAME
    pool = "datacite"

    def __init__(self, settings: Settings) -> None:
        self.base = settings.datacite_url

    def identifiers_of(self, payload: str) -> dict[Scheme, str]:
        return identifiers_of(payload)

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
            names=identifiers_of(payload),
        )
