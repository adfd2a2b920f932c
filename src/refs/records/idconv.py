"""PMC ID converter JSON answers. Pure.

Unknown ids come back as records with ``"status": "error"`` and an ``errmsg`` inside an
HTTP 200 answer; a bad request is a top-level ``"status": "error"``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from refs import jsonio
from refs.identifiers import Scheme, canonical

__all__ = ["names_of", "names_of_record", "split_records"]


def split_records(
    body: bytes | str, *, by: Scheme = Scheme.PMCID
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """An idconv JSON answer → ({id: record} keyed by the ``by`` scheme (what was asked),
    top-level error message or None)."""
    data = jsonio.loads(body)
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
        field = by.value
        key = canonical(record.get("requested-id"), by) or canonical(record.get(field), by)
        if key:
            out.setdefault(key, record)
    return out, None


def names_of(payload: str) -> dict[Scheme, str]:
    return names_of_record(jsonio.loads(payload))


def names_of_record(record: Any) -> dict[Scheme, str]:
    """The PMCID, PMID and DOI an idconv record gives (none for an error record)."""
    out: dict[Scheme, str] = {}
    if not isinstance(record, dict) or record.get("status") == "error":
        return out
    for scheme, field in ((Scheme.PMCID, "pmcid"), (Scheme.PMID, "pmid"), (Scheme.DOI, "doi")):
        value = canonical(record.get(field), scheme)
        if value:
            out[scheme] = value
    return out
