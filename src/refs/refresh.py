"""Keeping the library true: re-check works, store what changed, report status events.

A refresh asks each service again for the records its due works were built from, in
the same batched, rate-limited requests as ``refs resolve``:

* Crossref list requests add ``from-index-date`` (the day before the batch's last check)
  to the DOI filter, so only works re-indexed since then come back; a DOI left out is
  unchanged and costs nothing more;
* PubMed records come back in batched ``efetch`` POSTs; DataCite and doi.org records one
  by one.

Each work is re-merged from its records and compared field by field with the stored
version; only a difference makes a new version (with its history entry). Results are
stored in small transactions as works finish, so a refresh killed at any moment leaves
a consistent library, and the next run checks what is left. New versions and new
status events wait in the library's outbox until a report has shown them, so an
alert is never lost to a crash.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from refs.config import Settings
from refs.dedup import lasting_notes, merge_works
from refs.models import Record
from refs.normalise import normalise_record, payload_digest
from refs.progress import NullReporter, Reporter
from refs.resolve.crossref import CrossrefSince
from refs.resolve.engine import Lookup, Resolver
from refs.store.cache import Cache
from refs.store.library import DueWork, Library
from refs.store.lock import library_lock
from refs.work import Work

__all__ = ["FailOn", "RefreshReport", "refresh"]

STAGE = "checking"
FLUSH_EVERY = 100  # works per transaction while checking
# from-index-date is a day; reach one day back so nothing indexed on the day of the
# last check (in any time zone) is missed.
SINCE_MARGIN = 86_400


class FailOn(StrEnum):
    """Which events make ``refs refresh`` exit with status 1."""

    retraction = "retraction"
    status = "status"
    change = "change"
    never = "never"


@dataclass(slots=True)
class RefreshReport:
    """What a refresh checked, what changed, and what must be acted on."""

    checked: int = 0
    unchanged: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    not_checked: list[dict[str, str]] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    exports_written: list[str] = field(default_factory=list)

    def fails(self, fail_on: FailOn) -> bool:
        if fail_on is FailOn.retraction:
            return any(e["kind"] == "retraction" for e in self.events)
        if fail_on is FailOn.status:
            return bool(self.events)
        if fail_on is FailOn.change:
            return bool(self.events or self.changed)
        return False

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (documented in the README)."""
        return {
            "checked": self.checked,
            "unchanged": self.unchanged,
            "changed": [{k: v for k, v in c.items() if k != "id"} for c in self.changed],
            "events": [{k: v for k, v in e.items() if k != "id"} for e in self.events],
            "not_checked": self.not_checked,
            "requests": self.requests,
            "retries": self.retries,
            "exports_written": self.exports_written,
            "seconds": round(self.seconds, 3),
        }


def _since(checked: float) -> str:
    return dt.datetime.fromtimestamp(checked - SINCE_MARGIN, tz=dt.UTC).strftime("%Y-%m-%d")


def _news(
    due: DueWork, lookups: list[Lookup]
) -> tuple[dict[tuple[str, str], Record] | None, str | None]:
    """The records of a work that changed (empty: none did), or why it could not be checked."""
    news: dict[tuple[str, str], Record] = {}
    problems = []
    for ref, result in zip(due.sources, lookups, strict=True):
        record = result.record
        if record is None:
            problems.append(result.error or f"{ref.service}:{ref.key}: no answer")
        elif record.status == "not_found":
            problems.append(
                f"{ref.service}:{ref.key}: the service no longer has this record ({record.reason})"
            )
        elif (
            record.status == "ok"
            and record.payload is not None
            and payload_digest(record.payload) != ref.digest
        ):
            news[(ref.service, ref.key)] = record
    if problems:
        return None, "; ".join(problems)
    return news, None


async def _check(
    due: list[DueWork],
    library: Library,
    cache: Cache,
    settings: Settings,
    reporter: Reporter,
    report: RefreshReport,
) -> None:
    since = {
        ref.key: _since(work.checked)
        for work in due
        for ref in work.sources
        if ref.service == "crossref"
    }
    resolver = Resolver(settings, cache, max_age=0, stale_if_error=False, reporter=reporter)
    resolver.services["crossref"] = CrossrefSince(settings, since)
    unchanged: list[int] = []
    changed: list[tuple[int, Work, list[Work]]] = []

    def flush() -> None:
        if unchanged or changed:
            updates = library.apply_refresh(unchanged, changed)
            report.checked += len(unchanged) + len(updates)
            report.unchanged += len(unchanged) + sum(1 for u in updates if u.outcome == "unchanged")
            unchanged.clear()
            changed.clear()

    def merge_news(
        work: DueWork, news: dict[tuple[str, str], Record]
    ) -> tuple[Work, list[Work]] | str:
        stored = library.stored(work.id)
        if stored is None:
            return "the work was merged into another meanwhile"
        sources = library.source_works(work.id)
        for slot, record in news.items():
            try:
                fresh = normalise_record(record)
            except ValueError as exc:
                return str(exc)
            if fresh is not None:
                sources[slot] = fresh
        records = [sources[k] for k in sorted(sources)]
        return merge_works(records, lasting_notes(stored.work)), records

    async def check(work: DueWork) -> None:
        lookups = await asyncio.gather(
            *(resolver.lookup(ref.service, ref.key) for ref in work.sources)
        )
        news, problem = _news(work, list(lookups))
        reporter.advance(STAGE)
        if news is None:
            report.not_checked.append({"key": work.key, "reason": problem or "unknown"})
            return
        if not news:
            unchanged.append(work.id)
        else:
            merged = merge_news(work, news)
            if isinstance(merged, str):
                report.not_checked.append({"key": work.key, "reason": merged})
                return
            changed.append((work.id, *merged))
        if len(unchanged) + len(changed) >= FLUSH_EVERY:
            flush()

    reporter.start(STAGE, len(due))
    try:
        async with resolver.session():
            await asyncio.gather(*(check(work) for work in due if work.sources))
            report.requests = dict(sorted(resolver.http.requests.items()))
            report.retries = dict(sorted(resolver.http.retries.items()))
    finally:
        flush()
        reporter.finish(STAGE)


def refresh(
    settings: Settings,
    *,
    older_than: float | None,
    documents: Sequence[str] = (),
    wait: float = 30.0,
    reporter: Reporter | None = None,
    emit: Callable[[RefreshReport], None] | None = None,
) -> RefreshReport:
    """Re-check due works, store changes, write exports if anything changed, report.

    ``emit`` is called with the report while the library is still locked; only after
    it returns are the reported changes and events marked as reported.
    """
    from refs.pipeline import write_library_exports

    reporter = reporter or NullReporter()
    started = time.monotonic()
    report = RefreshReport()
    with library_lock(settings.library, wait=wait), Library(settings.library) as library:
        known = set(library.documents())
        unknown = [d for d in documents if d not in known]
        if unknown:
            from refs.errors import ConfigError

            msg = f"{unknown[0]!r} is not a document in the library; known: {', '.join(sorted(known)[:5]) or 'none'}"
            raise ConfigError(msg)
        due = library.checkable(older_than, documents=documents)
        cache = Cache(settings.cache)
        try:
            asyncio.run(_check(due, library, cache, settings, reporter, report))
        finally:
            cache.close()
        changes, events = library.pending_report()
        report.changed, report.events = changes, events
        if changes or not (settings.library / "library.bib").exists():
            # Rendering a large library costs seconds; with no new version it is the same.
            report.exports_written = write_library_exports(library, settings)
        report.seconds = time.monotonic() - started
        if emit is not None:
            emit(report)
        library.mark_reported([c["id"] for c in changes], [e["id"] for e in events])
    return report
