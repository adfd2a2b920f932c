"""doi.org content negotiation: the last resort for DOIs of any registration agency.

``Accept: application/vnd.citationstyles.csl+json`` on ``https://doi.org/{doi}``
redirects to the agency's metadata service, which answers CSL-JSON (Crossref,
DataCite and mEDRA support it; crossref.org/documentation/retrieve-metadata/
content-negotiation). An unregistered DOI gets doi.org's 404 page.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from refs.config import Settings
from refs.identifiers import Scheme, canonical
from refs.models import Record
from refs.resolve.http import Http, garbled, validators_of
from refs.resolve.service import OneByOne

__all__ = ["ACCEPT", "DoiContentNegotiation", "identifiers_of", "parse_csl"]

NAME = "doi.org"
ACCEPT = "application/vnd.citationstyles.csl+json"


def parse_csl(body: bytes | str) -> dict[str, Any]:
    """A CSL-JSON item. Raises ValueError for anything else (e.g. an HTML landing page)."""
    data = json.loads(body)
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict) or not ({"type", "title", "DOI"} & set(data)):
        msg = "not a CSL-JSON item"
        raise ValueError(msg)
    return data


def identifiers_of(payload: str) -> dict[Scheme, str]:
    item = parse_csl(payload)
    out: dict[Scheme, str] = {}
    for scheme, field in ((Scheme.DOI, "DOI"), (Scheme.PMID, "PMID"), (Scheme.PMCID, "PMCID")):
        value = canonical(item.get(field), scheme)
        if value:
            out[scheme] = value
    return out


class DoiContentNegotiation(OneByOne):
    """doi.org with ``Accept: application/vnd.citationstyles.csl+json``."""

    name = NAME
    pool = "doi"

    def __init__(self, settings: Settings) -> None:
        self.base = settings.doi_url

    def identifiers_of(self, payload: str) -> dict[Scheme, str]:
        return identifiers_of(payload)

    async def fetch_one(self, http: Http, key: str, now: float) -> Record:
        def parse(response: httpx.Response) -> str:
            try:
                return json.dumps(parse_csl(response.content), ensure_ascii=False)
            except ValueError as exc:
                kind = response.headers.get("content-type", "?").split(";")[0]
                raise garbled(NAME, f"answered {kind} instead of CSL-JSON ({exc})") from exc

        url = f"{self.base}/{quote(key, safe='/:;()')}"
        response, payload = await http.request(
            NAME, "doi", "GET", url, headers={"Accept": ACCEPT}, validate=parse
        )
        if payload is None:
            return Record(
                NAME,
                key,
                "not_found",
                now,
                http_status=404,
                reason="doi.org does not know this DOI",
            )
        return Record(
            NAME,
            key,
            "ok",
            now,
            payload,
            200,
            ACCEPT,
            validators=validators_of(response),
            names=identifiers_of(payload),
        )
