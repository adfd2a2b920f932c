"""NCBI PMC ID converter: PMCIDs → their PMID and DOI, up to 200 per request.

``ids`` takes up to 200 comma-separated ids of one type (pmc.ncbi.nlm.nih.gov/tools/
id-converter-api). Unknown ids come back as records with ``"status": "error"`` and an
``errmsg`` inside an HTTP 200 answer; a bad request is a top-level ``"status":
"error"``. Both mean "not found" for the ids concerned.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx

from refs import jsonio
from refs.config import Settings
from refs.identifiers import Scheme
from refs.models import Record
from refs.records.idconv import names_of_record, split_records
from refs.resolve.http import Http, garbled
from refs.resolve.service import batch_without, ncbi_identity

__all__ = ["IdConverter", "IdConverterByDoi"]

NAME = "idconv"
MAX_BATCH = 200


class IdConverter:
    """The PMC ID converter API (JSON)."""

    name = NAME
    pool = "ncbi"
    idtype = "pmcid"
    by = Scheme.PMCID

    def __init__(self, settings: Settings) -> None:
        self.url = settings.url("idconv_url")
        self.identity = ncbi_identity(settings.mailto, settings.ncbi_api_key)

    def take(self, pending: Sequence[str]) -> int:
        return min(len(pending), MAX_BATCH)

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        now = time.time()

        def parse(response: httpx.Response) -> tuple[dict[str, dict[str, Any]], str | None]:
            try:
                return split_records(response.content, by=self.by)
            except ValueError as exc:
                raise garbled(
                    NAME, f"answered something that is not ID converter JSON ({exc})"
                ) from exc

        params = {
            "ids": ",".join(keys),
            "idtype": self.idtype,
            "format": "json",
            "versions": "no",
            **self.identity,
        }
        response, parsed = await http.request(
            self.name,
            "ncbi",
            "GET",
            self.url,
            params=params,
            ok_statuses=frozenset({200, 400, 404}),
            validate=parse,
        )
        records, error = parsed if parsed is not None else ({}, "HTTP 404")
        out = {}
        for key in keys:
            record = records.get(key)
            if record is None or record.get("status") == "error":
                reason = (record or {}).get("errmsg") or error or "not in PMC"
                out[key] = Record(
                    self.name,
                    key,
                    "not_found",
                    now,
                    http_status=response.status_code,
                    reason=f"ID converter: {reason}",
                )
            else:
                out[key] = Record(
                    self.name,
                    key,
                    "ok",
                    now,
                    jsonio.dumps(record),
                    200,
                    "application/json",
                    names=names_of_record(record),
                )
        return out


class IdConverterByDoi(IdConverter):
    """The same API asked by DOI (``idtype=doi``): a DOI's PMID and PMCID, for completing
    works cited by DOI. DOIs holding a comma cannot stand in the comma list: one each."""

    name = "idconv-doi"
    idtype = "doi"
    by = Scheme.DOI

    def take(self, pending: Sequence[str]) -> int:
        return batch_without(pending, MAX_BATCH, ",")
