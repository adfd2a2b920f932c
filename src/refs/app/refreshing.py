"""Keeping the library true: re-check works, store what changed, report status events.

A refresh asks each service again for the records its due works were built from, in
the same batched, rate-limited requests as ``refs resolve``:

* services with an incremental fetcher in the registry are asked only for what
  changed: Crossref list requests add ``from-index-date`` (the day before the batch's
  last check) to the DOI filter, so a DOI left out is unchanged and costs nothing more;
* PubMed records come back in batched ``efetch`` POSTs; DataCite and doi.org records one
  by one.

Each work whose records changed is re-merged by the planner and compared field by
field with the stored version; only a difference makes a new version (with its
history entry). Results are stored in small transactions as works finish (each under
the library's lock, never held across the network), so a refresh killed at any moment
leaves a consistent library and the next run checks what is left. New versions and
new status events wait in the library's outbox until a report has shown them, so an
alert is never lost to a crash.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from refs.app.resolving import normalise_records
from refs.choices import FailOn
from refs.config import Settings
from refs.models import Record
from refs.planner import Check, plan_refresh, slot_of
from refs.progress import NullReporter, Reporter
from refs.registry import REGISTRY
from refs.resolve.engine import Lookup, Resolver, build_services
from refs.storage import (
    DueWork,
    Library,
    Outbox,
    PendingChange,
    PendingEvent,
    RecordCache,
    SourceRef,
)

__all__ = ["NotChecked", "RefreshReport", "Shown", "refresh"]

STAGE = "checking"
FLUSH_EVERY = 100  # works per transaction while checking
# from-index-date is a day; reach one day back so nothing indexed on the day of the
# last check (in any time zone) is missed.
SINCE_MARGIN = 86_400


@dataclass(frozen=True, slots=True)
class NotChecked:
    """A work that could not be checked this time, and why (it stays due)."""

    key: str
    reason: str
    identifiers: dict[str, str] = field(default_factory=dict)


def source_identifiers(sources: Sequence[SourceRef]) -> dict[str, str]:
    """The identifiers a work's records were asked for (crossref:10.… → doi), so a
    report names each work by its DOI, PMID, PMCID beside its key."""
    out: dict[str, str] = {}
    for ref in sources:
        spec = REGISTRY.get(ref.service)
        if spec is not None and spec.serves:
            out.setdefault(spec.serves[0].value, ref.key)
    return dict(sorted(out.items()))


def identifiers_text(identifiers: dict[str, str]) -> str:
    """``doi:10.… pmid:…`` for a report line."""
    return " ".join(f"{k}:{v}" for k, v in identifiers.items() if k in ("doi", "pmid", "pmcid"))


@dataclass(frozen=True, slots=True)
class Shown:
    """What a report put where a person sees it: only that is marked reported."""

    changes: bool
    events: bool


@dataclass(slots=True)
class RefreshReport:
    """What a refresh checked, what changed, and what must be acted on."""

    checked: int = 0
    unchanged: int = 0
    changed: list[PendingChange] = field(default_factory=list)
    events: list[PendingEvent] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    exports_written: list[str] = field(default_factory=list)
    from_snapshots: int = 0  # records answered by a whole snapshot newer than the check

    def fails(self, fail_on: FailOn) -> bool:
        if fail_on is FailOn.retraction:
            return any(e.event.kind == "retraction" for e in self.events)
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
            "changed": [
                {
                    "key": c.key,
                    "identifiers": c.identifiers,
                    "version": c.version,
                    "at": c.at,
                    "title": c.title,
                    "changes": c.changes,
                    "cited_by": c.cited_by,
                }
                for c in self.changed
            ],
            "events": [
                {
                    "key": e.key,
                    "identifiers": e.identifiers,
                    "title": e.title,
                    "kind": e.event.kind,
                    "notice": e.event.notice,
                    "date": e.event.date,
                    "source": e.event.source,
                    "label": e.event.label,
                    "detected_at": e.detected_at,
                    "cited_by": e.cited_by,
                }
                for e in self.events
            ],
            "not_checked": [
                {"key": n.key, "identifiers": n.identifiers, "reason": n.reason}
                for n in self.not_checked
            ],
            "requests": self.requests,
            "retries": self.retries,
            "from_snapshots": self.from_snapshots,
            "exports_written": self.exports_written,
            "seconds": round(self.seconds, 3),
        }


def _since(checked: float) -> str:
    return dt.datetime.fromtimestamp(checked - SINCE_MARGIN, tz=dt.UTC).strftime("%Y-%m-%d")


def _news(due: DueWork, lookups: list[Lookup]) -> tuple[list[Record] | None, str | None]:
    """The records of a work that changed (empty: none did), or why it could not be checked."""
    from refs.normalise import payload_digest

    news: list[Record] = []
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
            news.append(record)
    if problems:
        return None, "; ".join(problems)
    return news, None


class _Checker:
    """Checks due works and stores the results in small locked transactions."""

    def __init__(
        self, library: Library, settings: Settings, wait: float, report: RefreshReport
    ) -> None:
        self.library = library
        self.settings = settings
        self.wait = wait
        self.report = report
        self.pending: list[Check] = []
        self.keys: dict[int, str] = {}
        self.identifiers: dict[int, dict[str, str]] = {}

    def add(self, due: DueWork, check: Check) -> None:
        self.pending.append(check)
        self.keys[due.id] = due.key
        self.identifiers[due.id] = source_identifiers(due.sources)
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        from refs.app.stores import locked

        if not self.pending:
            return
        checks, self.pending = self.pending, []
        with locked(self.settings, wait=self.wait):
            snapshot = self.library.snapshot(
                work_ids=[c.work_id for c in checks if c.news], keys=False
            )
            plan, problems = plan_refresh(snapshot, checks, now=time.time())
            self.library.apply(plan)
        self.report.checked += len(plan.checked) + len(plan.updates)
        self.report.unchanged += len(plan.checked) + sum(
            1 for u in plan.updates if u.outcome == "unchanged"
        )
        for work_id, reason in problems.items():
            self.report.not_checked.append(
                NotChecked(self.keys[work_id], reason, self.identifiers.get(work_id, {}))
            )


async def _check(
    due: list[DueWork],
    checker: _Checker,
    cache: RecordCache,
    settings: Settings,
    reporter: Reporter,
) -> None:
    from refs.resolve.engine import Lookup

    incremental = {name for name, spec in REGISTRY.items() if spec.incremental is not None}
    since: dict[str, dict[str, str]] = {name: {} for name in incremental}
    # A whole snapshot loaded after a work's last check (the PubMed baseline and every
    # update file since, say --whole) already says how its records stand: the cached
    # record is the answer, and nothing is asked.
    coverage = cache.coverage()
    covered: set[tuple[str, str]] = {
        (ref.service, ref.key)
        for work in due
        for ref in work.sources
        if ref.service in coverage and coverage[ref.service][0] > work.checked
    }
    held = cache.get_many(covered) if covered else {}
    for work in due:
        for ref in work.sources:
            if ref.service in incremental:
                # A record older than the last check (loaded from a snapshot) may
                # have changed since it was made, not just since the check.
                seen = min(work.checked, ref.fetched_at or work.checked)
                since[ref.service][ref.key] = _since(seen)
    services = build_services(settings, since=since)
    resolver = Resolver(
        settings, cache, services, max_age=0, stale_if_error=False, reporter=reporter
    )
    report = checker.report

    async def answer(service: str, key: str, checked: float) -> Lookup:
        record = held.get((service, key))
        if record is not None and coverage[service][0] > checked:
            report.from_snapshots += 1
            return Lookup(record=record, cached=True)
        return await resolver.lookup(service, key)

    async def check(work: DueWork) -> None:
        lookups = await asyncio.gather(
            *(answer(ref.service, ref.key, work.checked) for ref in work.sources)
        )
        news, problem = _news(work, list(lookups))
        reporter.advance(STAGE)
        if news is None:
            report.not_checked.append(
                NotChecked(work.key, problem or "unknown", source_identifiers(work.sources))
            )
            return
        fresh, warnings = normalise_records(news)
        if len(fresh) < len(news):  # a record that cannot be read: keep the stored version
            report.not_checked.append(
                NotChecked(work.key, "; ".join(warnings), source_identifiers(work.sources))
            )
            return
        for warning in warnings:
            reporter.warning(warning)
        checker.add(work, Check(work.id, {slot_of(w): w for w in fresh}))

    reporter.start(STAGE, len(due))
    try:
        async with resolver.session():
            await asyncio.gather(*(check(work) for work in due if work.sources))
            report.requests = dict(sorted(resolver.http.requests.items()))
            report.retries = dict(sorted(resolver.http.retries.items()))
    finally:
        checker.flush()
        reporter.finish(STAGE)


def refresh(
    settings: Settings,
    *,
    older_than: float | None,
    documents: Sequence[str] = (),
    wait: float = 30.0,
    reporter: Reporter | None = None,
    emit: Callable[[RefreshReport], Shown] | None = None,
) -> RefreshReport:
    """``refs refresh``: re-check due works, store changes, rewrite exports if anything
    changed, report.

    ``emit`` is called with the report while the library is locked; only after it
    returns are the changes and events it says it showed marked as reported, so two
    refreshes at once never both report (or both lose) an event, and what a quiet
    report did not show waits for the next one.
    """
    from refs.app.exporting import check_documents, write_library_exports
    from refs.app.stores import locked, open_cache, opened_library

    reporter = reporter or NullReporter()
    started = time.monotonic()
    report = RefreshReport()
    with opened_library(settings, must_exist=True) as library:
        check_documents(library, documents)
        due = library.due(older_than, documents=documents)
        cache = open_cache(settings)
        try:
            asyncio.run(
                _check(due, _Checker(library, settings, wait, report), cache, settings, reporter)
            )
        finally:
            cache.close()
        with locked(settings, wait=wait):
            outbox = library.outbox()
            report.changed, report.events = outbox.changes, outbox.events
            # Rendering a large library costs seconds: the exports are rewritten only when
            # the library changed since they were last written whole (or they were touched).
            report.exports_written = write_library_exports(library, settings)
            report.seconds = time.monotonic() - started
            shown = emit(report) if emit is not None else Shown(changes=True, events=True)
            library.mark_reported(
                Outbox(
                    outbox.changes if shown.changes else [],
                    outbox.events if shown.events else [],
                )
            )
    return report
