"""The cache of raw records (``cache/records.sqlite``): disposable, re-fetchable.

One row per (service, key) with the fetch time, HTTP status, validators and the raw
payload; a ``crosswalk`` table indexes which cached records name which identifiers
(derived from the payloads, so it can always be rebuilt). Only answers are cached:
records ("ok") and not-found answers; failures and garbled bodies never reach it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from refs import jsonio
from refs.identifiers import SCHEMES, Scheme
from refs.models import Record, payload_digest
from refs.store.db import Migration, by_pairs, connect, transaction

__all__ = ["Cache", "PostgresCache"]

FILENAME = "records.sqlite"


def _v1(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE records (
            service TEXT NOT NULL,
            key TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'not_found')),
            fetched_at REAL NOT NULL,
            http_status INTEGER,
            content_type TEXT,
            validators TEXT,
            reason TEXT,
            names TEXT,
            payload TEXT,
            PRIMARY KEY (service, key)
        ) WITHOUT ROWID"""
    )
    conn.execute(
        """CREATE TABLE crosswalk (
            scheme TEXT NOT NULL,
            id TEXT NOT NULL,
            service TEXT NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (scheme, id, service, key)
        ) WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX crosswalk_by_record ON crosswalk (service, key)")


def _v2(conn: sqlite3.Connection) -> None:
    """The base URL each answer came from (negative answers are per base URL)."""
    conn.execute("ALTER TABLE records ADD COLUMN base TEXT")


def _v3(conn: sqlite3.Connection) -> None:
    """Records in an ordinary (rowid) table and their payloads in a table of their own:
    multi-KB payloads are what a WITHOUT ROWID table is documented to be bad at (each
    insert moved them through the primary-key B-tree: writing 100,000 records took
    minutes), and kept inline they made every scan and lookup of the small columns read
    kilobytes per record. Each record's payload digest beside it: a warm run checks its
    records without reading a payload."""
    conn.execute(
        """CREATE TABLE records_new (
            service TEXT NOT NULL,
            key TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'not_found')),
            fetched_at REAL NOT NULL,
            http_status INTEGER,
            content_type TEXT,
            validators TEXT,
            reason TEXT,
            names TEXT,
            base TEXT,
            digest TEXT,
            PRIMARY KEY (service, key)
        )"""
    )
    conn.execute(
        """CREATE TABLE payloads (
            service TEXT NOT NULL,
            key TEXT NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY (service, key)
        )"""
    )
    small = "service, key, status, fetched_at, http_status, content_type, validators, reason, names, base"
    conn.execute(f"INSERT INTO records_new ({small}) SELECT {small} FROM records")
    rows = conn.execute(
        "SELECT service, key, payload FROM records WHERE payload IS NOT NULL"
    ).fetchall()
    conn.executemany("INSERT INTO payloads (service, key, payload) VALUES (?, ?, ?)", rows)
    conn.executemany(
        "UPDATE records_new SET digest = ? WHERE service = ? AND key = ?",
        [(payload_digest(payload), service, key) for service, key, payload in rows],
    )
    conn.execute("DROP TABLE records")
    conn.execute("ALTER TABLE records_new RENAME TO records")


def _v4(conn: sqlite3.Connection) -> None:
    """The bulk files loaded (``refs snapshot load``): per file and service, its date and
    whether it is the service's whole dataset (then a key it lacks is not held there)."""
    conn.execute(
        """CREATE TABLE snapshots (
            file TEXT NOT NULL,
            service TEXT NOT NULL,
            stamp REAL NOT NULL,
            whole INTEGER NOT NULL,
            records INTEGER NOT NULL,
            loaded_at REAL NOT NULL,
            PRIMARY KEY (file, service)
        )"""
    )


MIGRATIONS: list[Migration] = [
    ("0001_records_and_crosswalk", _v1),
    ("0002_record_base", _v2),
    ("0003_records_and_payloads_apart", _v3),
    ("0004_snapshots", _v4),
]

_SMALL = "service, key, status, fetched_at, http_status, content_type, validators, reason, names, base, digest"
# A record with its payload (read from its own table), or without it (NULL: lazy).
_WHOLE = (
    ", ".join(f"r.{c.strip()}" for c in _SMALL.split(","))
    + ", p.payload FROM records r LEFT JOIN payloads p ON p.service = r.service AND p.key = r.key"
)
_LIGHT = ", ".join(f"r.{c.strip()}" for c in _SMALL.split(",")) + ", NULL FROM records r"


def _record(row: Sequence[object], *, lazy: bool = False) -> Record:
    (
        service,
        key,
        status,
        fetched_at,
        http_status,
        content_type,
        validators,
        reason,
        names,
        base,
        digest,
        payload,
    ) = row
    return Record(
        service=str(service),
        key=str(key),
        status="ok" if status == "ok" else "not_found",
        fetched_at=float(fetched_at),  # type: ignore[arg-type]
        payload=payload if isinstance(payload, str) else None,
        http_status=int(http_status) if isinstance(http_status, int) else None,
        content_type=content_type if isinstance(content_type, str) else None,
        validators=jsonio.loads(validators) if isinstance(validators, str) and validators else {},
        reason=reason if isinstance(reason, str) else None,
        names={SCHEMES[k]: v for k, v in jsonio.loads(names).items()}
        if isinstance(names, str) and names
        else {},
        base=base if isinstance(base, str) else None,
        digest=digest if isinstance(digest, str) else None,
        # Left out on purpose (and known by its digest), not absent.
        lazy=lazy and status == "ok" and isinstance(digest, str),
    )


class Cache:
    """Raw records per (service, key). Safe to delete at any time."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILENAME
        self.conn = connect(self.path, MIGRATIONS, what="cache", durable=False)

    def close(self) -> None:
        self.conn.close()

    def get(self, service: str, key: str) -> Record | None:
        row = self.conn.execute(
            f"SELECT {_WHOLE} WHERE r.service = ? AND r.key = ?", (service, key)
        ).fetchone()
        return _record(row) if row else None

    def naming(self, scheme: Scheme, value: str) -> list[Record]:
        """Cached records (ok) that name this identifier, newest first."""
        return self.naming_many([(scheme, value)]).get((scheme, value), [])

    def get_many(
        self, slots: Iterable[tuple[str, str]], *, payloads: bool = True
    ) -> dict[tuple[str, str], Record]:
        """Records for many (service, key): per service, ``key IN (…)`` over the primary
        key (a row-value list would scan the table). Without ``payloads``, records are
        read without them (``Record.lazy``; their digest tells whether they changed)."""
        wanted = set(slots)
        columns = _WHOLE if payloads else _LIGHT
        out: dict[tuple[str, str], Record] = {}
        (total,) = self.conn.execute("SELECT COUNT(*) FROM records").fetchone()
        if len(wanted) * 4 >= total:
            # Most of the cache is wanted: one sequential pass beats a B-tree search per
            # key (a warm run reads nearly every record it holds).
            for row in self.conn.execute(f"SELECT {columns}"):
                if (row[0], row[1]) in wanted:
                    out[(row[0], row[1])] = _record(row, lazy=not payloads)
            return out
        for row in by_pairs(self.conn, f"SELECT {columns}", ("r.service", "r.key"), wanted):
            out[(row[0], row[1])] = _record(row, lazy=not payloads)
        return out

    def naming_many(
        self, identifiers: Iterable[tuple[Scheme, str]], *, payloads: bool = True
    ) -> dict[tuple[Scheme, str], list[Record]]:
        """Cached records (ok) naming each identifier, newest first."""
        columns = (_WHOLE if payloads else _LIGHT).replace(
            " FROM records r",
            " FROM crosswalk x JOIN records r ON r.service = x.service AND r.key = x.key",
        )
        out: dict[tuple[Scheme, str], list[Record]] = {}
        for row in by_pairs(
            self.conn,
            f"SELECT x.scheme, x.id, {columns}",
            ("x.scheme", "x.id"),
            ((s.value, v) for s, v in identifiers),
            then="AND r.status = 'ok' ORDER BY r.fetched_at DESC",
        ):
            out.setdefault((Scheme(row[0]), str(row[1])), []).append(
                _record(row[2:], lazy=not payloads)
            )
        return out

    def put(self, records: Iterable[Record]) -> None:
        """Store records (replacing older ones) and what they name, in one transaction."""
        records = [r for r in records if r.status in ("ok", "not_found")]
        if not records:
            return
        rows = [
            (
                r.service,
                r.key,
                r.status,
                r.fetched_at,
                r.http_status,
                r.content_type,
                jsonio.dumps(r.validators) if r.validators else None,
                r.reason,
                jsonio.dumps({s.value: v for s, v in r.names.items()}) if r.names else None,
                r.base,
                r.payload_digest(),
            )
            for r in records
        ]
        with transaction(self.conn):
            self.conn.executemany(
                f"INSERT OR REPLACE INTO records ({_SMALL}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO payloads (service, key, payload) VALUES (?, ?, ?)",
                [(r.service, r.key, r.payload) for r in records if r.payload is not None],
            )
            self.conn.executemany(
                "DELETE FROM payloads WHERE service = ? AND key = ?",
                [(r.service, r.key) for r in records if r.payload is None],
            )
            self.conn.executemany(
                "DELETE FROM crosswalk WHERE service = ? AND key = ?",
                [(r.service, r.key) for r in records],
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO crosswalk (scheme, id, service, key) VALUES (?, ?, ?, ?)",
                [
                    (s.value, v, r.service, r.key)
                    for r in records
                    if r.status == "ok"
                    for s, v in r.names.items()
                ],
            )

    def add_snapshot(
        self, file: str, service: str, stamp: float, *, whole: bool, records: int
    ) -> None:
        """Remember a loaded bulk file (``whole``: the service's whole dataset)."""
        import time

        with transaction(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO snapshots (file, service, stamp, whole, records, "
                "loaded_at) VALUES (?, ?, ?, ?, ?, ?)",
                (file, service, stamp, int(whole), records, time.time()),
            )

    def coverage(self) -> dict[str, tuple[float, str]]:
        """Per service, the newest whole snapshot loaded: (its date, its file)."""
        out: dict[str, tuple[float, str]] = {}
        for service, stamp, file in self.conn.execute(
            "SELECT service, stamp, file FROM snapshots WHERE whole = 1 ORDER BY stamp"
        ):
            out[str(service)] = (float(stamp), str(file))
        return out

    def all(self, service: str | None = None) -> list[Record]:
        query = f"SELECT {_WHOLE}"
        args: tuple[str, ...] = ()
        if service:
            query += " WHERE r.service = ?"
            args = (service,)
        return [
            _record(row) for row in self.conn.execute(query + " ORDER BY r.service, r.key", args)
        ]

    def count(self) -> dict[str, int]:
        return dict(
            self.conn.execute("SELECT service, COUNT(*) FROM records GROUP BY service").fetchall()
        )


class PostgresCache(Cache):
    """The cache in a PostgreSQL database (``REFS_CACHE=postgresql://…``): shared by
    every machine of a team or cluster; schema ``sql/cache.postgresql.sql``."""

    def __init__(self, url: str) -> None:
        from typing import cast

        from refs.store.pg import open_pg, redact

        self.path = Path(redact(url))
        self.conn = cast("sqlite3.Connection", open_pg(url, "cache", what="cache"))
