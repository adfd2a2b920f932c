"""Exports: BibTeX a reference manager accepts, CSL-JSON that validates, both deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library as BibLibrary
from hypothesis import given, settings
from hypothesis import strategies as st

from refs.export.bibtex import entry_type, to_bibtex
from refs.export.csl import to_csl_items, to_csl_json
from refs.export.entries import ExportEntry
from refs.export.latex import latex_to_text, to_latex
from refs.normalise.crossref import work_from_crossref
from refs.work import DateParts, Name, StatusEvent, Work, plain_text

FIX = Path(__file__).parent / "fixtures"
SCHEMA = json.loads((FIX / "schemas/csl-data.json").read_text(encoding="utf-8"))


def crossref(name: str) -> Work:
    return work_from_crossref(json.loads((FIX / name).read_text(encoding="utf-8"))["message"])


def parse(text: str) -> BibLibrary:
    library = parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return library


@pytest.mark.parametrize(
    ("csl", "genre", "bib"),
    [
        ("article-journal", None, "article"),
        ("book", None, "book"),
        ("chapter", None, "incollection"),
        ("paper-conference", None, "inproceedings"),
        ("thesis", None, "phdthesis"),
        ("thesis", "Master's thesis", "mastersthesis"),
        ("report", None, "techreport"),
        ("article", "preprint", "misc"),
        ("dataset", None, "misc"),
        ("software", None, "misc"),
    ],
)
def test_entry_types(csl: str, genre: str | None, bib: str) -> None:
    """Each CSL type gets the BibTeX entry type reference managers expect."""
    assert entry_type(Work(type=csl, genre=genre)) == bib


@pytest.mark.parametrize(
    ("rich", "latex"),
    [
        ("T<sub>2</sub>-weighted MRI", r"{T}\textsubscript{2}-weighted {MRI}"),
        ("T2 relaxation of DNA and mRNA", "{T2} relaxation of {DNA} and {mRNA}"),
        ("Once-Weekly Semaglutide: A Meta-Analysis", "Once-Weekly Semaglutide: A Meta-Analysis"),
        (
            "<i>E. coli</i> & 50% of $x_1$ #1 ~ ^ \\ {}",
            r"\textit{{E}. {coli}} \& 50\% of \$x\_1\$ \#1 \textasciitilde{} \textasciicircum{} \textbackslash{} \textbraceleft{}\textbraceright{}",
        ),
        ("Müller’s α-synuclein", r"M{\"u}ller{\textquoteright}s {\ensuremath{\alpha}}-synuclein"),
        ("中文标题", "中文标题"),
    ],
)
def test_title_values(rich: str, latex: str) -> None:
    """Titles are LaTeX-safe, keep meaning, protect meaningful capitals, never drop characters."""
    assert to_latex(rich, protect=True) == latex


def test_unicode_option_keeps_utf8() -> None:
    """With unicode=True non-ASCII stays as UTF-8; specials are still escaped."""
    assert to_latex("Müller & Søren", unicode=True) == r"Müller \& Søren"


def test_article_entry_fields() -> None:
    """A journal article: authors with particles, journal, dates, pages with --, ids, sources, status note."""
    work = crossref("crossref-trimmed/works_10.1016_s0140-6736(97)11096-0.trimmed.json")
    work.author.append(Name(family="Berg", given="Jan", non_dropping_particle="van der"))
    work.author.append(Name(literal="The MMR Study Group"))
    text = to_bibtex(
        [
            ExportEntry(
                "wakefield1998ileal", work, ["examples/health-news.html", "https://example.org/a"]
            )
        ]
    )
    (entry,) = parse(text).entries
    f = {k: v.value for k, v in entry.fields_dict.items()}
    assert entry.entry_type == "article"
    assert f["author"].endswith("and van der Berg, Jan and {The MMR Study Group}")
    assert f["journal"] == "The Lancet"
    assert (f["year"], f["month"], f["date"], f["pages"]) == ("1998", "feb", "1998-02", "637--641")
    assert f["doi"] == "10.1016/s0140-6736(97)11096-0"
    assert f["sources"] == "examples/health-news.html; https://example.org/a"
    assert f["note"].startswith(
        "Retracted (notice doi:10.1016/s0140-6736(10)60175-4, 2010-02-06, reported by crossref (retraction-watch))"
    )


HOSTILE = [
    "}, note = {injected",
    "@article{evil, title={x}}",
    "{{{unbalanced",
    "unbalanced}}}",
    "back\\slash \\end{document} \\input{/etc/passwd}",
    "ctl\x00\x07\x1b[31mred\x7f",
    "line\nbreak\r\n @misc{x,",
    "<i>open only",
    "</b>close only",
    "percent % and hash # and tilde ~",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_metadata_cannot_break_the_file_or_inject_fields(value: str) -> None:
    """Hostile titles, names and journals parse back as one entry with exactly the expected fields."""
    work = Work(
        type="article-journal",
        title=value,
        container_title=value,
        author=[Name(family=value, given=value)],
        issued=DateParts(parts=[2020]),
        doi="10.1000/x",
    )
    text = to_bibtex([ExportEntry("key2020", work, [value])])
    library = parse(text)
    (entry,) = library.entries
    assert entry.key == "key2020"
    assert set(entry.fields_dict) == {
        "author",
        "title",
        "journal",
        "year",
        "date",
        "doi",
        "sources",
    }
    assert entry.fields_dict["title"].value == to_latex(value, protect=True)
    for field in entry.fields:
        assert field.value.count("{") - field.value.count("\\{") == field.value.count(
            "}"
        ) - field.value.count("\\}")


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())
# Latin letters with accents, ASCII punctuation (LaTeX specials included) and common typography:
# the characters for which pylatexenc's encoder and decoder are exact inverses.
_latin = st.text(
    alphabet=st.sampled_from(
        [chr(c) for c in range(0x20, 0x7F)]
        + list("ÀÁÂÄÅÇÈÉÊËÍÎÏÑÒÓÔÖØÙÚÛÜÝßàáâäåçèéêëíîïñòóôöøùúûüýÿ–—’“”")
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())


def _rich_of(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        text,
        st.builds(lambda a, b: f"{a}<i>{b}</i>", text, text),
        st.builds(lambda a, b: f"{a}<sub>{b}</sub>", text, text),
    )


def _entry(title: str, family: str, given_name: str, journal: str) -> ExportEntry:
    # A chapter: its book title and its publisher (an @article has no publisher in biblatex).
    work = Work(
        type="chapter",
        title=title,
        container_title=journal,
        publisher=journal,
        author=[Name(family=family, given=given_name)],
        issued=DateParts(parts=[2021, 5]),
    )
    return ExportEntry("k", work, ["doc.md"])


def _parsed_values(text: str) -> dict[str, str]:
    (entry,) = parse(text).entries
    values = {k: v.value for k, v in entry.fields_dict.items()}
    assert set(values) == {
        "author",
        "title",
        "booktitle",
        "year",
        "month",
        "date",
        "publisher",
        "sources",
    }
    return values


def _same(decoded: str, original: str) -> bool:
    return decoded == " ".join(plain_text(original).split())


@settings(max_examples=150, deadline=None)
@given(title=_rich_of(_text), family=_text, given_name=_text, journal=_text, unicode=st.booleans())
def test_bibtex_parses_back_to_exactly_the_values_written(
    title: str, family: str, given_name: str, journal: str, unicode: bool
) -> None:
    """Any text: bibtexparser reads back one entry, the expected fields, the very values written."""
    entry = _entry(title, family, given_name, journal)
    values = _parsed_values(to_bibtex([entry], unicode=unicode))
    assert values["title"] == to_latex(title, unicode=unicode, protect="title")
    assert values["booktitle"] == to_latex(journal, unicode=unicode, protect="title")
    publisher = to_latex(journal, unicode=unicode)
    # A list field: a name holding " and " is braced whole, so it stays one name.
    assert values["publisher"] == (f"{{{publisher}}}" if " and " in publisher else publisher)
    assert (
        values["author"]
        == f"{to_latex(family, unicode=unicode)}, {to_latex(given_name, unicode=unicode)}"
    )


@settings(max_examples=150, deadline=None)
@given(title=_rich_of(_text), family=_text, given_name=_text, journal=_text)
def test_bibtex_unicode_round_trip(title: str, family: str, given_name: str, journal: str) -> None:
    """With --unicode, every value decodes back to the original text, whatever its script."""
    values = _parsed_values(to_bibtex([_entry(title, family, given_name, journal)], unicode=True))
    assert _same(latex_to_text(values["title"]), title)
    assert _same(latex_to_text(values["booktitle"]), journal)
    assert _same(
        latex_to_text(values["author"]),
        f"{' '.join(family.split())}, {' '.join(given_name.split())}",
    )


@settings(max_examples=150, deadline=None)
@given(title=_rich_of(_latin), family=_latin, given_name=_latin, journal=_latin)
def test_bibtex_latex_round_trip(title: str, family: str, given_name: str, journal: str) -> None:
    """In LaTeX mode, accented Latin text and typography decode back to the original."""
    values = _parsed_values(to_bibtex([_entry(title, family, given_name, journal)]))
    assert _same(latex_to_text(values["title"]), title)
    assert _same(latex_to_text(values["publisher"]), journal)


def test_csl_json_validates_and_carries_sources_and_status() -> None:
    """CSL-JSON validates against the CSL schema; sources and status in custom; ORCIDs too."""
    works = [
        crossref(p)
        for p in (
            "crossref-trimmed/works_10.1016_s0140-6736(97)11096-0.trimmed.json",
            "crossref/works_10.1101_2020.12.01.406702.json",
            "crossref/works_10.14264_uql.2020.791.json",
            "crossref/works_10.1007_978-3-662-46370-3_13.json",
        )
    ]
    items = to_csl_items([ExportEntry(f"k{i}", w, ["a.md", "b.html"]) for i, w in enumerate(works)])
    jsonschema.validate(items, SCHEMA)
    first = items[0]
    assert first["citation-key"] == first["id"] == "k0"
    assert first["custom"]["sources"] == ["a.md", "b.html"]
    assert [s["kind"] for s in first["custom"]["status"]] == ["correction", "retraction"]
    assert items[1]["custom"]["orcids"]["Joyce, Luke R."] == "0000-0002-9346-671X"
    assert items[1]["title"].startswith(
        'Identification of a novel cationic glycolipid in <i><span class="nocase">Streptococcus agalactiae</span></i>'
    )


@settings(max_examples=100, deadline=None)
@given(
    title=_rich_of(_text),
    family=_text,
    year=st.integers(1000, 2999),
    kind=st.sampled_from(["article-journal", "book", "dataset", "chapter"]),
)
def test_csl_json_always_validates(title: str, family: str, year: int, kind: str) -> None:
    """Any work exports CSL-JSON that the schema accepts."""
    work = Work(
        type=kind,
        title=title,
        author=[Name(family=family)],
        issued=DateParts(parts=[year]),
        status=[StatusEvent(kind="retraction", source="pubmed")],
    )
    jsonschema.validate(json.loads(to_csl_json([ExportEntry("k", work, [])])), SCHEMA)


def test_exports_are_deterministic() -> None:
    """The same works export byte-identical files."""
    works = [
        ExportEntry(f"k{i}", crossref(p), ["d.md"])
        for i, p in enumerate(
            [
                "crossref/works_10.1371_journal.pone.0033693.json",
                "crossref/works_10.1021_acs.jctc.2c01235.json",
            ]
        )
    ]
    assert to_bibtex(works) == to_bibtex(list(works))
    assert to_csl_json(works) == to_csl_json(list(works))


@pytest.mark.parametrize(
    ("rich", "latex"),
    [
        (
            "Once-Weekly Semaglutide: A Meta-Analysis",
            "{Once-Weekly Semaglutide: A Meta-Analysis}",  # Title Case: braced whole
        ),
        (
            "The gut microbiome in Parkinson's disease",
            "The gut microbiome in {Parkinson's} disease",
        ),
        ("MRI of the neck in SARS-CoV-2", "{MRI} of the neck in {SARS}-{CoV}-2"),
        ("<i>E. coli</i> in Bavaria", r"\textit{{E}. {coli}} in {Bavaria}"),
        ("Ileal-lymphoid-nodular hyperplasia", "Ileal-lymphoid-nodular hyperplasia"),
    ],
)
def test_a_work_title_keeps_every_capital_after_its_first_word(rich: str, latex: str) -> None:
    """A BibTeX title braces every capitalised word after the first (and a first word
    whose capitals mean something), so a sentence-casing style prints it as the source
    wrote it, as it prints the CSL-JSON title: `.bib` and `.json` render alike."""
    assert to_latex(rich, protect="title") == latex
