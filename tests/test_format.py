"""`refs format`: reference lists in real CSL styles, retractions marked whatever the style."""

from __future__ import annotations

from pathlib import Path

import pytest

from refs.testing.replay import ReplayServer
from tests.conftest import Refs, cli_for

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture
def run(replay: ReplayServer, tmp_path: Path) -> Refs:
    refs = cli_for(replay, tmp_path, cwd=EXAMPLES.parent)
    assert refs("resolve", "-q", "examples/").returncode == 0
    return refs


def test_vancouver_lists_a_document_in_citation_order_and_marks_the_retraction(run) -> None:  # type: ignore[no-untyped-def]
    out = run("format", "--document", "examples/reading-list.txt", "--style", "vancouver")
    assert out.returncode == 0, out.stderr
    entries = [line for line in out.stdout.splitlines() if line.startswith("[")]
    assert [e.split("]")[0] for e in entries] == ["[1", "[2", "[3", "[4"]
    assert entries[0].startswith("[1] Makris EA, Responte DJ")  # the order the list cites
    assert "Proc Natl Acad Sci USA 2014;111" in entries[0]
    wakefield = out.stdout.split("[3] ")[1].split("\n\n")[0]
    assert "Wakefield A" in wakefield
    assert "[Retracted (notice doi:10.1016/s0140-6736(10)60175-4, 2010-02-06" in wakefield


def test_apa_lists_the_library_alphabetically_as_html_and_markdown(run) -> None:  # type: ignore[no-untyped-def]
    text = run("format", "--style", "apa").stdout
    firsts = [p.split(",")[0] for p in text.split("\n\n") if p.strip()]
    assert firsts == sorted(firsts, key=str.casefold)
    assert len(firsts) == 8
    assert "Wakefield, A., Murch, S., & Anthony, A. (1998)." in text
    page = run("format", "--style", "apa", "--to", "html").stdout
    assert page.count('<div class="csl-entry"') == 8
    assert '<div class="refs-notice"><strong>Retracted (notice' in page
    md = run("format", "--style", "ama", "--to", "markdown").stdout
    assert "**Retracted (notice" in md


def test_a_style_file_and_bad_styles(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from refs.export.formatted import style_path

    csl = tmp_path / "mine.csl"
    csl.write_bytes(style_path("nature").read_bytes())
    out = run("format", "--document", "examples/reading-list.txt", "--style", str(csl))
    assert out.returncode == 0
    assert "Makris, E. A." in out.stdout
    bad = run("format", "--style", "no-such-style")
    assert bad.returncode == 2
    assert "no-such-style" in bad.stderr
    assert run("format", "--to", "pdf").returncode == 2
