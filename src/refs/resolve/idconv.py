"""NCBI PMC ID converter: PMCIDs → their PMID and DOI, up to 200 per request.

``ids`` takes up to 200 comma-separated ids of one type (pmc.ncbi.nlm.nih.gov/tools/
id-converter-api). Unknown ids come back as records with ``"status": "error"`` and an
``errmsg`` inside an HTTP 200 answer; a bad request is a top-level ``"status":
"error"``. Both mean "not found" for the ids concerned.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import httpx

from refs.config import Settings
from refs.identifiers import Scheme, canonical
from refs.models import Record
from refs.resolve.http import Http, garbled
from refs.resolve.service import ncbi_identity

__all__ = ["IdConverter", "identifiers_of", "split_records"]

NAME = "idconv"
MAX_BATCH = 200


def _norm_pmcid(value: Any) -> str | None:
    return canonical(value, Scheme.PMCID)


def split_records(body: bytes | str) -> tuple[dict[str, dict[str, Any]], str | None]:
    """An idconv JSON answer → ({PMCID: record}, top-level error message or None)."""
    data = json.loads(body)
    if not isinstance(data, dict) or "status" not in data:
        msg = "not an ID converter answer"
        raise ValueError(msg)
    if data.get("status") == "error":
        return {}, unquote(str(data.get("message", "error")))
    records = data.get("records")
    if not isinstance(records, list):
        msg = "ID converter answer without records"
        raise ValueError(msg)
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        if not isinstance(record, dict):
            continue
        pmcid = _norm_pmcid(record.get("requested-id")) or _norm_pmcid(record.get("pmcid"))
        if pmcid:
            out.setdefault(pmcid, record)
    return out, None


def identifiers_of(payload: str) -> dict[Scheme, str]:
    return names_of(json.loads(payload))


def names_of(record: Any) -> dict[Scheme, str]:
    """The PMCID, PMID and DOI an idconv record gives (none for an error record)."""
    out: dict[Scheme, str] = {}
    if not isinstance(record, dict) or record.get("status") == "error":
        return out
    for scheme, field in ((Scheme.PMCID, "pmcid"), (Scheme.PMID, "pmid"), (Scheme.DOI, "doi")):
        value = canonical(record.get(field), scheme)
        if value:
            out[scheme] = value
    return out


class IdConverter:
    """The PMC ID converter API (JSON)."""

    name = NAME
    pool = "ncbi"

    def __init__(self, settings: Settings) -> None:
        self.url = settings.idconv_url
        self.identity = ncbi_identity(settings.mailto, settings.ncbi_api_key)

    def take(self, pending: Sequence[str]) -> int:
        return min(len(pending), MAX_BATCH)

    def identifiers_of(self, payload: str) -> dict[Scheme, str]:
        return identifiers_of(payload)

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        now = time.time()

        def parse(response: httpx.Response) -> tuple[dict[str, dict[str, Any]], str | None]:
            try:
                return split_records(response.content)
            except ValueError as exc:
                raise garbled(
                    NAME, f"answered something that is not ID converter JSON ({exc})"
                ) from exc

        params = {
            "ids": ",".join(keys),
            "idtype": "pmcid",
            "format": "json",
            "versions": "no",
            **self.identity,
        }
        response, parsed = await http.request(
            NAME,
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
                    NAME,
                    key,
                    "not_found",
                    now,
                    http_status=response.status_code,
                    reason=f"ID converter: {reason}",
                )
            else:
                out[key] = Record(
                    NAME,
                    key,
                    "ok",
                    now,
                    json.dumps(record, ensure_ascii=False),
                    200,
                    "application/json",
                    names=names_of(record),
                )
        return out
