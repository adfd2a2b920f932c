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
        assert len(lib.migrations()) == 3
