"""The figures of issue #11, measured as a user runs them: the ``refs`` command as a subprocess.

    python benchmarks/bench_cli.py [--only resolve,extract,scale,growth] [--scale 100000]

Every figure is one ``refs`` invocation in a fresh interpreter (start-up, reading, writing
included), timed from spawn to exit, with its CPU seconds (user + system) and peak RSS taken
from ``wait4``. Beside each figure, its floor or baseline measured in the same run:

* **resolve**: 5,000 DOIs, 3,000 PMIDs and 2,000 PMCIDs written in one text file, against
  the replay server in its own process with the services' published limits and 100 ms of
  added latency. The floor is what the limits impose on the batched minimum of requests
  (Crossref lists: ceil(DOIs / 100) at 3/s; NCBI: one efetch per 200 PMIDs plus, per 200
  PMCIDs, an ID-converter and an efetch request, at 3/s); then the same run again, warm.
* **extract**: 40 MB of generated prose (one identifier per ~5 KB) and 40 MB of generated
  HTML, ``refs extract FILE --format jsonl > /dev/null``, beside the naive scan: a fresh
  interpreter that reads the same file and writes one JSON line per match of the one DOI
  regex most tools use.
* **scale**: N synthetic DOIs, replay server without limits or latency (only refs' own
  work): ``refs resolve`` cold, warm, and ``refs export`` in both formats of the library
  it built.
* **growth**: ``refs extract DIR`` over generated documents holding 10k / 100k / 1M
  mentions: wall, CPU, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_extract import make_html, make_text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REFS = str(BIN / "refs") if (BIN / "refs").exists() else shutil.which("refs") or "refs"
# The naive scan: a fresh interpreter reading the file and writing a JSON line per match of
# one regex. "three kinds" is the one case-insensitive pattern a tool that finds DOIs, PMIDs
# and PMCIDs in a single regex writes; "DOI only" (Crossref's DOI pattern, which Python's
# regex engine can scan by its literal prefix) is the floor of reading the text once.
NAIVE = r"""
import json, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
pattern = re.compile(sys.argv[2], re.IGNORECASE)
lines = [json.dumps({"id": m.group(), "start": m.start(), "end": m.end()}) for m in pattern.finditer(text)]
sys.stdout.write("\n".join(lines) + "\n")
"""
NAIVE_PATTERNS = {
    "three kinds": r"\b(?:10\.\d{4,9}/[-._;()/:A-Z0-9]+|PMID:?\s*\d{1,8}|PMC\d{4,8})",
    "DOI only": r"10\.\d{4,9}/[-._;()/:A-Z0-9]+",
}


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    rc: int
    stdout: bytes
    stderr: bytes


# Children are spawned by a small launcher process started before anything large is built:
# Linux counts the spawning process's peak RSS into a child's ru_maxrss at exec, so spawning
# from this process (which holds 40 MB corpora) would inflate every child's figure.
LAUNCHER = r"""
import json, os, subprocess, sys, time
for request in sys.stdin:
    job = json.loads(request)
    out = open(job["stdout"], "wb")
    err = open(job["stderr"], "wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(job["argv"], stdout=out, stderr=err, env=job["env"], cwd=job.get("cwd"))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out.close(); err.close()
    print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                      "rss": usage.ru_maxrss / 1024, "rc": os.waitstatus_to_exitcode(status)}), flush=True)
"""
_launcher: subprocess.Popen[str] | None = None


def run(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdout_file: Path | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run ``argv`` to its end; wall and CPU seconds and peak RSS (MB) from ``wait4``."""
    global _launcher
    if _launcher is None:
        _launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    assert _launcher.stdin is not None
    assert _launcher.stdout is not None
    err_path = Path(tempfile.mkstemp(prefix="refs-bench-err-")[1])
    job = {
        "argv": list(argv),
        "env": env or dict(os.environ),
        "stdout": str(stdout_file or os.devnull),
        "stderr": str(err_path),
        "cwd": str(cwd) if cwd else None,
    }
    _launcher.stdin.write(json.dumps(job) + "\n")
    _launcher.stdin.flush()
    got = json.loads(_launcher.stdout.readline())
    stderr = err_path.read_bytes()
    err_path.unlink()
    return Run(got["wall"], got["cpu"], got["rss"], got["rc"], b"", stderr)


def line(name: str, r: Run, extra: str = "") -> None:
    print(f"  {name:34} {r.wall:8.2f} s wall {r.cpu:8.2f} s CPU {r.rss_mb:7.0f} MB RSS  {extra}")
    if r.rc not in (0, 1):
        print(f"    exit {r.rc}: {r.stderr.decode(errors='replace')[-800:]}")


# ---------------------------------------------------------------- the replay server


class Server:
    def __init__(
        self, *, limits: str, latency: float, synthetic: tuple[int, int, int], tmp: Path
    ) -> None:
        self.ids_file = tmp / "ids.json"
        cmd = [
            sys.executable, "-m", "refs.testing.replay",
            "--fixtures", str(ROOT / "tests/fixtures"),
            "--limits", limits, "--latency", str(latency),
            "--synthetic", ",".join(map(str, synthetic)),
            "--ids-file", str(self.ids_file),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()
        if not first.startswith("listening on "):
            self.proc.kill()
            raise SystemExit(f"replay server did not start: {first!r}")
        self.url = first.removeprefix("listening on ")
        self.ids = json.loads(self.ids_file.read_text())

    def stats(self) -> dict[str, dict[str, int]]:
        with urllib.request.urlopen(f"{self.url}/_stats") as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def env(self, tmp: Path) -> dict[str, str]:
        from refs.testing.replay.server import URL_SETTINGS

        env = {k: v for k, v in os.environ.items() if not k.startswith("REFS_")}
        env.update({s.env: self.url + s.mount for s in URL_SETTINGS.values()})
        env.update(
            {
                "REFS_CACHE": str(tmp / "cache"),
                "REFS_LIBRARY": str(tmp / "references"),
                "REFS_MAILTO": "bench@example.org",
                "REFS_CONFIG": os.devnull,
            }
        )
        return env

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


def _delta(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], key: str
) -> dict[str, int]:
    return {
        pool: n - before[key].get(pool, 0)
        for pool, n in after[key].items()
        if n - before[key].get(pool, 0)
    }


def citations_file(ids: dict[str, list[str]], path: Path) -> None:
    """One text file citing every identifier, in the forms people write them."""
    rng = random.Random(7)
    lines = []
    for doi in ids["doi"]:
        lines.append(rng.choice([f"doi: {doi}", f"https://doi.org/{doi}", f"DOI {doi}."]))
    for pmid in ids["pmid"]:
        lines.append(rng.choice([f"PMID: {pmid}", f"(PMID {pmid})"]))
    for pmcid in ids["pmcid"]:
        lines.append(rng.choice([f"PMCID: {pmcid}", f"{pmcid}"]))
    rng.shuffle(lines)
    path.write_text(
        "".join(
            f"Sentence {i} of the article cites a study. {cite}\n" for i, cite in enumerate(lines)
        ),
        encoding="utf-8",
    )


def bench_resolve(args: argparse.Namespace, tmp: Path) -> None:
    n_doi, n_pmid, n_pmcid = args.dois, args.pmids, args.pmcids
    server = Server(
        limits="published", latency=args.latency, synthetic=(n_doi, n_pmid, n_pmcid), tmp=tmp
    )
    try:
        doc = tmp / "citations.txt"
        citations_file(server.ids, doc)
        min_crossref = math.ceil(n_doi / 100)
        min_ncbi = math.ceil(n_pmid / 200) + 2 * math.ceil(n_pmcid / 200)
        floor = max(min_crossref / 3, min_ncbi / 3)
        print(
            f"\n# resolve: {n_doi + n_pmid + n_pmcid} identifiers ({n_doi} DOIs, {n_pmid} PMIDs, "
            f"{n_pmcid} PMCIDs) in one text file; replay server: published limits, "
            f"{args.latency * 1000:.0f} ms latency, own process"
        )
        print(
            f"  minimum {min_crossref + min_ncbi} requests (Crossref {min_crossref}, NCBI {min_ncbi}); "
            f"floor {floor:.2f} s"
        )
        env = server.env(tmp)
        argv = [REFS, "resolve", str(doc), "--quiet"]
        # First the run without completion (issue #12) in a cache of its own: what the
        # completion round costs is the difference with the cold run after it.
        plain_env = {**env, "REFS_COMPLETE": "0", "REFS_CACHE": str(tmp / "cache-plain"),
                     "REFS_LIBRARY": str(tmp / "references-plain")}  # fmt: skip
        before = server.stats()
        r = run(argv, env=plain_env)
        req = _delta(before, server.stats(), "requests")
        line(
            "refs resolve --no-complete (cold)",
            r,
            f"{sum(req.values())} requests = {r.wall / floor:.2f}x the floor",
        )
        print(f"    requests per pool: {json.dumps(req)}")
        for label in ("cold", "warm"):
            before = server.stats()
            r = run(argv, env=env)
            after = server.stats()
            req = _delta(before, after, "requests")
            rej = sum(_delta(before, after, "rejected").values())
            ratio = f"= {r.wall / floor:.2f}x the floor" if label == "cold" else "(goal <= 1.5 s)"
            if label == "cold":
                # The floor of the requests this plan needs (completion included): each
                # pool's requests at its published rate, the slowest pool binding.
                from refs.registry import POOLS  # the published rates (no API key)

                plan_floor = max(n / POOLS[pool].rate for pool, n in req.items())
                ratio += f", {r.wall / plan_floor:.2f}x its plan's floor of {plan_floor:.2f} s"
            line(
                f"refs resolve citations.txt ({label})",
                r,
                f"{sum(req.values())} requests, {rej} 429s {ratio}",
            )
            if label == "cold":
                print(f"    requests per pool: {json.dumps(req)}")
    finally:
        server.stop()


def bench_extract(args: argparse.Namespace, tmp: Path) -> None:
    size = int(args.mb * 1_000_000)
    print(
        f"\n# extract: {args.mb:g} MB generated, `refs extract FILE --format jsonl > FILE`, median of {args.repeat}"
    )
    for name, text in (("txt", make_text(size, density=5000)), ("html", make_html(size))):
        path = tmp / f"big.{name}"
        path.write_text(text, encoding="utf-8")
        mb = path.stat().st_size / 1e6
        out = tmp / "out.jsonl"
        refs_runs = sorted(
            (
                run([REFS, "extract", str(path), "--format", "jsonl"], stdout_file=out)
                for _ in range(args.repeat)
            ),
            key=lambda r: r.wall,
        )
        mentions = sum(1 for _ in out.open("rb"))
        r = refs_runs[len(refs_runs) // 2]
        line(f"refs extract big.{name}", r, f"{mb / r.wall:6.1f} MB/s, {mentions} mentions")
        for label, pattern in NAIVE_PATTERNS.items():
            naive_runs = sorted(
                (
                    run([sys.executable, "-c", NAIVE, str(path), pattern], stdout_file=out)
                    for _ in range(args.repeat)
                ),
                key=lambda r: r.wall,
            )
            found = sum(1 for _ in out.open("rb"))
            b = naive_runs[len(naive_runs) // 2]
            line(
                f"naive scan ({label}) big.{name}",
                b,
                f"{mb / b.wall:6.1f} MB/s, {found} matches; refs = {b.wall / r.wall:.2f}x its speed",
            )
        path.unlink()


def bench_scale(args: argparse.Namespace, tmp: Path) -> None:
    n = args.scale
    server = Server(limits="none", latency=0.0, synthetic=(n, 0, 0), tmp=tmp)
    try:
        doc = tmp / "dois.txt"
        citations_file({"doi": server.ids["doi"], "pmid": [], "pmcid": []}, doc)
        env = {**server.env(tmp), "REFS_UNLIMITED_LOCAL": "1"}  # refs' own limits lifted too
        print(
            f"\n# scale: {n} synthetic DOIs, replay server without limits or latency, refs with "
            "REFS_UNLIMITED_LOCAL=1 (only refs' own work)"
        )
        for label in ("cold", "warm"):
            before = server.stats()
            r = run([REFS, "resolve", str(doc), "--quiet"], env=env)
            req = sum(_delta(before, server.stats(), "requests").values())
            line(f"refs resolve ({label})", r, f"{req} requests")
        for fmt, name in (("bibtex", "x.bib"), ("csl-json", "x.json")):
            r = run([REFS, "export", "--format", fmt, "-o", str(tmp / name)], env=env)
            line(f"refs export --format {fmt}", r, f"{(tmp / name).stat().st_size / 1e6:.0f} MB")
    finally:
        server.stop()


def bench_growth(args: argparse.Namespace, tmp: Path) -> None:
    print(
        "\n# growth: `refs extract DIR --format jsonl` over generated documents (20 mentions each)"
    )
    rng = random.Random(3)
    for mentions in (10_000, 100_000, 1_000_000):
        folder = tmp / f"docs-{mentions}"
        folder.mkdir()
        docs = mentions // 20
        for d in range(docs):
            body = "\n".join(
                f"Paragraph {i}: a trial of {rng.randint(1, 999)} patients (doi: 10.{rng.randint(1000, 9999)}/g.{d}.{i})."
                for i in range(20)
            )
            (folder / f"doc{d:06d}.txt").write_text(body, encoding="utf-8")
        out = tmp / "growth.jsonl"
        r = run([REFS, "extract", str(folder), "--format", "jsonl"], stdout_file=out)
        got = sum(1 for _ in out.open("rb"))
        line(
            f"{mentions:>9,} mentions in {docs:,} docs",
            r,
            f"{got} lines, {r.wall / mentions * 1e6:.1f} us/mention",
        )
        shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="resolve,extract,scale,growth")
    parser.add_argument("--dois", type=int, default=5000)
    parser.add_argument("--pmids", type=int, default=3000)
    parser.add_argument("--pmcids", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--mb", type=float, default=40.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=100_000)
    args = parser.parse_args()
    # As an installed refs has them (pip compiles bytecode; this machine's environment
    # sets PYTHONDONTWRITEBYTECODE, so a source tree would be compiled on every start-up).
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import compileall, os, refs; compileall.compile_dir(os.path.dirname(refs.__file__), quiet=1)",
        ],
        check=True,
    )
    r = run([REFS, "--help"])  # starts the launcher while this process is small
    print(f"# refs = {REFS}")
    line("refs --help (start-up)", r)
    for name in args.only.split(","):
        tmp = Path(tempfile.mkdtemp(prefix=f"refs-bench-{name}-"))
        try:
            {
                "resolve": bench_resolve,
                "extract": bench_extract,
                "scale": bench_scale,
                "growth": bench_growth,
            }[name](args, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
