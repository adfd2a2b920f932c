"""CSL-JSON items, as doi.org content negotiation answers them. Pure."""

from __future__ import annotations

from typing import Any

from refs import jsonio
from refs.identifiers import Scheme, canonical

__all__ = ["names_of", "parse_csl"]


def parse_csl(body: bytes | str) -> dict[str, Any]:
    """A CSL-JSON item. Raises ValueError for anything else (e.g. an HTML landing page)."""
    data = jsonio.loads(body)
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict) or not ({"type", "title", "DOI"} & set(data)):
        msg = "not a CSL-JSON item"
        raise ValueError(msg)
    return data


def names_of(payload: str) -> dict[Scheme, str]:
    """The DOI, PMID and PMCID a CSL item gives."""
    item = parse_csl(payload)
    out: dict[Scheme, str] = {}
    for scheme, field in ((Scheme.DOI, "DOI"), (Scheme.PMID, "PMID"), (Scheme.PMCID, "PMCID")):
        value = canonical(item.get(field), scheme)
        if value:
            out[scheme] = value
    return out
