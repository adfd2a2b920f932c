"""The storage contract: what every library implementation must do, tested once.

Each test takes the ``library`` fixture (``tests/conftest.py``), parametrised over the
implementations (SQLite today), and goes through the interface only: works stored by
the planner, documents, keys, versions and history, merges, aliases, the outbox,
transactions that roll back whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from refs.app.resolving import BuiltWorks, store_works
from refs.choices import ExportFormat
from refs.errors import StoreError
from refs.extract import extract
from refs.identifiers import Scheme
from refs.models import Document, Format, Mention
from refs.normalise.crossref import work_from_crossref
from refs.normalise.pubmed import work_from_pubmed
from refs.planner import WorkCluster
from refs.records.pubmed import split_article_set
from refs.storage import Library, Plan, WorkUpdate, WorkWrite
from refs.work import Work

FIX = Path(__file__).parent / "fixtures"


def crossref(name: str, fetched_at: float = 1.0) -> Work:
    message = json.loads((FIX / name).read_text(encoding="utf-8"))["message"]
    return work_from_crossref(message, key=message["DOI"].lower(), fetched_at=fetched_at)


def pubmed(name: str, fetched_at: float = 1.0) -> Work:
    ((xml, _),) = split_article_set((FIX / name).read_bytes()).values()
    return work_from_pubmed(xml, fetched_at=fetched_at)


PLOS = "crossref/works_10.1371_journal.pone.0033693.json"
PNAS_PUBMED = "ncbi-eutils/efetch_pubmed_38147649.metapub.xml"


def cluster(work: Work, notes: list[str] | None = None) -> WorkCluster:
    return WorkCluster({Scheme(k): v for k, v in work.identifiers().items()}, [work], notes or [])


def store(
    lib: Library,
    clusters: list[WorkCluster],
    *,
    documents: Sequence[tuple[str, Sequence[Mention]]] = (),
) -> list[WorkUpdate]:
    return store_works(lib, BuiltWorks(clusters), documents).updates


def test_store_then_rerun_is_unchanged_and_keys_stable(library: Library) -> None:
    """Storing twice: second time unchanged; keys never change when other works arrive."""
    lib = library
    first = store(lib, [cluster(crossref(PLOS)), cluster(pubmed(PNAS_PUBMED))])
    assert [u.outcome for u in first] == ["new", "new"]
    keys = [u.key for u in first]
    assert keys == ["sadasivan2012methylphenidate", "ritz2024social"]
    again = store(lib, [cluster(crossref(PLOS, fetched_at=2.0))])
    assert [(u.key, u.outcome) for u in again] == [("sadasivan2012methylphenidate", "unchanged")]
    store(lib, [cluster(crossref("crossref/works_10.1073_pnas.1414271111.json"))])
    assert sorted(w.key for w in lib.works()) == sorted([*keys, "makris2014developing"])


def test_colliding_keys_get_a_suffix_once(library: Library) -> None:
    """Two works with the same base key: the second gets 'a', and keeps it."""
    a = crossref(PLOS)
    b = a.model_copy(
        update={
            "doi": "10.1371/other",
            "provenance": [a.provenance[0].model_copy(update={"key": "10.1371/other"})],
        }
    )
    lib = library
    updates = store(lib, [cluster(a), cluster(b)])
    assert [u.key for u in updates] == [
        "sadasivan2012methylphenidate",
        "sadasivan2012methylphenidatea",
    ]
    updates = store(lib, [cluster(b), cluster(a)])
    assert [u.key for u in updates] == [
        "sadasivan2012methylphenidatea",
        "sadasivan2012methylphenidate",
    ]


def test_changed_record_makes_a_version_with_history(library: Library) -> None:
    """A changed page range stores a new version with old → new in the history."""
    before = crossref(PLOS)
    after = before.model_copy(
        update={
            "page": "e33693–e33700",
            "provenance": [before.provenance[0].model_copy(update={"fetched_at": 5.0})],
        }
    )
    lib = library
    store(lib, [cluster(before)])
    (update,) = store(lib, [cluster(after)])
    assert update.outcome == "updated"
    assert [(c.field, c.old, c.new) for c in update.changes] == [
        ("page", "e33693", "e33693–e33700")
    ]
    history = lib.history("sadasivan2012methylphenidate")
    assert [h.version for h in history] == [1, 2]
    assert history[1].changes == [{"field": "page", "old": "e33693", "new": "e33693–e33700"}]


def test_works_found_to_be_one_are_merged_and_old_key_kept_as_alias(library: Library) -> None:
    """A PMID-only work and a DOI-only work later linked become one; the older key survives."""
    pm = pubmed(PNAS_PUBMED)
    pmid_only = pm.model_copy(update={"doi": None, "pmcid": None})
    doi_only = Work(
        type="article-journal",
        title="Social anxiety disorder-associated gut microbiota increases social fear",
        doi="10.1073/pnas.2308706120",
        provenance=[
            pm.provenance[0].model_copy(
                update={"service": "crossref", "key": "10.1073/pnas.2308706120"}
            )
        ],
    )
    lib = library
    first = store(
        lib,
        [
            WorkCluster({Scheme.PMID: "38147649"}, [pmid_only]),
            WorkCluster({Scheme.DOI: "10.1073/pnas.2308706120"}, [doi_only]),
        ],
    )
    assert len({u.key for u in first}) == 2
    (update,) = store(lib, [cluster(pm)])  # PubMed now names both
    assert update.outcome == "updated"
    assert update.merged_keys == [first[1].key]
    assert [w.key for w in lib.works()] == [first[0].key]
    assert lib.aliases() == {first[1].key: first[0].key}


def test_documents_link_works_and_a_failed_write_changes_nothing(library: Library) -> None:
    """Documents cite works through their mentions; a write that fails midway changes nothing."""
    lib = library
    doc = Document(
        "article.md", "See doi:10.1371/journal.pone.0033693 and PMID: 38147649.", Format.MARKDOWN
    )
    store(
        lib,
        [cluster(crossref(PLOS)), cluster(pubmed(PNAS_PUBMED))],
        documents=[(doc.source, extract(doc))],
    )
    assert {w.key: w.documents for w in lib.works()} == {
        "ritz2024social": ["article.md"],
        "sadasivan2012methylphenidate": ["article.md"],
    }
    before = lib.counts()
    other = crossref("crossref/works_10.1073_pnas.1414271111.json")
    # A new work, then one claiming a key that is taken (as a concurrent writer would):
    # the second write fails, and the first must not survive it.
    plan = Plan(now=2.0, source="resolve")
    plan.ops.append(WorkWrite(-1, "makris2014developing", other, "new", 1, sources=[other]))
    plan.ops.append(WorkWrite(-2, "ritz2024social", other, "new", 1, sources=[other]))
    with pytest.raises(StoreError, match="nothing was changed"):
        lib.apply(plan)
    assert lib.counts() == before
    assert [w.key for w in lib.works()] == ["ritz2024social", "sadasivan2012methylphenidate"]


def _versioned(lib: Library, work: Work, page: str) -> Plan:
    """A refresh's plan giving ``work`` a new page and a retraction, held in the outbox."""
    from refs.planner import Check, plan_refresh
    from refs.work import StatusEvent

    (stored,) = lib.works()
    fresh = work.model_copy(
        update={
            "page": page,
            "status": [StatusEvent(kind="retraction", notice="doi:10.1/notice", source="test")],
        }
    )
    plan, problems = plan_refresh(
        lib.snapshot(work_ids=[stored.id]),
        [Check(stored.id, {("crossref", PLOS_DOI): fresh})],
        now=9.0,
    )
    assert problems == {}
    return plan


PLOS_DOI = "10.1371/journal.pone.0033693"


def test_outbox_reports_each_version_and_event_once(library: Library) -> None:
    """A refresh's new version and new status event wait in the outbox until marked reported."""
    work = crossref(PLOS)
    store(library, [cluster(work)])
    assert library.outbox().changes == []  # a resolve's versions are reported as they happen
    library.apply(_versioned(library, work, "e1–e9"))
    outbox = library.outbox()
    assert [(c.key, c.version) for c in outbox.changes] == [("sadasivan2012methylphenidate", 2)]
    assert [(e.key, e.event.kind, e.event.notice) for e in outbox.events] == [
        ("sadasivan2012methylphenidate", "retraction", "doi:10.1/notice")
    ]
    assert outbox.events[0].identifiers["doi"] == PLOS_DOI
    library.mark_reported(outbox)
    again = library.outbox()
    assert (again.changes, again.events) == ([], [])
    assert [h.version for h in library.history("sadasivan2012methylphenidate")] == [1, 2]


def test_due_works_and_snapshots(library: Library) -> None:
    """Due works come oldest check first with their record references; snapshots find owners."""
    store(library, [cluster(crossref(PLOS)), cluster(pubmed(PNAS_PUBMED))])
    due = library.due(None)
    assert {d.key for d in due} == {"sadasivan2012methylphenidate", "ritz2024social"}
    assert all(d.sources and d.sources[0].digest is None for d in due)  # tests' works: no digest
    assert library.due(3600.0) == []  # just stored: checked now
    from refs.identifiers import Identifier

    snap = library.snapshot([Identifier(Scheme.PMID, "38147649")])
    (stored,) = snap.works.values()
    assert stored.key == "ritz2024social"
    assert snap.owners[Identifier(Scheme.PMID, "38147649")] == stored.id
    assert {"ritz2024social", "sadasivan2012methylphenidate"} <= snap.taken


def _export(lib: Library, fmt: ExportFormat, *, unicode: bool = False) -> str:
    from refs.app.exporting import render_library

    return render_library(lib, fmt, unicode=unicode)


def _fresh(lib: Library, fmt: ExportFormat, *, unicode: bool = False) -> str:
    from refs.app.exporting import library_entries, render

    return render(library_entries(lib), fmt, unicode=unicode)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_exports_from_rendered_entries_equal_a_fresh_render(
    library: Library, fmt: ExportFormat
) -> None:
    """Entries kept from an earlier export are reused only while their work, key and
    citing documents are the same: the file always equals rendering every work anew."""
    lib = library
    doc = Document("a.md", "See doi:10.1371/journal.pone.0033693.", Format.MARKDOWN)
    store(lib, [cluster(crossref(PLOS)), cluster(pubmed(PNAS_PUBMED))])
    assert _export(lib, fmt) == _fresh(lib, fmt)
    assert _export(lib, fmt) == _fresh(lib, fmt)  # now from the kept entries
    # A document now cites one work: its entry names it, the other stays as it was.
    store(lib, [cluster(crossref(PLOS))], documents=[(doc.source, extract(doc))])
    text = _export(lib, fmt)
    assert "a.md" in text
    assert text == _fresh(lib, fmt)
    # The work itself changes (a new version of its record).
    changed = crossref(PLOS, fetched_at=5.0)
    changed.title = "A corrected title"
    store(lib, [cluster(changed)])
    text = _export(lib, fmt)
    assert "A corrected title" in text
    assert text == _fresh(lib, fmt)
    # Options are kept apart: an export with other options is not served from these.
    assert _export(lib, fmt, unicode=True) == _fresh(lib, fmt, unicode=True)
