"""The SQLite library specifically: its schema migrations and the files it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from refs.errors import StoreError
from refs.store.db import connect
from refs.store.library import SQLiteLibrary
from refs.store.schema import MIGRATIONS
from refs.work import Work


def test_migrations_are_recorded_and_bad_files_refused(tmp_path: Path) -> None:
    """The schema version is in the database; a file that is not a library is refused by name."""
    with SQLiteLibrary(tmp_path) as lib:
        assert lib.migrations() == [
            "0001_library",
            "0002_refresh_outbox",
            "0003_source_digests",
            "0004_generations",
            "0005_digests_and_fingerprints",
            "0006_rendered_entries",
            "0007_matches_and_decisions",
            "0008_overrides",
            "0009_document_names",
        ]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "library.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a usable library"):
        SQLiteLibrary(bad)


def test_an_older_library_is_upgraded_in_place(tmp_path: Path) -> None:
    """A library created by an earlier refs (schema 0001) opens, migrates and keeps its works."""
    old = connect(tmp_path / "library.sqlite", MIGRATIONS[:1], what="library")
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
    with SQLiteLibrary(tmp_path) as lib:
        assert [w.key for w in lib.works()] == ["old2001work"]
        outbox = lib.outbox()  # old history counts as reported
        assert (outbox.changes, outbox.events) == ([], [])
        assert len(lib.migrations()) == len(MIGRATIONS)


def test_a_newer_library_is_refused_with_its_version(tmp_path: Path) -> None:
    """A library migrated by a later refs is not touched by this one."""
    with SQLiteLibrary(tmp_path) as lib:
        lib._conn.execute("INSERT INTO migrations (name, applied_at) VALUES ('0099_future', 0)")
    with pytest.raises(StoreError, match=r"newer refs \(schema 0099_future\).*upgrade refs"):
        SQLiteLibrary(tmp_path)


def test_two_first_openers_do_not_race_the_migrations(tmp_path: Path) -> None:
    """Processes opening one new library at the same moment both succeed."""
    import subprocess
    import sys

    code = "import sys; from refs.store.library import SQLiteLibrary; SQLiteLibrary(sys.argv[1]).close()"
    for attempt in range(3):
        target = tmp_path / f"lib{attempt}"
        procs = [
            subprocess.Popen([sys.executable, "-c", code, str(target)], stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        errors = [p.communicate()[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
        with SQLiteLibrary(target) as lib:
            assert len(lib.migrations()) == len(MIGRATIONS)


def test_a_full_disk_says_so_and_changes_nothing(tmp_path: Path) -> None:
    """SQLITE_FULL is reported as "database or disk is full", not "cannot rollback"."""
    from refs.storage import Plan, WorkWrite
    from refs.work import Provenance

    with SQLiteLibrary(tmp_path) as lib:
        before = lib.counts()
        pages = lib._conn.execute("PRAGMA page_count").fetchone()[0]
        lib._conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        plan = Plan(now=1.0, source="resolve")
        for i in range(200):
            work = Work(
                title="x" * 2000,
                provenance=[Provenance(service="crossref", key=f"10.1/{i}", fetched_at=1.0)],
            )
            plan.ops.append(WorkWrite(-1 - i, f"key{i}", work, "new", 1, sources=[work]))
        with pytest.raises(StoreError, match="database or disk is full"):
            lib.apply(plan)
        assert lib.counts() == before


def test_a_library_path_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    from refs.store.lock import library_lock

    not_a_folder = tmp_path / "references"
    not_a_folder.write_text("oops", encoding="utf-8")
    with (
        pytest.raises(StoreError, match="is a file, not a folder"),
        library_lock(not_a_folder, wait=0),
    ):
        pass
    with pytest.raises(StoreError, match="cannot open the library"):
        SQLiteLibrary(not_a_folder)


def test_an_older_librarys_document_names_become_one_per_document(tmp_path: Path) -> None:
    """A library written before documents had one name (``./paper.md`` beside
    ``paper.md``, ``sub/../notes.md``) is migrated to one document per file: the names
    normalised, two rows of one document merged (the later reading's mentions, both
    documents' citations), a match and a person's decision re-keyed with the name, so
    ``--document paper.md`` finds everything and the decision still holds."""
    from refs.identifiers import Scheme
    from refs.match.matcher import citation_key

    old = connect(tmp_path / "library.sqlite", MIGRATIONS[:8], what="library")
    for key in ("first2020work", "second2021work"):
        old.execute(
            "INSERT INTO works (key, data, version, created, updated, checked) "
            "VALUES (?, ?, 1, 0, 0, 0)",
            (key, Work(title=key).model_dump_json(by_alias=True, exclude_none=True)),
        )
    old.executemany(
        "INSERT INTO documents (id, source, first_seen, last_seen) VALUES (?, ?, ?, ?)",
        [(1, "paper.md", 10.0, 20.0), (2, "./paper.md", 15.0, 30.0), (3, "sub/../notes.md", 5, 6)],
    )
    old.executemany(
        'INSERT INTO mentions (document_id, scheme, value, raw, start, "end", context) '
        "VALUES (?, 'doi', ?, ?, 0, 1, '')",
        [(1, "10.1/old", "10.1/old"), (2, "10.1/new", "10.1/new")],
    )
    old.executemany(
        "INSERT INTO citations (document_id, work_id) VALUES (?, ?)", [(1, 1), (2, 2), (3, 1)]
    )
    stale = citation_key("./paper.md", Scheme.REFERENCE, "Doe J. A study. 2020.")
    old.execute(
        "INSERT INTO matches (key, document, scheme, text, status, updated_at) "
        "VALUES (?, './paper.md', 'reference', 'Doe J. A study. 2020.', 'matched', 0)",
        (stale,),
    )
    old.execute(
        "INSERT INTO decisions (key, verdict, decided_at) VALUES (?, 'reject', 0)", (stale,)
    )
    old.close()
    with SQLiteLibrary(tmp_path) as lib:
        conn = lib._conn
        docs = conn.execute(
            "SELECT source, first_seen, last_seen FROM documents ORDER BY source"
        ).fetchall()
        assert [tuple(d) for d in docs] == [("notes.md", 5, 6), ("paper.md", 10.0, 30.0)]
        mentions = conn.execute(
            "SELECT value FROM mentions JOIN documents ON documents.id = document_id "
            "WHERE source = 'paper.md'"
        ).fetchall()
        assert [m[0] for m in mentions] == ["10.1/new"]  # the later reading's
        cited = conn.execute(
            "SELECT key FROM works JOIN citations ON works.id = work_id "
            "JOIN documents ON documents.id = document_id WHERE source = 'paper.md' ORDER BY key"
        ).fetchall()
        assert [c[0] for c in cited] == ["first2020work", "second2021work"]
        fresh = citation_key("paper.md", Scheme.REFERENCE, "Doe J. A study. 2020.")
        assert [tuple(r) for r in conn.execute("SELECT key, document FROM matches")] == [
            (fresh, "paper.md")
        ]
        assert lib.decisions()[fresh].verdict == "reject"
