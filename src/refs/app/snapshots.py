"""``refs snapshot load``: the services' bulk files into the record cache.

A resolve then finds their records in the cache and asks the APIs only for what the
snapshots lack; a refresh asks Crossref only for what was re-indexed since the
snapshot's date (each record carries that date as its fetch time). Records are written
in batches of :data:`BATCH` (:data:`PAYLOAD_BATCH` for formats whose records carry
kilobytes; one transaction each), so memory stays constant whatever
the file's size; a record the cache holds from a later answer is kept, not replaced by
the older snapshot's.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from refs.config import Settings
from refs.errors import InputError
from refs.models import Record
from refs.progress import NullReporter, Reporter
from refs.records.snapshots import SnapshotError, SnapshotFormat, guess_format, read_snapshot
from refs.storage import RecordCache

__all__ = ["BATCH", "SnapshotLoad", "load_snapshots", "snapshot_stamp"]

BATCH = 5_000
# Records of kilobytes (PubMed articles, Crossref items) go in smaller batches: memory
# stays at a few tens of MB of payloads whatever the file.
PAYLOAD_BATCH = 1_000
# Files that are always a service's whole dataset (PMC publishes its crosswalk as one).
WHOLE_FILES = frozenset({"PMC-ids.csv", "PMC-ids.csv.gz"})
STAGE = "snapshot"


@dataclass(slots=True)
class SnapshotLoad:
    """What loading one file did."""

    file: str
    format: str
    date: str
    records: int = 0  # written to the cache
    kept: int = 0  # not written: the cache holds a later answer
    deleted: int = 0  # PMIDs an update file deletes
    seconds: float = 0.0
    whole: bool = False  # the service's whole dataset: a key it lacks is not there
    services: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "format": self.format,
            "date": self.date,
            "records": self.records,
            "kept": self.kept,
            "deleted": self.deleted,
            "whole": self.whole,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records / self.seconds) if self.seconds else None,
        }


def snapshot_stamp(path: Path, date: str | None) -> float:
    """The snapshot's date as a fetch time: ``date`` (YYYY-MM-DD, midnight UTC), or the
    file's modification time (downloads keep the server's)."""
    if date:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError as exc:
            msg = f"--date {date!r}: expected a date as YYYY-MM-DD"
            raise InputError(msg, source=date) from exc
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
    return path.stat().st_mtime


def load_snapshots(
    settings: Settings,
    paths: Sequence[Path],
    *,
    fmt: SnapshotFormat | None = None,
    date: str | None = None,
    whole: bool = False,
    reporter: Reporter | None = None,
) -> list[SnapshotLoad]:
    """Load each file into the cache; raises :class:`InputError` naming the file (and
    line) that cannot be read. Files before it stay loaded (each batch is committed).

    ``whole``: the files are the services' whole datasets as of their date, so a key they
    lack is "not found" for completion (PMC's ``PMC-ids.csv(.gz)``, one file that is the
    whole PMC crosswalk, always is)."""
    from refs.app.stores import open_cache

    reporter = reporter or NullReporter()
    formats: list[tuple[Path, SnapshotFormat]] = []
    for path in paths:
        guessed = fmt or guess_format(path)
        if guessed is None:
            msg = (
                f"{str(path)!r}: cannot tell the snapshot's format from its name; expected "
                "PMC-ids.csv(.gz), PubMed *.xml(.gz) or Crossref *.jsonl(.gz)/*.json(.gz), "
                "or say --format"
            )
            raise InputError(msg, source=str(path))
        if not path.is_file():
            msg = f"cannot read snapshot {str(path)!r}: no such file"
            raise InputError(msg, source=str(path))
        formats.append((path, guessed))
    cache = open_cache(settings)
    loads = []
    try:
        for path, kind in formats:
            stamp = snapshot_stamp(path, date)
            day = dt.datetime.fromtimestamp(stamp, tz=dt.UTC).strftime("%Y-%m-%d")
            load = SnapshotLoad(str(path), kind, day, whole=whole or path.name in WHOLE_FILES)
            started = time.perf_counter()
            reporter.start(STAGE, None)
            try:
                records = read_snapshot(path, kind, stamp)
                size = BATCH if kind == "pmc-ids" else PAYLOAD_BATCH
                while batch := list(itertools.islice(records, size)):
                    _put(cache, batch, load)
                    reporter.advance(STAGE, len(batch))
            except SnapshotError as exc:
                msg = (
                    f"{str(path)!r} is not a {kind} snapshot: {exc} "
                    f"({load.records} records before it were loaded)"
                )
                raise InputError(msg, source=str(path)) from exc
            except OSError as exc:
                msg = f"cannot read snapshot {str(path)!r}: {exc.strerror or exc}"
                raise InputError(msg, source=str(path)) from exc
            finally:
                reporter.finish(STAGE)
            for service, count in load.services.items():
                cache.add_snapshot(path.name, service, stamp, whole=load.whole, records=count)
            load.seconds = time.perf_counter() - started
            loads.append(load)
    finally:
        cache.close()
    return loads


def _put(cache: RecordCache, records: list[Record], load: SnapshotLoad) -> None:
    held = cache.get_many({(r.service, r.key) for r in records}, payloads=False)
    latest: dict[tuple[str, str], Record] = {}
    for record in records:
        slot = (record.service, record.key)
        old = held.get(slot)
        if old is not None and old.fetched_at > record.fetched_at:
            load.kept += 1
            continue
        latest[slot] = record  # a file naming a key twice: its last record stands
    cache.put(latest.values())
    for record in records:
        load.services[record.service] = load.services.get(record.service, 0) + 1
    for record in latest.values():
        if record.status == "ok":
            load.records += 1
        else:
            load.deleted += 1
