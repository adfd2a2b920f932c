"""The library: transactions, stable keys, versions and history, merges of stored works."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from refs.errors import StoreError
from refs.extract import extract
from refs.identifiers import Scheme
from refs.models import Document, Format
from refs.normalise.crossref import work_from_crossref
from refs.normalise.pubmed import work_from_pubmed
from refs.resolve.pubmed import split_article_set
from refs.store.library import Library
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


def cluster(
    work: Work, notes: list[str] | None = None
) -> tuple[dict[Scheme, str], list[Work], list[str]]:
    return ({Scheme(k): v for k, v in work.identifiers().items()}, [work], notes or [])


def test_store_then_rerun_is_unchanged_and_keys_stable(tmp_path: Path) -> None:
    """Storing twice: second time unchanged; keys never change when other works arrive."""
    with Library(tmp_path) as lib:
        first = lib.store([cluster(crossref(PLOS)), cluster(pubmed(PNAS_PUBMED))])
        assert [u.outcome for u in first] == ["new", "new"]
        keys = [u.key for u in first]
        assert keys == ["sadasivan2012methylphenidate", "ritz2024social"]
        again = lib.store([cluster(crossref(PLOS, fetched_at=2.0))])
        assert [(u.key, u.outcome) for u in again] == [
            ("sadasivan2012methylphenidate", "unchanged")
        ]
        lib.store([cluster(crossref("crossref/works_10.1073_pnas.1414271111.json"))])
        assert sorted(w.key for w in lib.works()) == sorted([*keys, "makris2014developing"])


def test_colliding_keys_get_a_suffix_once(tmp_path: Path) -> None:
    """Two works with the same base key: the second gets 'a', and keeps it."""
    a = crossref(PLOS)
    b = a.model_copy(
        update={
            "doi": "10.1371/other",
            "provenance": [a.provenance[0].model_copy(update={"key": "10.1371/other"})],
        }
    )
    with Library(tmp_path) as lib:
        updates = lib.store([cluster(a), cluster(b)])
        assert [u.key for u in updates] == [
            "sadasivan2012methylphenidate",
            "sadasivan2012methylphenidatea",
        ]
        updates = lib.store([cluster(b), cluster(a)])
        assert [u.key for u in updates] == [
            "sadasivan2012methylphenidatea",
            "sadasivan2012methylphenidate",
        ]


def test_changed_record_makes_a_version_with_history(tmp_path: Path) -> None:
    """A changed page range stores a new version with old → new in the history."""
    before = crossref(PLOS)
    after = before.model_copy(
        update={
            "page": "e33693–e33700",
            "provenance": [before.provenance[0].model_copy(update={"fetched_at": 5.0})],
        }
    )
    with Library(tmp_path) as lib:
        lib.store([cluster(before)])
        (update,) = lib.store([cluster(after)])
        assert update.outcome == "updated"
        assert [(c.field, c.old, c.new) for c in update.changes] == [
            ("page", "e33693", "e33693–e33700")
        ]
        history = lib.history("sadasivan2012methylphenidate")
        assert [h["version"] for h in history] == [1, 2]
        assert history[1]["changes"] == [{"field": "page", "old": "e33693", "new": "e33693–e33700"}]


def test_works_found_to_be_one_are_merged_and_old_key_kept_as_alias(tmp_path: Path) -> None:
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
    with Library(tmp_path) as lib:
        first = lib.store(
            [
                ({Scheme.PMID: "38147649"}, [pmid_only], []),
                ({Scheme.DOI: "10.1073/pnas.2308706120"}, [doi_only], []),
            ]
        )
        assert len({u.key for u in first}) == 2
        (update,) = lib.store([cluster(pm)])  # PubMed now names both
        assert update.outcome == "updated"
        assert update.merged_keys == [first[1].key]
        assert [w.key for w in lib.works()] == [first[0].key]
        alias = lib.conn.execute("SELECT alias FROM key_aliases").fetchall()
        assert alias == [(first[1].key,)]


def test_documents_link_works_and_a_failed_write_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents cite works through their mentions; an error mid-store rolls everything back."""
    doc = Document(
        "article.md", "See doi:10.1371/journal.pone.0033693 and PMID: 38147649.", Format.MARKDOWN
    )
    with Library(tmp_path) as lib:
        lib.store(
            [cluster(crossref(PLOS)), cluster(pubmed(PNAS_PUBMED))],
            documents=[(doc.source, extract(doc))],
        )
        assert {w.key: w.documents for w in lib.works()} == {
            "ritz2024social": ["article.md"],
            "sadasivan2012methylphenidate": ["article.md"],
        }
        before = lib.counts()

        def boom(*args: object) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(lib, "_store_document", boom)
        with pytest.raises(RuntimeError):
            lib.store(
                [cluster(crossref("crossref/works_10.1073_pnas.1414271111.json"))],
                documents=[("other.md", [])],
            )
        assert lib.counts() == before


def test_migrations_are_recorded_and_bad_files_refused(tmp_path: Path) -> None:
    """The schema version is in the database; a file that is not a library is refused by name."""
    with Library(tmp_path) as lib:
        assert [r[0] for r in lib.conn.execute("SELECT name FROM migrations")] == [
            "0001_library",
            "0002_refresh_outbox",
            "0003_source_digests",
        ]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "library.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a usable library"):
        Library(bad)
    assert sqlite3.sqlite_version


def test_an_older_library_is_upgraded_in_place(tmp_path: Path) -> None:
    """A library created by an earlier refs (schema 0001) opens, migrates and keeps its works."""
    from refs.store import library as library_module
    from refs.store.db import connect

    old = connect(tmp_path / "library.sqlite", library_module.MIGRATIONS[:1], what="library")
    old.execute(
        "INSERT INTO works (key, data, version, created, updated, checked) VALUES (?, ?, 1, 0, 0, 0)",
        (
            "old2001work",
            Work(title="An old work").model_dump_json(by_alias=True, exclude_none=True),
        ),
    )
    old.execute(
        "INSERT INTO history (work_id, version, at, source, data, changes) VALUES (1, 1, 0, 'resolve', '{}', '[]')"
    )
    old.close()
    with Library(tmp_path) as lib:
        assert [w.key for w in lib.works()] == ["old2001work"]
        assert lib.pending_report() == ([], [])  # old history counts as reported
        assert len(list(lib.conn.execute("SELECT name FROM migrations"))) == 3
