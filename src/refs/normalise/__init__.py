"""Raw records → normalised works: one pure function per service format.

Which function reads which service's records is the registry's ``normaliser`` entry
(:mod:`refs.registry`); services that only link identifiers (the PMC ID converter)
have none and describe no work.
"""

from __future__ import annotations

from refs.models import Record, payload_digest
from refs.registry import REGISTRY
from refs.work import Work

__all__ = ["normalise_record", "normalise_record_checked", "payload_digest"]


def normalise_record(record: Record) -> Work | None:
    """The work a raw record describes, or ``None`` for records that describe none.

    Raises ValueError when the payload is not what its service sends.
    """
    return normalise_record_checked(record)[0]


def normalise_record_checked(record: Record) -> tuple[Work | None, list[str]]:
    """:func:`normalise_record`, and what was left out of the work (wrong types) and why."""
    from refs.normalise.text import collecting_problems

    with collecting_problems() as problems:
        work = _normalise(record)
    return work, [f"{record.service}:{record.key}: {p}" for p in problems]


def _reason(exc: Exception) -> str:
    """What was wrong, in words: a pydantic error's fields and messages without its
    internal wording ("1 validation error for Work … Value error, …")."""
    errors = getattr(exc, "errors", None)
    if callable(errors) and type(exc).__name__ == "ValidationError":
        parts = []
        for e in errors()[:3]:
            where = ".".join(str(p) for p in e.get("loc", ())) or "record"
            text = str(e.get("msg", "invalid")).removeprefix("Value error, ")
            parts.append(f"{where}: {text}")
        return "; ".join(parts)
    if isinstance(exc, KeyError):
        return f"missing field {exc}"
    return str(exc)


def _normalise(record: Record) -> Work | None:
    spec = REGISTRY.get(record.service)
    if record.lazy:
        msg = (
            f"{record.service}:{record.key}: read without its payload; load it from the cache first"
        )
        raise RuntimeError(msg)
    if spec is None or spec.normaliser is None or record.status != "ok" or record.payload is None:
        return None
    try:
        work = spec.normalise(record.payload, record.key, record.fetched_at)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        msg = f"{record.service}:{record.key}: cannot read the record ({_reason(exc)})"
        raise ValueError(msg) from exc
    if work is None:
        return None
    digest = record.payload_digest()
    for p in work.provenance:
        p.digest = digest
    return work
