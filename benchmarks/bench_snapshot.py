"""Issue #13 part 3: `refs snapshot load` rates, and a resolve covered by loaded snapshots.

    python benchmarks/bench_snapshot.py [--records 20000] [--rows 200000]

Every figure is one ``refs`` invocation as a subprocess (bench_cli's launcher: wall, CPU,
peak RSS from ``wait4``), beside a floor measured in the same run:

* **load**: generated bulk files in each genuine format (records derived from the
  recorded ones by :meth:`ReplayData.synthesize`, identifiers replaced: NOT genuine
  data): Crossref JSON lines, a PubMed ``PubmedArticleSet``, a ``PMC-ids.csv.gz``; the
  floor is a fresh interpreter that decompresses and parses the same file (one
  ``json.loads`` per line / lxml ``iterparse`` / ``csv.reader``) and writes nothing.
* **resolve**: the 10k mix of bench_cli (5,000 DOIs, 3,000 PMIDs, 2,000 PMCIDs) against
  the replay server in its own process with the published limits and 100 ms latency,
  cold from the APIs, then in a new cache holding the snapshots of those same records:
  the requests it makes (goal: 0) and its wall time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_cli import REFS, ROOT, Server, _delta, citations_file, line, run
from refs.testing.replay import ReplayData

FLOOR = r"""
import csv, gzip, io, json, sys
from lxml import etree
path, kind = sys.argv[1], sys.argv[2]
n = 0
with gzip.open(path, "rb") as f:
    if kind == "crossref":
        for line in f:
            json.loads(line); n += 1
    elif kind == "pubmed":
        for _, el in etree.iterparse(f, tag="PubmedArticle"):
            etree.tostring(el); el.clear(); n += 1
    else:
        for row in csv.reader(io.TextIOWrapper(f, encoding="utf-8")):
            n += 1
print(n)
"""
PMC_IDS_HEADER = (
    "Journal Title,ISSN,eISSN,Year,Volume,Issue,Page,DOI,PMCID,PMID,Manuscript Id,Release Date"
)


def write_snapshots(data: ReplayData, folder: Path, *, extra_rows: int = 0) -> dict[str, Path]:
    """The replay data's records as the three bulk files (their genuine layouts)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "crossref": folder / "crossref-part0001.jsonl.gz",
        "pubmed": folder / "pubmed26n0001.xml.gz",
        "pmc-ids": folder / "PMC-ids.csv.gz",
    }
    with gzip.open(files["crossref"], "wt", encoding="utf-8", compresslevel=6) as out:
        for item in data.crossref.values():
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    with gzip.open(files["pubmed"], "wt", encoding="utf-8", compresslevel=6) as out:
        out.write('<?xml version="1.0" ?>\n<PubmedArticleSet>\n')
        for xml in data.pubmed.values():
            out.write(xml + "\n")
        out.write("</PubmedArticleSet>\n")
    with gzip.open(files["pmc-ids"], "wt", encoding="utf-8", compresslevel=6) as out:
        out.write(PMC_IDS_HEADER + "\n")
        for r in data.idconv.values():
            out.write(f",,,,,,,{r.get('doi', '')},{r['pmcid']},{r.get('pmid', '')},,live\n")
        for i in range(extra_rows):  # rows of other articles: the file's real bulk
            out.write(
                f"J Bench,,,2020,1,1,{i},10.5555/bench-row.{i},PMC{80_000_000 + i},{80_000_000 + i},,live\n"
            )
    return files


def bench_load(args: argparse.Namespace, tmp: Path) -> None:
    n = args.records
    data = ReplayData.from_fixtures(ROOT / "tests/fixtures", derived=False)
    data.synthesize(n, n, 0, prefix="10.5555/snap")
    files = write_snapshots(data, tmp / "load", extra_rows=args.rows)
    print(
        f"\n# snapshot load: generated files ({n} Crossref items, {n} PubMed articles, {args.rows} PMC-ids rows)"
    )
    for kind, path in files.items():
        env = {
            "REFS_CACHE": str(tmp / f"cache-load-{kind}"),
            "REFS_CONFIG": "/dev/null",
            "PATH": "/usr/bin:/bin",
        }
        out = tmp / "load.json"
        r = run([REFS, "snapshot", "load", str(path), "--json"], env=env, stdout_file=out)
        got = json.loads(out.read_text())[0]
        records = got["records"] + got["kept"]
        f = run([sys.executable, "-c", FLOOR, str(path), kind], stdout_file=out)
        parsed = int(out.read_text())
        mb = path.stat().st_size / 1e6
        line(
            f"refs snapshot load ({kind})",
            r,
            f"{records / r.wall:9,.0f} records/s ({records} records, {mb:.1f} MB gz)",
        )
        line(
            f"parse-only floor ({kind})",
            f,
            f"{parsed / f.wall:9,.0f} rows/s; refs = {f.wall / r.wall:.2f}x its speed",
        )


def bench_covered(args: argparse.Namespace, tmp: Path) -> None:
    n_doi, n_pmid, n_pmcid = 5000, 3000, 2000
    server = Server(limits="published", latency=0.1, synthetic=(n_doi, n_pmid, n_pmcid), tmp=tmp)
    try:
        doc = tmp / "citations.txt"
        citations_file(server.ids, doc)
        data = ReplayData.from_fixtures(ROOT / "tests/fixtures")
        data.synthesize(n_doi, n_pmid, n_pmcid)
        files = write_snapshots(data, tmp / "snap")
        min_crossref = math.ceil(n_doi / 100)
        min_ncbi = math.ceil(n_pmid / 200) + 2 * math.ceil(n_pmcid / 200)
        print(
            f"\n# resolve 10k ids ({n_doi} DOIs, {n_pmid} PMIDs, {n_pmcid} PMCIDs): published limits, 100 ms; "
            f"minimum {min_crossref + min_ncbi} requests from the APIs"
        )
        env = server.env(tmp)
        before = server.stats()
        r = run([REFS, "resolve", str(doc), "--quiet"], env=env)
        req = _delta(before, server.stats(), "requests")
        line(
            "refs resolve, cold, from the APIs",
            r,
            f"{sum(req.values())} requests {json.dumps(req)}",
        )
        snap_env = {
            **env,
            "REFS_CACHE": str(tmp / "cache-snap"),
            "REFS_LIBRARY": str(tmp / "references-snap"),
        }
        load = run([REFS, "snapshot", "load", str(files["pmc-ids"])], env=snap_env)
        line("refs snapshot load PMC-ids.csv.gz", load)
        load = run(
            [REFS, "snapshot", "load", str(files["crossref"]), str(files["pubmed"]), "--whole"],
            env=snap_env,
        )
        line("refs snapshot load crossref pubmed --whole", load)
        before = server.stats()
        r = run([REFS, "resolve", str(doc), "--quiet"], env=snap_env)
        req = _delta(before, server.stats(), "requests")
        line(
            "refs resolve, snapshots loaded",
            r,
            f"{sum(req.values())} requests {json.dumps(req)} (goal: 0)",
        )
        same = (tmp / "references/library.json").read_bytes() == (
            tmp / "references-snap/library.json"
        ).read_bytes()
        print(f"    library.json identical to the API run's: {same}")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="load,covered")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="refs-bench-snap-") as tmp:
        for name in args.only.split(","):
            {"load": bench_load, "covered": bench_covered}[name](args, Path(tmp))


if __name__ == "__main__":
    main()
