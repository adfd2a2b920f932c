"""The DOI proxy's handle API answers (``/api/handles/{handle}``). Pure.

``{"responseCode": 1, "handle": "10/aabbe", "values": [{"type": "HS_ALIAS", "data":
{"format": "string", "value": "10.1000/182"}}, …]}``: a shortDOI is a handle whose
``HS_ALIAS`` value names the DOI it stands for. ``responseCode`` 100 means the handle
does not exist (HTTP 404), 200 that it has no value of the type asked for (handle.net
proxy servlet documentation).
"""

from __future__ import annotations

from typing import Any

from refs import jsonio
from refs.identifiers import Scheme, canonical

__all__ = ["alias_of", "names_of", "parse_handle"]


def parse_handle(body: bytes | str) -> dict[str, Any]:
    """A handle API answer. Raises ValueError for anything else."""
    data = jsonio.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("responseCode"), int):
        msg = "not a handle API answer"
        raise ValueError(msg)
    return data


def alias_of(data: dict[str, Any]) -> str | None:
    """The canonical DOI an answer's ``HS_ALIAS`` value names, if any."""
    for value in data.get("values") or []:
        if isinstance(value, dict) and value.get("type") == "HS_ALIAS":
            inner = value.get("data")
            raw = inner.get("value") if isinstance(inner, dict) else None
            doi = canonical(raw, Scheme.DOI)
            if doi and not doi.startswith("10/"):
                return doi
    return None


def names_of(payload: str) -> dict[Scheme, str]:
    """A shortDOI's answer names the full DOI (the alias itself is the key)."""
    doi = alias_of(parse_handle(payload))
    return {Scheme.DOI: doi} if doi else {}
