"""Identifiers: every form people write DOIs, PMIDs and PMCIDs in, and the invalid ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refs.errors import IdentifierError
from refs.identifiers import (
    Identifier,
    Scheme,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    parse_identifier,
    scan,
)

DOI = Scheme.DOI
PMID = Scheme.PMID
PMCID = Scheme.PMCID

PARSE_CASES = [
    # DOIs
    pytest.param("10.1186/s10194-023-01626-w", DOI, "10.1186/s10194-023-01626-w", id="doi-bare"),
    pytest.param(
        "doi:10.1186/S10194-023-01626-W", DOI, "10.1186/s10194-023-01626-w", id="doi-prefix-upper"
    ),
    pytest.param(
        "DOI: 10.1186/s10194-023-01626-w", DOI, "10.1186/s10194-023-01626-w", id="doi-label-space"
    ),
    pytest.param(
        "doi 10.1186/s10194-023-01626-w", DOI, "10.1186/s10194-023-01626-w", id="doi-space"
    ),
    pytest.param(
        "https://doi.org/10.1186/s10194-023-01626-w",
        DOI,
        "10.1186/s10194-023-01626-w",
        id="doi-org",
    ),
    pytest.param(
        "http://dx.doi.org/10.1371/journal.pone.0033693",
        DOI,
        "10.1371/journal.pone.0033693",
        id="dx-doi-org",
    ),
    pytest.param(
        "doi.org/10.1371/journal.pone.0033693",
        DOI,
        "10.1371/journal.pone.0033693",
        id="doi-org-no-scheme",
    ),
    pytest.param("10.1002%2Fcncr.12345", DOI, "10.1002/cncr.12345", id="doi-url-encoded"),
    pytest.param(
        "https://doi.org/10.1002%2Fcncr.12345", DOI, "10.1002/cncr.12345", id="doi-org-url-encoded"
    ),
    pytest.param(
        "https://www.acpjournals.org/doi/10.7326/M19-0735",
        DOI,
        "10.7326/m19-0735",
        id="publisher-doi-path",
    ),
    pytest.param(
        "https://onlinelibrary.wiley.com/doi/full/10.1002/cncr.12345",
        DOI,
        "10.1002/cncr.12345",
        id="publisher-full",
    ),
    pytest.param(
        "https://onlinelibrary.wiley.com/doi/abs/10.1002/cncr.12345",
        DOI,
        "10.1002/cncr.12345",
        id="publisher-abs",
    ),
    pytest.param(
        "https://onlinelibrary.wiley.com/doi/pdf/10.1002/cncr.12345",
        DOI,
        "10.1002/cncr.12345",
        id="publisher-pdf",
    ),
    pytest.param(
        "https://onlinelibrary.wiley.com/doi/10.1002/cncr.12345/epdf",
        DOI,
        "10.1002/cncr.12345",
        id="tail-epdf",
    ),
    pytest.param(
        "https://www.tandfonline.com/doi/10.1080/1234/abstract",
        DOI,
        "10.1080/1234",
        id="tail-abstract",
    ),
    pytest.param(
        "10.1002/(SICI)1097-0142(19990101)85:1<1::AID-CNCR1>3.0.CO;2-#",
        DOI,
        "10.1002/(sici)1097-0142(19990101)85:1<1::aid-cncr1>3.0.co;2-#",
        id="sici",
    ),
    pytest.param(
        "10.1890/0012-9658(2006)87[2832:TIOPMA]2.0.CO;2",
        DOI,
        "10.1890/0012-9658(2006)87[2832:tiopma]2.0.co;2",
        id="sici-brackets",
    ),
    pytest.param(
        "https://www.biorxiv.org/content/10.1101/2020.12.01.406702v1.full",
        DOI,
        "10.1101/2020.12.01.406702",
        id="biorxiv-version-tail",
    ),
    # PMIDs
    pytest.param("PMID: 37438700", PMID, "37438700", id="pmid-label"),
    pytest.param("PMID 37438700", PMID, "37438700", id="pmid-space"),
    pytest.param("pmid:37438700", PMID, "37438700", id="pmid-lower"),
    pytest.param("PubMed ID 37438700", PMID, "37438700", id="pubmed-id"),
    pytest.param("https://pubmed.ncbi.nlm.nih.gov/37438700/", PMID, "37438700", id="pubmed-url"),
    pytest.param("pubmed.ncbi.nlm.nih.gov/37438700", PMID, "37438700", id="pubmed-url-no-scheme"),
    pytest.param("www.ncbi.nlm.nih.gov/pubmed/37438700", PMID, "37438700", id="ncbi-pubmed-path"),
    pytest.param(
        "https://europepmc.org/article/MED/37438700", PMID, "37438700", id="europepmc-med"
    ),
    pytest.param("|pmid=37438700", PMID, "37438700", id="template-param"),
    pytest.param("PMID: 21804956.2", PMID, "21804956", id="pmid-version"),
    pytest.param("PMID: 0037438700", PMID, "37438700", id="pmid-leading-zeros"),
    # PMCIDs
    pytest.param("PMCID: PMC10337094", PMCID, "PMC10337094", id="pmcid-label"),
    pytest.param("PMC10337094", PMCID, "PMC10337094", id="pmc-bare"),
    pytest.param("PMCID: PMC 10337094", PMCID, "PMC10337094", id="pmc-space-labelled"),
    pytest.param("PMCID: 10337094", PMCID, "PMC10337094", id="pmcid-label-digits"),
    pytest.param(
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC10337094/",
        PMCID,
        "PMC10337094",
        id="pmc-new-host",
    ),
    pytest.param(
        "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC10337094",
        PMCID,
        "PMC10337094",
        id="pmc-old-host",
    ),
    pytest.param(
        "https://europepmc.org/article/PMC/PMC10337094", PMCID, "PMC10337094", id="europepmc-pmc"
    ),
    pytest.param("|pmc=10337094", PMCID, "PMC10337094", id="template-pmc"),
    pytest.param("PMC10337094.1", PMCID, "PMC10337094", id="pmc-version"),
]


@pytest.mark.parametrize(("text", "scheme", "value"), PARSE_CASES)
def test_parse_identifier_forms(text: str, scheme: Scheme, value: str) -> None:
    """Every common way of writing an identifier parses to its canonical form."""
    assert parse_identifier(text) == Identifier(scheme, value)


@pytest.mark.parametrize(
    ("text", "expected_in_message"),
    [
        pytest.param("10.1234", "not a valid DOI", id="doi-no-suffix"),
        pytest.param("10.1234/", "not a valid DOI", id="doi-empty-suffix"),
        pytest.param("doi:abc", "not a valid DOI", id="doi-label-garbage"),
        pytest.param("PMID: abc", "not a valid PMID", id="pmid-letters"),
        pytest.param("PMID: 123456789", "not a valid PMID", id="pmid-nine-digits"),
        pytest.param("PMC", "not a valid PMCID", id="pmc-alone"),
        pytest.param("pmcid: x1", "not a valid PMCID", id="pmcid-garbage"),
        pytest.param("37438700", "bare number", id="bare-number"),
        pytest.param("", "empty", id="empty"),
        pytest.param("hello world", "not a DOI, PMID or PMCID", id="prose"),
        pytest.param("PMID: 1 and PMID: 2", "not", id="two-identifiers"),
    ],
)
def test_invalid_identifier_raises_naming_input(text: str, expected_in_message: str) -> None:
    """Invalid input raises IdentifierError that quotes the input and says what was expected."""
    with pytest.raises(IdentifierError) as info:
        parse_identifier(text)
    message = str(info.value)
    assert expected_in_message in message
    assert repr(text) in message
    assert "expected" in message or "write" in message


def test_normalise_helpers_refuse_other_schemes() -> None:
    """normalise_doi refuses a PMID and the PMID/PMCID helpers accept bare numbers."""
    assert normalise_doi("doi:10.1186/ABC") == "10.1186/abc"
    assert normalise_pmid("37438700") == "37438700"
    assert normalise_pmcid("10337094") == "PMC10337094"
    with pytest.raises(IdentifierError):
        normalise_doi("PMID: 37438700")
    with pytest.raises(IdentifierError):
        normalise_pmid("PMC10337094")


SCAN_CASES = [
    pytest.param(
        "doi: 10.1186/s10194-023-01626-w. PMID: 37438700; PMCID: PMC10337094",
        [(DOI, "10.1186/s10194-023-01626-w"), (PMID, "37438700"), (PMCID, "PMC10337094")],
        id="health-article-triple",
    ),
    pytest.param("(doi:10.1000/xyz123).", [(DOI, "10.1000/xyz123")], id="unbalanced-paren-dropped"),
    pytest.param(
        "See 10.1000/abc(1)def, and more", [(DOI, "10.1000/abc(1)def")], id="balanced-paren-kept"
    ),
    pytest.param("[10.1000/abc]", [(DOI, "10.1000/abc")], id="square-bracket"),
    pytest.param(
        "cited as 10.1000/abc; 10.1000/def: and 10.1000/ghi,",
        [(DOI, "10.1000/abc"), (DOI, "10.1000/def"), (DOI, "10.1000/ghi")],
        id="trailing-punct",
    ),
    pytest.param(
        '<a href="https://doi.org/10.1000/abc">x</a>', [(DOI, "10.1000/abc")], id="attr-quote-ends"
    ),
    pytest.param("<i>10.1000/abc</i>", [(DOI, "10.1000/abc")], id="html-tag-ends"),
    pytest.param("10.1000/abc&amp;utm=1", [(DOI, "10.1000/abc")], id="amp-entity-ends"),
    pytest.param(
        "https://doi.org/10.1000/abc?utm_source=x#top", [(DOI, "10.1000/abc")], id="url-query-ends"
    ),
    pytest.param(
        "10.1002/(SICI)1097-0142(19990101)85:1&lt;1::AID-CNCR1&gt;3.0.CO;2-#",
        [(DOI, "10.1002/(sici)1097-0142(19990101)85:1<1::aid-cncr1>3.0.co;2-#")],
        id="sici-escaped",
    ),
    pytest.param(
        "[@doi:10.1001/jama.2016.17216; @pmid:27898976; @pmcid:PMC5125559]",
        [(DOI, "10.1001/jama.2016.17216"), (PMID, "27898976"), (PMCID, "PMC5125559")],
        id="manubot-citekeys",
    ),
    pytest.param(
        "[doi:10.1136/x-1](https://doi.org/10.1136/x-1)",
        [(DOI, "10.1136/x-1"), (DOI, "10.1136/x-1")],
        id="markdown-link",
    ),
    pytest.param(
        "{{cite journal |doi=10.1000/x |pmid= 13084587 |pmc=1199724}}",
        [(DOI, "10.1000/x"), (PMID, "13084587"), (PMCID, "PMC1199724")],
        id="wiki-cite-journal",
    ),
    pytest.param(
        "{{doi|10.1000/x}} {{pmid|13084587}} {{PMC|1199724}}",
        [(DOI, "10.1000/x"), (PMID, "13084587"), (PMCID, "PMC1199724")],
        id="wiki-short-templates",
    ),
    pytest.param("PubMed: 17699505", [(PMID, "17699505")], id="pubmed-colon"),
    pytest.param(
        "PubMed</publisher-name><comment>: 17699505</comment>",
        [(PMID, "17699505")],
        id="pubmed-label-across-markup",
    ),
    pytest.param(
        "PubMed Central PMCID: PMCPMC2540558.", [(PMCID, "PMC2540558")], id="pmcid-doubled-prefix"
    ),
    pytest.param(
        "https://www.ncbi.nlm.nih.gov/entrez/query.fcgi?cmd=Retrieve&db=PubMed&list_uids=9500320",
        [(PMID, "9500320")],
        id="entrez-list-uids",
    ),
    pytest.param("doi:10.1000/x/abstract", [(DOI, "10.1000/x/abstract")], id="bare-doi-keeps-tail"),
    pytest.param(
        "https://doi.org/10.1000/x/pdf", [(DOI, "10.1000/x/pdf")], id="resolver-url-keeps-tail"
    ),
    pytest.param(
        "https://example.org/doi/10.1000/x/pdf", [(DOI, "10.1000/x")], id="publisher-url-drops-tail"
    ),
    # Things that are not identifiers.
    pytest.param("We measured 123456 cells in 2019.", [], id="bare-numbers"),
    pytest.param("The PMC1 and PMC2 genes of yeast.", [], id="gene-names"),
    pytest.param("version 2.10.1234/56 and 110.1234/5", [], id="numbers-not-dois"),
    pytest.param("europepmc.org is a site; PMID: none", [], id="labels-without-ids"),
    pytest.param("a ratio of 10.12345/ 6", [], id="doi-without-suffix"),
]


@pytest.mark.parametrize(("text", "expected"), SCAN_CASES)
def test_scan_finds_exactly(text: str, expected: list[tuple[Scheme, str]]) -> None:
    """The scanner finds these identifiers and nothing else, with raw == text[start:end]."""
    found = scan(text)
    assert [(f.scheme, f.id) for f in found] == expected
    for f in found:
        assert text[f.start : f.end] == f.raw


def test_raw_keeps_label_and_url() -> None:
    """raw is the text as written, label or resolver URL included."""
    text = (
        "see https://doi.org/10.1000/ABC and PMID: 12345 and https://pubmed.ncbi.nlm.nih.gov/678/"
    )
    assert [f.raw for f in scan(text)] == [
        "https://doi.org/10.1000/ABC",
        "PMID: 12345",
        "https://pubmed.ncbi.nlm.nih.gov/678/",
    ]


# ------------------------------------------------------------------ properties

_id_chars = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)


@given(_id_chars)
def test_scan_never_raises(text: str) -> None:
    """Scanning arbitrary text never fails and every find points at its raw text."""
    for f in scan(text):
        assert text[f.start : f.end] == f.raw
        assert parse_identifier(str(f.identifier)) == f.identifier


_doi_suffix = st.text(
    alphabet=st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._()/:;"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s[-1].isalnum() and s.count("(") == s.count(")"))


@given(st.integers(min_value=1000, max_value=999999999), _doi_suffix)
def test_doi_canonical_reparses_to_itself(registrant: int, suffix: str) -> None:
    """A canonical DOI parses to itself, and normalising twice changes nothing."""
    ident = parse_identifier(f"10.{registrant}/{suffix}")
    assert ident.scheme is Scheme.DOI
    assert parse_identifier(ident.value) == ident
    assert parse_identifier(f"https://doi.org/{ident.value}") == ident
    assert normalise_doi(normalise_doi(ident.value)) == ident.value


@given(st.integers(min_value=1, max_value=99_999_999))
def test_pmid_and_pmcid_canonical_reparse(number: int) -> None:
    """PMIDs and PMCIDs survive every written form and re-parse to themselves."""
    pmid = parse_identifier(f"PMID: {number:010d}")
    assert pmid == Identifier(Scheme.PMID, str(number))
    assert parse_identifier(str(pmid)) == pmid
    pmcid = parse_identifier(f"PMCID: PMC{number}")
    assert pmcid == Identifier(Scheme.PMCID, f"PMC{number}")
    assert parse_identifier(pmcid.value) == pmcid


@pytest.mark.parametrize(
    ("value", "scheme", "expected"),
    [
        pytest.param("0037438700", PMID, "37438700", id="labelled-pmid-number"),
        pytest.param(37438700, PMID, "37438700", id="pmid-int"),
        pytest.param("10337094", PMCID, "PMC10337094", id="labelled-pmcid-number"),
        pytest.param("PMC10337094.2", PMCID, "PMC10337094", id="pmcid-version"),
        pytest.param("https://doi.org/10.1000/ABC", DOI, "10.1000/abc", id="doi-url"),
        pytest.param("10.1000/abc", PMID, None, id="wrong-scheme"),
        pytest.param("", DOI, None, id="empty"),
        pytest.param(None, DOI, None, id="none"),
        pytest.param(True, PMID, None, id="bool"),
        pytest.param("abc", PMCID, None, id="garbage"),
    ],
)
def test_canonical_for_labelled_values(value: object, scheme: Scheme, expected: str | None) -> None:
    """Values whose scheme a service or markup states canonicalise, or give None."""
    from refs.identifiers import canonical

    assert canonical(value, scheme) == expected
