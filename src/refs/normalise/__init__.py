"""Raw records → normalised works: one pure function per service format."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from refs.models import Record
from refs.normalise.crossref import work_from_crossref
from refs.normalise.csl import work_from_csl
from refs.normalise.datacite import work_from_datacite
from refs.normalise.pubmed import work_from_pubmed
from refs.work import Work

__all__ = ["NORMALISERS", "normalise_record", "payload_digest"]


def _crossref(payload: str, key: str, fetched_at: float) -> Work:
    return work_from_crossref(json.loads(payload), key=key, fetched_at=fetched_at)


def _datacite(payload: str, key: str, fetched_at: float) -> Work:
    return work_from_datacite(payload, key=key, fetched_at=fetched_at)


def _csl(payload: str, key: str, fetched_at: float) -> Work:
    return work_from_csl(payload, key=key, fetched_at=fetched_at)


def _pubmed(payload: str, key: str, fetched_at: float) -> Work:
    return work_from_pubmed(payload, key=key, fetched_at=fetched_at)


# Service name → normaliser. The PMC ID converter only links identifiers: no work.
NORMALISERS: dict[str, Callable[[str, str, float], Work]] = {
    "crossref": _crossref,
    "datacite": _datacite,
    "doi.org": _csl,
    "pubmed": _pubmed,
}


def normalise_record(record: Record) -> Work | None:
    """The work a raw record describes, or ``None`` for records that describe none.

    Raises ValueError when the payload is not what its service sends.
    """
    normaliser = NORMALISERS.get(record.service)
    if normaliser is None or record.status != "ok" or record.payload is None:
        return None
    try:
        work = normaliser(record.payload, record.key, record.fetched_at)
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        msg = f"{record.service}:{record.key}: cannot read the record ({type(exc).__name__}: {exc})"
        raise ValueError(msg) from exc
    for p in work.provenance:
        p.digest = payload_digest(record.payload)
    return work


def payload_digest(payload: str) -> str:
    """A fingerprint of a raw record: a refresh that gets the same bytes back has no news."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
