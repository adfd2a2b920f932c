"""`refs export`, and `refs resolve -o`: whole library or one document, deterministic, atomic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refs.testing.replay import ReplayServer

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture
def env(replay: ReplayServer, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        **replay.environ(),
        "REFS_CACHE": str(tmp_path / "cache"),
        "REFS_LIBRARY": str(tmp_path / "references"),
    }


def refs(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refs", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_export_whole_library_and_one_document(env: dict[str, str], tmp_path: Path) -> None:
    """After resolve, export prints the whole library or only one document's works, identically each time."""
    assert refs(env, tmp_path, "resolve", "-q", str(EXAMPLES)).returncode == 0
    whole = refs(env, tmp_path, "export")
    assert whole.returncode == 0, whole.stderr
    assert whole.stdout.count("\n@") + whole.stdout.startswith("@") == 8
    assert whole.stdout == (tmp_path / "references" / "library.bib").read_text(encoding="utf-8")
    assert refs(env, tmp_path, "export").stdout == whole.stdout  # byte-identical
    post = refs(
        env,
        tmp_path,
        "export",
        "--format",
        "csl-json",
        "--document",
        str(EXAMPLES / "semaglutide-post.md"),
    )
    items = json.loads(post.stdout)
    assert sorted(i["id"] for i in items) == [
        "hogan2023remdesivir",
        "shi2018efficacy",
        "xu2020construction",
    ]
    assert all(str(EXAMPLES / "semaglutide-post.md") in i["custom"]["sources"] for i in items)


def test_export_to_file_and_errors(env: dict[str, str], tmp_path: Path) -> None:
    """-o writes a file; an unknown document or a missing library is a clear error."""
    missing = refs(env, tmp_path, "export")
    assert missing.returncode == 2  # a cron job in the wrong directory must not look green
    assert "no library at" in missing.stderr
    for command in (["refresh", "--all"], ["refresh"], ["review"], ["format"]):
        again = refs(env, tmp_path, *command)
        assert again.returncode == 2, (command, again.stderr)
        assert str(tmp_path / "references") in again.stderr
    assert not (tmp_path / "references" / "library.sqlite").exists()  # none created
    refs(env, tmp_path, "resolve", "-q", str(EXAMPLES / "reading-list.txt"))
    out = tmp_path / "out" / "refs.json"
    assert refs(env, tmp_path, "export", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text(encoding="utf-8"))[0]["citation-key"]  # .json picks CSL-JSON
    # --library beside REFS_LIBRARY (the option wins).
    elsewhere = {**env, "REFS_LIBRARY": str(tmp_path / "nowhere")}
    assert (
        refs(elsewhere, tmp_path, "--library", str(tmp_path / "references"), "export").returncode
        == 0
    )
    unknown = refs(env, tmp_path, "export", "--document", "nope.md")
    assert unknown.returncode == 2  # a usage mistake, as in `refs refresh --document nope.md`
    assert "'nope.md' is not a document in the library" in unknown.stderr


def test_resolve_output_is_this_runs_works(env: dict[str, str], tmp_path: Path) -> None:
    """resolve -o - prints the works of this run only, in the format asked."""
    refs(env, tmp_path, "resolve", "-q", str(EXAMPLES))
    result = refs(env, tmp_path, "resolve", "-q", "--format", "bibtex", "-o", "-", "PMID:38147649")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("@article{ritz2024social,")
    assert result.stdout.count("@") == 1
    clash = refs(env, tmp_path, "resolve", "--json", "-o", "-", "PMID:38147649")
    assert clash.returncode == 2


def test_parallel_and_sequential_exports_write_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing the two exports in a forked child gives byte-identical files to writing them in turn."""
    from refs.app import exporting
    from refs.choices import ExportFormat
    from refs.export.entries import ExportEntry
    from refs.work import DateParts, Name, Work

    entries = [
        ExportEntry(
            f"k{i:03d}",
            Work(
                type="article-journal",
                title=f"Title {i} of MRI",
                issued=DateParts(parts=[2020]),
                author=[Name(family=f"Müller{i}", given="A")],
            ),
            ["a.md"],
        )
        for i in range(300)
    ]
    formats = [(ExportFormat.bibtex, "x.bib"), (ExportFormat.csl_json, "x.json")]
    sequential = exporting.write_exports(entries, [(tmp_path / "seq" / n, f) for f, n in formats])
    monkeypatch.setattr(exporting, "PARALLEL_MIN_WORKS", 10)
    # The guard is real here: this test process runs no other thread, so the child forks.
    assert exporting._can_fork()
    parallel = exporting.write_exports(entries, [(tmp_path / "par" / n, f) for f, n in formats])
    assert len(sequential) == len(parallel) == 2
    for _, name in formats:
        assert (tmp_path / "seq" / name).read_bytes() == (tmp_path / "par" / name).read_bytes()
    assert (
        exporting.write_exports(entries, [(tmp_path / "par" / n, f) for f, n in formats]) == []
    )  # unchanged
