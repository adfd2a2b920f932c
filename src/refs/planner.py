"""What storing a batch means for the library: merges, keys, versions, events. Pure.

``plan_store(snapshot, clusters, documents)`` (a resolve) and
``plan_refresh(snapshot, checks)`` (a refresh) turn what the library holds about the
works a batch touches (:class:`~refs.storage.Snapshot`) and what was just learnt into a
:class:`~refs.storage.Plan` that the library applies in one transaction. All policy
lives here, none in storage:

* a cluster sharing an identifier with stored works updates them; several such works
  are folded into the oldest, whose key survives (the others' keys become aliases);
* records of one work are kept per (service, key), the newer fetch winning, and merged
  field by field (:func:`refs.dedup.merge_works`), keeping the notes that say why
  records are one work;
* a new work gets ``base_key`` with the first free suffix, once; keys never change;
* a work whose bibliographic content differs gets a new version with what changed;
  a refresh's new versions and new status events wait in the outbox until reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from refs.dedup import lasting_notes, merge_works
from refs.identifiers import SCHEMES, Identifier, Scheme
from refs.keys import base_key, next_free
from refs.models import Mention
from refs.storage import (
    Change,
    DocumentWrite,
    Fold,
    Plan,
    Snapshot,
    StoredWork,
    WorkUpdate,
    WorkWrite,
)
from refs.work import Work

__all__ = ["Check", "WorkCluster", "diff_works", "plan_refresh", "plan_store", "slot_of"]


@dataclass(slots=True)
class WorkCluster:
    """One work found in a run: its identifiers, normalised records and merge notes."""

    identifiers: dict[Scheme, str]
    records: Sequence[Work]
    notes: Sequence[str] = ()
    # Registered aliases the documents cited it by (shortDOIs): stored with its identifiers.
    aliases: Sequence[Identifier] = ()


@dataclass(slots=True)
class Check:
    """A refresh's outcome for one stored work: the records that changed (empty: none)."""

    work_id: int
    news: dict[tuple[str, str], Work] = field(default_factory=dict)


def slot_of(work: Work) -> tuple[str, str]:
    """(service, key) of a normalised record."""
    p = work.provenance[0]
    return (p.service, p.key)


def diff_works(old: Work, new: Work) -> list[Change]:
    """Field-by-field differences in bibliographic content (provenance and notes excluded)."""
    a, b = old.comparable(), new.comparable()
    return [
        Change(k, a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)
    ]


def _age(work_id: int) -> tuple[bool, int]:
    """Oldest first: stored works by id, then works created in this batch."""
    return (work_id < 0, abs(work_id))


def _identifiers_of(cluster: WorkCluster) -> list[Identifier]:
    idents = [Identifier(s, v) for s, v in cluster.identifiers.items()] + list(cluster.aliases)
    for w in cluster.records:
        idents += [Identifier(SCHEMES[s], v) for s, v in w.identifiers().items()]
    return idents


def plan_store(
    snapshot: Snapshot,
    clusters: Iterable[WorkCluster],
    *,
    documents: Sequence[DocumentWrite | tuple[str, Sequence[Mention]]] = (),
    now: float,
    source: str = "resolve",
) -> Plan:
    """The plan that stores a run's works and documents (``snapshot`` is consumed)."""
    plan = Plan(now=now, source=source)
    next_id = -1
    hints: dict[str, int] = {}  # where each base key's suffix search ended (keys only grow)
    for cluster in clusters:
        idents = _identifiers_of(cluster)
        existing = sorted({snapshot.owners[i] for i in idents if i in snapshot.owners}, key=_age)
        notes = list(cluster.notes)
        merged_keys: list[str] = []
        if len(existing) > 1:
            keep = existing[0]
            for other in existing[1:]:
                merged_keys.append(_fold(snapshot, plan, keep, other))
            notes.append(
                f"library works {', '.join(merged_keys)} merged into this one: they share identifiers"
            )
        old = snapshot.works.get(existing[0]) if existing else None
        sources = dict(snapshot.sources.get(old.id, {})) if old else {}
        for w in cluster.records:
            slot = slot_of(w)
            previous = sources.get(slot)
            if previous is None or w.provenance[0].fetched_at >= previous.provenance[0].fetched_at:
                sources[slot] = w
        ordered = [sources[k] for k in sorted(sources)]
        kept = lasting_notes(old.work) if old else []
        merged = merge_works(ordered, dict.fromkeys([*kept, *notes]))
        all_ids = sorted(
            {(i.scheme.value, i.value) for i in idents} | set(merged.identifiers().items())
        )
        identifiers = [Identifier(SCHEMES[s], v) for s, v in all_ids]
        if old is None:
            key = next_free(base_key(merged), snapshot.taken, hints)
            snapshot.taken.add(key)
            work_id, next_id = next_id, next_id - 1
            write = WorkWrite(work_id, key, merged, "new", 1, sources=ordered)
            stored = StoredWork(work_id, key, merged, 1, now, now, now)
            plan.updates.append(WorkUpdate(key, "new", work=merged))
        else:
            changes = diff_works(old.work, merged)
            if changes or merged_keys:
                write = WorkWrite(old.id, old.key, merged, "updated", old.version + 1, changes)
                stored = StoredWork(old.id, old.key, merged, old.version + 1, old.created, now, now)
                plan.updates.append(
                    WorkUpdate(old.key, "updated", changes, merged_keys, merged, old.work)
                )
            else:
                write = WorkWrite(old.id, old.key, merged, "unchanged", old.version)
                stored = StoredWork(
                    old.id, old.key, merged, old.version, old.created, old.updated, now
                )
                plan.updates.append(
                    WorkUpdate(old.key, "unchanged", work=merged, previous=old.work)
                )
            write.sources = ordered
        write.identifiers = identifiers
        plan.ops.append(write)
        snapshot.works[stored.id] = stored
        snapshot.sources[stored.id] = sources
        for ident in identifiers:
            snapshot.owners[ident] = stored.id
    for doc in documents:
        plan.ops.append(doc if isinstance(doc, DocumentWrite) else DocumentWrite(*doc))
    return plan


def _fold(snapshot: Snapshot, plan: Plan, keep: int, other: int) -> str:
    """Fold stored work ``other`` into ``keep`` in the snapshot and the plan; its key."""
    gone = snapshot.works.pop(other)
    plan.ops.append(Fold(keep, other, gone.key))
    snapshot.sources.setdefault(keep, {}).update(snapshot.sources.pop(other, {}))
    for ident, owner in list(snapshot.owners.items()):
        if owner == other:
            snapshot.owners[ident] = keep
    return gone.key


def plan_refresh(
    snapshot: Snapshot, checks: Iterable[Check], *, now: float, source: str = "refresh"
) -> tuple[Plan, dict[int, str]]:
    """The plan that stores a refresh's findings, and the works that could not be checked.

    A check without news only records the check time (and needs no place in the
    snapshot, which holds the works with news). A work whose records changed
    is re-merged from its stored records with the fresh ones in their place; if its
    content differs it gets a new version, held in the outbox with every status
    event it did not have before.
    """
    plan = Plan(now=now, source=source)
    problems: dict[int, str] = {}
    for check in checks:
        if not check.news:  # nothing to merge: the snapshot need not hold it
            plan.checked.append(check.work_id)
            continue
        stored = snapshot.works.get(check.work_id)
        if stored is None:
            problems[check.work_id] = "the work was merged into another meanwhile"
            continue
        sources = {**snapshot.sources.get(stored.id, {}), **check.news}
        ordered = [sources[k] for k in sorted(sources)]
        merged = merge_works(ordered, lasting_notes(stored.work))
        changes = diff_works(stored.work, merged)
        if not changes:
            plan.ops.append(
                WorkWrite(
                    stored.id, stored.key, merged, "unchanged", stored.version, sources=ordered
                )
            )
            plan.updates.append(
                WorkUpdate(stored.key, "unchanged", work=merged, previous=stored.work)
            )
            continue
        known = {e.key() for e in stored.work.status}
        plan.ops.append(
            WorkWrite(
                stored.id,
                stored.key,
                merged,
                "updated",
                stored.version + 1,
                changes,
                sources=ordered,
                events=[e for e in merged.status if e.key() not in known],
                reported=False,
            )
        )
        plan.updates.append(
            WorkUpdate(stored.key, "updated", changes, work=merged, previous=stored.work)
        )
        snapshot.works[stored.id] = StoredWork(
            stored.id, stored.key, merged, stored.version + 1, stored.created, now, now
        )
        snapshot.sources[stored.id] = sources
    return plan, problems
