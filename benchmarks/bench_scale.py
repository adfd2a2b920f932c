"""Issue #13 parts 1 and 2 as users run them: `refs resolve` serial, `--workers 1`,
`--workers 2`, on SQLite and on PostgreSQL.

    python benchmarks/bench_scale.py [--only limits,scale] [--works 100000]

Every figure is one ``refs`` invocation as a subprocess (bench_cli's launcher: wall, CPU,
peak RSS of the refs process itself, not of the Dask workers it starts), with the
replay server in its own process:

* **limits**: the 10k mix of bench_cli (5,000 DOIs, 3,000 PMIDs, 2,000 PMCIDs in 100
  documents) against the services' published limits with 100 ms latency: serial, then
  ``--workers 2`` in a fresh cache; requests, 429s and the exports' checksums; the
  minimum is the batched first round (completion off) as bench_cli counts it.
* **scale**: N synthetic DOIs in 1,000 documents, replay server without limits or
  latency (refs' own work only), a fresh cache and library per run: serial,
  ``--workers 1``, ``--workers 2``, on SQLite and on a PostgreSQL the benchmark starts
  (tests/postgres.py); wall, requests, checksums of library.bib and library.json.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_cli import REFS, Server, _delta, line, run


def _documents(ids: dict[str, list[str]], folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cites = [f"doi: {d}" for d in ids["doi"]]
    cites += [f"PMID: {p}" for p in ids["pmid"]] + [f"PMCID: {p}" for p in ids["pmcid"]]
    per = math.ceil(len(cites) / count)
    for k in range(count):
        part = cites[k * per : (k + 1) * per]
        if part:
            text = "".join(f"Sentence {i} cites a study. {c}\n" for i, c in enumerate(part))
            (folder / f"article-{k:04}.txt").write_text(text, encoding="utf-8")


def _sums(folder: Path) -> str:
    return " ".join(
        f"{name}:{hashlib.sha256((folder / name).read_bytes()).hexdigest()[:12]}"
        for name in ("library.bib", "library.json")
        if (folder / name).exists()
    )


def bench_limits(args: argparse.Namespace, tmp: Path) -> None:
    n_doi, n_pmid, n_pmcid = 5000, 3000, 2000
    server = Server(limits="published", latency=0.1, synthetic=(n_doi, n_pmid, n_pmcid), tmp=tmp)
    try:
        docs = tmp / "limits-docs"
        _documents(server.ids, docs, 100)
        minimum = math.ceil(n_doi / 100) + math.ceil(n_pmid / 200) + 2 * math.ceil(n_pmcid / 200)
        print(
            f"\n# 10k mix in 100 documents, published limits, 100 ms: minimum first round {minimum} requests"
        )
        for complete in ("0", "1"):
            for label, extra in (("serial", []), ("--workers 2", ["--workers", "2"])):
                out = tmp / f"limits-{complete}-{label.replace(' ', '')}"
                env = {**server.env(out), "REFS_COMPLETE": complete}
                before = server.stats()
                r = run([REFS, "resolve", str(docs), "--quiet", *extra], env=env)
                after = server.stats()
                req = sum(_delta(before, after, "requests").values())
                rej = sum(_delta(before, after, "rejected").values())
                what = "completion off" if complete == "0" else "completion on"
                ratio = f" = {req / minimum:.2f}x the minimum" if complete == "0" else ""
                line(
                    f"{label} ({what})",
                    r,
                    f"{req} requests{ratio}, {rej} 429s; {_sums(out / 'references')}",
                )
    finally:
        server.stop()


def bench_scale(args: argparse.Namespace, tmp: Path) -> None:
    from tests.postgres import Server as Postgres

    n = args.works
    server = Server(limits="none", latency=0.0, synthetic=(n, 0, 0), tmp=tmp)
    pg = Postgres()
    try:
        docs = tmp / "scale-docs"
        _documents({"doi": server.ids["doi"], "pmid": [], "pmcid": []}, docs, 1000)
        print(f"\n# scale: {n} synthetic DOIs in 1,000 documents, no limits or latency, cold runs")
        for store in ("sqlite", "postgresql"):
            for label, extra in (
                ("serial", []),
                ("--workers 1", ["--workers", "1"]),
                ("--workers 2", ["--workers", "2"]),
            ):
                out = tmp / f"scale-{store}-{label.replace(' ', '')}"
                env = {**server.env(out), "REFS_UNLIMITED_LOCAL": "1"}
                if store == "postgresql":
                    env["REFS_LIBRARY"] = pg.new_database()
                    env["REFS_CACHE"] = pg.new_database()
                out.mkdir(parents=True, exist_ok=True)
                before = server.stats()
                r = run([REFS, "resolve", str(docs), "--quiet", *extra], env=env, cwd=out)
                req = sum(_delta(before, server.stats(), "requests").values())
                line(f"{store} {label}", r, f"{req} requests; {_sums(out / 'references')}")
    finally:
        pg.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="limits,scale")
    parser.add_argument("--works", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="refs-bench-scale-") as tmp:
        for name in args.only.split(","):
            {"limits": bench_limits, "scale": bench_scale}[name](args, Path(tmp))


if __name__ == "__main__":
    main()
