"""Record formats: pure parse functions on genuine recorded responses (tests/fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refs.identifiers import Scheme
from refs.records import crossref, datacite, idconv, pubmed
from refs.records import csl as doi_cn

FIX = Path(__file__).parent / "fixtures"


def test_crossref_work_list_splits_into_items() -> None:
    """A genuine work-list answer splits into one record per DOI, keyed in lower case."""
    body = (
        FIX / "crossref/works_filter_prefix_10.5555_type_journal-article_rows20.json"
    ).read_bytes()
    items = crossref.split_work_list(body)
    assert len(items) == 20
    doi, payload = next(iter(items.items()))
    assert doi == doi.lower()
    assert crossref.names_of(payload) == {Scheme.DOI: doi}


def test_crossref_single_work_and_rejections() -> None:
    """A work answer yields its message; a list, a 400 body or HTML are refused."""
    body = (FIX / "crossref/works_10.1371_journal.pone.0033693.json").read_bytes()
    assert crossref.work_message(body)["DOI"] == "10.1371/journal.pone.0033693"
    with pytest.raises(ValueError, match="not a Crossref work"):
        crossref.work_message(
            (FIX / "crossref/works_10.1371_journal.pone.0033693_query.author.400.json").read_bytes()
        )
    with pytest.raises(ValueError, match="not a Crossref work-list"):
        crossref.split_work_list(body)
    with pytest.raises(ValueError):
        crossref.split_work_list(b"<html><body>Service Unavailable</body></html>")
    with pytest.raises(ValueError):
        crossref.split_work_list(body[: len(body) // 2])  # truncated JSON


def test_datacite_record_and_not_found_shape() -> None:
    """DataCite's JSON:API record names its DOI; its genuine 404 body is not a record."""
    body = (FIX / "datacite/dois_10.5281_zenodo.1196821.json").read_text(encoding="utf-8")
    assert datacite.names_of(body) == {Scheme.DOI: "10.5281/zenodo.1196821"}
    with pytest.raises(ValueError, match="not a DataCite DOI record"):
        datacite.parse_doi_record(
            (
                FIX / "datacite/dois_10.4124_05f6c379-dd68-4cdb-880d-33d3e9576d52_1.404.json"
            ).read_bytes()
        )


def test_doi_content_negotiation_csl_and_html() -> None:
    """CSL-JSON from content negotiation parses; doi.org's HTML 404 page does not."""
    body = (FIX / "doi-cn/10.1126_science.169.3946.635.csl.json").read_text(encoding="utf-8")
    assert doi_cn.parse_csl(body)["DOI"] == "10.1126/science.169.3946.635"
    assert doi_cn.names_of(body) == {Scheme.DOI: "10.1126/science.169.3946.635"}
    with pytest.raises(ValueError):
        doi_cn.parse_csl((FIX / "doi-cn/10.1126_foo.doi-org-404.html").read_bytes())


def test_pubmed_article_set_and_own_identifiers() -> None:
    """efetch XML splits per PMID; identifiers come from the article's own ArticleIdList."""
    body = (FIX / "ncbi-eutils/efetch_pubmed_38147649.metapub.xml").read_bytes()
    articles = pubmed.split_article_set(body)
    assert list(articles) == ["38147649"]
    xml, names = articles["38147649"]
    assert pubmed.names_of(xml) == names
    # Its ReferenceList holds dozens of other PMCIDs and PMIDs; only its own count.
    assert names == {
        Scheme.PMID: "38147649",
        Scheme.PMCID: "PMC10769841",
        Scheme.DOI: "10.1073/pnas.2308706120",
    }


def test_pubmed_doi_from_elocation_when_no_article_id() -> None:
    """Without a DOI in ArticleIdList the article's ELocationID DOI is used."""
    body = (FIX / "ncbi-eutils/efetch_pubmed_1234567.xml").read_bytes()
    ((payload, names),) = pubmed.split_article_set(body).values()
    assert names[Scheme.DOI] == "10.1159/000398269"
    assert pubmed.names_of(payload) == names


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<eSearchResult><Count>0</Count></eSearchResult>", id="wrong-root"),
        pytest.param(b"<PubmedArticleSet><PubmedArticle>", id="truncated"),
        pytest.param(b"<html><body>502 Bad Gateway</body></html>", id="html"),
        pytest.param(
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><PubmedArticleSet>&e;</PubmedArticleSet>',
            id="xxe",
        ),
    ],
)
def test_pubmed_refuses_what_is_not_an_article_set(body: bytes) -> None:
    """Garbled, truncated or hostile XML is refused (and never reads local files)."""
    try:
        articles = pubmed.split_article_set(body)
    except ValueError:
        return
    assert articles == {}
    assert "root:" not in json.dumps(articles)


def test_idconv_records_errors_and_top_level_error() -> None:
    """idconv ok records name PMCID, PMID and DOI; error records and top-level errors are kept apart."""
    ok = (FIX / "ncbi-idconv/idconv_pmcid_3292175.json").read_bytes()
    records, error = idconv.split_records(ok)
    assert error is None
    assert idconv.names_of(json.dumps(records["PMC3292175"])) == {
        Scheme.PMCID: "PMC3292175",
        Scheme.PMID: "22389645",
        Scheme.DOI: "10.3389/fendo.2012.00005",
    }
    bad = (FIX / "ncbi-idconv/idconv_pmid_19308318.error.json").read_bytes()
    records, error = idconv.split_records(bad)
    assert records == {}  # an error record for a PMID request names no PMCID
    top = (FIX / "ncbi-idconv/idconv_pmid_28371833_idtype_doi.404.json").read_bytes()
    records, error = idconv.split_records(top)
    assert records == {}
    assert error == "ID type 'doi' mismatch for '28371833'"
    assert idconv.names_of(json.dumps({"status": "error", "pmcid": "PMC1"})) == {}
