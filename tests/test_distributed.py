"""Runs spread over a Dask cluster (`refs resolve --workers N` / `--cluster`): documents
partitioned by a stable hash, extracted on workers, resolved in one place, normalised on
workers; the result equals a serial run's byte for byte."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refs.app.distributed import extract_distributed, partition_of
from refs.config import load_settings
from refs.dedup import cluster_by_components, cluster_records
from refs.identifiers import Identifier, Scheme
from refs.models import Record
from refs.testing.replay import ReplayServer
from tests.conftest import cli_for

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- partitions


def test_partitions_are_the_same_in_every_process() -> None:
    names = [f"articles/{i}.md" for i in range(50)]
    here = [partition_of(n, 8) for n in names]
    assert len(set(here)) > 4  # spread, not one bucket
    code = (
        "import sys; from refs.app.distributed import partition_of; "
        f"print([partition_of(n, 8) for n in {names!r}])"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert json.loads(out) == here


# ---------------------------------------------------------------- deduplication by component

DOIS = [f"10.5555/{i}" for i in range(5)]
PMIDS = [str(100 + i) for i in range(5)]
PMCIDS = [f"PMC{200 + i}" for i in range(4)]
VALUES = {Scheme.DOI: DOIS, Scheme.PMID: PMIDS, Scheme.PMCID: PMCIDS}


@st.composite
def _names(draw: st.DrawFn) -> dict[Scheme, str]:
    schemes = draw(st.sets(st.sampled_from(list(VALUES)), max_size=3))
    return {s: draw(st.sampled_from(VALUES[s])) for s in sorted(schemes, key=lambda s: s.value)}


@st.composite
def _group(draw: st.DrawFn) -> tuple[Identifier, dict[Scheme, str], list[Record]]:
    scheme = draw(st.sampled_from(list(VALUES)))
    ident = Identifier(scheme, draw(st.sampled_from(VALUES[scheme])))
    records = [
        Record(
            draw(st.sampled_from(["crossref", "pubmed", "idconv"])),
            draw(st.sampled_from(["k1", "k2", "k3", "k4"])),
            "ok",
            1.0,
            "{}",
            names=draw(_names()),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    return ident, draw(_names()), records


def _shape(result: tuple[list[object], dict[Identifier, int]]) -> object:
    clusters, where = result
    return (
        [
            (
                sorted((s.value, v) for s, v in c.identifiers.items()),  # type: ignore[attr-defined]
                [(r.service, r.key) for r in c.records],  # type: ignore[attr-defined]
                c.notes,  # type: ignore[attr-defined]
            )
            for c in clusters
        ],
        sorted((str(i), n) for i, n in where.items()),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(_group(), max_size=14))
def test_clustering_by_component_equals_the_global_clustering(
    groups: list[tuple[Identifier, dict[Scheme, str], list[Record]]],
) -> None:
    """Exact: same clusters (identifiers, records, notes of refused merges), same order,
    same identifier → cluster map; whatever order the components are mapped in."""
    expected = _shape(cluster_records(groups))  # type: ignore[arg-type]
    assert _shape(cluster_by_components(groups)) == expected  # type: ignore[arg-type]

    def backwards(fn, parts):  # type: ignore[no-untyped-def]
        return reversed([fn(p) for p in reversed(parts)])

    assert _shape(cluster_by_components(groups, mapper=backwards)) == expected  # type: ignore[arg-type]


# ---------------------------------------------------------------- runs on a LocalCluster


def _documents(folder: Path) -> None:
    folder.mkdir()
    for i, cite in enumerate(
        [
            "doi:10.1371/journal.pone.0033693 and PMID: 22351513",
            "https://doi.org/10.1073/pnas.1414271111",
            "PMID: 29915538, doi:10.1021/acs.jctc.2c01235",
            "PMC10769841 and doi:10.1371/journal.pone.0033693",
            "PMID: 20412080",
            "doi:10.1136/jclinpath-2020-206745",
        ]
    ):
        (folder / f"article-{i}.md").write_text(f"# Article {i}\n\nIt cites {cite}.\n", "utf-8")


def test_workers_2_exports_what_a_serial_run_exports(replay: ReplayServer, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _documents(docs)
    (tmp_path / "serial").mkdir()
    (tmp_path / "dask").mkdir()
    serial = cli_for(replay, tmp_path / "serial", cwd=tmp_path)
    done = serial("resolve", "-q", "docs", str(ROOT / "examples"))
    assert done.returncode == 0, done.stderr
    requests = dict(replay.requests)
    replay.reset_counters()
    spread = cli_for(replay, tmp_path / "dask", cwd=tmp_path)
    done = spread("resolve", "-q", "docs", str(ROOT / "examples"), "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert dict(replay.requests) == requests  # one resolver: the same requests, no more
    for name in ("library.bib", "library.json"):
        a = (tmp_path / "serial" / "references" / name).read_bytes()
        b = (tmp_path / "dask" / "references" / name).read_bytes()
        assert a == b, name


def test_usage_errors(tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text("doi:10.1371/journal.pone.0033693\n", encoding="utf-8")
    base = [sys.executable, "-m", "refs", "resolve", "--offline", str(doc)]
    env = {**os.environ, "REFS_CACHE": str(tmp_path / "c"), "REFS_LIBRARY": str(tmp_path / "r")}
    both = subprocess.run(
        [*base, "--workers", "2", "--cluster", "tcp://127.0.0.1:1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert both.returncode == 2
    assert "pick one" in both.stderr
    nowhere = subprocess.run(
        [*base, "--cluster", "tcp://127.0.0.1:1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert nowhere.returncode == 2
    assert "cannot reach the Dask scheduler" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr


def test_a_killed_worker_costs_only_its_partitions(tmp_path: Path) -> None:
    """Kill one of two workers while they extract: Dask runs its partitions again on the
    other (and the restarted one); every document comes back once, in serial order,
    with the mentions a serial extraction finds."""
    from distributed import Client, LocalCluster

    from refs.app.inputs import extract_documents

    docs = tmp_path / "docs"
    docs.mkdir()
    filler = "Some prose about a study that is long enough to take a while to scan. " * 20000
    for i in range(40):
        (docs / f"{i:02}.txt").write_text(
            f"{filler}\nIt cites doi:10.5555/kill.{i} and PMID: {1000 + i}.\n{filler}", "utf-8"
        )
    cfg = load_settings(
        {"cache": tmp_path / "cache", "library": tmp_path / "references"}, environ={}
    )
    os.chdir(tmp_path)
    serial = list(extract_documents(["docs"], cfg))
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        result: list[object] = []
        thread = threading.Thread(
            target=lambda: result.append(extract_distributed(client, ["docs"], cfg))
        )
        thread.start()
        victim = None
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            # A worker in the middle of extracting a partition.
            victim = next((w for w, keys in client.processing().items() if keys), None)
            time.sleep(0.01)
        mid_run = thread.is_alive()
        assert victim is not None, "no worker was seen extracting"
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(timeout=240)
        assert not thread.is_alive()
        assert mid_run, "the run had finished before the kill: make the documents larger"
        assert pids[victim] not in client.run(os.getpid).values()  # it really died
    (got,) = result
    assert [d.source for d in got] == [d.source for d in serial]  # type: ignore[attr-defined]
    assert [[m.id for m in d.mentions] for d in got] == [  # type: ignore[attr-defined]
        [m.id for m in d.mentions] for d in serial
    ]


@pytest.fixture(autouse=True)
def _back_home() -> object:
    cwd = os.getcwd()
    yield
    os.chdir(cwd)
