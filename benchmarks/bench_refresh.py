"""Refreshing a library of 10,000 works within the published limits.

    python benchmarks/bench_refresh.py [--dois 5000 --pmids 3000 --pmcids 2000] [--latency 0.1]

A library is built with `refs resolve` from the same mix as bench_resolve.py (records
synthesised from the genuine recordings in tests/fixtures, see ReplayData.synthesize),
against the replay server in its own process, enforcing the published limits with
100 ms latency. Its works are then marked as last checked 30 days ago, and refreshed:
once with nothing changed, once with 1% changed (half Crossref works gaining a
retraction and a new page range, half PubMed records gaining "Retracted Publication"
and a RetractionIn comment: derived changes, see ReplayData.change). Printed: requests
per service against the batched minimum (Crossref lists of 100 DOIs + efetch POSTs of 200
PMIDs) and against one request per work, wall time against the floor the limits imply,
and what the refresh found.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sqlite3
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_resolve import server_stats, settings_for, start_server
from refs.app import refresh, resolve_inputs


def age_library(library: Path, days: float) -> None:
    with sqlite3.connect(library / "library.sqlite") as db:
        db.execute("UPDATE works SET checked = ?", (time.time() - days * 86400,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dois", type=int, default=5000)
    parser.add_argument("--pmids", type=int, default=3000)
    parser.add_argument("--pmcids", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="refs-bench-refresh-"))
    proc, url = start_server(args, tmp / "ids.json")
    try:
        raw = json.loads((tmp / "ids.json").read_text())
        settings = dataclasses.replace(settings_for(url, tmp / "cache"), library=tmp / "references")
        inputs = raw["doi"] + [f"PMID:{p}" for p in raw["pmid"]] + raw["pmcid"]
        t0 = time.perf_counter()
        run = resolve_inputs(inputs, settings)
        print(
            f"# library built by refs resolve: {len(run.stored.updates)} works from {len(inputs)} identifiers "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        works = len(run.stored.updates)
        crossref_works, pubmed_works = args.dois, args.pmids + args.pmcids
        minimum = math.ceil(crossref_works / 100) + math.ceil(pubmed_works / 200)
        floor = max(math.ceil(crossref_works / 100) / 3, math.ceil(pubmed_works / 200) / 3)
        print(
            f"# batched minimum {minimum} requests (Crossref {math.ceil(crossref_works / 100)} lists, "
            f"efetch {math.ceil(pubmed_works / 200)}); one request per work: {works}; floor {floor:.1f} s"
        )
        for label, changed in (("nothing changed", 0), ("1% changed", works // 100)):
            if changed:
                urllib.request.urlopen(f"{url}/_change?n={changed // 2}").read()
            age_library(settings.library, 30)
            before = server_stats(url)
            t0 = time.perf_counter()
            report = refresh(settings, older_than=30 * 86400 - 3600)
            wall = time.perf_counter() - t0
            after = server_stats(url)
            rejected = sum(after["rejected"].values()) - sum(before["rejected"].values())
            total = sum(report.requests.values())
            print(f"\nrefresh, {label}")
            print(
                f"  checked          {report.checked} ({report.unchanged} unchanged, {len(report.changed)} changed, "
                f"{len(report.events)} status events, {len(report.not_checked)} not checked)"
            )
            print(
                f"  requests         {total} {json.dumps(report.requests)} = {total / minimum:.2f}x the minimum "
                f"(goal <= 1.10); {works / max(total, 1):.0f}x fewer than one per work; 429s drawn {rejected}"
            )
            print(
                f"  wall time        {wall:.1f} s = {wall / floor:.2f}x the floor of {floor:.1f} s "
                f"(exports written: {len(report.exports_written)})"
            )
    finally:
        proc.terminate()
        proc.wait(5)


if __name__ == "__main__":
    main()
