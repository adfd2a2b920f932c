"""SQLite plumbing shared by the cache and the library: connections, transactions, migrations.

Migrations are plain functions registered in order and recorded in the database's
``migrations`` table, so a database always knows which schema it has (the
sqlite-utils ``migrations`` pattern).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from refs.errors import StoreError

__all__ = ["CHUNK", "Migration", "by_pairs", "connect", "refuse_newer", "run_script", "transaction"]

Migration = tuple[str, Callable[[sqlite3.Connection], None]]
MMAP_BYTES = 64 << 20
# Values per IN (…) list: well under SQLite's default limit of 32,766 host parameters.
CHUNK = 500


def by_pairs(
    conn: sqlite3.Connection,
    select: str,
    columns: tuple[str, str],
    pairs: Iterable[tuple[Any, Any]],
    *,
    then: str = "",
) -> Iterator[Any]:
    """Rows of ``select`` for (a, b) pairs: ``WHERE a = ? AND b IN (…)`` per value of a
    (``then`` follows: more conditions, an ORDER BY).

    A row-value list (``(a, b) IN (VALUES …)``) makes SQLite scan the whole table; an
    equality and an IN list search the (a, b) index (``EXPLAIN QUERY PLAN`` says SEARCH).
    """
    grouped: dict[Any, list[Any]] = {}
    for a, b in set(pairs):
        grouped.setdefault(a, []).append(b)
    first, second = columns
    for a, values in grouped.items():
        for i in range(0, len(values), CHUNK):
            part = values[i : i + CHUNK]
            marks = ", ".join("?" for _ in part)
            yield from conn.execute(
                f"{select} WHERE {first} = ? AND {second} IN ({marks}) {then}", [a, *part]
            )


def connect(
    path: Path, migrations: Sequence[Migration], *, what: str, durable: bool = True
) -> sqlite3.Connection:
    """Open (creating if needed) an SQLite database and bring its schema up to date.

    ``durable=False`` (the cache: disposable, re-fetchable) never waits for the disk
    (``synchronous=OFF``): a crash may lose the last answers, never the user's library.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        msg = f"cannot open the {what} at {str(path)!r}: {exc}"
        raise StoreError(msg) from exc
    try:
        _set_wal(conn)
        conn.execute(f"PRAGMA synchronous={'NORMAL' if durable else 'OFF'}")
        conn.execute("PRAGMA foreign_keys=ON")
        # Reads through a memory map (no read() call per page: a warm run reads
        # thousands of records by key) and a larger page cache for bulk writes.
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        conn.execute("PRAGMA cache_size=-32768")
        _migrate(conn, migrations, path)
    except StoreError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        msg = f"{str(path)!r} is not a usable {what} ({exc}); move it away and run again"
        raise StoreError(msg) from exc
    return conn


def _set_wal(conn: sqlite3.Connection, *, patience: float = 60.0) -> None:
    """Switch a database to WAL, waiting for other openers.

    Turning a new database to WAL takes an exclusive lock, and SQLite can answer
    "database is locked" at once, without its busy handler, while another process opens
    or recovers the same file (seen with four first openers of one new library). WAL is
    a property of the file: once set, reading the mode takes no lock at all."""
    deadline = time.monotonic() + patience
    while True:
        try:
            mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode != "wal":  # the conversion answers the mode it left the file in
                mode = str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        else:
            if mode == "wal":
                return
            if time.monotonic() > deadline:
                msg = f"database is locked (still in {mode} journal mode)"
                raise sqlite3.OperationalError(msg)
        time.sleep(0.02)


def _migrate(conn: sqlite3.Connection, migrations: Sequence[Migration], path: Path) -> None:
    """Apply the migrations this database lacks, all under one write lock, so two refs
    opening a new database at once never both apply one; refuse a newer schema."""
    with transaction(conn):
        conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        done = {str(row[0]) for row in conn.execute("SELECT name FROM migrations")}
        refuse_newer(done, [name for name, _ in migrations], str(path))
        for name, apply in migrations:
            if name not in done:
                apply(conn)
                conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, time.time())
                )


def refuse_newer(done: set[str], known: Sequence[str], where: str) -> None:
    """Refuse a database whose schema has migrations this refs does not know."""
    newer = sorted(done - set(known))
    if newer:
        msg = (
            f"{where!r} was written by a newer refs (schema {newer[-1]}); this refs knows "
            f"the schema up to {known[-1]}: upgrade refs to use it"
        )
        raise StoreError(msg)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic write: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error.

    SQLite errors become :class:`StoreError` saying what happened ("database or disk is
    full"), never the "cannot rollback" that follows when SQLite already rolled back.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise _store_error(conn, exc) from exc
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError):
            raise _store_error(conn, exc) from exc
        raise


def _store_error(conn: sqlite3.Connection, exc: sqlite3.Error) -> StoreError:
    where = ""
    with contextlib.suppress(sqlite3.Error):
        row = conn.execute("PRAGMA database_list").fetchone()
        where = f" at {row[2]!r}" if row and row[2] else ""
    msg = f"cannot write the database{where}: {exc}; nothing was changed"
    return StoreError(msg)


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated DDL statements inside the caller's transaction.

    (``Connection.executescript`` would commit the transaction first.)
    """
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)
