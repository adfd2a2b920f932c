"""The storage interfaces: what the stages need from a library and from a record cache.

A library holds the user's data: documents and their mentions, works (each with its
citation key, version, per-service records and identifiers), citations, history,
key aliases and the refresh outbox. Policy (which works merge, which key a new work
gets, what changed, which status events are new) is decided by the pure planner
(:mod:`refs.planner`) from a :class:`Snapshot` the library loads; the library then
applies the resulting :class:`Plan` in one transaction. Implementations
(:mod:`refs.store`) satisfy :class:`Library` and :class:`RecordCache` and run the same
contract tests (``tests/test_storage_contract.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from refs.identifiers import Identifier, Scheme
from refs.models import Mention, Record
from refs.work import StatusEvent, Work

__all__ = [
    "Change",
    "DocumentWrite",
    "DueWork",
    "ExportRow",
    "Fold",
    "HistoryEntry",
    "Holdings",
    "Library",
    "MatchDecision",
    "Outbox",
    "PendingChange",
    "PendingEvent",
    "Plan",
    "RecordCache",
    "Snapshot",
    "SourceRef",
    "StoredMatch",
    "StoredSource",
    "StoredWork",
    "WorkUpdate",
    "WorkWrite",
]

Slot = tuple[str, str]  # (service, key): where one record of a work came from


@dataclass(slots=True)
class StoredWork:
    """A work as the library holds it."""

    id: int
    key: str
    work: Work
    version: int
    created: float
    updated: float
    checked: float
    documents: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where one of a work's records came from, without loading the record."""

    service: str
    key: str
    digest: str | None
    # When the record was fetched (a snapshot's date for a record loaded from one): a
    # refresh asks what changed since the earlier of this and the work's last check.
    fetched_at: float | None = None


@dataclass(frozen=True, slots=True)
class StoredSource:
    """A stored record of a work, as far as telling whether a fetch brought news needs."""

    work_id: int
    digest: str | None
    fetched_at: float


@dataclass(slots=True)
class Holdings:
    """What the library already holds for a run's records, identifiers and documents,
    read without loading any work: enough to skip what has not changed."""

    sources: dict[Slot, StoredSource] = field(default_factory=dict)
    owners: dict[Identifier, int] = field(default_factory=dict)  # identifier → work id
    keys: dict[int, str] = field(default_factory=dict)  # work id → citation key
    documents: dict[str, str | None] = field(default_factory=dict)  # source → mentions digest


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A work as an export lists it, without loading it: ``digest`` of its stored data
    (None: unknown) and the documents citing it."""

    work_id: int
    key: str
    digest: str | None
    documents: list[str]
    match: dict[str, Any] | None = None  # how a citation without identifier found it
    aliases: list[str] = field(default_factory=list)  # the work's other keys
    # Fields a person set (an imported bibliography's values), shown instead of the
    # services': {"title": "…", "page": "…"}.
    overrides: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class DueWork:
    """A work due for a check: just what the check needs (no record is parsed)."""

    id: int
    key: str
    checked: float
    sources: list[SourceRef]


@dataclass(frozen=True, slots=True)
class Change:
    """One field of a work that changed: old → new (JSON values)."""

    field: str
    old: Any
    new: Any


@dataclass(slots=True)
class WorkUpdate:
    """What storing one cluster (or checking one work) did to the library."""

    key: str
    outcome: Literal["new", "updated", "unchanged"]
    changes: list[Change] = field(default_factory=list)
    merged_keys: list[str] = field(default_factory=list)
    work: Work | None = None
    previous: Work | None = None


@dataclass(slots=True)
class Snapshot:
    """What the library holds about the works a batch touches: the planner's input."""

    works: dict[int, StoredWork] = field(default_factory=dict)
    sources: dict[int, dict[Slot, Work]] = field(default_factory=dict)
    owners: dict[Identifier, int] = field(default_factory=dict)  # identifier → work id
    taken: set[str] = field(default_factory=set)  # every citation key and alias in use


@dataclass(frozen=True, slots=True)
class Fold:
    """Stored work ``other`` is the same as ``keep``: move everything, keep its key as alias."""

    keep: int
    other: int
    alias: str


@dataclass(slots=True)
class WorkWrite:
    """One work to write. ``id`` < 0 is a new work (the library assigns the real id).

    ``kind``: ``new`` (insert, version 1), ``updated`` (a new version with its history
    entry; ``reported=False`` puts the entry, and ``events``, in the outbox) or
    ``unchanged`` (same content: fresh provenance and check time only).
    """

    id: int
    key: str
    work: Work
    kind: Literal["new", "updated", "unchanged"]
    version: int
    changes: list[Change] = field(default_factory=list)
    sources: list[Work] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)
    events: list[StatusEvent] = field(default_factory=list)
    reported: bool = True


@dataclass(frozen=True, slots=True)
class DocumentWrite:
    """A document read in this run, with all its mentions (replacing earlier ones)."""

    source: str
    mentions: Sequence[Mention]
    digest: str | None = None  # of the mentions: an unchanged document needs no write


@dataclass(slots=True)
class Plan:
    """Everything one batch writes, in order, and what the user is told about it."""

    now: float
    source: str  # "resolve" | "refresh": who made the versions
    ops: list[Fold | WorkWrite | DocumentWrite] = field(default_factory=list)
    checked: list[int] = field(default_factory=list)  # works found unchanged by a check
    updates: list[WorkUpdate] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    version: int
    at: float
    source: str
    changes: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A new version of a work that no report has shown yet."""

    id: int
    key: str
    version: int
    at: float
    title: str | None
    identifiers: dict[str, str]
    changes: list[dict[str, Any]]
    cited_by: list[str]


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """A new retraction, correction … of a work that no report has shown yet."""

    id: int
    key: str
    title: str | None
    identifiers: dict[str, str]
    event: StatusEvent
    detected_at: float
    cited_by: list[str]


@dataclass(frozen=True, slots=True)
class Outbox:
    changes: list[PendingChange]
    events: list[PendingEvent]


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """What matching concluded for one citation without an identifier.

    ``key`` is the mention's stable name (``refs review`` prints it; ``refs accept``
    takes it); ``status`` is matched, unmatched, failed or rejected; ``candidates``
    the best candidates with their scores (``{"id", "title", "year", "score"}``)."""

    key: str
    document: str
    scheme: str  # reference | link
    text: str
    context: str
    status: str
    identifier: str | None = None  # "doi:…" / "pmid:…" when matched
    method: str | None = None
    score: float | None = None
    query: str | None = None
    reason: str | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class MatchDecision:
    """A person's decision about one citation: ``accept`` an identifier; ``reject`` every
    match; ``exclude``: only the ``rejected`` candidates are out (a rejection of one)."""

    key: str
    verdict: Literal["accept", "reject", "exclude"]
    identifier: str | None = None
    rejected: tuple[str, ...] = ()  # candidates a person rejected
    decided_at: float = 0.0


class Library(Protocol):
    """The user's library. Every write is one transaction; reads see committed data."""

    def snapshot(
        self,
        identifiers: Iterable[Identifier] = (),
        *,
        work_ids: Iterable[int] = (),
        keys: bool = True,
    ) -> Snapshot:
        """The works holding any of ``identifiers`` (or with these ids), their records,
        the owners of those identifiers, and (unless ``keys`` is false: a refresh
        assigns none) every key and alias in use."""

    def holdings(
        self,
        slots: Iterable[Slot] = (),
        identifiers: Iterable[Identifier] = (),
        documents: Iterable[str] = (),
    ) -> Holdings:
        """Which of these records (service, key) are stored, in which work, with which
        digest and fetch time; the works owning these identifiers and their keys; the
        mentions digest of each of these documents. A few queries, no work loaded."""

    def apply(self, plan: Plan) -> dict[int, int]:
        """Write a plan in one transaction; returns provisional id → assigned id."""

    def works(
        self,
        *,
        document: str | None = None,
        keys: Iterable[str] | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[StoredWork]:
        """Works in key order (those ``document`` cites, or ``keys``, or with these
        ``ids``), with citing documents."""

    def export_rows(
        self,
        *,
        document: str | None = None,
        keys: Iterable[str] | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[ExportRow]:
        """:meth:`works` without the works: ids, keys, data digests, citing documents."""

    def renders(self, variant: str, work_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """Export entries rendered before: work id → (stamp, text), for one variant."""

    def store_renders(self, variant: str, rows: Iterable[tuple[int, str, str]]) -> None:
        """Keep rendered entries (work id, stamp, text); derived data, so a library that
        cannot be written (read-only) silently keeps none."""

    def documents(self) -> list[str]: ...

    def has_document(self, source: str) -> bool: ...

    def due(
        self, older_than: float | None, *, documents: Sequence[str] = (), now: float | None = None
    ) -> list[DueWork]:
        """Works last checked more than ``older_than`` seconds ago (None: all), oldest first."""

    def outbox(self) -> Outbox:
        """New versions and status events that no report has shown yet."""

    def mark_reported(self, outbox: Outbox) -> None: ...

    def generation(self) -> tuple[int, int]:
        """(the content's generation, bumped by every write that changes it; the
        generation the exports were last written at)."""

    def mark_exported(self, generation: int, fingerprint: int = 0) -> None:
        """The exports were written at ``generation``; ``fingerprint`` identifies the
        files as written (see :meth:`export_fingerprint`)."""

    def export_fingerprint(self) -> int:
        """The fingerprint last given to :meth:`mark_exported` (0: none)."""

    def history(self, key: str) -> list[HistoryEntry]: ...

    def cited_as(self, document: str) -> list[tuple[str, int]]:
        """How ``document`` cites each work, in the order it does: (the mention's raw
        text, the work's id), once per distinct raw text."""

    def set_overrides(self, work_id: int, values: dict[str, str], source: str) -> None:
        """Replace what ``source`` set for a work (an empty dict clears it)."""

    def add_aliases(self, pairs: Iterable[tuple[str, int]]) -> list[str]:
        """Keep other keys for works (alias, work id); returns the aliases refused
        because another work's key or alias already is that key."""

    def unresolved(self, document: str) -> list[tuple[str, str]]:
        """The identifiers ``document`` cites that no work holds: (``scheme:value``, raw)."""

    def store_matches(self, documents: Iterable[str], matches: Iterable[StoredMatch]) -> None:
        """Replace the matching outcomes of ``documents`` with ``matches``."""

    def matches(
        self, *, document: str | None = None, identifiers: Iterable[str] | None = None
    ) -> list[StoredMatch]:
        """Stored outcomes (of ``document``, or matched to these ``"scheme:value"``s)."""

    def decisions(self, keys: Iterable[str] | None = None) -> dict[str, MatchDecision]:
        """People's decisions, by mention key."""

    def decide(self, decision: MatchDecision) -> MatchDecision:
        """Record a decision (a rejection of one candidate adds to those before it);
        returns the decision as stored."""

    def aliases(self) -> dict[str, str]:
        """Old citation key → the key of the work it now names."""

    def counts(self) -> dict[str, int]: ...

    def close(self) -> None: ...


class RecordCache(Protocol):
    """Raw records per (service, key): disposable, re-fetchable."""

    def get(self, service: str, key: str) -> Record | None: ...

    def naming(self, scheme: Scheme, value: str) -> list[Record]:
        """Cached records (ok) that name this identifier, newest first."""

    def get_many(self, slots: Iterable[Slot], *, payloads: bool = True) -> dict[Slot, Record]:
        """:meth:`get` for many (service, key) at once (absent ones left out): a run
        reads its cached records in a few queries, not one per identifier. Without
        ``payloads`` the records come without them (``Record.lazy``, digest set)."""

    def naming_many(
        self, identifiers: Iterable[tuple[Scheme, str]], *, payloads: bool = True
    ) -> dict[tuple[Scheme, str], list[Record]]:
        """:meth:`naming` for many identifiers at once (those no record names left out)."""

    def put(self, records: Iterable[Record]) -> None: ...

    def add_snapshot(
        self, file: str, service: str, stamp: float, *, whole: bool, records: int
    ) -> None:
        """Remember a bulk file loaded into the cache (``refs snapshot load``)."""

    def coverage(self) -> dict[str, tuple[float, str]]:
        """Per service, the newest snapshot of its whole dataset: (date, file). A key
        such a snapshot lacks was not at the service on that date."""

    def close(self) -> None: ...
