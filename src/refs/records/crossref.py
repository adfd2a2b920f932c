"""Crossref REST API JSON: ``work`` and ``work-list`` messages. Pure."""

from __future__ import annotations

from typing import Any

from refs import jsonio
from refs.identifiers import Scheme

__all__ = ["names_of", "split_work_list", "work_message"]


def split_work_list(body: bytes | str) -> dict[str, str]:
    """A ``work-list`` answer → {lower-case DOI: the item's JSON}. Raises ValueError."""
    data = jsonio.loads(body)
    if not isinstance(data, dict) or data.get("message-type") != "work-list":
        msg = "not a Crossref work-list"
        raise ValueError(msg)
    items = data.get("message", {}).get("items")
    if not isinstance(items, list):
        msg = "work-list without items"
        raise ValueError(msg)
    out: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("DOI"), str):
            out.setdefault(item["DOI"].lower(), jsonio.dumps(item))
    return out


def work_message(body: bytes | str) -> dict[str, Any]:
    """A ``work`` answer → its message. Raises ValueError for anything else."""
    data = jsonio.loads(body)
    if not isinstance(data, dict) or data.get("message-type") != "work":
        msg = "not a Crossref work"
        raise ValueError(msg)
    message = data.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("DOI"), str):
        msg = "work without a DOI"
        raise ValueError(msg)
    return message


def names_of(payload: str) -> dict[Scheme, str]:
    """Crossref records carry their DOI (never a PMID or PMCID)."""
    item = jsonio.loads(payload)
    doi = item.get("DOI") if isinstance(item, dict) else None
    return {Scheme.DOI: doi.lower()} if isinstance(doi, str) else {}
