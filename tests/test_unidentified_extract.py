"""`refs extract --unidentified`: reference-list entries and article links without identifiers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from refs.documents import read_file
from refs.extract import extract, unidentified
from refs.extract.references import article_link, looks_like_reference
from refs.identifiers import Scheme
from refs.models import Mention

DOCS = Path(__file__).parent / "documents" / "unidentified"
ELLIOTT_2015 = (
    "Elliott JM, Courtney DM, Rademaker A, et al. The rapid and progressive degeneration of "
    "the cervical multifidus in whiplash. Spine. 2015;40(12):E694-700."
)
STERLING_2014 = (
    "Sterling M. Physiotherapy management of whiplash-associated disorders (WAD). "
    "J Physiother. 2014;60(1):5-12."
)


def found(name: str) -> tuple[str, list[Mention], list[Mention]]:
    document = read_file(str(DOCS / name))
    identified = extract(document)
    return document.text, identified, unidentified(document, identified)


def by_scheme(mentions: list[Mention], scheme: Scheme) -> list[str]:
    return [m.id for m in mentions if m.scheme is scheme]


def test_html_reference_list_entries_and_article_links() -> None:
    text, identified, others = found("clinic-blog.html")
    assert by_scheme(others, Scheme.REFERENCE) == [ELLIOTT_2015, STERLING_2014]
    assert by_scheme(others, Scheme.LINK) == [
        "https://www.sciencedirect.com/science/article/pii/S0140673620301835",
        "https://jamanetwork.com/journals/jama/fullarticle/2770000",
    ]
    # The entry with a DOI is its DOI mention only; the Nature URL's path is its DOI.
    assert {"10.2519/jospt.2017.7455", "10.1038/s41586-020-2012-7"} <= set(
        by_scheme(identified, Scheme.DOI)
    )
    for m in others:
        assert text[m.start : m.end] == m.raw
        assert not any(i.start < m.end and m.start < i.end for i in identified)
    # Offsets point into the markup: the entry keeps its <i> tags, the id has none.
    assert "<i>Spine</i>" in others[2].raw


def test_html_menus_tips_and_related_boxes_are_not_references() -> None:
    _, _, others = found("clinic-blog.html")
    texts = " ".join(m.id for m in others)
    assert "menu" not in texts  # a citation-looking line inside <nav>
    assert "eye level" not in texts  # a numbered list of tips
    assert "sleep better" not in texts  # a "Related articles" box
    assert "Not a citation" not in texts  # <head>


def test_markdown_bibliography_footnotes_and_autolinks() -> None:
    _, identified, others = found("review-notes.md")
    refs = by_scheme(others, Scheme.REFERENCE)
    assert refs == [
        "Elliott, J. M., Pedler, A. R., Kenardy, J., Galloway, G., Jull, G., & Sterling, M. "
        "(2011). The temporal development of fatty infiltrates in the neck muscles following "
        "whiplash injury. PLoS ONE, 6(6), e21194.",
        STERLING_2014,  # the footnote definition
    ]
    assert by_scheme(others, Scheme.LINK) == [
        "https://www.cell.com/cell/fulltext/S0092-8674(20)30000-0"
    ]
    assert "18204405" in by_scheme(identified, Scheme.PMID)  # Carroll: its PMID only
    assert not any("Introduction" in r for r in refs)  # a table of contents


def test_text_numbered_entries_wrap_and_end_at_the_next_section() -> None:
    text, _, others = found("lecture.txt")
    assert by_scheme(others, Scheme.REFERENCE) == [
        ELLIOTT_2015,
        "Foo A, Bar B. A non-existent article that should remain a plain text reference. "
        "J Nowhere. 2003;1:1-2.",
    ]
    assert all(text[m.start : m.end] == m.raw for m in others)
    assert all("Rest for two days" not in m.id and "We thank" not in m.id for m in others)


def test_jats_refs_without_pub_ids() -> None:
    _, identified, others = found("article.xml")
    assert by_scheme(others, Scheme.REFERENCE) == [
        "Elliott JM. The rapid and progressive degeneration of the cervical multifidus in "
        "whiplash. Spine. 2015;40(12):E694-700.",
        "Sterling M. Physiotherapy management of whiplash-associated disorders (WAD). "
        "J Physiother. 2014. 60. 1. 5. 12",
    ]
    assert by_scheme(identified, Scheme.DOI) == ["10.2519/jospt.2017.7455"]


def test_wiki_cite_templates_without_identifiers() -> None:
    text, identified, others = found("whiplash.wiki")
    refs = by_scheme(others, Scheme.REFERENCE)
    assert refs == [
        "Elliott, James M.; Courtney, D. Mark. (2015). The rapid and progressive degeneration "
        "of the cervical multifidus in whiplash. Spine. 40(12):E694–E700.",
        "Bogduk, Nikolai. (2012). Clinical and Radiological Anatomy of the Lumbar Spine. "
        "Churchill Livingstone.",
    ]
    assert by_scheme(identified, Scheme.PMID) == ["24856935"]  # the template with a pmid
    assert all(text[m.start : m.end].startswith("{{cite") for m in others)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ELLIOTT_2015, True),
        (
            "Doviak, R.J., and D.S. Zrnic, Doppler Radar and Weather Observations, 1984, Academic Press, 458pp.",
            True,
        ),
        ("Keep your screen at eye level, as we advised in 2021.", False),
        ("Home", False),
        ("Shoulder Arthritis and Other Degenerative Conditions", False),
    ],
)
def test_what_reads_like_a_citation(text: str, expected: bool) -> None:
    assert looks_like_reference(text) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://jamanetwork.com/journals/jama/fullarticle/2770000", True),
        ("https://www.cell.com/cell/fulltext/S0092-8674(20)30000-0", True),
        ("https://www.bmj.com/content/368/bmj.m1234", True),
        ("https://jamanetwork.com/", False),
        ("https://www.nature.com/subjects/neuroscience", False),
        ("https://www.example.com/article/123", False),
    ],
)
def test_article_links_are_article_pages_on_scholarly_hosts(url: str, expected: bool) -> None:
    assert article_link(url) is expected


def test_cli_prints_the_seven_keys_and_nothing_new_without_the_flag() -> None:
    def run(*args: str) -> list[dict[str, object]]:
        result = subprocess.run(
            [sys.executable, "-m", "refs", "extract", "--format", "jsonl", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return [json.loads(line) for line in result.stdout.splitlines()]

    plain = run(str(DOCS))
    both = run("--unidentified", str(DOCS))
    assert all(m["scheme"] in ("doi", "pmid", "pmcid") for m in plain)
    assert [m for m in both if m["scheme"] in ("doi", "pmid", "pmcid")] == plain
    extra = [m for m in both if m["scheme"] in ("reference", "link")]
    assert len(extra) == 13
    assert all(
        set(m) == {"document", "scheme", "id", "raw", "start", "end", "context"} for m in extra
    )
