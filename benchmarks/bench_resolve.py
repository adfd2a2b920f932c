"""Resolving 10,000 mixed identifiers within the services' published limits.

    python benchmarks/bench_resolve.py [--dois 5000 --pmids 3000 --pmcids 2000] [--latency 0.1]

The replay server (``refs.testing.replay``) runs in its own process, enforcing the
published limits (Crossref list 3/s with 3 at once, single 10/s with 3 at once; NCBI
3/s; DataCite 1000 per 5 min) and adding a fixed latency to every answer. Its records
are synthesised for the load test from the genuine recorded ones in tests/fixtures
(each a copy of a genuine record with only its identifiers changed; see
``ReplayData.synthesize``). Printed, from one run:

* refs, cold cache: requests per service against the batched minimum, 429s drawn,
  wall time against the floor the limits imply (Crossref lists: ceil(DOIs/100) / 3 s);
* one request per identifier (what most tools do) on a subset, extrapolated;
* refs again with the warm cache: requests (goal 0) and wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from refs.config import load_settings
from refs.identifiers import Identifier, Scheme
from refs.resolve.engine import Resolver
from refs.store.cache import Cache

ROOT = Path(__file__).resolve().parent.parent


def start_server(args: argparse.Namespace, ids_file: Path) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable,
        "-m",
        "refs.testing.replay",
        "--fixtures",
        str(ROOT / "tests/fixtures"),
        "--limits",
        "published",
        "--latency",
        str(args.latency),
        "--synthetic",
        f"{args.dois},{args.pmids},{args.pmcids}",
        "--ids-file",
        str(ids_file),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"replay server did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def server_stats(url: str) -> dict[str, dict[str, int]]:
    with urllib.request.urlopen(f"{url}/_stats") as response:
        return json.loads(response.read())


def settings_for(url: str, cache: Path):  # type: ignore[no-untyped-def]
    return load_settings(
        {
            "crossref_url": f"{url}/crossref",
            "datacite_url": f"{url}/datacite",
            "doi_url": f"{url}/doi",
            "eutils_url": f"{url}/eutils",
            "idconv_url": f"{url}/idconv/",
            "cache": cache,
            "mailto": "bench@example.org",
        },
        environ={},
    )


def resolve(url: str, cache_dir: Path, ids: list[Identifier], *, one_by_one: bool = False):  # type: ignore[no-untyped-def]
    settings = settings_for(url, cache_dir)
    cache = Cache(cache_dir)
    resolver = Resolver(settings, cache)
    if one_by_one:
        for service in resolver.services.values():
            service.take = lambda pending: 1  # type: ignore[method-assign]
    try:
        return asyncio.run(resolver.resolve(ids))
    finally:
        cache.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dois", type=int, default=5000)
    parser.add_argument("--pmids", type=int, default=3000)
    parser.add_argument("--pmcids", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--subset", type=int, default=60, help="identifiers for the one-by-one run")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="refs-bench-"))
    proc, url = start_server(args, tmp / "ids.json")
    try:
        raw = json.loads((tmp / "ids.json").read_text())
        ids = (
            [Identifier(Scheme.DOI, d) for d in raw["doi"]]
            + [Identifier(Scheme.PMID, p) for p in raw["pmid"]]
            + [Identifier(Scheme.PMCID, c) for c in raw["pmcid"]]
        )
        n = len(ids)
        min_crossref = math.ceil(args.dois / 100)
        min_ncbi = math.ceil(args.pmids / 200) + 2 * math.ceil(args.pmcids / 200)
        minimum = min_crossref + min_ncbi
        floor = max(min_crossref / 3, min_ncbi / 3)
        print(
            f"# resolve: {n} identifiers ({args.dois} DOIs, {args.pmids} PMIDs, {args.pmcids} PMCIDs)"
        )
        print(
            f"# replay server: published limits, {args.latency * 1000:.0f} ms added latency, separate process"
        )
        print(
            f"# batched minimum: {minimum} requests (Crossref {min_crossref}, NCBI {min_ncbi}); "
            f"floor {floor:.1f} s (Crossref lists at 3/s)"
        )

        before = server_stats(url)
        t0 = time.perf_counter()
        cold = resolve(url, tmp / "cache", ids)
        t_cold = time.perf_counter() - t0
        after = server_stats(url)
        rejected = sum(after["rejected"].values()) - sum(before["rejected"].values())
        total = sum(cold.requests.values())
        print("\nrefs, cold cache")
        print(
            f"  resolved         {cold.count('resolved')}/{n} (not found {cold.count('not_found')}, failed {cold.count('failed')})"
        )
        print(
            f"  requests         {total}  {json.dumps(cold.requests)}  = {total / minimum:.2f}x the minimum (goal <= 1.10)"
        )
        print(f"  429s drawn       {rejected}; retries {sum(cold.retries.values())}")
        print(
            f"  wall time        {t_cold:.1f} s  = {t_cold / floor:.2f}x the floor of {floor:.1f} s (goal <= 1.25)"
        )

        # One request per identifier, as most tools do, on a subset; extrapolated.
        per = max(1, args.subset // 10)
        subset = (
            [i for i in ids if i.scheme is Scheme.DOI][: per * 5]
            + [i for i in ids if i.scheme is Scheme.PMID][: per * 3]
            + [i for i in ids if i.scheme is Scheme.PMCID][: per * 2]
        )
        t0 = time.perf_counter()
        naive = resolve(url, tmp / "cache-naive", subset, one_by_one=True)
        t_naive = time.perf_counter() - t0
        crossref_rate = 10.0  # single-record pool
        ncbi_requests = args.pmids + 2 * args.pmcids
        naive_requests = args.dois + ncbi_requests
        measured_ncbi = naive.requests.get("pubmed", 0) + naive.requests.get("idconv", 0)
        ncbi_rate = measured_ncbi / t_naive if t_naive else 3.0
        extrapolated = max(args.dois / crossref_rate, ncbi_requests / min(ncbi_rate, 3.0))
        print("\none request per identifier (subset, extrapolated to the full mix)")
        print(
            f"  subset           {len(subset)} identifiers, {sum(naive.requests.values())} requests "
            f"{json.dumps(naive.requests)}, {t_naive:.1f} s"
        )
        print(
            f"  extrapolated     {naive_requests} requests, {extrapolated:.0f} s "
            f"(NCBI {ncbi_requests} at 3/s binds) = {extrapolated / t_cold:.0f}x refs' wall time"
        )

        before = server_stats(url)
        t0 = time.perf_counter()
        warm = resolve(url, tmp / "cache", ids)
        t_warm = time.perf_counter() - t0
        after = server_stats(url)
        served = sum(after["requests"].values()) - sum(before["requests"].values())
        print("\nrefs, warm cache")
        print(f"  resolved         {warm.count('resolved')}/{n}")
        print(f"  requests         {sum(warm.requests.values())} (server saw {served}) (goal 0)")
        print(f"  wall time        {t_warm:.2f} s")
    finally:
        proc.terminate()
        proc.wait(5)


if __name__ == "__main__":
    main()
