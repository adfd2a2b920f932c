"""Our BibTeX read by BibTeX and biber themselves: hostile braces inject nothing, lose nothing.

bibtexparser accepts files that real tools read differently, so these tests run the
real ones (Debian's texlive-binaries for bibtex, biber; `.ci/run` installs both and sets
REFS_REQUIRE_TEX=1 so they cannot be skipped there).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from refs.export.bibtex import to_bibtex
from refs.export.entries import ExportEntry
from refs.work import DateParts, Name, Work

HOSTILE = [
    ("evil1", 'Harmless start}, note = "INJECTED"', ["draft{v2.md"]),
    ("evil2", 'Title} @misc(x, title = "PWNED")', ["a}b.md", "plain.md"]),
    ("evil3", "Unbalanced {{{ opening and } closing }}", ["c{.md"]),
    ("plain", "An ordinary title about MRI", ["plain.md"]),
]
# A minimal style: one line per entry with its key and title (no .bst from TeX Live needed).
MINI_BST = """ENTRY { title note } {} {}
FUNCTION {out}
{ "\\entry{" cite$ * "}{" * title * "}{" * note empty$ { "" } { note } if$ * "}" * write$ newline$ }
READ
ITERATE {out}
"""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("REFS_REQUIRE_TEX"):
            pytest.fail(f"{name} is required here (REFS_REQUIRE_TEX=1) but not installed")
        pytest.skip(f"{name} is not installed (CI installs it and sets REFS_REQUIRE_TEX=1)")
    return path


@pytest.fixture
def hostile_bib(tmp_path: Path) -> Path:
    entries = [
        ExportEntry(
            key,
            Work(
                type="article-journal",
                title=title,
                author=[Name(family="Brace}", given="{Ann")],
                container_title="Journal of {Braces}",
                issued=DateParts(parts=[2020]),
            ),
            docs,
        )
        for key, title, docs in HOSTILE
    ]
    path = tmp_path / "lib.bib"
    path.write_text(to_bibtex(entries), encoding="utf-8")
    return path


def test_bibtex_reads_every_entry_and_no_injected_one(hostile_bib: Path) -> None:
    """Classic BibTeX sees exactly our entries, each title whole, no injected note."""
    bibtex = _tool("bibtex")
    work = hostile_bib.parent
    (work / "mini.bst").write_text(MINI_BST, encoding="utf-8")
    (work / "doc.aux").write_text(
        "\\citation{*}\n\\bibdata{lib}\n\\bibstyle{mini}\n", encoding="utf-8"
    )
    result = subprocess.run(
        [bibtex, "doc"], cwd=work, capture_output=True, text=True, check=False, timeout=60
    )
    log = result.stdout + (work / "doc.blg").read_text(encoding="utf-8", errors="replace")
    assert "error message" not in log, log
    # BibTeX wraps long output lines, indenting the continuation.
    lines = (work / "doc.bbl").read_text(encoding="utf-8").replace("\n  ", " ").splitlines()
    keys = [re.match(r"\\entry\{([^}]*)\}", line).group(1) for line in lines]  # type: ignore[union-attr]
    assert keys == [key for key, _, _ in HOSTILE]
    assert not any("INJECTED" in line.split("}{")[-1] for line in lines)  # no note field
    assert all("PWNED" not in k for k in keys)


def test_biber_reads_every_entry_and_every_field_whole(hostile_bib: Path) -> None:
    """biber (btparse) finds our four entries with their titles and sources, nothing more."""
    biber = _tool("biber")
    out = hostile_bib.parent / "out.bib"
    result = subprocess.run(
        [biber, "--tool", "--quiet", f"--output-file={out}", str(hostile_bib)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = out.read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", text, re.M)
    assert sorted(keys) == sorted(key for key, _, _ in HOSTILE)
    assert "PWNED" not in "".join(keys)
    assert not re.search(r"^\s*note\s*=", text, re.M | re.I)  # nothing injected a note
    assert text.count("INJECTED") == 1  # still inside its own title
