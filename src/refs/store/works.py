"""Works in the SQLite library: reading them and applying a plan's writes. No policy.

What to write was decided by :mod:`refs.planner`; this module only turns the plan's
operations into SQL, inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from refs import jsonio
from refs.identifiers import SCHEMES, Identifier
from refs.storage import (
    DocumentWrite,
    DueWork,
    ExportRow,
    Fold,
    Holdings,
    Plan,
    Snapshot,
    SourceRef,
    StoredSource,
    StoredWork,
    WorkWrite,
)
from refs.store.db import CHUNK, by_pairs
from refs.work import Work, trusted_work

__all__ = ["apply_plan", "cited_by", "dump", "holdings", "load", "read_works", "snapshot"]

_WORK_COLUMNS = "w.id, w.key, w.data, w.version, w.created, w.updated, w.checked"


def dump(work: Work) -> str:
    return work.model_dump_json(by_alias=True, exclude_none=True)


def load(data: str) -> Work:
    """A stored work: written by :func:`dump` from a validated work, so it is rebuilt
    without validating it again (see :func:`refs.work.trusted_work`)."""
    return trusted_work(jsonio.loads(data))


def _row(row: Sequence[Any]) -> StoredWork:
    wid, key, data, version, created, updated, checked = row
    return StoredWork(
        int(wid),
        str(key),
        load(str(data)),
        int(version),
        float(created),
        float(updated),
        float(checked),
    )


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _sha1(data: str) -> str:
    return hashlib.sha1(data.encode("utf-8")).hexdigest()


def cited_by(conn: sqlite3.Connection, ids: Sequence[int] | None = None) -> dict[int, list[str]]:
    """The documents citing each work (of these ids, or all), in order of source."""
    query = "SELECT c.work_id, d.source FROM citations c JOIN documents d ON d.id = c.document_id"
    parts: Iterable[Sequence[int]] = [()] if ids is None else _chunks(list(ids))
    cited: dict[int, list[str]] = {}
    for part in parts:
        where = f" WHERE c.work_id IN ({', '.join('?' for _ in part)})" if ids is not None else ""
        for wid, source in conn.execute(query + where + " ORDER BY d.source", list(part)):
            cited.setdefault(int(wid), []).append(str(source))
    return cited


def read_works(
    conn: sqlite3.Connection,
    *,
    document: str | None,
    keys: Iterable[str] | None,
    ids: Iterable[int] | None = None,
) -> list[StoredWork]:
    join, args = _cited_in(document)
    query = f"SELECT {_WORK_COLUMNS} FROM works w{join}"
    if keys is None and ids is None:
        rows = [_row(r) for r in conn.execute(query + " ORDER BY w.key", args)]
    else:  # only these works: looked up by key or id, not all loaded and filtered
        column, wanted = (
            ("w.key", list(set(keys))) if keys is not None else ("w.id", list(set(ids or ())))
        )
        rows = []
        for part in _chunks(wanted):
            marks = ", ".join("?" for _ in part)
            where = " AND " if document is not None else " WHERE "
            rows += [
                _row(r)
                for r in conn.execute(f"{query}{where}{column} IN ({marks})", [*args, *part])
            ]
        rows.sort(key=lambda r: r.key)
    cited = cited_by(conn, None if keys is None and ids is None else [r.id for r in rows])
    for r in rows:
        r.documents = cited.get(r.id, [])
    return rows


def _export_row(
    row: Sequence[Any],
    cited: dict[int, list[str]],
    found: dict[int, dict[str, Any]],
    aliases: dict[int, list[str]],
    overrides: dict[int, dict[str, str]] | None = None,
) -> ExportRow:
    wid, key, digest = row
    return ExportRow(
        int(wid),
        str(key),
        digest if isinstance(digest, str) else None,
        cited.get(int(wid), []),
        found.get(int(wid)),
        aliases.get(int(wid), []),
        (overrides or {}).get(int(wid), {}),
    )


def overrides_by_work(conn: sqlite3.Connection) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for wid, name, value in conn.execute(
        "SELECT work_id, field, value FROM overrides ORDER BY work_id, field"
    ):
        out.setdefault(int(wid), {})[str(name)] = str(value)
    return out


def aliases_by_work(conn: sqlite3.Connection) -> dict[int, list[str]]:
    """Each work's other keys (renamed keys, keys of an imported bibliography)."""
    out: dict[int, list[str]] = {}
    for alias, wid in conn.execute("SELECT alias, work_id FROM key_aliases ORDER BY alias"):
        out.setdefault(int(wid), []).append(str(alias))
    return out


def matched(conn: sqlite3.Connection) -> dict[int, dict[str, Any]]:
    """How each work found by matching was found: a person's decision first, then the
    best score (the matches table is small: one row per citation without identifier)."""
    rows = conn.execute(
        """SELECT i.work_id, m.method, m.score, m.query FROM matches m
           JOIN identifiers i
             ON i.scheme = substr(m.identifier, 1, instr(m.identifier, ':') - 1)
            AND i.value = substr(m.identifier, instr(m.identifier, ':') + 1)
           WHERE m.status = 'matched' AND m.identifier IS NOT NULL"""
    ).fetchall()
    best: dict[int, dict[str, Any]] = {}
    for wid, method, score, query in rows:
        rank = (method == "person", score or 0.0)
        held = best.get(int(wid))
        if held is None or rank > (held["method"] == "person", held["score"] or 0.0):
            best[int(wid)] = {"method": method, "score": score, "query": query}
    return best


def _cited_in(document: str | None) -> tuple[str, list[Any]]:
    """The join and condition that keep the works ``document`` cites (none: all)."""
    if document is None:
        return "", []
    return (
        " JOIN citations c ON c.work_id = w.id JOIN documents d ON d.id = c.document_id"
        " WHERE d.source = ?",
        [document],
    )


def export_rows(
    conn: sqlite3.Connection,
    *,
    document: str | None,
    keys: Iterable[str] | None,
    ids: Iterable[int] | None = None,
) -> list[ExportRow]:
    """What an export lists, in key order, without loading any work."""
    if ids is not None:
        wanted_ids = sorted(set(ids))
        cited = cited_by(conn, wanted_ids)
        found = matched(conn)
        aliases = aliases_by_work(conn)
        overrides = overrides_by_work(conn)
        out = []
        for part in _chunks(wanted_ids):
            marks = ", ".join("?" for _ in part)
            query = f"SELECT id, key, digest FROM works WHERE id IN ({marks})"
            out += [
                _export_row(r, cited, found, aliases, overrides) for r in conn.execute(query, part)
            ]
        return sorted(out, key=lambda r: r.key)
    join, args = _cited_in(document)
    wanted = set(keys) if keys is not None else None
    cited = cited_by(conn)
    found = matched(conn)
    aliases = aliases_by_work(conn)
    overrides = overrides_by_work(conn)
    query = f"SELECT w.id, w.key, w.digest FROM works w{join} ORDER BY w.key"
    return [
        _export_row(r, cited, found, aliases, overrides)
        for r in conn.execute(query, args)
        if wanted is None or r[1] in wanted
    ]


def renders(
    conn: sqlite3.Connection, variant: str, work_ids: Iterable[int]
) -> dict[int, tuple[str, str]]:
    wanted = set(work_ids)
    out: dict[int, tuple[str, str]] = {}
    (total,) = conn.execute("SELECT COUNT(*) FROM works").fetchone()
    if len(wanted) * 4 >= total:  # most of the library: one pass, not a search per work
        rows: Iterable[Any] = conn.execute(
            "SELECT work_id, stamp, text FROM renders WHERE variant = ?", (variant,)
        )
    else:
        rows = by_pairs(
            conn,
            "SELECT work_id, stamp, text FROM renders",
            ("variant", "work_id"),
            ((variant, w) for w in wanted),
        )
    for wid, stamp, text in rows:
        if wid in wanted:
            out[int(wid)] = (str(stamp), str(text))
    return out


def snapshot(
    conn: sqlite3.Connection,
    identifiers: Iterable[Identifier],
    work_ids: Iterable[int],
    *,
    keys: bool = True,
) -> Snapshot:
    snap = Snapshot()
    wanted = [(i.scheme.value, i.value) for i in identifiers]
    ids = set(work_ids)
    for (wid,) in by_pairs(conn, "SELECT work_id FROM identifiers", ("scheme", "value"), wanted):
        ids.add(int(wid))
    id_list = sorted(ids)
    for part in _chunks(id_list):
        marks = ", ".join("?" for _ in part)
        for row in conn.execute(
            f"SELECT {_WORK_COLUMNS} FROM works w WHERE w.id IN ({marks})", part
        ):
            stored = _row(row)
            snap.works[stored.id] = stored
        for wid, data in conn.execute(
            f"SELECT work_id, data FROM sources WHERE work_id IN ({marks}) ORDER BY service, key",
            part,
        ):
            work = load(str(data))
            p = work.provenance[0]
            snap.sources.setdefault(int(wid), {})[(p.service, p.key)] = work
        for scheme, value, wid in conn.execute(
            f"SELECT scheme, value, work_id FROM identifiers WHERE work_id IN ({marks})", part
        ):
            snap.owners[Identifier(SCHEMES[scheme], str(value))] = int(wid)
    if keys:
        snap.taken = {
            str(r[0])
            for r in conn.execute("SELECT key FROM works UNION SELECT alias FROM key_aliases")
        }
    return snap


def holdings(
    conn: sqlite3.Connection,
    slots: Iterable[tuple[str, str]],
    identifiers: Iterable[Identifier],
    documents: Iterable[str],
) -> Holdings:
    held = Holdings()
    for service, key, wid, digest, fetched_at in by_pairs(
        conn,
        "SELECT service, key, work_id, digest, fetched_at FROM sources",
        ("service", "key"),
        slots,
    ):
        held.sources[(str(service), str(key))] = StoredSource(
            int(wid), digest if isinstance(digest, str) else None, float(fetched_at)
        )
    for scheme, value, wid in by_pairs(
        conn,
        "SELECT scheme, value, work_id FROM identifiers",
        ("scheme", "value"),
        [(i.scheme.value, i.value) for i in identifiers],
    ):
        held.owners[Identifier(SCHEMES[scheme], str(value))] = int(wid)
    work_ids = sorted({s.work_id for s in held.sources.values()} | set(held.owners.values()))
    for part in _chunks(work_ids):
        marks = ", ".join("?" for _ in part)
        for wid, key in conn.execute(f"SELECT id, key FROM works WHERE id IN ({marks})", part):
            held.keys[int(wid)] = str(key)
    for part in _chunks(list(set(documents))):
        marks = ", ".join("?" for _ in part)
        for source, digest in conn.execute(
            f"SELECT source, digest FROM documents WHERE source IN ({marks})", part
        ):
            held.documents[str(source)] = digest if isinstance(digest, str) else None
    return held


def due_works(
    conn: sqlite3.Connection, older_than: float | None, documents: Sequence[str], now: float
) -> list[DueWork]:
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
        for wid, key, checked in conn.execute(query, args)
        if older_than is None or float(checked) <= now - older_than
    }
    for wid, service, key, digest, fetched_at in conn.execute(
        "SELECT work_id, service, key, digest, fetched_at FROM sources "
        "ORDER BY work_id, service, key"
    ):
        work = due.get(int(wid))
        if work is not None:
            work.sources.append(SourceRef(str(service), str(key), digest, float(fetched_at)))
    return sorted(due.values(), key=lambda w: (w.checked, w.key))


# ---------------------------------------------------------------- writing


def apply_plan(conn: sqlite3.Connection, plan: Plan) -> dict[int, int]:
    """Write ``plan`` inside the caller's transaction; provisional id → real id.

    Work writes are gathered and sent with ``executemany`` (one prepared statement per
    table, not several statements per work), flushed before each fold or document,
    whose statements read what the writes before them wrote.
    """
    assigned: dict[int, int] = {}
    batch = _Writes(conn, plan.now, plan.source, assigned)
    for op in plan.ops:
        if isinstance(op, WorkWrite):
            batch.add(op)
            continue
        batch.flush()
        if isinstance(op, Fold):
            _fold(conn, assigned.get(op.keep, op.keep), assigned.get(op.other, op.other), op.alias)
        elif isinstance(op, DocumentWrite):
            _write_document(conn, op, plan.now)
    batch.flush()
    conn.executemany(
        "UPDATE works SET checked = ? WHERE id = ?",
        [(plan.now, assigned.get(w, w)) for w in plan.checked],
    )
    return assigned


def _fold(conn: sqlite3.Connection, keep: int, other: int, alias: str) -> None:
    for table in ("sources", "identifiers", "history", "key_aliases", "events"):
        conn.execute(f"UPDATE {table} SET work_id = ? WHERE work_id = ?", (keep, other))
    conn.execute(
        "INSERT OR IGNORE INTO citations (document_id, work_id) SELECT document_id, ? FROM citations WHERE work_id = ?",
        (keep, other),
    )
    conn.execute("DELETE FROM works WHERE id = ?", (other,))
    conn.execute("INSERT OR REPLACE INTO key_aliases (alias, work_id) VALUES (?, ?)", (alias, keep))


class _Writes:
    """Rows of a run of work writes, per table, sent in one ``executemany`` each."""

    def __init__(
        self, conn: sqlite3.Connection, now: float, source: str, assigned: dict[int, int]
    ) -> None:
        self.conn, self.now, self.source, self.assigned = conn, now, source, assigned
        self._next_id: int | None = None
        self._clear()

    def _clear(self) -> None:
        self.new: list[tuple[Any, ...]] = []
        self.updated: list[tuple[Any, ...]] = []
        self.touched: list[tuple[Any, ...]] = []
        self.history: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.sources: list[tuple[Any, ...]] = []
        self.identifiers: list[tuple[Any, ...]] = []
        self.linked: list[int] = []

    def add(self, op: WorkWrite) -> None:
        now, data = self.now, dump(op.work)
        if op.kind == "new":
            if self._next_id is None:  # the write lock is held: no one else inserts
                row = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM works").fetchone()
                self._next_id = int(row[0]) + 1
            work_id, self._next_id = self._next_id, self._next_id + 1
            self.assigned[op.id] = work_id
            self.new.append((work_id, op.key, data, _sha1(data), op.version, now, now, now))
        else:
            work_id = self.assigned.get(op.id, op.id)
            if op.kind == "updated":
                self.updated.append((data, _sha1(data), op.version, now, now, work_id))
            else:
                self.touched.append((data, _sha1(data), now, work_id))
        if op.kind != "unchanged":
            changes = [{"field": c.field, "old": c.old, "new": c.new} for c in op.changes]
            self.history.append(
                (
                    work_id,
                    op.version,
                    now,
                    self.source,
                    data,
                    jsonio.dumps(changes),
                    int(op.reported),
                )
            )
        self.events += [
            (work_id, e.kind, e.notice, e.date, e.source, e.label, now) for e in op.events
        ]
        self.sources += [
            (
                work_id,
                s.provenance[0].service,
                s.provenance[0].key,
                s.provenance[0].fetched_at,
                dump(s),
                s.provenance[0].digest,
            )
            for s in op.sources
        ]
        if op.identifiers:
            self.identifiers += [(i.scheme.value, i.value, work_id) for i in op.identifiers]
            self.linked.append(work_id)

    def flush(self) -> None:
        run = self.conn.executemany
        run(
            "INSERT INTO works (id, key, data, digest, version, created, updated, checked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.new,
        )
        run(
            "UPDATE works SET data = ?, digest = ?, version = ?, updated = ?, checked = ? WHERE id = ?",
            self.updated,
        )
        run("UPDATE works SET data = ?, digest = ?, checked = ? WHERE id = ?", self.touched)
        run(
            "INSERT INTO history (work_id, version, at, source, data, changes, reported) VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.history,
        )
        run(
            "INSERT INTO events (work_id, kind, notice, date, source, label, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.events,
        )
        run(
            "INSERT OR REPLACE INTO sources (work_id, service, key, fetched_at, data, digest) VALUES (?, ?, ?, ?, ?, ?)",
            self.sources,
        )
        run(
            "INSERT OR REPLACE INTO identifiers (scheme, value, work_id) VALUES (?, ?, ?)",
            self.identifiers,
        )
        # Documents stored earlier that mention any of these works' identifiers now cite them.
        for i in range(0, len(self.linked), CHUNK):
            part = self.linked[i : i + CHUNK]
            marks = ", ".join("?" for _ in part)
            self.conn.execute(
                f"""INSERT OR IGNORE INTO citations (document_id, work_id)
                    SELECT DISTINCT m.document_id, i.work_id FROM identifiers i
                    JOIN mentions m ON m.scheme = i.scheme AND m.value = i.value
                    WHERE i.work_id IN ({marks})""",
                part,
            )
        self._clear()


def _write_document(conn: sqlite3.Connection, op: DocumentWrite, now: float) -> None:
    row = conn.execute("SELECT id FROM documents WHERE source = ?", (op.source,)).fetchone()
    if row:
        doc_id = int(row[0])
        conn.execute(
            "UPDATE documents SET last_seen = ?, digest = ? WHERE id = ?", (now, op.digest, doc_id)
        )
        conn.execute("DELETE FROM mentions WHERE document_id = ?", (doc_id,))
        conn.execute("DELETE FROM citations WHERE document_id = ?", (doc_id,))
    else:
        row = conn.execute(
            "INSERT INTO documents (source, first_seen, last_seen, digest) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            (op.source, now, now, op.digest),
        ).fetchone()
        doc_id = int(row[0])
    conn.executemany(
        'INSERT INTO mentions (document_id, scheme, value, raw, start, "end", context) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [(doc_id, m.scheme.value, m.id, m.raw, m.start, m.end, m.context) for m in op.mentions],
    )
    conn.execute(
        """INSERT OR IGNORE INTO citations (document_id, work_id)
           SELECT DISTINCT ?, i.work_id FROM mentions m
           JOIN identifiers i ON i.scheme = m.scheme AND i.value = m.value
           WHERE m.document_id = ?""",
        (doc_id, doc_id),
    )
