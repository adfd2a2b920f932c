"""Exporting 100,000 works to BibTeX and CSL-JSON, and refs --help start-up time.

    python benchmarks/bench_export.py [--works 100000] [--repeat 3]

The works are generated from the genuine recorded records in tests/fixtures, normalised
(Crossref and PubMed, markup, non-ASCII names, statuses included) and copied with their
identifiers and titles varied: NOT genuine data, but genuine shapes. Printed, from one
run: median seconds to render each format from works in memory; the same for
``refs export`` reading a library of that many works (both formats); and the median
wall time of ``refs --help`` in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from refs.app.exporting import library_entries, write_exports
from refs.app.resolving import BuiltWorks, store_works
from refs.choices import ExportFormat
from refs.export.bibtex import to_bibtex
from refs.export.csl import to_csl_json
from refs.export.entries import ExportEntry
from refs.identifiers import Scheme
from refs.normalise.crossref import work_from_crossref
from refs.normalise.pubmed import work_from_pubmed
from refs.planner import WorkCluster
from refs.records.pubmed import split_article_set
from refs.store.library import SQLiteLibrary
from refs.work import Provenance, Work

FIX = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def templates() -> list[Work]:
    works = []
    for path in sorted(FIX.glob("crossref*/*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("message-type") == "work":
            works.append(work_from_crossref(body["message"]))
    for path in sorted(FIX.glob("ncbi-eutils/efetch_*.xml")):
        for xml, _ in split_article_set(path.read_bytes()).values():
            works.append(work_from_pubmed(xml))
    return works


def generate(n: int) -> list[ExportEntry]:
    base = templates()
    entries = []
    for i in range(n):
        t = base[i % len(base)]
        doi = f"10.5555/refs-export.{i}"
        # Unique title and first author per work, so caches see what a real library gives
        # them (repeated journals and publishers, mostly distinct titles and people).
        authors = list(t.author)
        if authors:
            first = authors[0]
            authors[0] = first.model_copy(
                update={"family": f"{first.family or first.literal or 'Anon'}{i}"}
            )
        work = t.model_copy(
            update={
                "doi": doi,
                "title": f"{t.title or 'Untitled'} ({i})",
                "pmid": None,
                "pmcid": None,
                "author": authors,
                "provenance": [Provenance(service="crossref", key=doi, fetched_at=0.0)],
            }
        )
        entries.append(ExportEntry(f"key{i:06d}", work, [f"articles/post-{i % 500}.html"]))
    return entries


def median_time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    entries = generate(args.works)
    print(
        f"# export: {len(entries)} works generated from {len(templates())} genuine records; median of {args.repeat}"
    )
    t_bib = median_time(lambda: to_bibtex(entries), args.repeat)
    t_bib_abs = median_time(lambda: to_bibtex(entries, abstracts=True), args.repeat)
    t_csl = median_time(lambda: to_csl_json(entries), args.repeat)
    print(f"render BibTeX              {t_bib:6.2f} s   (with --abstracts: {t_bib_abs:.2f} s)")
    print(f"render CSL-JSON            {t_csl:6.2f} s")
    print(f"render both, one after the other {t_bib + t_csl:6.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        targets = [
            (Path(tmp) / "library.bib", ExportFormat.bibtex),
            (Path(tmp) / "library.json", ExportFormat.csl_json),
        ]

        def both() -> None:
            for path, _ in targets:
                path.unlink(missing_ok=True)
            write_exports(entries, targets)

        t_both = median_time(both, args.repeat)
        print(
            f"write both files           {t_both:6.2f} s   (as refs does: second format in a forked child) "
            f"(goal <= 10 s: {'met' if t_both <= 10 else 'NOT met'})"
        )

        with SQLiteLibrary(Path(tmp)) as library:
            clusters = [WorkCluster({Scheme.DOI: e.work.doi or ""}, [e.work]) for e in entries]
            t0 = time.perf_counter()
            store_works(library, BuiltWorks(clusters))
            t_store = time.perf_counter() - t0
            t0 = time.perf_counter()
            loaded = library_entries(library)
            t_load = time.perf_counter() - t0
        print(
            f"library: store {len(entries)} new works {t_store:6.2f} s; load them for export {t_load:6.2f} s"
        )
        env = {"REFS_LIBRARY": tmp, "REFS_CONFIG": "/dev/null", "PATH": "/usr/bin:/bin"}

        def cli_export() -> None:
            subprocess.run(
                [sys.executable, "-m", "refs", "export", "-o", f"{tmp}/out.bib"],
                env=env,
                check=True,
            )

        t_first = median_time(cli_export, 1)
        t_cli = median_time(cli_export, args.repeat)
        print(
            f"refs export (BibTeX)       {t_first:6.2f} s first (fresh process: read {len(loaded)} works, "
            f"render, keep the entries, write); {t_cli:.2f} s again (median of {args.repeat}: kept entries)"
        )

    runs = []
    for _ in range(15):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "refs", "--help"], capture_output=True, check=True)
        runs.append(time.perf_counter() - t0)
    bare = []
    for _ in range(15):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        bare.append(time.perf_counter() - t0)
    help_s = statistics.median(runs)
    print(
        f"refs --help                {help_s:6.3f} s   median of 15 (python -c pass: {statistics.median(bare):.3f} s) "
        f"(goal <= 0.3 s: {'met' if help_s <= 0.3 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
