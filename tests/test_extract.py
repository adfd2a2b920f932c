"""Extraction: which identifiers each kind of document yields, with offsets and context."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refs.documents import read_file
from refs.extract import extract
from refs.identifiers import Scheme
from refs.models import Document, Format, Mention

DOCS = Path(__file__).parent / "documents"


def _ids(mentions: list[Mention]) -> set[tuple[str, str]]:
    return {(m.scheme.value, m.id) for m in mentions}


def _read(name: str) -> tuple[Document, list[Mention]]:
    document = read_file(str(DOCS / name))
    mentions = extract(document)
    for m in mentions:
        assert document.text[m.start : m.end] == m.raw, m
        assert m.document == str(DOCS / name)
    return document, mentions


def test_html_visible_text_links_and_citation_metas() -> None:
    """HTML yields visible text, link targets and citation_* metas, nothing hidden."""
    _, mentions = _read("article.html")
    assert _ids(mentions) == {
        ("doi", "10.5555/page.self"),
        ("pmid", "11111111"),
        ("doi", "10.5555/ref.one"),
        ("pmid", "22222222"),
        ("doi", "10.1186/s10194-023-01626-w"),
        ("pmid", "37438700"),
        ("pmcid", "PMC10337094"),
        ("doi", "10.1371/journal.pone.0033693"),
        ("pmid", "38147649"),
        ("pmcid", "PMC5994433"),
        ("doi", "10.1000/italic"),
        ("doi", "10.7326/m19-0735"),
        ("doi", "10.5555/escaped"),
    }


def test_html_context_is_the_readable_sentence() -> None:
    """The context of a link is the text around it, tags removed and entities decoded."""
    _, mentions = _read("article.html")
    by_id = {m.id: m for m in mentions}
    assert by_id["10.1371/journal.pone.0033693"].context.startswith(
        "A mouse study and a PubMed record"
    )
    assert by_id["37438700"].context == (
        "Headache study: doi: 10.1186/s10194-023-01626-w. PMID: 37438700; PMCID: PMC10337094."
    )


def test_one_work_cited_three_ways_gives_three_mentions() -> None:
    """A health article's 'doi: … PMID: …; PMCID: …' yields a mention of each kind."""
    _, mentions = _read("references.txt")
    assert [(m.scheme.value, m.id) for m in mentions] == [
        ("doi", "10.1186/s10194-023-01626-w"),
        ("pmid", "37438700"),
        ("pmcid", "PMC10337094"),
        ("doi", "10.1371/journal.pone.0033693"),
    ]
    # The wrapped reference-list entry is the context, not just its second line.
    assert mentions[1].context.startswith("1. Sollmann N, et al. Headache pain.")
    assert mentions[1].context.endswith("PMCID: PMC10337094.")


def test_jats_typed_elements_and_links_but_not_own_ids() -> None:
    """JATS yields pub-id, object-id, typed ext-links and text, not the article's own ids."""
    _, mentions = _read("article.xml")
    assert _ids(mentions) == {
        ("doi", "10.1000/ext.link"),
        ("doi", "10.1000/pub.id.doi"),
        ("pmid", "12345678"),
        ("pmcid", "PMC1234567"),
        ("pmid", "23456789"),
        ("pmid", "34567890"),
        ("doi", "10.1002/(sici)1097-0061(199807)14:10<953::aid-yea293>3.0.co;2-u"),
        ("pmid", "17699505"),
    }


def test_markdown_citekeys_and_links() -> None:
    """pandoc/Manubot citekeys and Markdown links are found."""
    _, mentions = _read("notes.md")
    assert _ids(mentions) == {
        ("doi", "10.1001/jama.2016.17216"),
        ("pmid", "27898976"),
        ("pmcid", "PMC5125559"),
        ("doi", "10.1038/nature21056"),
    }


def test_wiki_templates() -> None:
    """{{cite journal}} parameters and {{doi|…}} templates are found in wiki markup."""
    document, mentions = _read("page.wiki")
    assert document.format is Format.WIKI
    assert _ids(mentions) == {
        ("pmid", "13084587"),
        ("doi", "10.1016/s0021-9258(18)66120-8"),
        ("pmid", "13363834"),
        ("pmcid", "PMC1199724"),
        ("doi", "10.1000/from-template"),
    }


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        pytest.param(Format.TEXT, "PMID: 1 then doi:10.1000/a", id="text"),
        pytest.param(Format.HTML, "<p>PMID: 1 then doi:10.1000/a</p>", id="html"),
        pytest.param(Format.XML, "<p>PMID: 1 then doi:10.1000/a</p>", id="xml"),
    ],
)
def test_every_kind_found_in_every_format(fmt: Format, text: str) -> None:
    """Not only the first kind of identifier is reported."""
    mentions = extract(Document("d", text, fmt))
    assert [m.scheme.value for m in mentions] == ["pmid", "doi"]


def test_mention_dict_has_exactly_the_documented_keys() -> None:
    """The JSON form of a mention has exactly the keys the CLI contract names."""
    (m,) = extract(Document("doc.txt", "PMID: 37438700", Format.TEXT))
    assert m.to_dict() == {
        "document": "doc.txt",
        "scheme": "pmid",
        "id": "37438700",
        "raw": "PMID: 37438700",
        "start": 0,
        "end": 14,
        "context": "PMID: 37438700",
    }


@settings(max_examples=300, deadline=None)
@given(
    st.text(),
    st.sampled_from(list(Scheme)),
    st.text(),
    st.text(),
    st.integers(0, 10**12),
    st.integers(0, 10**12),
    st.text(),
)
def test_a_mention_json_line_is_what_json_dumps_writes(
    document: str, scheme: Scheme, id: str, raw: str, start: int, end: int, context: str
) -> None:
    """``refs extract --format jsonl`` writes each line itself: byte for byte what
    json.dumps(ensure_ascii=False) writes, whatever the strings hold (quotes, control
    characters, non-ASCII, lone surrogates), and it reads back as the mention."""
    import json

    m = Mention(document, scheme, id, raw, start, end, context)
    line = m.json_line()
    assert line == json.dumps(m.to_dict(), ensure_ascii=False)
    assert json.loads(line) == m.to_dict()


def test_long_paragraph_context_is_clipped_to_the_sentence() -> None:
    """In long prose the context is the sentence around the mention, about 200 characters."""
    filler = "Words go here and there without any citation at all. " * 20
    text = filler + "This sentence cites doi:10.1000/xyz for a reason. " + filler
    (m,) = extract(Document("d", text, Format.TEXT))
    assert m.context == "This sentence cites doi:10.1000/xyz for a reason."


# ------------------------------------------------------------------ properties


@settings(max_examples=200)
@given(st.text(max_size=400), st.sampled_from(list(Format)))
def test_extraction_never_raises_on_any_text(text: str, fmt: Format) -> None:
    """Any text in any format extracts without error, with consistent offsets."""
    for m in extract(Document("d", text, fmt)):
        assert text[m.start : m.end] == m.raw


_html_bits = st.sampled_from(
    [
        "<a href='",
        "https://doi.org/",
        "10.1000/x",
        '">',
        "</a>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "<meta name=citation_pmid content=",
        "123",
        "PMID: ",
        "PMC1234567",
        "<head>",
        "</head>",
        "&amp;",
        "&lt;",
        "<",
        ">",
        " ",
        "\n",
        "(",
        ")",
        "'",
        '"',
    ]
)


@settings(max_examples=300)
@given(st.lists(_html_bits, max_size=40).map("".join))
def test_extraction_never_raises_on_hostile_markup(text: str) -> None:
    """Unbalanced, truncated or adversarial HTML and XML never crash extraction."""
    for fmt in (Format.HTML, Format.XML):
        for m in extract(Document("d", text, fmt)):
            assert text[m.start : m.end] == m.raw


@settings(max_examples=200)
@given(st.binary(max_size=400), st.sampled_from(list(Format)))
def test_extraction_never_raises_on_any_bytes(data: bytes, fmt: Format) -> None:
    """Arbitrary bytes either decode and extract cleanly or are refused with InputError."""
    from refs.documents import decode
    from refs.errors import InputError

    try:
        text = decode(data, source="x", fmt=fmt)
    except InputError:
        return
    for m in extract(Document("x", text, fmt)):
        assert text[m.start : m.end] == m.raw


def test_identifier_forms_real_pages_print() -> None:
    """Each form real documents use: ellipsis-cut link text yields nothing of its own (the
    href does), a DOI glued to a page range, subdivided prefixes, a bracket ending a DOI
    mid-path, DOIs in (encoded) query parameters, bioRxiv tails and early URLs, shortDOIs,
    and publisher URLs whose path is the DOI suffix."""
    _, mentions = _read("forms.html")
    assert _ids(mentions) == {
        ("doi", "10.1016/j.jhep.2019.01.001"),
        ("doi", "10.1016/j.jhep.2019.02.002"),
        ("doi", "10.1186/1471-2458-12-201"),
        ("doi", "10.5555.12/demo.7"),
        ("doi", "10.1000.10/123"),
        ("doi", "10.5555/abc.d5"),
        ("doi", "10.1371/journal.pmed.1001779"),
        ("doi", "10.1371/journal.pmed.1002222"),
        ("doi", "10.1101/2020.03.15.992123"),
        ("doi", "10.1101/052456"),
        ("doi", "10/aabbe"),
        ("doi", "10/bfgx"),
        ("doi", "10.1038/s41591-020-0000-0"),
        ("doi", "10.7554/elife.55167"),
        ("doi", "10.7717/peerj.1234"),
    }


def test_typed_jats_values_keep_their_inner_white_space_out() -> None:
    """A pub-id typed doi/pmid/pmcid is one identifier, white space inside it a typo; the
    article's own id is not a citation."""
    _, mentions = _read("typed.xml")
    assert _ids(mentions) == {
        ("doi", "10.1371/journal.pmed.1001779"),
        ("pmid", "25669012"),
        ("pmcid", "PMC4303154"),
    }
    (doi,) = [m for m in mentions if m.scheme.value == "doi"]
    assert doi.raw == "10.1371/journal.pmed. 1001779"


@pytest.mark.parametrize(
    ("piece", "fmt"),
    [
        pytest.param("<head>", Format.HTML, id="head"),
        pytest.param("<article-id>", Format.XML, id="article-id"),
        pytest.param("<meta ", Format.HTML, id="meta"),
        pytest.param("<ext-link ", Format.XML, id="ext-link"),
        pytest.param("10.1000/a)", Format.TEXT, id="doi-runs"),
        pytest.param("doi.org/10/", Format.TEXT, id="short-doi"),
        pytest.param('<a href="https://doi.org/10.1/', Format.HTML, id="open-href"),
    ],
)
def test_extraction_time_grows_linearly(piece: str, fmt: Format) -> None:
    """Hostile markup repeated 8x longer takes about 8x the CPU time, not 64x (each scan
    is linear; '<head>' * 40000 once took 66 s)."""
    import time

    def cost(n: int) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            extract(Document("hostile", piece * n, fmt))
            best = min(best, time.process_time() - started)
        return max(best, 1e-3)

    small, large = cost(2_000), cost(16_000)
    assert large / small < 24, (small, large)


def test_an_element_without_its_end_tag_hides_nothing_after_it() -> None:
    """A self-closing <self-uri/> (PLOS) or a <head> whose end tag HTML lets you omit does
    not swallow the document after it."""
    xml = '<article><self-uri xlink:href="x.pdf"/><ref>doi:10.1000/after</ref></article>'
    assert _ids(extract(Document("a.xml", xml, Format.XML))) == {("doi", "10.1000/after")}
    page = "<html><head><title>t</title><p>Visible doi:10.1000/visible</p></html>"
    assert _ids(extract(Document("a.html", page, Format.HTML))) == {("doi", "10.1000/visible")}
