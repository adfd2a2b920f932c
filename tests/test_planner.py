"""The planner's rules, on snapshots in memory (no database): keys, merges, versions, events."""

from __future__ import annotations

from refs.identifiers import Identifier, Scheme
from refs.planner import Check, WorkCluster, plan_refresh, plan_store
from refs.storage import Fold, Snapshot, StoredWork, WorkWrite
from refs.work import Name, Provenance, StatusEvent, Work

DOI, PMID = Scheme.DOI, Scheme.PMID


def record(service: str, key: str, fetched_at: float = 1.0, **fields: object) -> Work:
    values: dict[str, object] = {
        "type": "article-journal",
        "title": "Gut microbes and fear",
        "author": [Name(family="Ritz", given="N")],
        "provenance": [Provenance(service=service, key=key, fetched_at=fetched_at)],
        **fields,
    }
    return Work.model_validate(values)


def stored(snap: Snapshot, work_id: int, key: str, work: Work, *ids: Identifier) -> None:
    snap.works[work_id] = StoredWork(work_id, key, work, 1, 0.0, 0.0, 0.0)
    snap.sources[work_id] = {(work.provenance[0].service, work.provenance[0].key): work}
    snap.taken.add(key)
    for ident in ids:
        snap.owners[ident] = work_id


def writes(plan: object) -> list[WorkWrite]:
    return [op for op in plan.ops if isinstance(op, WorkWrite)]  # type: ignore[attr-defined]


def test_new_works_get_free_keys_once() -> None:
    """Base key family+year+word; a taken key (stored or given earlier in the batch) gets a suffix."""
    snap = Snapshot(taken={"ritzndgut"})
    plan = plan_store(
        snap,
        [
            WorkCluster({DOI: "10.1/a"}, [record("crossref", "10.1/a", doi="10.1/a")]),
            WorkCluster({DOI: "10.1/b"}, [record("crossref", "10.1/b", doi="10.1/b")]),
        ],
        now=5.0,
    )
    assert [(u.key, u.outcome) for u in plan.updates] == [
        ("ritzndguta", "new"),
        ("ritzndgutb", "new"),
    ]
    assert [w.id for w in writes(plan)] == [-1, -2]  # provisional ids: the library assigns
    assert {"ritzndguta", "ritzndgutb"} <= snap.taken


def test_a_known_work_keeps_its_key_and_the_newer_record_wins() -> None:
    """A cluster holding a stored work's identifier updates that work under its key; an
    older fetch of the same record does not replace a newer one."""
    snap = Snapshot()
    stored(
        snap,
        7,
        "ritz2024gut",
        record("crossref", "10.1/a", 2.0, doi="10.1/a", page="1"),
        Identifier(DOI, "10.1/a"),
    )
    old = record("crossref", "10.1/a", 1.0, doi="10.1/a", page="99")
    (same,) = plan_store(snap, [WorkCluster({DOI: "10.1/a"}, [old])], now=5.0).updates
    assert (same.key, same.outcome) == ("ritz2024gut", "unchanged")
    newer = record("crossref", "10.1/a", 3.0, doi="10.1/a", page="1–2")
    plan = plan_store(snap, [WorkCluster({DOI: "10.1/a"}, [newer])], now=6.0)
    (update,) = plan.updates
    assert (update.key, update.outcome) == ("ritz2024gut", "updated")
    assert [(c.field, c.old, c.new) for c in update.changes] == [("page", "1", "1–2")]
    (write,) = writes(plan)
    assert (write.id, write.version, write.kind) == (7, 2, "updated")


def test_works_found_to_be_one_are_folded_into_the_oldest() -> None:
    """A record naming identifiers of two stored works folds the newer into the older one,
    whose key survives; the other key becomes an alias and the merge is noted."""
    snap = Snapshot()
    stored(snap, 3, "ritz2024gut", record("pubmed", "9", pmid="9"), Identifier(PMID, "9"))
    stored(
        snap,
        8,
        "ritz2024guta",
        record("crossref", "10.1/a", doi="10.1/a"),
        Identifier(DOI, "10.1/a"),
    )
    both = record("pubmed", "9", 2.0, pmid="9", doi="10.1/a")
    plan = plan_store(snap, [WorkCluster({PMID: "9", DOI: "10.1/a"}, [both])], now=5.0)
    assert plan.ops[0] == Fold(keep=3, other=8, alias="ritz2024guta")
    (update,) = plan.updates
    assert (update.key, update.merged_keys) == ("ritz2024gut", ["ritz2024guta"])
    assert any("merged into this one" in m.reason for m in update.work.merges)  # type: ignore[union-attr]
    assert snap.owners[Identifier(DOI, "10.1/a")] == 3


def test_a_work_new_in_this_batch_is_found_by_a_later_cluster() -> None:
    """Two clusters of one batch sharing an identifier update one provisional work."""
    snap = Snapshot()
    first = WorkCluster({DOI: "10.1/a"}, [record("crossref", "10.1/a", doi="10.1/a")])
    second = WorkCluster({PMID: "9"}, [record("pubmed", "9", pmid="9", doi="10.1/a")])
    plan = plan_store(snap, [first, second], now=5.0)
    assert [(w.id, w.kind) for w in writes(plan)] == [(-1, "new"), (-1, "updated")]


def test_a_refresh_versions_changes_and_holds_new_events_only() -> None:
    """No news: only the check time. Changed content: a new version, unreported, with the
    status events the work did not have; a work merged away meanwhile is a problem."""
    known = StatusEvent(kind="correction", notice="doi:10.1/c", source="crossref (publisher)")
    snap = Snapshot()
    stored(snap, 1, "ritz2024gut", record("crossref", "10.1/a", doi="10.1/a", status=[known]))
    stored(snap, 2, "other2020x", record("crossref", "10.1/b", doi="10.1/b"))
    retraction = StatusEvent(
        kind="retraction", notice="doi:10.1/r", source="crossref (retraction-watch)"
    )
    fresh = record("crossref", "10.1/a", 9.0, doi="10.1/a", status=[known, retraction])
    plan, problems = plan_refresh(
        snap,
        [
            Check(1, {("crossref", "10.1/a"): fresh}),
            Check(2),
            Check(99, {("crossref", "x"): fresh}),
        ],
        now=10.0,
    )
    assert plan.checked == [2]
    assert problems == {99: "the work was merged into another meanwhile"}
    (write,) = writes(plan)
    assert (write.id, write.kind, write.version, write.reported) == (1, "updated", 2, False)
    assert [e.kind for e in write.events] == ["retraction"]
    assert [c.field for c in write.changes] == ["status"]
