"""Normalisation: genuine records of every service → clean works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refs.normalise.crossref import work_from_crossref
from refs.normalise.csl import work_from_csl
from refs.normalise.datacite import work_from_datacite
from refs.normalise.markup import clean_markup
from refs.normalise.pubmed import work_from_pubmed
from refs.normalise.text import date_parts, make_name, normalise_page, parse_free_date
from refs.records.pubmed import split_article_set
from refs.work import Work, plain_text

FIX = Path(__file__).parent / "fixtures"


def crossref(name: str) -> Work:
    return work_from_crossref(json.loads((FIX / name).read_text(encoding="utf-8"))["message"])


def pubmed(name: str) -> Work:
    ((xml, _names),) = split_article_set((FIX / name).read_bytes()).values()
    return work_from_pubmed(xml)


def test_crossref_journal_article() -> None:
    """A PLOS ONE article: every field a reference manager needs."""
    w = crossref("crossref/works_10.1371_journal.pone.0033693.json")
    assert w.type == "article-journal"
    assert (
        w.title
        == "Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in the Basal Ganglia of Mice"
    )
    assert (w.container_title, w.container_title_short) == ("PLoS ONE", "PLoS ONE")
    assert w.issued is not None
    assert w.issued.parts == [2012, 3, 21]
    assert (w.volume, w.issue, w.page) == ("7", "3", "e33693")
    assert [(a.family, a.given) for a in w.author[:2]] == [
        ("Sadasivan", "Shankar"),
        ("Pond", "Brooks B."),
    ]
    assert [e.family for e in w.editor] == ["Borlongan"]
    assert (w.doi, w.issn, w.language, w.publisher) == (
        "10.1371/journal.pone.0033693",
        ["1932-6203"],
        "en",
        "Public Library of Science (PLoS)",
    )
    (event,) = w.status
    assert (event.kind, event.notice, event.date, event.source) == (
        "correction",
        "doi:10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda",
        "2012-05-08",
        "crossref (publisher)",
    )


def test_crossref_retraction_from_retraction_watch() -> None:
    """The retracted Wakefield paper: a retraction and a correction, both from Retraction Watch."""
    w = crossref("crossref-trimmed/works_10.1016_s0140-6736(97)11096-0.trimmed.json")
    assert w.retracted
    assert [(e.kind, e.notice, e.date, e.source) for e in w.status] == [
        (
            "correction",
            "doi:10.1016/s0140-6736(04)15715-2",
            "2004-03-06",
            "crossref (retraction-watch)",
        ),
        (
            "retraction",
            "doi:10.1016/s0140-6736(10)60175-4",
            "2010-02-06",
            "crossref (retraction-watch)",
        ),
    ]
    assert w.page == "637–641"
    assert w.issued is not None
    assert w.issued.parts == [1998, 2]  # month precision kept


def test_crossref_new_version_and_addendum_are_not_status() -> None:
    """Updates that do not change a work's standing (new_version, addendum) are not status events."""
    assert crossref("crossref/works_10.1371_journal.ppat.1008184.json").status == []
    nature = crossref("crossref-trimmed/works_10.1038_s41586-020-2012-7.trimmed.json")
    assert nature.status == []
    assert [(r.type, r.doi) for r in nature.relations] == [
        ("has-preprint", "10.1101/2020.01.22.914952")
    ]


@pytest.mark.parametrize(
    ("fixture", "csl_type", "genre"),
    [
        ("crossref/works_10.1007_978-3-662-46370-3_13.json", "chapter", None),
        ("crossref/works_10.1017_9781108348843.json", "book", None),
        ("crossref/works_10.1109_icdcsw.2003.1203662.json", "paper-conference", None),
        ("crossref/works_10.1101_2020.12.01.406702.json", "article", "preprint"),
        ("crossref/works_10.2210_pdb4hhb_pdb.json", "dataset", None),
        ("crossref/works_10.14264_uql.2020.791.json", "thesis", "PhD Thesis"),
        ("crossref/works_10.7554_elife.55167.sa2.json", "review", None),
    ],
)
def test_crossref_types_map_to_csl(fixture: str, csl_type: str, genre: str | None) -> None:
    """Crossref types become CSL types (posted-content is a preprint article)."""
    w = crossref(fixture)
    assert (w.type, w.genre) == (csl_type, genre)


def test_crossref_markup_kept_as_meaning() -> None:
    """<i> stays as meaning; IEEE's inline TeX subscript becomes <sub>; plain text drops markup."""
    w = crossref("crossref/works_10.1136_jclinpath-2020-206745.json")
    assert w.title is not None
    assert w.title.startswith(
        "Construction of a reference material panel for detecting <i>KRAS</i> / <i>NRAS</i>"
    )
    ieee = crossref("crossref/works_10.1109_led.2013.2242039.json")
    assert ieee.title is not None
    assert ieee.title.startswith("GeO<sub>2</sub> Passivation")
    assert plain_text(ieee.title).startswith("GeO2 Passivation")
    assert ieee.container_title == "IEEE Electron Device Letters"  # the full one of [abbrev, full]
    preprint = crossref("crossref/works_10.1101_2020.12.01.406702.json")
    assert preprint.abstract is not None
    assert not preprint.abstract.startswith("Abstract")


def test_pubmed_article() -> None:
    """PubMed XML: ISO abbreviation, ORCIDs, identifiers, erratum status with its notice."""
    w = pubmed("ncbi-eutils/efetch_pubmed_38147649.metapub.xml")
    assert w.title == "Social anxiety disorder-associated gut microbiota increases social fear"
    assert (w.container_title_short, w.volume, w.issue, w.page) == (
        "Proc Natl Acad Sci U S A",
        "121",
        "1",
        "e2308706120",
    )
    assert w.issued is not None
    assert w.issued.parts == [2024, 1, 2]
    assert (w.pmid, w.pmcid, w.doi) == ("38147649", "PMC10769841", "10.1073/pnas.2308706120")
    assert w.author[0].orcid == "0000-0002-7367-292X"
    assert w.author[4].family == "Barrera-Bugueño"  # character reference decoded
    (event,) = w.status
    assert (event.kind, event.notice, event.date, event.source) == (
        "correction",
        "pmid:39705317",
        "2025-01-07",
        "pubmed",
    )


def test_pubmed_retracted_publication() -> None:
    """A 'Retracted Publication' with a RetractionIn comment is a retraction (derived fixture)."""
    w = pubmed("derived/efetch_pubmed_38147649.retracted.DERIVED.xml")
    kinds = {(e.kind, e.notice) for e in w.status}
    assert ("retraction", "pmid:41000001") in kinds
    assert w.retracted


def test_pubmed_abbreviated_pages_and_old_records() -> None:
    """MEDLINE page ranges such as 525-34 expand; 1970s records still normalise."""
    assert pubmed("ncbi-eutils/efetch_pubmed_20412080.xml").page == "525–534"
    old = pubmed("ncbi-eutils/efetch_pubmed_1234567.xml")
    assert old.issued is not None
    assert old.issued.parts == [1975]


def test_datacite_records() -> None:
    """DataCite: datasets, preprints, software, blog posts and organisations as authors."""
    zenodo = work_from_datacite(
        (FIX / "datacite/dois_10.5281_zenodo.1196821.json").read_text(encoding="utf-8")
    )
    assert (zenodo.type, zenodo.publisher, zenodo.doi) == (
        "dataset",
        "Zenodo",
        "10.5281/zenodo.1196821",
    )
    assert zenodo.author[0].orcid == "0000-0001-9688-838X"
    arxiv = work_from_datacite(
        (FIX / "datacite/dois_10.48550_arxiv.2311.16162.json").read_text(encoding="utf-8")
    )
    assert (arxiv.type, arxiv.genre) == ("article", "preprint")
    software = work_from_datacite(
        (FIX / "datacite/dois_10.5281_zenodo.48440.json").read_text(encoding="utf-8")
    )
    assert software.type == "software"
    blog = work_from_datacite(
        (FIX / "datacite/dois_10.5438_4k3m-nyvg.json").read_text(encoding="utf-8")
    )
    assert blog.type == "post-weblog"
    gwas = work_from_datacite(
        (FIX / "datacite/dois_10.7910_dvn_nj7xso.json").read_text(encoding="utf-8")
    )
    assert (
        gwas.author[0].literal
        == "International Genetics of Ankylosing Spondylitis Consortium (IGAS)"
    )


def test_csl_from_content_negotiation() -> None:
    """CSL-JSON from doi.org keeps its fields."""
    w = work_from_csl(
        (FIX / "doi-cn/10.1126_science.169.3946.635.csl.json").read_text(encoding="utf-8")
    )
    assert (w.type, w.title, w.container_title, w.page) == (
        "article-journal",
        "The Structure of Ordinary Water",
        "Science",
        "635–641",
    )
    assert w.issued is not None
    assert w.issued.parts == [1970, 8, 14]


@pytest.mark.parametrize(
    ("family", "particle", "rest"),
    [
        ("van der Berg", "van der", "Berg"),
        ("de la Cruz", "de la", "Cruz"),
        ("Van Dyke", None, "Van Dyke"),
        ("von Neumann", "von", "Neumann"),
        ("Barrera-Bugueño", None, "Barrera-Bugueño"),
        ("di", None, "di"),
    ],
)
def test_name_particles(family: str, particle: str | None, rest: str) -> None:
    """Lower-case particles are kept apart from the family name; capitalised ones are the name."""
    name = make_name(family=family, given="A")
    assert name is not None
    assert (name.non_dropping_particle, name.family) == (particle, rest)


@pytest.mark.parametrize(
    ("raw", "page"),
    [
        ("159-67", "159–167"),
        ("444-446", "444–446"),
        ("1101-8", "1101–1108"),
        ("e33693", "e33693"),
        ("S13-S19", "S13–S19"),
        ("E2960–E2969", "E2960–E2969"),
        ("12-15, 18", "12–15, 18"),
        ("", None),
        (7, "7"),
    ],
)
def test_page_ranges(raw: str | int, page: str | None) -> None:
    """Ranges get an en dash and abbreviated ends are expanded."""
    assert normalise_page(raw) == page


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ((2023,), [2023]),
        ((2023, "Jul"), [2023, 7]),
        (("2024", "01", "02"), [2024, 1, 2]),
        ((None,), None),
        ((2023, "13"), [2023]),
        ((99,), None),
    ],
)
def test_dates_keep_precision(value: tuple[object, ...], parts: list[int] | None) -> None:
    """Dates keep the precision the source gives (year, month, day) and nothing more."""
    result = date_parts(*value)
    assert (result.parts if result else None) == parts


def test_free_dates() -> None:
    """PubMed's free-text dates parse to their precision; seasons to the year."""
    assert parse_free_date("1998 Feb") is not None
    assert parse_free_date("Lancet. 2010 Feb 6;375(9713):445").iso() == "2010-02-06"  # type: ignore[union-attr]
    assert parse_free_date("2000 Spring").parts == [2000]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("T<sub>2</sub>-weighted MRI", "T<sub>2</sub>-weighted MRI"),
        ("Cells &amp; <italic>E. coli</italic>", "Cells & <i>E. coli</i>"),
        (
            "<jats:sc>dna</jats:sc> repair",
            '<span style="font-variant:small-caps;">dna</span> repair',
        ),
        (
            "<mml:math><mml:msup><mml:mi>Ca</mml:mi><mml:mrow><mml:mn>2</mml:mn><mml:mo>+</mml:mo></mml:mrow></mml:msup></mml:math> flux",
            "Ca<sup>2+</sup> flux",
        ),
        ("  lots\n of   space  ", "lots of space"),
        ("<b>bold <i>both</i></b>", "<b>bold <i>both</i></b>"),
        ("<span class='x'>unwrapped</span> text", "unwrapped text"),
        ("&lt;not a tag&gt;", "<not a tag>"),
    ],
)
def test_markup_to_rich_text(raw: str, clean: str) -> None:
    """HTML/JATS/MathML markup becomes CSL rich text with only meaningful tags."""
    assert clean_markup(raw) == clean


@given(st.text(max_size=200))
def test_markup_cleaning_never_raises(text: str) -> None:
    """Any title string cleans without error to collapsed text."""
    result = clean_markup(text)
    assert result is None or result == " ".join(result.split())


# Text with "<", "&" and ">" as each format writes it, and what a reader must get back.
LITERAL = "n<p & x>y: the <b>literal</b> case"
ESCAPED_XML = "n&lt;p &amp; x&gt;y: the &lt;b&gt;literal&lt;/b&gt; case"  # PubMed XML
ESCAPED_JSON = "n<p & x>y: the &lt;b&gt;literal&lt;/b&gt; case"  # JSON: the tag is escaped


def _escaped_records() -> dict[str, Work]:
    """One record per service format, derived from a genuine one: only the title, the
    container title and the first author's family name changed."""
    import re

    message = json.loads((FIX / "crossref/works_10.1371_journal.pone.0033693.json").read_text())[
        "message"
    ]
    message.update({"title": [ESCAPED_JSON], "container-title": [ESCAPED_JSON]})
    message["author"][0]["family"] = "O<Brien & Sons>"
    datacite = json.loads((FIX / "datacite/dois_10.5281_zenodo.1196821.json").read_text())
    attrs = datacite["data"]["attributes"]
    attrs["titles"] = [{"title": ESCAPED_JSON}]
    attrs["creators"][0].update({"familyName": "O<Brien & Sons>", "name": "O<Brien & Sons>, A"})
    csl = json.loads((FIX / "doi-cn/10.1126_science.169.3946.635.csl.json").read_text())
    csl.update({"title": ESCAPED_JSON, "container-title": ESCAPED_JSON})
    csl["author"][0]["family"] = "O<Brien & Sons>"
    ((xml, _),) = split_article_set(
        (FIX / "ncbi-eutils/efetch_pubmed_38147649.metapub.xml").read_bytes()
    ).values()
    xml = re.sub(
        r"<ArticleTitle>.*?</ArticleTitle>",
        f"<ArticleTitle>{ESCAPED_XML}</ArticleTitle>",
        xml,
        flags=re.S,
    )
    xml = re.sub(r"<Title>.*?</Title>", f"<Title>{ESCAPED_XML}</Title>", xml, count=1, flags=re.S)
    xml = re.sub(
        r"<LastName>.*?</LastName>", "<LastName>O&lt;Brien &amp; Sons&gt;</LastName>", xml, count=1
    )
    return {
        "crossref": work_from_crossref(message),
        "datacite": work_from_datacite(datacite),
        "csl": work_from_csl(csl),
        "pubmed": work_from_pubmed(xml),
    }


@pytest.mark.parametrize("service", ["crossref", "datacite", "csl", "pubmed"])
def test_escaped_markup_characters_stay_text_in_every_format(service: str) -> None:
    """Escaped "<", "&", ">" are text in titles, containers and names, whatever the
    format, and reach BibTeX and CSL-JSON as text (PubMed's n&lt;p once lost words)."""
    from refs.export.bibtex import to_bibtex
    from refs.export.csl import to_csl_items
    from refs.export.entries import ExportEntry
    from refs.export.latex import latex_to_text, to_latex

    work = _escaped_records()[service]
    assert plain_text(work.title) == LITERAL
    if service != "datacite":  # a DataCite record has no container title to change
        assert plain_text(work.container_title) == LITERAL
    assert work.author[0].family == "O<Brien & Sons>"
    assert latex_to_text(to_latex(work.title)) == LITERAL
    (item,) = to_csl_items([ExportEntry("k", work)])
    assert item["title"] == LITERAL
    bib = to_bibtex([ExportEntry("k", work)])
    assert "\\textless{}b\\textgreater{}literal" in bib
    assert "\\textbf" not in bib


def test_control_characters_never_reach_the_library() -> None:
    """ESC, BEL and a right-to-left override in metadata are dropped when normalising."""
    message = json.loads((FIX / "crossref/works_10.1371_journal.pone.0033693.json").read_text())[
        "message"
    ]
    message["title"] = ["Clear\x1b[2J screen\x07 \u202eevil"]
    work = work_from_crossref(message)
    assert work.title == "Clear[2J screen evil"


def test_wrong_types_are_left_out_with_a_reason() -> None:
    """An ISSN given as one string, a dict volume and a NaN issue are neither exploded into
    characters nor written as garbage; each is reported."""
    from refs.models import Record
    from refs.normalise import normalise_record_checked

    message = json.loads((FIX / "crossref/works_10.1371_journal.pone.0033693.json").read_text())[
        "message"
    ]
    message.update({"ISSN": "1932-6203", "volume": {"v": 7}, "issue": float("nan")})
    record = Record("crossref", message["DOI"].lower(), "ok", 1.0, json.dumps(message))
    work, problems = normalise_record_checked(record)
    assert work is not None
    assert (work.issn, work.volume, work.issue) == (["1932-6203"], None, None)
    assert len(problems) == 2
    assert all(p.startswith("crossref:10.1371/journal.pone.0033693: ") for p in problems)
    assert "volume: expected text or a whole number" in problems[0]
