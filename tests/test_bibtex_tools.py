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


def _varied_library() -> list[ExportEntry]:
    """Works of every kind refs exports, with the fields that used to trip biblatex."""
    article = Work(
        type="article-journal",
        title="Hair and DNA",
        container_title="Forensic Sci Int",
        container_title_short="FSI",
        author=[Name(family="Roe", given="Jane")],
        issued=DateParts(parts=[2019, 3, 2]),
        volume="12",
        issue="3",
        page="1–9",
        doi="10.1007/978-3-662-46370-3_13",
        pmid="31234567",
        pmcid="PMC6543210",
        url="https://doi.org/10.1007/978-3-662-46370-3_13",
        issn=["0379-0738", "1872-6283"],
        publisher="Elsevier BV",
        language="en",
    )
    sici = article.model_copy(
        update={
            "doi": "10.1002/(sici)1097-0258(19980815/30)17:15/16<1661::aid-sim968>3.0.co;2-2",
            "pmid": None,
            "pmcid": None,
            "url": "https://example.org/a_b?x=1&y=%20#frag",
            "language": "de",
        }
    )
    book = Work(
        type="book",
        title="Forensic DNA Typing",
        author=[Name(family="Butler", given="John M.")],
        publisher="Springer Science and Business Media LLC",
        issued=DateParts(parts=[2010]),
        isbn=["978-0-12-374513-2"],
        language="en",
    )
    chapter = Work(
        type="chapter",
        title="Weather echo signals",
        container_title="Doppler Radar",
        author=[Name(family="Doviak", given="R. J.")],
        editor=[Name(family="Zrnic", given="D. S.")],
        publisher="Academic Press",
        issued=DateParts(parts=[1984]),
        page="87–121",
    )
    preprint = Work(
        type="article",
        genre="preprint",
        title="A preprint",
        container_title="bioRxiv",
        publisher="openRxiv",
        author=[Name(literal="The Consortium")],
        issued=DateParts(parts=[2020, 12, 1]),
        doi="10.1101/2020.12.01.406702",
    )
    works = {
        "roe2019hair": article,
        "roe2019haira": sici,
        "butler2010forensic": book,
        "doviak1984weather": chapter,
        "consortium2020preprint": preprint,
    }
    return [ExportEntry(key, work, ["paper.md"]) for key, work in works.items()]


def test_biber_finds_nothing_to_say_but_about_the_sources_field(tmp_path: Path) -> None:
    """`biber --tool --validate-datamodel`: every field is biblatex's own (verbatim doi
    and url, eprint/eprinttype for the PMID, langid, one ISSN, no publisher on @article),
    except refs' one documented field, `sources`: at most one warning per entry."""
    biber = _tool("biber")
    path = tmp_path / "lib.bib"
    entries = _varied_library()
    path.write_text(to_bibtex(entries), encoding="utf-8")
    out = subprocess.run(
        [
            biber,
            "--tool",
            "--validate-datamodel",
            f"--output-file={tmp_path / 'out.bib'}",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    warnings = [
        line for line in out.stdout.splitlines() if "WARN" in line and "WARNINGS:" not in line
    ]
    assert all("Field 'sources' invalid" in w for w in warnings), warnings
    assert len(warnings) <= len(entries)
    written = (tmp_path / "out.bib").read_text(encoding="utf-8")
    # Verbatim fields come back as written: the underscore and the SICI's <> unescaped.
    assert "10.1007/978-3-662-46370-3_13" in written
    assert "<1661::aid-sim968>3.0.co;2-2" in written


def test_verbatim_fields_and_biblatex_conventions_in_the_file() -> None:
    text = to_bibtex(_varied_library())
    assert "doi = {10.1007/978-3-662-46370-3_13}" in text  # not 46370-3\_13
    assert "\\textless" not in text
    assert "\\_" not in text.split("title")[0]
    assert "eprint = {31234567},\n  eprinttype = {pubmed}" in text
    assert "addendum = {PMCID: PMC6543210}" in text
    assert "langid = {english}" in text
    assert "langid = {ngerman}" in text
    assert "language =" not in text
    assert "issn = {0379-0738}," in text  # one ISSN
    article = text.split("@article{roe2019hair,")[1].split("\n}")[0]
    assert "publisher" not in article
    assert "url" not in article  # it only repeated the DOI
    assert "url = {https://example.org/a_b?x=1&y=%20#frag}" in text  # verbatim
    assert "publisher = {{Springer Science and Business Media LLC}}" in text  # one name


def test_a_doi_with_an_underscore_is_a_working_link_in_pandoc_html(tmp_path: Path) -> None:
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        if os.environ.get("REFS_REQUIRE_PANDOC"):
            pytest.fail("pandoc is required here (REFS_REQUIRE_PANDOC=1) but not installed")
        pytest.skip("pandoc is not installed")
    (tmp_path / "lib.bib").write_text(to_bibtex(_varied_library()), encoding="utf-8")
    (tmp_path / "paper.md").write_text("See [@roe2019hair].\n", encoding="utf-8")
    out = subprocess.run(
        [pandoc, "--citeproc", "--bibliography", "lib.bib", "-t", "html", "paper.md"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert 'href="https://doi.org/10.1007/978-3-662-46370-3_13"' in out.stdout, out.stdout
    assert out.stderr == ""


def test_a_doi_with_an_underscore_is_a_working_link_in_a_biblatex_pdf(tmp_path: Path) -> None:
    """biblatex + biber + pdflatex (latexmk) build a PDF from our .bib whose DOI link is
    the DOI as registered: ``doi`` is verbatim, so ``10.1007/978-3-662-46370-3_13`` is
    neither escaped (``\\_``) nor broken, and the PMID prints as a PubMed eprint."""
    import json

    from refs.normalise.crossref import work_from_crossref

    latexmk = _tool("latexmk")
    _tool("biber")
    fixtures = Path(__file__).parent / "fixtures" / "crossref"
    message = json.loads(
        (fixtures / "works_10.1007_978-3-662-46370-3_13.json").read_text(encoding="utf-8")
    )["message"]
    work = work_from_crossref(message).model_copy(update={"pmid": "99999999"})
    (tmp_path / "refs.bib").write_text(
        to_bibtex([ExportEntry("diercks2015clinical", work, ["paper.tex"])]), encoding="utf-8"
    )
    # Uncompressed PDF objects, so the link annotation can be read back as text.
    (tmp_path / "paper.tex").write_text(
        "\\pdfobjcompresslevel=0 \\pdfcompresslevel=0\n"
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n"
        "\\usepackage[backend=biber]{biblatex}\n\\usepackage{hyperref}\n"
        "\\addbibresource{refs.bib}\n"
        "\\begin{document}\nSee \\cite{diercks2015clinical}.\n\\printbibliography\n"
        "\\end{document}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [latexmk, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    pdf = (tmp_path / "paper.pdf").read_bytes()
    links = re.findall(rb"/URI\s*\(([^)]*)\)", pdf)
    assert b"https://doi.org/10.1007/978-3-662-46370-3_13" in links
    assert any(link.endswith(b"ncbi.nlm.nih.gov/pubmed/99999999") for link in links)
    log = (tmp_path / "paper.blg").read_text(encoding="utf-8")
    assert "ERROR" not in log
