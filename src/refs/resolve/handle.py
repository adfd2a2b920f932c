"""doi.org's handle API: shortDOIs → the DOIs they alias, one request each.

A shortDOI (``10/aabbe``, DOI Handbook; shortdoi.org) is a registered handle whose
``HS_ALIAS`` value names the full DOI: ``GET {doi_url}/api/handles/10/aabbe?type=HS_ALIAS``.
The answer is cached like any record, so a rerun asks nothing.
"""

from __future__ import annotations

import httpx

from refs import jsonio
from refs.config import Settings
from refs.identifiers import Scheme
from refs.models import Record
from refs.records.handle import alias_of, parse_handle
from refs.resolve.http import Http, garbled
from refs.resolve.service import OneByOne

__all__ = ["DoiHandles"]

NAME = "handle"


class DoiHandles(OneByOne):
    """The DOI proxy's REST API for handles (shortDOIs)."""

    name = NAME
    pool = "doi"

    def __init__(self, settings: Settings) -> None:
        self.base = settings.url("doi_url")

    async def fetch_one(self, http: Http, key: str, now: float) -> Record:
        def parse(response: httpx.Response) -> str:
            try:
                return jsonio.dumps(parse_handle(response.content))
            except ValueError as exc:
                raise garbled(NAME, f"answered something that is not handle JSON ({exc})") from exc

        url = f"{self.base}/api/handles/{key}"
        _response, payload = await http.request(
            NAME, "doi", "GET", url, params={"type": "HS_ALIAS"}, validate=parse
        )
        doi = alias_of(jsonio.loads(payload)) if payload else None
        if payload is None or doi is None:
            return Record(
                NAME,
                key,
                "not_found",
                now,
                http_status=404 if payload is None else 200,
                reason="doi.org knows no DOI this shortDOI stands for",
            )
        return Record(
            NAME, key, "ok", now, payload, 200, "application/json", names={Scheme.DOI: doi}
        )
