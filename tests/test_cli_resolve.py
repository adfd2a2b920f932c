"""`refs resolve`: identifiers and documents in, per-identifier report and exit status out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refs.testing.replay import Fault, ReplayServer

EXAMPLES = Path(__file__).parent.parent / "examples"


def refs(server: ReplayServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with the environment variables a user would set (exact names)."""
    env = {
        **os.environ,
        **server.environ(),
        "REFS_CACHE": str(tmp_path / "cache"),
        "REFS_LIBRARY": str(tmp_path / "references"),
        "REFS_MAILTO": "tests@example.org",
        "REFS_RETRY_ATTEMPTS": "2",
        "REFS_RETRY_WAIT_INITIAL": "0.01",
        "REFS_RETRY_WAIT_MAX": "0.02",
    }
    return subprocess.run(
        [sys.executable, "-m", "refs", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )


def test_identifiers_and_documents_resolve_with_exit_0(
    replay: ReplayServer, tmp_path: Path
) -> None:
    """Bare identifiers in every form plus the examples all resolve; exit status 0."""
    result = refs(
        replay,
        tmp_path,
        "resolve",
        str(EXAMPLES),
        "doi:10.1371/journal.pone.0033693",
        "10.1073/pnas.1414271111",
        "PMID:38147649",
        "PMC10769841",
        "https://pubmed.ncbi.nlm.nih.gov/29915538/",
    )
    assert result.returncode == 0, result.stderr
    assert "resolved   pmcid:PMC10769841  via crosswalk (pubmed:38147649)" in result.stderr
    assert "0 not found, 0 failed" in result.stderr
    assert (tmp_path / "cache" / "records.sqlite").exists()


def test_unresolved_exit_1_or_0_when_allowed(replay: ReplayServer, tmp_path: Path) -> None:
    """Anything unresolved makes exit status 1 and is listed; --allow-unresolved makes it 0."""
    result = refs(replay, tmp_path, "resolve", "PMID:38147649", "doi:10.9999/missing")
    assert result.returncode == 1
    assert "not found  doi:10.9999/missing" in result.stderr
    assert "unresolved:" in result.stderr
    allowed = refs(
        replay, tmp_path, "resolve", "--allow-unresolved", "PMID:38147649", "doi:10.9999/missing"
    )
    assert allowed.returncode == 0


def test_failure_reason_reaches_the_user(replay: ReplayServer, tmp_path: Path) -> None:
    """A service that keeps failing is reported per identifier with the reason."""
    replay.faults.append(Fault("ncbi", "503", times=50))
    result = refs(replay, tmp_path, "resolve", "PMID:38147649")
    assert result.returncode == 1
    assert "failed     pmid:38147649  pubmed: HTTP 503" in result.stderr


@pytest.mark.parametrize("bad", ["10.1234", "PMID: abc", "PMC", "not-a-file.txt"])
def test_invalid_identifier_is_a_usage_error(
    replay: ReplayServer, tmp_path: Path, bad: str
) -> None:
    """An argument that is no file, URL or valid identifier exits 2 naming it."""
    result = refs(replay, tmp_path, "resolve", bad)
    assert result.returncode == 2
    assert repr(bad) in result.stderr
    assert "expected" in result.stderr


def test_json_report(replay: ReplayServer, tmp_path: Path) -> None:
    """--json prints the documented report on stdout; a rerun is answered from the cache."""
    result = refs(replay, tmp_path, "resolve", "--json", "-q", str(EXAMPLES / "reading-list.txt"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"documents", "identifiers", "matches", "works", "summary", "unresolved"}
    # Every resolved identifier is mapped to the citation key its work got.
    keys = {i["identifier"]: i["key"] for i in report["identifiers"]}
    assert all(keys[i] for i in keys)
    assert keys["pmid:38147649"] == keys["pmcid:PMC10769841"] == "ritz2024social"
    assert report["summary"]["mentions"] == 5
    assert report["summary"]["resolved"] == report["summary"]["identifiers"] == 5
    # PMID 38147649 and PMC10769841 are one paper: 5 identifiers, 4 works.
    assert report["summary"]["works_new"] == 4
    assert report["summary"]["duplicates_merged"] == 1
    assert report["unresolved"] == []
    first = report["identifiers"][0]
    assert set(first) == {
        "identifier",
        "status",
        "identifiers",
        "sources",
        "via",
        "reason",
        "stale",
        "key",
    }
    again = json.loads(
        refs(replay, tmp_path, "resolve", "--json", "-q", str(EXAMPLES / "reading-list.txt")).stdout
    )
    assert again["summary"]["requests"] == {}


def test_offline_reports_missing(replay: ReplayServer, tmp_path: Path) -> None:
    """--offline makes no requests and reports what the cache lacks."""
    result = refs(replay, tmp_path, "resolve", "--offline", "PMID:38147649")
    assert result.returncode == 1
    assert "not in the cache" in result.stderr
    assert sum(replay.requests.values()) == 0


def test_bad_max_age_is_a_usage_error(replay: ReplayServer, tmp_path: Path) -> None:
    """--max-age takes durations such as 30d; anything else exits 2."""
    result = refs(replay, tmp_path, "resolve", "--max-age", "soon", "PMID:1")
    assert result.returncode == 2
    assert "is not a duration" in result.stderr


def test_progress_bar_on_a_terminal_only(replay: ReplayServer, tmp_path: Path) -> None:
    """A progress bar is drawn on a terminal's stderr; none when stderr is a pipe or with --quiet."""
    import pty

    replay.latency = 0.3  # long enough for the bar to draw
    env = {
        **os.environ,
        **replay.environ(),
        "REFS_CACHE": str(tmp_path / "cache"),
        "REFS_LIBRARY": str(tmp_path / "references"),
        "TERM": "xterm",
        "COLUMNS": "100",
    }

    def stderr_on_tty(*args: str) -> str:
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "refs", "resolve", *args],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=follower,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait()
        os.close(leader)
        return b"".join(chunks).decode("utf-8", "replace")

    assert "resolving" in stderr_on_tty("PMID:38147649", "10.1371/journal.pone.0033693")
    assert "resolving" not in stderr_on_tty("--quiet", "--max-age", "1s", "PMID:38147649")
    piped = refs(replay, tmp_path, "resolve", "--max-age", "1s", "PMID:38147649")
    assert "resolving" not in piped.stderr


def test_quiet_means_quiet_even_when_a_request_is_retried(
    replay: ReplayServer, tmp_path: Path
) -> None:
    """A retried 503 under --quiet prints nothing (no stamina.retry_scheduled lines)."""
    replay.faults.append(Fault("crossref-single", "503"))
    result = refs(replay, tmp_path, "resolve", "--quiet", "doi:10.1371/journal.pone.0033693")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_one_document_however_its_path_is_written(replay: ReplayServer, tmp_path: Path) -> None:
    """paper.md, ./paper.md and its absolute path are one document, in resolve and in
    every --document option."""
    (tmp_path / "paper.md").write_text("See doi:10.1371/journal.pone.0033693.\n", "utf-8")
    for form in ("paper.md", "./paper.md", str(tmp_path / "paper.md"), "sub/../paper.md"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        assert refs(replay, tmp_path, "resolve", "-q", form).returncode == 0
    exported = json.loads(refs(replay, tmp_path, "export", "--format", "csl-json").stdout)
    assert [item["custom"]["sources"] for item in exported] == [["paper.md"]]
    for form in ("./paper.md", str(tmp_path / "paper.md")):
        one = refs(replay, tmp_path, "export", "--document", form)
        assert one.returncode == 0, one.stderr
        assert "@article{sadasivan2012methylphenidate," in one.stdout


def test_quiet_still_says_why_it_failed(replay: ReplayServer, tmp_path: Path) -> None:
    """A cron job's --quiet run that fails names each failed identifier and unreadable
    input with its reason, one line each, and nothing else."""
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\x00\x01\x02" * 100)
    result = refs(
        replay,
        tmp_path,
        "resolve",
        "--quiet",
        "doi:10.1371/journal.pone.0033693",
        "doi:10.1371/notarealdoi",
        str(binary),
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines == [line for line in lines if line.startswith("refs: error: ")], result.stderr
    assert any("doi:10.1371/notarealdoi: not found:" in line for line in lines)
    assert any("scan.pdf" in line for line in lines)


def test_a_record_that_stores_nothing_is_a_failure(replay: ReplayServer, tmp_path: Path) -> None:
    """A DataCite answer whose record cannot be read resolves but stores nothing: that is a
    failure with its reason and exit status 1, not "1 resolved"."""
    doi = "10.5281/zenodo.1196821"
    record = json.loads(replay.data.datacite[doi])
    record["data"]["attributes"]["types"] = "not an object"  # derived: one field broken
    replay.data.datacite[doi] = json.dumps(record)
    result = refs(replay, tmp_path, "resolve", f"doi:{doi}")
    assert result.returncode == 1
    assert "0 resolved" in result.stderr
    assert "nothing could be stored" in result.stderr
    assert "datacite:10.5281/zenodo.1196821: cannot read the record" in result.stderr
    # In words, without a library's internal wording.
    assert "Value error" not in result.stderr
    assert "validation error for" not in result.stderr
