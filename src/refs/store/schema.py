"""The library's schema (SQLite), as migrations recorded in the database.

Tables: ``documents`` and their ``mentions``; ``works`` (the merged record, its citation
key and version); ``sources`` (the normalised record from each service that describes a
work, so that a work can be re-merged without the cache); ``identifiers`` (every DOI,
PMID and PMCID known for a work); ``citations`` (which documents cite which works);
``history`` (every version of every work, with what changed and why); ``key_aliases``
(keys of works later found to be the same as another); ``events`` (the refresh
outbox of status events; ``history.reported`` is its outbox of versions); ``meta``
(the generation of the library's content, and the one its exports were written at);
``renders`` (each work's export entries as last rendered: derived, re-rendered when stale).
"""

from __future__ import annotations

import sqlite3

from refs.store.db import Migration, run_script

__all__ = ["MIGRATIONS"]


def _v1(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL UNIQUE,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL
        );
        CREATE TABLE mentions (
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            scheme TEXT NOT NULL,
            value TEXT NOT NULL,
            raw TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            context TEXT NOT NULL
        );
        CREATE INDEX mentions_by_document ON mentions (document_id);
        CREATE TABLE works (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            data TEXT NOT NULL,
            version INTEGER NOT NULL,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            checked REAL NOT NULL
        );
        CREATE TABLE sources (
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            service TEXT NOT NULL,
            key TEXT NOT NULL,
            fetched_at REAL NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (service, key)
        );
        CREATE INDEX sources_by_work ON sources (work_id);
        CREATE TABLE identifiers (
            scheme TEXT NOT NULL,
            value TEXT NOT NULL,
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            PRIMARY KEY (scheme, value)
        );
        CREATE INDEX identifiers_by_work ON identifiers (work_id);
        CREATE TABLE citations (
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            PRIMARY KEY (document_id, work_id)
        );
        CREATE INDEX citations_by_work ON citations (work_id);
        CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            at REAL NOT NULL,
            source TEXT NOT NULL,
            data TEXT NOT NULL,
            changes TEXT NOT NULL
        );
        CREATE INDEX history_by_work ON history (work_id, version);
        CREATE TABLE key_aliases (
            alias TEXT PRIMARY KEY,
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE
        );
        """,
    )


def _v2(conn: sqlite3.Connection) -> None:
    """Refresh: versions and status events wait in an outbox until a report shows them."""
    run_script(
        conn,
        """
        ALTER TABLE history ADD COLUMN reported INTEGER NOT NULL DEFAULT 1;
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            notice TEXT,
            date TEXT,
            source TEXT NOT NULL,
            label TEXT,
            detected_at REAL NOT NULL,
            reported INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX events_unreported ON events (reported);
        CREATE INDEX history_unreported ON history (reported)
        """,
    )


def _v3(conn: sqlite3.Connection) -> None:
    """The digest of each record's raw payload, so a refresh can skip identical answers;
    mentions found by identifier when a new work is linked to the documents citing it."""
    conn.execute("ALTER TABLE sources ADD COLUMN digest TEXT")
    conn.execute("CREATE INDEX mentions_by_identifier ON mentions (scheme, value)")


def _v4(conn: sqlite3.Connection) -> None:
    """A generation counter, so a refresh can tell exports left stale by a failed write."""
    conn.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    conn.execute("INSERT INTO meta (name, value) VALUES ('generation', 0), ('exported', 0)")


def _v5(conn: sqlite3.Connection) -> None:
    """A digest of each document's mentions (an unchanged document is not rewritten), a
    fingerprint of the export files as last written (unchanged exports are not re-rendered)."""
    conn.execute("ALTER TABLE documents ADD COLUMN digest TEXT")
    conn.execute("INSERT INTO meta (name, value) VALUES ('exported_files', 0)")


def _v6(conn: sqlite3.Connection) -> None:
    """Rendered export entries, kept per work and variant (format and options) with the
    stamp they were rendered for, so an export renders only the works that changed; a
    digest of each work's stored data, which that stamp is made of. (A rowid table: its
    rows hold kilobytes of text, which WITHOUT ROWID tables are documented to be bad at.)"""
    import hashlib

    conn.execute("ALTER TABLE works ADD COLUMN digest TEXT")
    conn.executemany(
        "UPDATE works SET digest = ? WHERE id = ?",
        [
            (hashlib.sha1(str(data).encode("utf-8")).hexdigest(), wid)
            for wid, data in conn.execute("SELECT id, data FROM works").fetchall()
        ],
    )
    # What a run compares its records with, answered from the index alone: the rows
    # hold each record's normalised work (kilobytes), which a warm run never needs.
    conn.execute("CREATE INDEX sources_held ON sources (service, key, work_id, digest, fetched_at)")
    conn.execute(
        """CREATE TABLE renders (
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            variant TEXT NOT NULL,
            stamp TEXT NOT NULL,
            text TEXT NOT NULL,
            PRIMARY KEY (work_id, variant)
        )"""
    )


def _v7(conn: sqlite3.Connection) -> None:
    """Citations without identifiers: what matching concluded for each (by the mention's
    stable key), and the decisions people made, which no later match overrides."""
    conn.execute(
        """CREATE TABLE matches (
            key TEXT PRIMARY KEY,
            document TEXT NOT NULL,
            scheme TEXT NOT NULL,
            text TEXT NOT NULL,
            context TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            identifier TEXT,
            method TEXT,
            score REAL,
            query TEXT,
            reason TEXT,
            candidates TEXT NOT NULL DEFAULT '[]',
            updated_at REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX matches_document ON matches (document)")
    conn.execute("CREATE INDEX matches_identifier ON matches (identifier)")
    conn.execute(
        """CREATE TABLE decisions (
            key TEXT PRIMARY KEY,
            verdict TEXT NOT NULL CHECK (verdict IN ('accept', 'reject', 'exclude')),
            identifier TEXT,
            rejected TEXT NOT NULL DEFAULT '[]',
            decided_at REAL NOT NULL
        )"""
    )


def _v8(conn: sqlite3.Connection) -> None:
    """Values a person set for a work (from an imported bibliography) that exports show
    instead of the services' (refs import without --update-fields)."""
    conn.execute(
        """CREATE TABLE overrides (
            work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            source TEXT NOT NULL,
            PRIMARY KEY (work_id, field)
        )"""
    )


def _v9(conn: sqlite3.Connection) -> None:
    """One name per local document: libraries written before refs named ``paper.md``,
    ``./paper.md`` and ``sub/../paper.md`` as one document kept them apart. Each is
    renamed to its normal form; two rows that name one document become one (the more
    recently read one's mentions, the citations of both, the earlier first sighting);
    matches and decisions, keyed by the document's name, are re-keyed with it."""
    import os

    from refs.documents import is_url
    from refs.identifiers import Scheme
    from refs.match.matcher import citation_key

    rows = conn.execute("SELECT id, source, first_seen, last_seen FROM documents").fetchall()
    ids = {source: (doc_id, first, last) for doc_id, source, first, last in rows}
    for doc_id, source, first, last in sorted(rows, key=lambda r: r[3]):
        if source == "-" or is_url(source) or os.path.normpath(source) == source:
            continue
        name = os.path.normpath(source)
        held = ids.get(name)
        if held is None:
            conn.execute("UPDATE documents SET source = ? WHERE id = ?", (name, doc_id))
            ids[name] = (doc_id, first, last)
        else:
            # The same document twice: this row (read later) keeps its mentions.
            other, other_first, other_last = held
            conn.execute(
                "INSERT OR IGNORE INTO citations (document_id, work_id) "
                "SELECT ?, work_id FROM citations WHERE document_id = ?",
                (doc_id, other),
            )
            conn.execute("DELETE FROM documents WHERE id = ?", (other,))
            conn.execute(
                "UPDATE documents SET source = ?, first_seen = ?, last_seen = ? WHERE id = ?",
                (name, min(first, other_first), max(last, other_last), doc_id),
            )
            ids[name] = (doc_id, min(first, other_first), max(last, other_last))
        del ids[source]
        for key, scheme, text in conn.execute(
            "SELECT key, scheme, text FROM matches WHERE document = ?", (source,)
        ).fetchall():
            new = citation_key(name, Scheme(scheme), text)
            conn.execute(
                "UPDATE OR REPLACE matches SET key = ?, document = ? WHERE key = ?",
                (new, name, key),
            )
            conn.execute("UPDATE OR REPLACE decisions SET key = ? WHERE key = ?", (new, key))


MIGRATIONS: list[Migration] = [
    ("0001_library", _v1),
    ("0002_refresh_outbox", _v2),
    ("0003_source_digests", _v3),
    ("0004_generations", _v4),
    ("0005_digests_and_fingerprints", _v5),
    ("0006_rendered_entries", _v6),
    ("0007_matches_and_decisions", _v7),
    ("0008_overrides", _v8),
    ("0009_document_names", _v9),
]
