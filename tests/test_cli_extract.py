"""`refs extract`: output contract, exit statuses, URLs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WebServer

DOCS = Path(__file__).parent / "documents"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refs", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_jsonl_lines_have_exactly_the_contract_keys() -> None:
    """Each stdout line is one JSON mention with exactly the documented keys; stderr is quiet."""
    result = run("extract", str(DOCS / "references.txt"))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [
        "10.1186/s10194-023-01626-w",
        "37438700",
        "PMC10337094",
        "10.1371/journal.pone.0033693",
    ]
    for r in rows:
        assert set(r) == {"document", "scheme", "id", "raw", "start", "end", "context"}
    assert result.stderr == ""


def test_directory_and_table_format() -> None:
    """A directory is read recursively; --format table prints a table for people."""
    result = run("extract", "--format", "table", str(DOCS))
    assert result.returncode == 0, result.stderr
    assert "PMC10337094" in result.stdout
    assert "mention(s)" in result.stdout


def test_bad_inputs_warn_and_exit_1_but_the_rest_is_extracted(tmp_path: Path) -> None:
    """A missing, binary or undecodable file is named on stderr; the others still count."""
    (tmp_path / "bin.dat").write_bytes(b"\x00\x01\x02PMID: 1")
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9 PMID: 2")
    result = run(
        "extract",
        str(tmp_path / "missing.md"),
        str(tmp_path / "bin.dat"),
        str(tmp_path / "latin.txt"),
        str(DOCS / "notes.md"),
    )
    assert result.returncode == 1
    assert "missing.md: no such file or directory" in result.stderr
    assert "bin.dat: binary file" in result.stderr
    assert "latin.txt: not valid UTF-8" in result.stderr
    assert len(result.stdout.splitlines()) == 4  # notes.md's mentions are still printed


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("extract",), id="no-inputs"),
        pytest.param(("extract", "--format", "xml", "x"), id="bad-format"),
        pytest.param(("nonsense",), id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    """Usage errors exit with status 2."""
    assert run(*args).returncode == 2


def test_url_is_fetched_and_read_by_content_type(web: WebServer) -> None:
    """A URL is fetched and its content type decides the format (HTML links count)."""
    url = web.add(
        "/story",
        b'<p><a href="https://doi.org/10.1000/web">x</a> PMID: 42</p>',
        "text/html; charset=utf-8",
    )
    result = run("extract", url)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["document"], r["id"]) for r in rows] == [(url, "10.1000/web"), (url, "42")]


def test_url_size_and_time_limits(web: WebServer) -> None:
    """Oversized or slow pages fail with a message naming the URL and the limit."""
    big = web.add("/big", b"x" * 5000, "text/plain")
    slow = web.add("/slow", b"PMID: 1", "text/plain", delay=2.0)
    pdf = web.add("/paper.pdf", b"%PDF-1.4", "application/pdf")
    result = run("extract", "--fetch-max-bytes", "1000", "--fetch-timeout", "0.5", big, slow, pdf)
    assert result.returncode == 1
    assert f"{big}: " in result.stderr
    assert "limit of 1000" in result.stderr
    assert f"{slow}: no complete answer within 0.5 s" in result.stderr
    assert "application/pdf" in result.stderr


def test_non_http_url_is_refused() -> None:
    """Only http and https URLs are fetched."""
    result = run("extract", "ftp://example.org/file.txt")
    assert result.returncode == 1
    assert "only http:// and https://" in result.stderr


def test_module_and_version() -> None:
    """`python -m refs --version` prints the version."""
    from refs import __version__

    result = run("--version")
    assert result.stdout.strip() == f"refs {__version__}"
