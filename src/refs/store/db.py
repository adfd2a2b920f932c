"""SQLite plumbing shared by the cache and the library: connections, transactions, migrations.

Migrations are plain functions registered in order and recorded in the database's
``migrations`` table, so a database always knows which schema it has (the
sqlite-utils ``migrations`` pattern).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from refs.errors import StoreError

__all__ = ["Migration", "connect", "run_script", "transaction"]

Migration = tuple[str, Callable[[sqlite3.Connection], None]]


def connect(path: Path, migrations: Sequence[Migration], *, what: str) -> sqlite3.Connection:
    """Open (creating if needed) an SQLite database and bring its schema up to date."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        msg = f"cannot open the {what} at {str(path)!r}: {exc}"
        raise StoreError(msg) from exc
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        _migrate(conn, migrations)
    except sqlite3.DatabaseError as exc:
        conn.close()
        msg = f"{str(path)!r} is not a usable {what} ({exc}); move it away and run again"
        raise StoreError(msg) from exc
    return conn


def _migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
    for name, apply in migrations:
        if name in done:
            continue
        with transaction(conn):
            apply(conn)
            conn.execute(
                "INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, time.time())
            )


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic write: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated DDL statements inside the caller's transaction.

    (``Connection.executescript`` would commit the transaction first.)
    """
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)
