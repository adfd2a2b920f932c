"""doi.org content negotiation: the last resort for DOIs of any registration agency.

``Accept: application/vnd.citationstyles.csl+json`` on ``https://doi.org/{doi}``
redirects to the agency's metadata service, which answers CSL-JSON (Crossref,
DataCite and mEDRA support it; crossref.org/documentation/retrieve-metadata/
content-negotiation). An unregistered DOI gets doi.org's 404 page.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from refs import jsonio
from refs.config import Settings
from refs.models import Record
from refs.records.csl import names_of, parse_csl
from refs.resolve.http import Http, garbled, validators_of
from refs.resolve.service import OneByOne

__all__ = ["ACCEPT", "DoiContentNegotiation"]

NAME = "doi.org"
ACCEPT = "application/vnd.citationstyles.csl+json"


class DoiContentNegotiation(OneByOne):
    """doi.org with ``Accept: application/vnd.citationstyles.csl+json``."""

    name = NAME
    pool = "doi"

    def __init__(self, settings: Settings) -> None:
        self.base = settings.url("doi_url")

    async def fetch_one(self, http: Http, key: str, now: float) -> Record:
        def parse(response: httpx.Response) -> str:
            try:
                return jsonio.dumps(parse_csl(response.content))
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
            names=names_of(payload),
        )
