"""PostgreSQL plumbing: the library and the cache in a shared database (psycopg 3).

The SQLite stores' code runs unchanged over :class:`PgConnection`, which speaks the
subset of :class:`sqlite3.Connection` they use (``execute``, ``executemany``,
``in_transaction``), translating their SQL once per statement text:

* ``?`` placeholders become ``%s`` (psycopg's), a literal ``%`` becomes ``%%``;
* ``INSERT OR IGNORE`` becomes ``INSERT … ON CONFLICT DO NOTHING``;
* ``INSERT OR REPLACE INTO t (cols)`` becomes ``INSERT … ON CONFLICT (t's key) DO UPDATE
  SET col = EXCLUDED.col`` for every other column (:data:`PRIMARY_KEYS`);
* ``instr(`` becomes ``strpos(`` (same arguments);
* ``BEGIN IMMEDIATE`` (SQLite's single writer) becomes ``BEGIN`` and a transaction-level
  advisory lock, so writers to one database take turns as SQLite's do, wherever they run.

psycopg prepares a statement on the server once it has run a few times
(``prepare_threshold``), and ``executemany`` sends a batch's rows in one pipeline.
psycopg's errors are raised as the :mod:`sqlite3` errors the stores already turn into
:class:`~refs.errors.StoreError` (an integrity error stays an integrity error).

Schemas are plain SQL, one file per store (``sql/*.postgresql.sql``), in sections named
as the SQLite migrations are and recorded in the database's ``migrations`` table.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any

from refs.errors import LockTimeout, StoreError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "PRIMARY_KEYS",
    "PgConnection",
    "advisory_lock",
    "is_url",
    "migrations_of",
    "open_pg",
    "redact",
    "translate",
]

SCHEMES = ("postgresql://", "postgres://")
# The conflict target of each table written with INSERT OR REPLACE.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "renders": ("work_id", "variant"),
    "overrides": ("work_id", "field"),
    "matches": ("key",),
    "decisions": ("key",),
    "key_aliases": ("alias",),
    "sources": ("service", "key"),
    "identifiers": ("scheme", "value"),
    "records": ("service", "key"),
    "payloads": ("service", "key"),
    "snapshots": ("file", "service"),
}
# One advisory lock key per store kind (any 64-bit number no other program uses).
WRITE_LOCK = {"library": 0x7265_6673_6C69_62, "cache": 0x7265_6673_6361_63}
# The session lock a run holds while it plans and writes (what the lock file is for SQLite).
RUN_LOCK = WRITE_LOCK["library"] + 1
_REPLACE = re.compile(r"^\s*INSERT OR REPLACE INTO (\w+) \(([^)]*)\)", re.IGNORECASE)
_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO", re.IGNORECASE)


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """SQLite's statement as PostgreSQL's (see the module's docstring)."""
    text = sql.replace("%", "%%").replace("?", "%s").replace("instr(", "strpos(")
    replace = _REPLACE.match(text)
    if replace:
        table, columns = replace.group(1), [c.strip() for c in replace.group(2).split(",")]
        key = PRIMARY_KEYS[table]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
        text = _REPLACE.sub(f"INSERT INTO {table} ({replace.group(2)})", text, count=1)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        return f"{text.rstrip().rstrip(';')} ON CONFLICT ({', '.join(key)}) {action}"
    if _IGNORE.match(text):
        text = _IGNORE.sub("INSERT INTO", text, count=1)
        return f"{text.rstrip().rstrip(';')} ON CONFLICT DO NOTHING"
    return text


def _as_sqlite_error(exc: Exception) -> sqlite3.Error:
    import psycopg

    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.IntegrityError):
        return sqlite3.IntegrityError(message)
    if isinstance(exc, psycopg.OperationalError):
        return sqlite3.OperationalError(message)
    return sqlite3.DatabaseError(message)


class PgConnection:
    """A psycopg connection (autocommit; transactions begun explicitly, as the SQLite
    stores do) behind the part of the sqlite3 interface the stores use."""

    def __init__(self, conn: psycopg.Connection[Any], lock_key: int) -> None:
        self.raw = conn
        self.lock_key = lock_key

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        import psycopg

        statement = sql.strip().upper()
        try:
            if statement == "BEGIN IMMEDIATE":
                cur = self.raw.execute("BEGIN")
                self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
                return cur
            return self.raw.execute(translate(sql), params or None)
        except psycopg.Error as exc:
            raise _as_sqlite_error(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        import psycopg

        rows = list(rows)
        if not rows:
            return
        try:
            with self.raw.cursor() as cur:
                cur.executemany(translate(sql), rows)
        except psycopg.Error as exc:
            raise _as_sqlite_error(exc) from exc

    def close(self) -> None:
        self.raw.close()


def migrations_of(name: str) -> list[tuple[str, str]]:
    """The sections of ``sql/<name>.postgresql.sql``: (migration name, SQL)."""
    text = resources.files("refs.store").joinpath("sql", f"{name}.postgresql.sql").read_text()
    out: list[tuple[str, str]] = []
    for part in re.split(r"^-- migration: ", text, flags=re.MULTILINE)[1:]:
        title, _, body = part.partition("\n")
        out.append((title.strip(), body))
    return out


def open_pg(url: str, schema: str, *, what: str) -> PgConnection:
    """Connect to ``url`` and bring the ``schema`` (``library`` or ``cache``) up to date."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is an extra
        msg = (
            f"the {what} is a PostgreSQL URL, and psycopg is not installed: "
            "pip install 'refs[postgres]'"
        )
        raise StoreError(msg) from exc
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"cannot open the {what} at {redact(url)!r}: {first}"
        raise StoreError(msg) from exc
    conn = PgConnection(raw, WRITE_LOCK[schema])
    try:
        _migrate(conn, schema, url)
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: PgConnection, schema: str, url: str) -> None:
    from refs.store.db import refuse_newer, transaction

    sections = migrations_of(schema)
    with transaction(conn):  # type: ignore[arg-type]
        conn.raw.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
        )
        done = {str(r[0]) for r in conn.raw.execute("SELECT name FROM migrations")}
        refuse_newer(done, [name for name, _ in sections], redact(url))
        for name, body in sections:
            if name in done:
                continue
            code = "\n".join(ln for ln in body.splitlines() if not ln.lstrip().startswith("--"))
            for statement in code.split(";"):
                if statement.strip():
                    conn.raw.execute(statement)
            conn.raw.execute(
                "INSERT INTO migrations (name, applied_at) VALUES (%s, %s)", (name, time.time())
            )


@contextmanager
def advisory_lock(url: str, *, wait: float) -> Iterator[None]:
    """Hold the library's session-level advisory lock (waiting up to ``wait`` seconds):
    what the file lock is for an SQLite library, for every machine using the database."""
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        msg = f"cannot open the library at {redact(url)!r}: {exc}"
        raise StoreError(msg) from exc
    key = RUN_LOCK
    try:
        deadline = time.monotonic() + wait
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if row and row[0]:
                break
            if time.monotonic() >= deadline:
                msg = (
                    f"the library at {redact(url)!r} is being written by another refs; "
                    f"waited {wait:g} s (--wait)"
                )
                raise LockTimeout(msg)
            time.sleep(0.05)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        conn.close()
