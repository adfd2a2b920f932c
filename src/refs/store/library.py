"""The SQLite library (``references/library.sqlite``): the user's data.

Implements :class:`refs.storage.Library` over the schema in :mod:`refs.store.schema`:
reads and plan writes in :mod:`refs.store.works`, the refresh outbox in
:mod:`refs.store.outbox`. Every write is one transaction; migrations are recorded in
the database.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from refs.errors import StoreError
from refs.identifiers import Identifier
from refs.storage import (
    DueWork,
    ExportRow,
    HistoryEntry,
    Holdings,
    MatchDecision,
    Outbox,
    Plan,
    Snapshot,
    StoredMatch,
    StoredWork,
    WorkWrite,
)
from refs.store import outbox, works
from refs.store.db import connect, transaction
from refs.store.schema import MIGRATIONS

__all__ = ["FILENAME", "TABLES", "PostgresLibrary", "SQLiteLibrary"]

FILENAME = "library.sqlite"
TABLES = ("documents", "mentions", "works", "sources", "identifiers", "citations", "history")


class SQLiteLibrary:
    """The library in ``directory`` (created with its schema if new)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path: Path | str = self.directory / FILENAME
        self._conn = connect(self.path, MIGRATIONS, what="library")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SQLiteLibrary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def snapshot(
        self,
        identifiers: Iterable[Identifier] = (),
        *,
        work_ids: Iterable[int] = (),
        keys: bool = True,
    ) -> Snapshot:
        return works.snapshot(self._conn, identifiers, work_ids, keys=keys)

    def holdings(
        self,
        slots: Iterable[tuple[str, str]] = (),
        identifiers: Iterable[Identifier] = (),
        documents: Iterable[str] = (),
    ) -> Holdings:
        return works.holdings(self._conn, slots, identifiers, documents)

    def works(
        self,
        *,
        document: str | None = None,
        keys: Iterable[str] | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[StoredWork]:
        return works.read_works(self._conn, document=document, keys=keys, ids=ids)

    def export_rows(
        self,
        *,
        document: str | None = None,
        keys: Iterable[str] | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[ExportRow]:
        return works.export_rows(self._conn, document=document, keys=keys, ids=ids)

    def renders(self, variant: str, work_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        return works.renders(self._conn, variant, work_ids)

    def store_renders(self, variant: str, rows: Iterable[tuple[int, str, str]]) -> None:
        values = [(wid, variant, stamp, text, wid) for wid, stamp, text in rows]
        if not values:
            return
        try:
            with transaction(self._conn):
                self._conn.executemany(
                    "INSERT OR REPLACE INTO renders (work_id, variant, stamp, text) "
                    "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM works WHERE id = ?)",
                    values,
                )
        except StoreError:
            return  # a read-only or full library: the entries are rendered again next time

    def has_document(self, source: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM documents WHERE source = ?", (source,))
        return row.fetchone() is not None

    def documents(self) -> list[str]:
        rows = self._conn.execute("SELECT source FROM documents ORDER BY source")
        return [str(r[0]) for r in rows]

    def due(
        self, older_than: float | None, *, documents: Sequence[str] = (), now: float | None = None
    ) -> list[DueWork]:
        """Works due for a check, oldest check first, with references to their records.

        Nothing is parsed: a library of 100,000 works is planned in a second.
        """
        now = time.time() if now is None else now
        return works.due_works(self._conn, older_than, documents, now)

    def history(self, key: str) -> list[HistoryEntry]:
        rows = self._conn.execute(
            """SELECT h.version, h.at, h.source, h.changes FROM history h JOIN works w ON w.id = h.work_id
               WHERE w.key = ? ORDER BY h.version""",
            (key,),
        )
        return [HistoryEntry(int(v), float(at), str(s), json.loads(c)) for v, at, s, c in rows]

    def cited_as(self, document: str) -> list[tuple[str, int]]:
        rows = self._conn.execute(
            "SELECT m.raw, i.work_id FROM mentions m "
            "JOIN documents d ON d.id = m.document_id "
            "JOIN identifiers i ON i.scheme = m.scheme AND i.value = m.value "
            'WHERE d.source = ? ORDER BY m.start, m."end"',
            (document,),
        )
        seen: dict[str, int] = {}
        for raw, wid in rows:
            seen.setdefault(str(raw), int(wid))
        return list(seen.items())

    def set_overrides(self, work_id: int, values: dict[str, str], source: str) -> None:
        with transaction(self._conn):
            self._conn.execute(
                "DELETE FROM overrides WHERE work_id = ? AND source = ?", (work_id, source)
            )
            self._conn.executemany(
                "INSERT OR REPLACE INTO overrides (work_id, field, value, source) VALUES (?, ?, ?, ?)",
                [(work_id, k, v, source) for k, v in sorted(values.items())],
            )
            self._conn.execute("UPDATE meta SET value = value + 1 WHERE name = 'generation'")

    def add_aliases(self, pairs: Iterable[tuple[str, int]]) -> list[str]:
        refused = []
        with transaction(self._conn):
            for alias, wid in pairs:
                owner = self._conn.execute(
                    "SELECT id FROM works WHERE key = ? UNION ALL "
                    "SELECT work_id FROM key_aliases WHERE alias = ?",
                    (alias, alias),
                ).fetchone()
                if owner is not None:
                    if int(owner[0]) != wid:
                        refused.append(alias)
                    continue
                self._conn.execute(
                    "INSERT INTO key_aliases (alias, work_id) VALUES (?, ?)", (alias, wid)
                )
            self._conn.execute("UPDATE meta SET value = value + 1 WHERE name = 'generation'")
        return refused

    def unresolved(self, document: str) -> list[tuple[str, str]]:
        rows = self._conn.execute(
            "SELECT m.scheme, m.value, m.raw FROM mentions m "
            "JOIN documents d ON d.id = m.document_id "
            "LEFT JOIN identifiers i ON i.scheme = m.scheme AND i.value = m.value "
            "WHERE d.source = ? AND i.work_id IS NULL ORDER BY m.start",
            (document,),
        )
        seen: dict[str, str] = {}
        for scheme, value, raw in rows:
            seen.setdefault(f"{scheme}:{value}", str(raw))
        return list(seen.items())

    # ------------------------------------------------------------------ matching

    def store_matches(self, documents: Iterable[str], matches: Iterable[StoredMatch]) -> None:
        gone = list(dict.fromkeys(documents))
        rows = [
            (
                m.key,
                m.document,
                m.scheme,
                m.text,
                m.context,
                m.status,
                m.identifier,
                m.method,
                m.score,
                m.query,
                m.reason,
                json.dumps(m.candidates, ensure_ascii=False),
                m.updated_at or time.time(),
            )
            for m in matches
        ]
        if not rows and not gone:
            return
        with transaction(self._conn):
            self._conn.executemany("DELETE FROM matches WHERE document = ?", [(d,) for d in gone])
            self._conn.executemany(
                "INSERT OR REPLACE INTO matches (key, document, scheme, text, context, status, "
                "identifier, method, score, query, reason, candidates, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def matches(
        self, *, document: str | None = None, identifiers: Iterable[str] | None = None
    ) -> list[StoredMatch]:
        sql = (
            "SELECT key, document, scheme, text, context, status, identifier, method, score, "
            "query, reason, candidates, updated_at FROM matches"
        )
        args: list[str] = []
        if document is not None:
            sql += " WHERE document = ?"
            args.append(document)
        elif identifiers is not None:
            wanted = list(dict.fromkeys(identifiers))
            if not wanted:
                return []
            out = []
            for i in range(0, len(wanted), 500):
                part = wanted[i : i + 500]
                rows = self._conn.execute(
                    sql + f" WHERE identifier IN ({','.join('?' * len(part))})", part
                )
                out += [_match(r) for r in rows]
            return sorted(out, key=lambda m: (m.document, m.key))
        rows = self._conn.execute(sql + (" ORDER BY document, key"), args)
        return [_match(r) for r in rows]

    def decisions(self, keys: Iterable[str] | None = None) -> dict[str, MatchDecision]:
        rows = self._conn.execute(
            "SELECT key, verdict, identifier, rejected, decided_at FROM decisions"
        ).fetchall()
        wanted = None if keys is None else set(keys)
        return {
            str(k): MatchDecision(str(k), _verdict(v), i, tuple(json.loads(r)), float(at))
            for k, v, i, r, at in rows
            if wanted is None or k in wanted
        }

    def decide(self, decision: MatchDecision) -> MatchDecision:
        with transaction(self._conn):
            row = self._conn.execute(
                "SELECT verdict, identifier, rejected FROM decisions WHERE key = ?",
                (decision.key,),
            ).fetchone()
            rejected = list(json.loads(row[2])) if row else []
            for ident in decision.rejected:
                if ident not in rejected:
                    rejected.append(ident)
            if decision.verdict == "accept" and decision.identifier in rejected:
                rejected.remove(decision.identifier)
            verdict: Literal["accept", "reject", "exclude"]
            if decision.verdict == "accept":
                verdict, identifier = "accept", decision.identifier
            elif not decision.rejected:
                verdict, identifier = "reject", None  # no match at all
            elif row is not None and row[0] == "accept" and row[1] not in rejected:
                verdict, identifier = "accept", row[1]  # an acceptance of another stands
            elif row is not None and row[0] == "reject":
                verdict, identifier = "reject", None
            else:
                verdict, identifier = "exclude", None  # only these candidates are out
            stored = MatchDecision(
                decision.key,
                verdict,
                identifier,
                tuple(rejected),
                decision.decided_at or time.time(),
            )
            self._conn.execute(
                "INSERT OR REPLACE INTO decisions (key, verdict, identifier, rejected, decided_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    stored.key,
                    stored.verdict,
                    stored.identifier,
                    json.dumps(list(stored.rejected)),
                    stored.decided_at,
                ),
            )
            self._conn.execute("UPDATE meta SET value = value + 1 WHERE name = 'generation'")
        return stored

    def aliases(self) -> dict[str, str]:
        rows = self._conn.execute(
            "SELECT a.alias, w.key FROM key_aliases a JOIN works w ON w.id = a.work_id ORDER BY a.alias"
        )
        return {str(a): str(k) for a, k in rows}

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in TABLES
        }

    def migrations(self) -> list[str]:
        """The schema migrations this library has, in the order they were applied."""
        rows = self._conn.execute("SELECT name FROM migrations ORDER BY applied_at, name")
        return [str(r[0]) for r in rows]

    def outbox(self) -> Outbox:
        return outbox.pending(self._conn)

    # ------------------------------------------------------------------ writing

    def apply(self, plan: Plan) -> dict[int, int]:
        changes = any(not (isinstance(op, WorkWrite) and op.kind == "unchanged") for op in plan.ops)
        try:
            with transaction(self._conn):
                assigned = works.apply_plan(self._conn, plan)
                if changes:
                    self._conn.execute(
                        "UPDATE meta SET value = value + 1 WHERE name = 'generation'"
                    )
                return assigned
        except sqlite3.IntegrityError as exc:
            msg = (
                f"the library at {str(self.path)!r} refused the write ({exc}); nothing was changed"
            )
            raise StoreError(msg) from exc

    def generation(self) -> tuple[int, int]:
        """(the content's generation, the generation the exports were written at)."""
        rows = dict(self._conn.execute("SELECT name, value FROM meta").fetchall())
        return int(rows.get("generation", 0)), int(rows.get("exported", 0))

    def mark_exported(self, generation: int, fingerprint: int = 0) -> None:
        with transaction(self._conn):
            self._conn.execute("UPDATE meta SET value = ? WHERE name = 'exported'", (generation,))
            self._conn.execute(
                "UPDATE meta SET value = ? WHERE name = 'exported_files'", (fingerprint,)
            )

    def export_fingerprint(self) -> int:
        """The fingerprint :meth:`mark_exported` was last given (0: none)."""
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'exported_files'").fetchone()
        return int(row[0]) if row else 0

    def mark_reported(self, pending: Outbox) -> None:
        with transaction(self._conn):
            outbox.mark_reported(self._conn, pending)


class PostgresLibrary(SQLiteLibrary):
    """The library in a PostgreSQL database (``REFS_LIBRARY=postgresql://…``): the same
    statements over :class:`refs.store.pg.PgConnection`, the schema of
    ``sql/library.postgresql.sql``. Writers on any machine take turns through the
    database's advisory locks; unique keys and ON CONFLICT guard every row."""

    def __init__(self, url: str) -> None:
        from typing import cast

        from refs.store.pg import open_pg, redact

        self.directory = Path("references")
        self.path = redact(url)
        # PgConnection speaks the part of sqlite3.Connection the library's code uses.
        self._conn = cast("sqlite3.Connection", open_pg(url, "library", what="library"))


def _verdict(value: object) -> Literal["accept", "reject", "exclude"]:
    if value == "accept":
        return "accept"
    return "reject" if value == "reject" else "exclude"


def _match(row: Sequence[object]) -> StoredMatch:
    key, document, scheme, text, context, status, ident, method, score, query, reason, cands, at = (
        row
    )
    return StoredMatch(
        str(key),
        str(document),
        str(scheme),
        str(text),
        str(context or ""),
        str(status),
        None if ident is None else str(ident),
        None if method is None else str(method),
        None if score is None else float(score),  # type: ignore[arg-type]
        None if query is None else str(query),
        None if reason is None else str(reason),
        json.loads(str(cands)),
        float(at),  # type: ignore[arg-type]
    )
