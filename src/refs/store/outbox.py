"""The refresh outbox in the SQLite library: versions and events no report has shown yet.

A refresh writes new versions with ``history.reported = 0`` and new status events into
``events``; only after a report showing them was emitted are they marked reported,
so an alert is never lost to a crash.
"""

from __future__ import annotations

import json
import sqlite3

from refs.storage import Outbox, PendingChange, PendingEvent
from refs.store.works import cited_by, load
from refs.work import StatusEvent

__all__ = ["mark_reported", "pending"]


def pending(conn: sqlite3.Connection) -> Outbox:
    cited = cited_by(conn)
    changes = []
    for hid, wid, key, version, at, changes_json, data in conn.execute(
        """SELECT h.id, w.id, w.key, h.version, h.at, h.changes, w.data FROM history h
           JOIN works w ON w.id = h.work_id WHERE h.reported = 0 ORDER BY w.key, h.version"""
    ):
        work = load(str(data))
        changes.append(
            PendingChange(
                id=int(hid),
                key=str(key),
                version=int(version),
                at=float(at),
                title=work.title,
                identifiers=work.identifiers(),
                changes=json.loads(changes_json),
                cited_by=cited.get(int(wid), []),
            )
        )
    events = []
    for eid, wid, key, kind, notice, date, source, label, at, data in conn.execute(
        """SELECT e.id, w.id, w.key, e.kind, e.notice, e.date, e.source, e.label, e.detected_at, w.data
           FROM events e JOIN works w ON w.id = e.work_id WHERE e.reported = 0 ORDER BY w.key, e.id"""
    ):
        work = load(str(data))
        events.append(
            PendingEvent(
                id=int(eid),
                key=str(key),
                title=work.title,
                identifiers=work.identifiers(),
                event=StatusEvent(kind=kind, notice=notice, date=date, source=source, label=label),
                detected_at=float(at),
                cited_by=cited.get(int(wid), []),
            )
        )
    return Outbox(changes, events)


def mark_reported(conn: sqlite3.Connection, outbox: Outbox) -> None:
    conn.executemany(
        "UPDATE history SET reported = 1 WHERE id = ?", [(c.id,) for c in outbox.changes]
    )
    conn.executemany(
        "UPDATE events SET reported = 1 WHERE id = ?", [(e.id,) for e in outbox.events]
    )
