"""The library (``references/library.sqlite``): the user's data.

Tables: ``documents`` and their ``mentions``; ``works`` (the merged record, its citation
key and version); ``sources`` (the normalised record from each service that describes a
work, so that a work can be re-merged without the cache); ``identifiers`` (every DOI,
PMID and PMCID known for a work); ``citations`` (which documents cite which works);
``history`` (every version of every work, with what changed and why); ``key_aliases``
(keys of works later found to be the same as another).

Every write happens in one transaction; migrations are recorded in the database.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refs.dedup import lasting_notes, merge_works
from refs.identifiers import Identifier, Scheme
from refs.keys import base_key, next_free
from refs.models import Mention
from refs.store.db import Migration, connect, run_script, transaction
from refs.work import Work

__all__ = [
    "FILENAME",
    "Change",
    "DueWork",
    "Library",
    "Source",
    "SourceRef",
    "StoredWork",
    "WorkUpdate",
    "diff_works",
]

FILENAME = "library.sqlite"


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


MIGRATIONS: list[Migration] = [
    ("0001_library", _v1),
    ("0002_refresh_outbox", _v2),
    ("0003_source_digests", _v3),
]


@dataclass(frozen=True, slots=True)
class Source:
    """One normalised record of a work, ready to be stored."""

    work: Work

    @property
    def slot(self) -> tuple[str, str]:
        p = self.work.provenance[0]
        return (p.service, p.key)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where one of a work's records came from, without loading the record."""

    service: str
    key: str
    digest: str | None


@dataclass(slots=True)
class DueWork:
    """A work due for a check: just what the check needs (no record is parsed)."""

    id: int
    key: str
    checked: float
    sources: list[SourceRef]


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
class Change:
    """One field of a work that changed: old → new (JSON values)."""

    field: str
    old: Any
    new: Any


@dataclass(slots=True)
class WorkUpdate:
    """What storing one cluster did to the library."""

    key: str
    outcome: str  # new | updated | unchanged
    changes: list[Change] = field(default_factory=list)
    merged_keys: list[str] = field(default_factory=list)
    work: Work | None = None
    previous: Work | None = None


def diff_works(old: Work, new: Work) -> list[Change]:
    """Field-by-field differences in bibliographic content (provenance and notes excluded)."""
    a, b = old.comparable(), new.comparable()
    return [
        Change(k, a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)
    ]


def _dump(work: Work) -> str:
    return work.model_dump_json(by_alias=True, exclude_none=True)


def _load(data: str) -> Work:
    return Work.model_validate_json(data)


class Library:
    """The SQLite library in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILENAME
        self.conn = connect(self.path, MIGRATIONS, what="library")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def _row(self, row: Sequence[Any]) -> StoredWork:
        wid, key, data, version, created, updated, checked = row
        return StoredWork(
            int(wid),
            str(key),
            _load(str(data)),
            int(version),
            float(created),
            float(updated),
            float(checked),
        )

    def works(
        self, *, document: str | None = None, keys: Iterable[str] | None = None
    ) -> list[StoredWork]:
        """Works in key order (only those ``document`` cites, or only ``keys``), with their citing documents."""
        query = (
            "SELECT w.id, w.key, w.data, w.version, w.created, w.updated, w.checked FROM works w"
        )
        args: list[Any] = []
        if document is not None:
            query += (
                " JOIN citations c ON c.work_id = w.id JOIN documents d ON d.id = c.document_id"
                " WHERE d.source = ?"
            )
            args.append(document)
        rows = [self._row(r) for r in self.conn.execute(query + " ORDER BY w.key", args)]
        if keys is not None:
            wanted = set(keys)
            rows = [r for r in rows if r.key in wanted]
        cited = self._cited_by()
        for r in rows:
            r.documents = cited.get(r.id, [])
        return rows

    def has_document(self, source: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM documents WHERE source = ?", (source,)).fetchone()
            is not None
        )

    def documents(self) -> list[str]:
        return [
            str(r[0]) for r in self.conn.execute("SELECT source FROM documents ORDER BY source")
        ]

    def find(self, identifiers: Iterable[Identifier]) -> list[int]:
        """Ids of the works that hold any of these identifiers, oldest first."""
        found: set[int] = set()
        for ident in identifiers:
            row = self.conn.execute(
                "SELECT work_id FROM identifiers WHERE scheme = ? AND value = ?",
                (ident.scheme.value, ident.value),
            ).fetchone()
            if row:
                found.add(int(row[0]))
        return sorted(found)

    def sources(self, work_id: int) -> list[Work]:
        return [
            _load(str(r[0]))
            for r in self.conn.execute(
                "SELECT data FROM sources WHERE work_id = ? ORDER BY service, key", (work_id,)
            )
        ]

    def history(self, key: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            """SELECT h.version, h.at, h.source, h.changes FROM history h JOIN works w ON w.id = h.work_id
               WHERE w.key = ? ORDER BY h.version""",
            (key,),
        )
        return [
            {"version": v, "at": at, "source": s, "changes": json.loads(c)} for v, at, s, c in rows
        ]

    def counts(self) -> dict[str, int]:
        return {
            table: int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in (
                "documents",
                "mentions",
                "works",
                "sources",
                "identifiers",
                "citations",
                "history",
            )
        }

    # ------------------------------------------------------------------ writing

    def store(
        self,
        clusters: Sequence[tuple[dict[Scheme, str], Sequence[Work], Sequence[str]]],
        *,
        documents: Sequence[tuple[str, Sequence[Mention]]] = (),
        source: str = "resolve",
        now: float | None = None,
    ) -> list[WorkUpdate]:
        """Store a run in one transaction: works (with their sources) and documents.

        Each cluster is (identifiers, normalised records, merge notes). A cluster that
        shares an identifier with stored works updates them (several such works are
        merged into the oldest, whose key survives; the others' keys become aliases).
        """
        now = time.time() if now is None else now
        updates: list[WorkUpdate] = []
        with transaction(self.conn):
            taken = {
                str(r[0])
                for r in self.conn.execute(
                    "SELECT key FROM works UNION SELECT alias FROM key_aliases"
                )
            }
            for identifiers, records, notes in clusters:
                updates.append(self._store_cluster(identifiers, records, notes, taken, source, now))
            for doc_source, mentions in documents:
                self._store_document(doc_source, mentions, now)
        return updates

    def _store_cluster(
        self,
        identifiers: dict[Scheme, str],
        records: Sequence[Work],
        notes: Sequence[str],
        taken: set[str],
        source: str,
        now: float,
    ) -> WorkUpdate:
        idents = [Identifier(s, v) for s, v in identifiers.items()]
        for w in records:
            idents += [Identifier(Scheme(s), v) for s, v in w.identifiers().items()]
        existing = self.find(idents)
        merged_keys: list[str] = []
        notes = list(notes)
        if len(existing) > 1:
            merged_keys = self._merge_stored(existing[0], existing[1:], now)
            notes.append(
                f"library works {', '.join(merged_keys)} merged into this one: they share identifiers"
            )
        work_id = existing[0] if existing else None
        old: StoredWork | None = None
        stored_sources: dict[tuple[str, str], Work] = {}
        if work_id is not None:
            row = self.conn.execute(
                "SELECT id, key, data, version, created, updated, checked FROM works WHERE id = ?",
                (work_id,),
            ).fetchone()
            old = self._row(row)
            stored_sources = {Source(w).slot: w for w in self.sources(work_id)}
        for w in records:
            slot = Source(w).slot
            previous = stored_sources.get(slot)
            if previous is None or w.provenance[0].fetched_at >= previous.provenance[0].fetched_at:
                stored_sources[slot] = w
        sources = [stored_sources[k] for k in sorted(stored_sources)]
        kept = lasting_notes(old.work) if old else []
        merged = merge_works(sources, dict.fromkeys([*kept, *notes]))
        if old is None:
            key = next_free(base_key(merged), taken)
            taken.add(key)
            cur = self.conn.execute(
                "INSERT INTO works (key, data, version, created, updated, checked) VALUES (?, ?, 1, ?, ?, ?)",
                (key, _dump(merged), now, now, now),
            )
            work_id = int(cur.lastrowid or 0)
            self._history(work_id, 1, now, source, merged, [])
            update = WorkUpdate(key, "new", work=merged)
        else:
            work_id = old.id
            changes = diff_works(old.work, merged)
            if changes or len(existing) > 1:
                version = old.version + 1
                self.conn.execute(
                    "UPDATE works SET data = ?, version = ?, updated = ?, checked = ? WHERE id = ?",
                    (_dump(merged), version, now, now, work_id),
                )
                self._history(work_id, version, now, source, merged, changes)
                update = WorkUpdate(old.key, "updated", changes, merged_keys, merged, old.work)
            else:
                # Same content: keep the stored record, refresh provenance and check time.
                self.conn.execute(
                    "UPDATE works SET data = ?, checked = ? WHERE id = ?",
                    (_dump(merged), now, work_id),
                )
                update = WorkUpdate(old.key, "unchanged", work=merged, previous=old.work)
        self._put_sources(work_id, sources)
        all_ids = {(i.scheme.value, i.value) for i in idents} | set(merged.identifiers().items())
        self.conn.executemany(
            "INSERT OR REPLACE INTO identifiers (scheme, value, work_id) VALUES (?, ?, ?)",
            [(s, v, work_id) for s, v in sorted(all_ids)],
        )
        # Documents stored earlier that mention any of these identifiers now cite this work.
        self.conn.execute(
            """INSERT OR IGNORE INTO citations (document_id, work_id)
               SELECT DISTINCT m.document_id, i.work_id FROM identifiers i
               JOIN mentions m ON m.scheme = i.scheme AND m.value = i.value WHERE i.work_id = ?""",
            (work_id,),
        )
        return update

    def _history(
        self,
        work_id: int,
        version: int,
        at: float,
        source: str,
        work: Work,
        changes: list[Change],
        *,
        reported: bool = True,
    ) -> None:
        """A version in the history; ``reported=False`` puts it in the refresh outbox."""
        self.conn.execute(
            "INSERT INTO history (work_id, version, at, source, data, changes, reported) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                work_id,
                version,
                at,
                source,
                _dump(work),
                json.dumps(
                    [{"field": c.field, "old": c.old, "new": c.new} for c in changes],
                    ensure_ascii=False,
                ),
                int(reported),
            ),
        )

    def _merge_stored(self, keep: int, others: Sequence[int], now: float) -> list[str]:
        """Fold works ``others`` into ``keep``: their sources, identifiers, citations move; keys become aliases."""
        keys = []
        for other in others:
            key = str(
                self.conn.execute("SELECT key FROM works WHERE id = ?", (other,)).fetchone()[0]
            )
            keys.append(key)
            for table in ("sources", "identifiers", "history", "key_aliases"):
                self.conn.execute(
                    f"UPDATE {table} SET work_id = ? WHERE work_id = ?", (keep, other)
                )
            self.conn.execute(
                "INSERT OR IGNORE INTO citations (document_id, work_id) SELECT document_id, ? FROM citations WHERE work_id = ?",
                (keep, other),
            )
            self.conn.execute("DELETE FROM works WHERE id = ?", (other,))
            self.conn.execute(
                "INSERT OR REPLACE INTO key_aliases (alias, work_id) VALUES (?, ?)", (key, keep)
            )
        return keys

    def _store_document(self, source: str, mentions: Sequence[Mention], now: float) -> None:
        row = self.conn.execute("SELECT id FROM documents WHERE source = ?", (source,)).fetchone()
        if row:
            doc_id = int(row[0])
            self.conn.execute("UPDATE documents SET last_seen = ? WHERE id = ?", (now, doc_id))
            self.conn.execute("DELETE FROM mentions WHERE document_id = ?", (doc_id,))
            self.conn.execute("DELETE FROM citations WHERE document_id = ?", (doc_id,))
        else:
            cur = self.conn.execute(
                "INSERT INTO documents (source, first_seen, last_seen) VALUES (?, ?, ?)",
                (source, now, now),
            )
            doc_id = int(cur.lastrowid or 0)
        self.conn.executemany(
            'INSERT INTO mentions (document_id, scheme, value, raw, start, "end", context) VALUES (?, ?, ?, ?, ?, ?, ?)',
            [(doc_id, m.scheme.value, m.id, m.raw, m.start, m.end, m.context) for m in mentions],
        )
        self.conn.execute(
            """INSERT OR IGNORE INTO citations (document_id, work_id)
               SELECT DISTINCT ?, i.work_id FROM mentions m
               JOIN identifiers i ON i.scheme = m.scheme AND i.value = m.value
               WHERE m.document_id = ?""",
            (doc_id, doc_id),
        )

    def record_check(self, keys: Iterable[str], *, now: float | None = None) -> None:
        """Mark works as checked (a refresh found them unchanged)."""
        now = time.time() if now is None else now
        with transaction(self.conn):
            self.conn.executemany(
                "UPDATE works SET checked = ? WHERE key = ?", [(now, k) for k in keys]
            )

    # ------------------------------------------------------------------ refresh

    def _put_sources(self, work_id: int, sources: Iterable[Work]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO sources (work_id, service, key, fetched_at, data, digest) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    work_id,
                    s.provenance[0].service,
                    s.provenance[0].key,
                    s.provenance[0].fetched_at,
                    _dump(s),
                    s.provenance[0].digest,
                )
                for s in sources
            ],
        )

    def checkable(
        self, older_than: float | None, *, documents: Sequence[str] = (), now: float | None = None
    ) -> list[DueWork]:
        """Works due for a check, oldest check first, with references to their records.

        ``older_than`` seconds since the last check (``None``: all); ``documents``
        restricts to the works those documents cite. Nothing is parsed: a library of
        100,000 works is planned in a second.
        """
        now = time.time() if now is None else now
        query = "SELECT w.id, w.key, w.checked FROM works w"
        args: list[Any] = []
        if documents:
            marks = ", ".join("?" for _ in documents)
            query += (
                f" WHERE w.id IN (SELECT c.work_id FROM citations c JOIN documents d ON d.id = c.document_id"
                f" WHERE d.source IN ({marks}))"
            )
            args.extend(documents)
        due = {
            int(wid): DueWork(int(wid), str(key), float(checked), [])
            for wid, key, checked in self.conn.execute(query, args)
            if older_than is None or float(checked) <= now - older_than
        }
        for wid, service, key, digest in self.conn.execute(
            "SELECT work_id, service, key, digest FROM sources ORDER BY work_id, service, key"
        ):
            work = due.get(int(wid))
            if work is not None:
                work.sources.append(SourceRef(str(service), str(key), digest))
        return sorted(due.values(), key=lambda w: (w.checked, w.key))

    def stored(self, work_id: int) -> StoredWork | None:
        row = self.conn.execute(
            "SELECT id, key, data, version, created, updated, checked FROM works WHERE id = ?",
            (work_id,),
        ).fetchone()
        return self._row(row) if row else None

    def source_works(self, work_id: int) -> dict[tuple[str, str], Work]:
        return {(w.provenance[0].service, w.provenance[0].key): w for w in self.sources(work_id)}

    def apply_refresh(
        self,
        unchanged: Sequence[int],
        results: Sequence[tuple[int, Work, list[Work]]],
        *,
        source: str = "refresh",
        now: float | None = None,
    ) -> list[WorkUpdate]:
        """Store the outcome of a check in one transaction.

        ``unchanged`` works (every record the same) only get their check time. Each
        result is (work id, its new merged version, its new per-service records): if
        the merged version differs from the stored one it becomes a new version with its
        history entry, and every status event it did not have before an outbox row;
        both wait, unreported, for :meth:`pending_report`.
        """
        now = time.time() if now is None else now
        updates = []
        with transaction(self.conn):
            self.conn.executemany(
                "UPDATE works SET checked = ? WHERE id = ?", [(now, wid) for wid in unchanged]
            )
            for work_id, merged, sources in results:
                stored = self.stored(work_id)
                if stored is None:  # merged away meanwhile: nothing to do
                    continue
                changes = diff_works(stored.work, merged)
                self._put_sources(work_id, sources)
                if not changes:
                    self.conn.execute("UPDATE works SET checked = ? WHERE id = ?", (now, work_id))
                    updates.append(
                        WorkUpdate(stored.key, "unchanged", work=merged, previous=stored.work)
                    )
                    continue
                self.conn.execute(
                    "UPDATE works SET data = ?, version = ?, updated = ?, checked = ? WHERE id = ?",
                    (_dump(merged), stored.version + 1, now, now, work_id),
                )
                self._history(
                    work_id, stored.version + 1, now, source, merged, changes, reported=False
                )
                known = {e.key() for e in stored.work.status}
                for event in merged.status:
                    if event.key() not in known:
                        self.conn.execute(
                            """INSERT INTO events (work_id, kind, notice, date, source, label, detected_at)
                               VALUES (?, ?, ?, ?, ?, ?, ?)""",
                            (
                                work_id,
                                event.kind,
                                event.notice,
                                event.date,
                                event.source,
                                event.label,
                                now,
                            ),
                        )
                updates.append(
                    WorkUpdate(stored.key, "updated", changes, work=merged, previous=stored.work)
                )
        return updates

    def pending_report(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Unreported changed versions and status events, with the documents citing each work."""
        cited = self._cited_by()
        changes = []
        for hid, wid, key, version, at, changes_json, data in self.conn.execute(
            """SELECT h.id, w.id, w.key, h.version, h.at, h.changes, w.data FROM history h
               JOIN works w ON w.id = h.work_id WHERE h.reported = 0 ORDER BY w.key, h.version"""
        ):
            changes.append(
                {
                    "id": hid,
                    "key": key,
                    "version": version,
                    "at": at,
                    "title": _load(str(data)).title,
                    "changes": json.loads(changes_json),
                    "cited_by": cited.get(int(wid), []),
                }
            )
        events = []
        for eid, wid, key, kind, notice, date, source, label, at, data in self.conn.execute(
            """SELECT e.id, w.id, w.key, e.kind, e.notice, e.date, e.source, e.label, e.detected_at, w.data
               FROM events e JOIN works w ON w.id = e.work_id WHERE e.reported = 0 ORDER BY w.key, e.id"""
        ):
            events.append(
                {
                    "id": eid,
                    "key": key,
                    "title": _load(str(data)).title,
                    "kind": kind,
                    "notice": notice,
                    "date": date,
                    "source": source,
                    "label": label,
                    "detected_at": at,
                    "cited_by": cited.get(int(wid), []),
                }
            )
        return changes, events

    def mark_reported(self, history_ids: Iterable[int], event_ids: Iterable[int]) -> None:
        with transaction(self.conn):
            self.conn.executemany(
                "UPDATE history SET reported = 1 WHERE id = ?", [(i,) for i in history_ids]
            )
            self.conn.executemany(
                "UPDATE events SET reported = 1 WHERE id = ?", [(i,) for i in event_ids]
            )

    def _cited_by(self) -> dict[int, list[str]]:
        cited: dict[int, list[str]] = {}
        for wid, source in self.conn.execute(
            "SELECT c.work_id, d.source FROM citations c JOIN documents d ON d.id = c.document_id ORDER BY d.source"
        ):
            cited.setdefault(int(wid), []).append(str(source))
        return cited
