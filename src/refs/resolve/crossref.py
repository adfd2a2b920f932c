"""Crossref REST API: DOIs → work records, up to ~100 per list request.

Batches use ``/works?filter=doi:A,doi:B,…`` (repeated filters are ORed: rest_api.md
"Multiple filters"), sized to stay under Crossref's ~4 KB request-line limit
(rest-api-doc#251); a batch of one uses ``/works/{doi}``, whose pool allows 10/s.
DOIs absent from a list answer are not known to Crossref (other agencies' DOIs answer
404 on /works, Swagger intro). ``mailto`` puts us in the polite pool.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from urllib.parse import quote

import httpx

from refs import jsonio
from refs.config import Settings
from refs.identifiers import Scheme
from refs.models import Record
from refs.records.crossref import names_of, split_work_list, work_message
from refs.resolve.http import Http, garbled, validators_of

__all__ = ["Crossref", "CrossrefSince", "list_query"]

NAME = "crossref"
MAX_BATCH = 100
# Request line budget: 4096 bytes minus method, version and headroom for the host part.
URL_BUDGET = 3900
# Characters a DOI may keep unescaped in a query value or path (RFC 3986 pchar);
# "#", "?", "<", ">", "[", "]", "%" and others are percent-encoded.
_SAFE = "/:;()@!$'*+=-._~"


def _filter_item(doi: str) -> str:
    return "doi:" + quote(doi, safe=_SAFE)


def list_query(dois: Sequence[str], mailto: str | None, *, since: str | None = None) -> str:
    """The query string of a list request for ``dois`` (without the leading ``?``).

    ``since`` (YYYY-MM-DD) adds ``from-index-date``: only works re-indexed since then
    come back (rest_api.md: "use from-index-date for incremental refresh").
    """
    items = [_filter_item(d) for d in dois]
    if since:
        items.insert(0, f"from-index-date:{since}")
    parts = [
        "filter=" + ",".join(items),
        f"rows={max(len(dois), 1)}",
    ]
    if mailto:
        parts.append("mailto=" + quote(mailto, safe="@."))
    return "&".join(parts)


class Crossref:
    """Crossref's REST API."""

    name = NAME
    pool = "crossref-list"

    def __init__(self, settings: Settings) -> None:
        self.base = settings.url("crossref_url")
        self.mailto = settings.mailto

    def take(self, pending: Sequence[str]) -> int:
        # A DOI holding a comma cannot stand in a comma-separated filter.
        if "," in pending[0]:
            return 1
        size = len(self.base) + len("/works?") + len(list_query([], self.mailto))
        n = 0
        for doi in pending[:MAX_BATCH]:
            if "," in doi:
                break
            size += len(_filter_item(doi)) + 1
            if size > URL_BUDGET and n:
                break
            n += 1
        return max(n, 1)

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        now = time.time()
        if len(keys) == 1:
            return {keys[0]: await self._single(http, keys[0], now)}
        items = await self._list(http, keys)
        return {
            key: Record(
                NAME, key, "ok", now, items[key], 200, "application/json", names={Scheme.DOI: key}
            )
            if key in items
            else Record(NAME, key, "not_found", now, http_status=200, reason="not in Crossref")
            for key in keys
        }

    async def _list(
        self, http: Http, keys: list[str], *, since: str | None = None
    ) -> dict[str, str]:
        """One list request for ``keys``: {DOI: item JSON} for the DOIs that came back."""

        def parse(response: httpx.Response) -> dict[str, str]:
            try:
                return split_work_list(response.content)
            except ValueError as exc:
                raise garbled(NAME, f"answered something that is not a work list ({exc})") from exc

        url = f"{self.base}/works?{list_query(keys, self.mailto, since=since)}"
        _response, items = await http.request(NAME, "crossref-list", "GET", url, validate=parse)
        return items or {}  # a 404 on a list route: none of them is known

    async def _single(self, http: Http, doi: str, now: float) -> Record:
        def parse(response: httpx.Response) -> str:
            try:
                return jsonio.dumps(work_message(response.content))
            except ValueError as exc:
                raise garbled(NAME, f"answered something that is not a work ({exc})") from exc

        url = f"{self.base}/works/{quote(doi, safe=_SAFE)}"
        params = {"mailto": self.mailto} if self.mailto else None
        response, payload = await http.request(
            NAME, "crossref-single", "GET", url, params=params, validate=parse
        )
        if payload is None:
            return Record(NAME, doi, "not_found", now, http_status=404, reason="not in Crossref")
        names = names_of(payload)
        return Record(
            NAME,
            doi,
            "ok",
            now,
            payload,
            200,
            "application/json",
            validators=validators_of(response),
            names=names,
            warning=_other_doi(doi, names.get(Scheme.DOI), payload),
        )


def _other_doi(asked: str, answered: str | None, payload: str) -> str | None:
    """Crossref answers an alias with its prime DOI's record (listing the alias): fine.
    Any other DOI than the one asked is worth a warning."""
    if answered is None or answered == asked:
        return None
    aliases = jsonio.loads(payload).get("alias") or []
    if asked in {a.lower() for a in aliases if isinstance(a, str)}:
        return None
    return (
        f"Crossref answered with the record of {answered}, which does not list {asked} as an alias"
    )


class CrossrefSince(Crossref):
    """Crossref for a refresh: list requests carry ``from-index-date`` per batch.

    A DOI absent from such an answer was not re-indexed since the date given: its
    record is ``unchanged`` and costs no request of its own. Keys are batched only
    with keys of the same date.
    """

    def __init__(self, settings: Settings, since: dict[str, str]) -> None:
        super().__init__(settings)
        self.since = since

    def take(self, pending: Sequence[str]) -> int:
        first = self.since.get(pending[0])
        same = 0
        for key in pending:
            if self.since.get(key) != first:
                break
            same += 1
        # A lone DOI still goes in a (filtered) list request: the single-record route
        # has no from-index-date.
        return max(1, super().take(pending[:same]))

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        now = time.time()
        since = self.since.get(keys[0])
        items = await self._list(http, keys, since=since)
        return {
            key: Record(
                NAME, key, "ok", now, items[key], 200, "application/json", names={Scheme.DOI: key}
            )
            if key in items
            else Record(
                NAME, key, "unchanged", now, http_status=200, reason=f"not re-indexed since {since}"
            )
            for key in keys
        }
