"""refs refresh: before/after records on the replay server, reports, exit statuses, safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from refs.records.pubmed import split_article_set
from refs.store.lock import LOCK_NAME
from refs.testing.replay import Fault, Limit, ReplayServer

ROOT = Path(__file__).resolve().parent.parent
DERIVED = ROOT / "tests" / "fixtures" / "derived"
PLOS = "10.1371/journal.pone.0033693"
OCT_1_2026 = 1790812800  # a last check before the "after" records were re-indexed (2026-11-20)


class Env:
    def __init__(self, server: ReplayServer, tmp: Path) -> None:
        self.server = server
        self.tmp = tmp
        self.library = tmp / "references"
        self.env = {
            **os.environ,
            **server.environ(),
            "REFS_CACHE": str(tmp / "cache"),
            "REFS_LIBRARY": str(self.library),
            "REFS_RETRY_ATTEMPTS": "2",
            "REFS_RETRY_WAIT_INITIAL": "0.01",
            "REFS_RETRY_WAIT_MAX": "0.02",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "refs", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    def set_checked(self, when: float) -> None:
        with sqlite3.connect(self.library / "library.sqlite") as db:
            db.execute("UPDATE works SET checked = ?", (when,))

    def publish_after(self) -> None:
        """The services now answer the 'after' records: a retraction, a page change, a PubMed retraction."""
        after = json.loads(
            (DERIVED / "works_10.1371_journal.pone.0033693.after.DERIVED.json").read_text(
                encoding="utf-8"
            )
        )
        self.server.data.crossref[PLOS] = after["message"]
        ((xml, _),) = split_article_set(
            (DERIVED / "efetch_pubmed_38147649.retracted.DERIVED.xml").read_bytes()
        ).values()
        self.server.data.pubmed["38147649"] = xml


@pytest.fixture
def lib(replay: ReplayServer, tmp_path: Path) -> Env:
    env = Env(replay, tmp_path)
    assert env.run("resolve", "-q", "examples/").returncode == 0
    env.set_checked(OCT_1_2026)
    replay.reset_counters()
    return env


def test_nothing_changed_costs_the_batched_minimum(lib: Env) -> None:
    """8 works: one filtered Crossref list and one efetch; nothing changes, exports untouched."""
    bib = lib.library / "library.bib"
    before = bib.stat().st_mtime_ns
    result = lib.run("refresh", "--json", "--fail-on", "change")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["checked"], report["unchanged"], report["changed"], report["events"]) == (
        8,
        8,
        [],
        [],
    )
    assert report["requests"] == {"crossref": 1, "pubmed": 1}
    (target,) = [target for _, pool, target in lib.server.log if pool == "crossref-list"]
    assert "filter=from-index-date:2026-09-30,doi:" in target
    assert bib.stat().st_mtime_ns == before
    assert report["exports_written"] == []


def test_after_records_report_exactly_the_changes_and_events(lib: Env) -> None:
    """The report names the page change, both retractions with notices and dates, and who cites them."""
    lib.publish_after()
    result = lib.run("refresh", "--all", "--json")
    assert result.returncode == 0, result.stderr  # --fail-on never
    report = json.loads(result.stdout)
    assert report["checked"] == 8
    assert report["unchanged"] == 6
    changed = {c["key"]: c for c in report["changed"]}
    assert set(changed) == {"sadasivan2012methylphenidate", "ritz2024social"}
    plos = {c["field"]: c for c in changed["sadasivan2012methylphenidate"]["changes"]}
    assert set(plos) == {"page", "status"}
    assert (plos["page"]["old"], plos["page"]["new"]) == ("e33693", "e33693–e33700")
    assert [c["field"] for c in changed["ritz2024social"]["changes"]] == ["status"]
    events = {(e["key"], e["kind"]): e for e in report["events"]}
    assert set(events) == {
        ("sadasivan2012methylphenidate", "retraction"),
        ("ritz2024social", "retraction"),
    }
    plos_event = events[("sadasivan2012methylphenidate", "retraction")]
    assert (plos_event["notice"], plos_event["date"], plos_event["source"]) == (
        "doi:10.1371/journal.pone.9999999",
        "2026-11-02",
        "crossref (retraction-watch)",
    )
    assert plos_event["cited_by"] == ["examples/health-news.html"]
    pubmed_event = events[("ritz2024social", "retraction")]
    assert (pubmed_event["notice"], pubmed_event["date"], pubmed_event["source"]) == (
        "pmid:41000001",
        "2026-03-03",
        "pubmed",
    )
    assert pubmed_event["cited_by"] == ["examples/health-news.html", "examples/reading-list.txt"]
    # Each work is named by its identifiers beside its key, in JSON and for people.
    assert plos_event["identifiers"]["doi"] == "10.1371/journal.pone.0033693"
    assert pubmed_event["identifiers"]["pmid"] == "38147649"
    assert (
        changed["sadasivan2012methylphenidate"]["identifiers"]["doi"]
        == "10.1371/journal.pone.0033693"
    )
    assert "sadasivan2012methylphenidate (doi:10.1371/journal.pone.0033693" in result.stderr
    # The exports now carry the retraction, and the citation keys did not move.
    bib = (lib.library / "library.bib").read_text(encoding="utf-8")
    assert "@article{sadasivan2012methylphenidate," in bib
    assert "Retracted (notice doi:10.1371/journal.pone.9999999, 2026-11-02" in bib
    assert sorted(report["exports_written"]) == sorted(
        [str(lib.library / "library.bib"), str(lib.library / "library.json")]
    )
    # People's report on stderr: status events first, with the citing documents.
    assert "RETRACTED" in result.stderr
    assert "cited by: examples/health-news.html" in result.stderr
    # Reported once: the next refresh finds nothing new.
    again = json.loads(lib.run("refresh", "--all", "--json").stdout)
    assert (again["changed"], again["events"]) == ([], [])


@pytest.mark.parametrize(
    ("fail_on", "status"), [("never", 0), ("retraction", 1), ("status", 1), ("change", 1)]
)
def test_exit_status_follows_fail_on(lib: Env, fail_on: str, status: int) -> None:
    """--fail-on decides whether a retraction makes the job fail."""
    lib.publish_after()
    assert lib.run("refresh", "--all", "-q", "--fail-on", fail_on).returncode == status


def test_a_page_change_alone_fails_only_on_change(lib: Env) -> None:
    """A change without a status event fails --fail-on change, not retraction or status."""
    message = json.loads(json.dumps(lib.server.data.crossref[PLOS]))
    message["page"] = "e33693-e33699"
    message["indexed"] = {"date-parts": [[2026, 11, 20]]}
    lib.server.data.crossref[PLOS] = message
    assert lib.run("refresh", "--all", "-q", "--fail-on", "status").returncode == 0
    lib.set_checked(OCT_1_2026)
    lib.server.data.crossref[PLOS] = {**message, "page": "e33693-e33698"}
    assert lib.run("refresh", "--all", "-q", "--fail-on", "change").returncode == 1


def test_service_down_keeps_versions_and_reports_unchecked(lib: Env) -> None:
    """With Crossref failing, its works are listed as not checked, keep their versions, stay due."""
    lib.server.faults.append(Fault("crossref-list", "503", times=100))
    lib.publish_after()
    result = lib.run("refresh", "--json")
    report = json.loads(result.stdout)
    not_checked = {n["key"] for n in report["not_checked"]}
    assert "sadasivan2012methylphenidate" in not_checked
    assert "HTTP 503" in next(n["reason"] for n in report["not_checked"])
    assert report["checked"] == 3  # the PubMed-only works were checked
    with sqlite3.connect(lib.library / "library.sqlite") as db:
        version, checked = db.execute(
            "SELECT version, checked FROM works WHERE key = 'sadasivan2012methylphenidate'"
        ).fetchone()
    assert (version, checked) == (1, OCT_1_2026)
    lib.server.faults.clear()
    later = json.loads(lib.run("refresh", "--json").stdout)  # still due: checked now
    assert "sadasivan2012methylphenidate" in {c["key"] for c in later["changed"]}


def test_a_second_refs_waits_then_exits_3(lib: Env) -> None:
    """While the library is locked, refresh and resolve wait --wait seconds, then exit 3."""
    with FileLock(lib.library / LOCK_NAME):
        started = time.monotonic()
        refresh = lib.run("refresh", "--wait", "0.5")
        assert refresh.returncode == 3
        assert time.monotonic() - started >= 0.5
        assert "another refs" in refresh.stderr
        assert lib.run("resolve", "--wait", "0", "PMID:38147649").returncode == 3
    assert lib.run("refresh", "--wait", "0", "-q").returncode == 0


def test_usage_errors(lib: Env) -> None:
    """Bad durations, unknown documents and unknown --fail-on values exit 2."""
    assert lib.run("refresh", "--older-than", "soon").returncode == 2
    assert lib.run("refresh", "--document", "nope.md").returncode == 2
    assert lib.run("refresh", "--fail-on", "panic").returncode == 2


def test_killed_refresh_leaves_a_consistent_library_and_the_next_run_finishes(
    replay: ReplayServer, tmp_path: Path
) -> None:
    """SIGKILL mid-refresh: the library stays consistent, and the next run reports what is left."""
    env = Env(replay, tmp_path)
    dois, pmids, _ = replay.data.synthesize(400, 600, 0, prefix="10.5555/kill")
    assert env.run("resolve", "-q", *dois, *[f"PMID:{p}" for p in pmids]).returncode == 0
    env.set_checked(OCT_1_2026)
    # Every PubMed record gains a retraction; answers come slowly enough to kill mid-run.
    retracted = (DERIVED / "efetch_pubmed_38147649.retracted.DERIVED.xml").read_bytes()
    ((template, _),) = split_article_set(retracted).values()
    for pmid in pmids:
        replay.data.pubmed[pmid] = template.replace(
            '<PMID Version="1">38147649</PMID>', f'<PMID Version="1">{pmid}</PMID>', 1
        )
    replay.limits = {"ncbi": Limit(3, 1)}
    replay.latency = 0.05
    with sqlite3.connect(env.library / "library.sqlite") as db:
        keys_before = dict(db.execute("SELECT id, key FROM works"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "refs", "refresh", "--all", "-q"], env=env.env, cwd=ROOT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with sqlite3.connect(env.library / "library.sqlite", timeout=30) as db:
            done = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        if done >= 100:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(env.library / "library.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert dict(db.execute("SELECT id, key FROM works")) == keys_before  # keys never change
        stored_events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        reported = db.execute("SELECT COUNT(*) FROM events WHERE reported = 1").fetchone()[0]
        checked_by_killed = db.execute(
            "SELECT COUNT(*) FROM works WHERE checked > ?", (OCT_1_2026,)
        ).fetchone()[0]
    assert 100 <= stored_events < 600
    assert reported == 0  # killed before its report: nothing marked as told
    replay.limits = {}
    replay.latency = 0
    finish = env.run("refresh", "--json", "--fail-on", "retraction")
    assert finish.returncode == 1
    report = json.loads(finish.stdout)
    # Every retraction is reported exactly once: those found by the killed run, and the rest.
    retractions = [e["key"] for e in report["events"] if e["kind"] == "retraction"]
    assert len(retractions) == len(set(retractions)) == 600
    # The works the killed run finished are not due again; the next run checks the rest.
    assert report["checked"] == 1000 - checked_by_killed
    final = json.loads(env.run("refresh", "--all", "--json").stdout)
    assert final["events"] == []


def test_a_refresh_is_not_blocked_by_a_resolve_waiting_on_the_network(lib: Env) -> None:
    """The lock covers storing, not asking: while a resolve waits on slow services, a
    scheduled refresh (--wait 0) runs to the end; then the resolve stores its work."""
    stored = len(json.loads((lib.library / "library.json").read_text(encoding="utf-8")))
    lib.server.latency = 2.0
    resolving = subprocess.Popen(
        [sys.executable, "-m", "refs", "resolve", "-q", "doi:10.1021/acs.jctc.2c01235"],
        env=lib.env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(pool.startswith("crossref") for pool in lib.server.requests):
            assert resolving.poll() is None, resolving.communicate()
            assert time.monotonic() < deadline, "the resolve never asked Crossref"
            time.sleep(0.05)
        lib.server.latency = 0.0  # the refresh's own requests answer at once
        refresh = lib.run("refresh", "--all", "--wait", "0", "--json")
        assert resolving.poll() is None  # the resolve is still waiting for its answer
        assert refresh.returncode == 0, refresh.stderr
        assert json.loads(refresh.stdout)["checked"] == stored
    finally:
        _out, err = resolving.communicate(timeout=60)
    assert resolving.returncode == 0, err
    works = json.loads((lib.library / "library.json").read_text(encoding="utf-8"))
    assert "10.1021/acs.jctc.2c01235" in {w.get("DOI") for w in works}


def test_older_than_is_read_in_both_spellings(lib: Env) -> None:
    """--older-than=365d (with '=') limits a --document refresh just as --older-than 365d does."""
    doc = "examples/reading-list.txt"
    for args in (("--older-than=365d",), ("--older-than", "365d")):
        result = lib.run("refresh", "--document", doc, *args, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["checked"] == 0  # checked on 2026-10-01: not due
    every = json.loads(lib.run("refresh", "--document", doc, "--json").stdout)
    assert every["checked"] > 0  # --document alone re-checks the document's works


def test_quiet_still_shows_what_decides_the_exit_status(lib: Env) -> None:
    """--quiet drops the summary, never the retraction that fails the run; what it did not
    show (the changed fields) stays unreported for the next report."""
    lib.publish_after()
    quiet = lib.run("refresh", "--all", "--fail-on", "retraction", "--quiet")
    assert quiet.returncode == 1
    assert "RETRACTED" in quiet.stderr
    assert "refresh:" not in quiet.stderr  # no summary line
    again = json.loads(lib.run("refresh", "--json").stdout)
    assert again["events"] == []  # shown once: reported
    assert {c["key"] for c in again["changed"]} >= {"sadasivan2012methylphenidate"}


def test_nothing_printed_for_people_carries_terminal_controls(lib: Env) -> None:
    """A title with ESC and a right-to-left override, and a file name with a newline, are
    printed escaped: no cleared screen, no forged 'refs: error:' line."""
    folder = lib.tmp / "names"
    folder.mkdir()
    (folder / "x\nrefs: error: ALL CLEAR.txt").write_bytes(b"binary\x00file")
    forged = lib.run("extract", str(folder))
    assert forged.returncode == 1
    assert "\\nrefs: error: ALL CLEAR" in forged.stderr  # the name, escaped
    assert not any(line.startswith("refs: error: ALL") for line in forged.stderr.splitlines())


def test_console_escapes_controls() -> None:
    from refs.console import safe

    assert safe("Clear\x1b[2J \u202eevil\nnext") == "Clear\\x1b[2J \\u202eevil\\nnext"
    assert safe("plain text, ünïcode") == "plain text, ünïcode"


def test_refresh_rewrites_exports_a_failed_write_left_stale(lib: Env) -> None:
    """Works stored but exports not written (a run killed in between, a full disk): the
    next refresh, with nothing new to report, still brings the exports up to date."""
    from refs.app import build_works, resolve_identifiers, store_works
    from refs.app.stores import opened_library
    from refs.config import load_settings
    from refs.identifiers import parse_identifier

    settings = load_settings(
        {
            **lib.server.settings_overrides(),
            "cache": lib.tmp / "cache",
            "library": lib.library,
        },
        environ={},
    )
    report = resolve_identifiers([parse_identifier("doi:10.1021/acs.jctc.2c01235")], settings)
    with opened_library(settings) as library:
        store_works(library, build_works(report))  # ... and the export write never happened
    assert "10.1021/acs.jctc.2c01235" not in (lib.library / "library.json").read_text()
    result = json.loads(lib.run("refresh", "--json").stdout)
    assert result["changed"] == []
    assert str(lib.library / "library.json") in result["exports_written"]
    assert "10.1021/acs.jctc.2c01235" in (lib.library / "library.json").read_text()
    again = json.loads(lib.run("refresh", "--json").stdout)
    assert again["exports_written"] == []
