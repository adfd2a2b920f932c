"""DataCite REST API JSON:API documents (``/dois/{doi}``). Pure."""

from __future__ import annotations

from typing import Any

from refs import jsonio
from refs.identifiers import Scheme

__all__ = ["names_of", "parse_doi_record"]


def parse_doi_record(body: bytes | str) -> dict[str, Any]:
    """A ``/dois/{doi}`` answer → the document. Raises ValueError for anything else."""
    data = jsonio.loads(body)
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


def names_of(payload: str) -> dict[Scheme, str]:
    """A DataCite record names its DOI."""
    data = jsonio.loads(payload)
    attrs = data.get("data", {}).get("attributes", {})
    doi = attrs.get("doi") or data.get("data", {}).get("id")
    return {Scheme.DOI: doi.lower()} if isinstance(doi, str) else {}
