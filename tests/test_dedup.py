"""Merging: one entry per work across identifiers and documents; preprints kept apart."""

from __future__ import annotations

import json
from pathlib import Path

from refs.dedup import cluster_records, merge_works
from refs.identifiers import Identifier, Scheme
from refs.models import Record
from refs.normalise import normalise_record
from refs.records.pubmed import split_article_set
from refs.work import Provenance, Work

FIX = Path(__file__).parent / "fixtures"
DOI, PMID, PMCID = Scheme.DOI, Scheme.PMID, Scheme.PMCID


def pubmed_record(pmid: str, xml: str, names: dict[Scheme, str]) -> Record:
    return Record("pubmed", pmid, "ok", 1.0, xml, 200, "text/xml", names=names)


def test_doi_pmid_and_pmcid_of_one_paper_are_one_cluster() -> None:
    """A DOI, a PMID and a PMCID of one paper (cited in different documents) cluster together."""
    ((xml, names),) = split_article_set(
        (FIX / "ncbi-eutils/efetch_pubmed_38147649.metapub.xml").read_bytes()
    ).values()
    record = pubmed_record("38147649", xml, names)
    groups = [
        (Identifier(PMID, "38147649"), dict(names), [record]),
        (Identifier(PMCID, "PMC10769841"), dict(names), [record]),
        (Identifier(DOI, "10.1073/pnas.2308706120"), {DOI: "10.1073/pnas.2308706120"}, []),
    ]
    clusters, where = cluster_records(groups)
    assert len(clusters) == 1
    assert clusters[0].identifiers == names
    assert {where[i] for i, _, _ in groups} == {0}
    assert len(clusters[0].records) == 1  # the same record twice is kept once


def test_preprint_and_published_version_are_never_merged() -> None:
    """A link that would put two DOIs in one work is refused and noted."""
    groups: list[tuple[Identifier, dict[Scheme, str], list[Record]]] = [
        (
            Identifier(DOI, "10.1101/2020.01.22.914952"),
            {DOI: "10.1101/2020.01.22.914952", PMID: "1"},
            [],
        ),
        (
            Identifier(DOI, "10.1038/s41586-020-2012-7"),
            {DOI: "10.1038/s41586-020-2012-7", PMID: "1"},
            [],
        ),
    ]
    clusters, _ = cluster_records(groups)
    assert len(clusters) == 2
    assert any("not merged" in note for c in clusters for note in c.notes)


def _work(service: str, **fields: object) -> Work:
    return Work(provenance=[Provenance(service=service, key="k", fetched_at=0)], **fields)


def test_merge_precedence_and_reasons() -> None:
    """Crossref wins bibliographic fields, PubMed identifiers and the ISO abbreviation; reasons kept."""
    crossref = _work(
        "crossref",
        title="Developing functional tissues",
        container_title="Proceedings of the National Academy of Sciences",
        doi="10.1073/x",
        page="1–10",
        type="article-journal",
    )
    pubmed = _work(
        "pubmed",
        title="Developing functional tissues.",
        container_title="Proc Natl Acad Sci U S A (full)",
        container_title_short="Proc Natl Acad Sci U S A",
        pmid="123",
        pmcid="PMC9",
        page="1-9",
        type="article-journal",
    )
    merged = merge_works(
        [pubmed, crossref], ["merged crossref:k + pubmed:k: they share doi:10.1073/x"]
    )
    assert merged.title == "Developing functional tissues"
    assert merged.container_title == "Proceedings of the National Academy of Sciences"
    assert merged.container_title_short == "Proc Natl Acad Sci U S A"
    assert (merged.pmid, merged.pmcid, merged.doi, merged.page) == (
        "123",
        "PMC9",
        "10.1073/x",
        "1–10",
    )
    reasons = [m.reason for m in merged.merges]
    assert reasons[0].startswith("merged crossref:k + pubmed:k")
    assert any(r.startswith("page: crossref preferred over pubmed") for r in reasons)
    assert not any(r.startswith("title:") for r in reasons)  # a trailing period is no disagreement
    assert [p.service for p in merged.provenance] == ["crossref", "pubmed"]


def test_status_events_are_united() -> None:
    """A retraction known only to one source reaches the merged work."""
    crossref = Record(
        "crossref",
        "10.1016/s0140-6736(97)11096-0",
        "ok",
        1.0,
        json.dumps(
            json.loads(
                (
                    FIX / "crossref-trimmed/works_10.1016_s0140-6736(97)11096-0.trimmed.json"
                ).read_text()
            )["message"]
        ),
    )
    work = normalise_record(crossref)
    assert work is not None
    merged = merge_works([_work("pubmed", pmid="9500320"), work])
    assert merged.retracted
    assert merged.pmid == "9500320"


def test_a_refused_merge_is_noted_only_on_the_works_it_concerns() -> None:
    """The note that pmid:12 and pmid:13 were kept apart reaches their clusters, not the
    work of pmid:1 (whose identifier is a prefix of theirs)."""

    def record(key: str, names: dict[Scheme, str]) -> Record:
        return Record("pubmed", key, "ok", 1.0, "<x/>", names=names)

    shared = {DOI: "10.1000/shared"}
    groups: list[tuple[Identifier, dict[Scheme, str], list[Record]]] = [
        (Identifier(PMID, "12"), {PMID: "12"}, [record("12", {PMID: "12", **shared})]),
        (Identifier(PMID, "13"), {PMID: "13"}, [record("13", {PMID: "13", **shared})]),
        (Identifier(PMID, "1"), {PMID: "1"}, [record("1", {PMID: "1"})]),
    ]
    clusters, where = cluster_records(groups)
    notes = {tuple(sorted(c.identifiers.values())): c.notes for c in clusters}
    assert notes[("1",)] == []
    refused = [n for c in clusters for n in c.notes if n.startswith("not merged")]
    assert refused
    assert all("pmid:12" in n and "pmid:13" in n for n in refused)
    assert where[Identifier(PMID, "1")] != where[Identifier(PMID, "12")]
