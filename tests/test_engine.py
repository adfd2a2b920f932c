"""The resolver's plan: chains, crosswalks, batching, the cache. Over the replay answers
as an httpx.MockTransport: no sockets, no waits (faults and limits: test_resolve.py)."""

from __future__ import annotations

import time

from refs.identifiers import Scheme
from refs.resolve.engine import Resolution, ResolveReport
from tests.conftest import Local

CROSSREF_DOI = "10.1371/journal.pone.0033693"


def by_id(report: ResolveReport) -> dict[str, Resolution]:
    return {str(r.identifier): r for r in report.resolutions}


def test_one_paper_cited_three_ways_ends_with_all_its_identifiers(local: Local) -> None:
    """PMID, PMCID and DOI of one paper each resolve, and each knows the other two."""
    local.settings = local.settings_with(complete=False)  # the first round's requests
    report = local.run(["PMID:38147649", "PMC10769841"])
    results = by_id(report)
    expected = {
        Scheme.PMID: "38147649",
        Scheme.PMCID: "PMC10769841",
        Scheme.DOI: "10.1073/pnas.2308706120",
    }
    assert results["pmid:38147649"].identifiers == expected
    assert results["pmcid:PMC10769841"].identifiers == expected
    # The PMCID is named by the PubMed record: no ID-converter request was needed.
    assert report.requests == {"pubmed": 1}


def test_every_service_and_fallback(local: Local) -> None:
    """Crossref, DataCite (by prefix), doi.org content negotiation, PubMed, idconv; not-founds named."""
    report = local.run(
        [
            CROSSREF_DOI,
            "10.5281/zenodo.1196821",
            "10.1126/science.169.3946.635",
            "PMID:29915538",
            "PMC3292175",
            "10.9999/unknown",
            "PMID:1",
            "PMC999999",
        ],
    )
    r = by_id(report)
    assert r[f"doi:{CROSSREF_DOI}"].via == "crossref"
    assert r["doi:10.5281/zenodo.1196821"].via == "datacite"
    assert r["doi:10.1126/science.169.3946.635"].via == "doi.org"
    assert r["pmid:29915538"].identifiers[Scheme.PMCID] == "PMC5994433"
    # PMC3292175: the ID converter knows it, but neither PubMed nor any DOI agency here does.
    assert r["pmcid:PMC3292175"].status == "not_found"
    assert r["pmcid:PMC3292175"].identifiers[Scheme.PMID] == "22389645"
    assert "PMID 22389645" in (r["pmcid:PMC3292175"].reason or "")
    assert r["doi:10.9999/unknown"].status == "not_found"
    assert "Crossref" in (r["doi:10.9999/unknown"].reason or "")
    assert r["pmid:1"].status == "not_found"
    assert r["pmcid:PMC999999"].reason == "ID converter: invalid article id"
    lists = [t for t in local.seen if t.startswith("/crossref/works?")]
    assert len(lists) == 1  # the Crossref DOIs waiting together went in one list request


def test_batches_are_full_and_few(local: Local) -> None:
    """250 DOIs, 450 PMIDs and 201 PMCIDs take the minimum number of requests; the
    completion round (the records' DOIs at Crossref, the DOIs' PMIDs at the ID converter)
    takes the minimum number more."""
    dois, pmids, pmcids = local.data.synthesize(250, 450, 201, prefix="10.5555/batch")
    ids = dois + [f"PMID:{p}" for p in pmids] + pmcids
    local.settings = local.settings_with(complete=False)
    report = local.run(ids)
    assert report.count("resolved") == 901
    # ceil(250/100) lists; ceil(450/200) + ceil(201/200) efetch; ceil(201/200) idconv.
    assert report.requests == {"crossref": 3, "idconv": 2, "pubmed": 5}
    (local.settings.cache / "records.sqlite").unlink()
    local.settings = local.settings_with(complete=True)
    completed = local.run(ids)
    # + ceil(651/100) lists for the 651 DOIs only PubMed or idconv named; + ceil(250/200)
    # ID-converter requests by DOI for the 250 DOIs without a PMID (none has one here);
    # + ceil(250/100) PubMed esearch [doi] requests for those the converter does not
    # know (none found: no efetch follows).
    assert completed.requests == {
        "crossref": 3 + 7,
        "idconv": 2,
        "idconv-doi": 2,
        "pubmed-doi": 3,
        "pubmed": 5,
    }
    assert completed.count("resolved") == 901


def test_rerun_is_free_and_offline_works(local: Local) -> None:
    """A rerun makes no request; --offline resolves from the cache and reports what is missing."""
    ids = [CROSSREF_DOI, "PMID:38147649", "PMC10769841", "10.5281/zenodo.1196821"]
    first = local.run(ids)
    assert first.count("resolved") == 4
    second = local.run(ids)
    assert second.requests == {}
    assert second.count("resolved") == 4
    offline = local.run([*ids, "PMID:29915538"], offline=True)
    r = by_id(offline)
    assert r["pmid:38147649"].status == "resolved"
    assert r["pmid:29915538"].status == "failed"
    assert "not in the cache" in (r["pmid:29915538"].reason or "")


def test_max_age_refetches_and_offline_marks_stale(local: Local) -> None:
    """Records older than --max-age are fetched again; offline they are used and marked stale."""
    local.run([CROSSREF_DOI])
    time.sleep(0.05)
    again = local.run([CROSSREF_DOI], max_age=0.01)
    assert again.requests == {"crossref": 1}
    time.sleep(0.05)
    offline = local.run([CROSSREF_DOI], offline=True, max_age=0.01)
    assert offline.resolutions[0].status == "resolved"
    assert offline.resolutions[0].stale


def test_not_found_is_cached_briefly(local: Local) -> None:
    """A not-found answer is cached, but only for the negative TTL."""
    assert local.run(["PMID:1"]).requests == {"pubmed": 1}
    assert local.run(["PMID:1"]).requests == {}
    assert local.run(["PMID:1"], negative_ttl=0).requests == {"pubmed": 1}


def test_deleting_the_cache_loses_nothing_but_time(local: Local) -> None:
    """Without the cache the same identifiers resolve the same way, with requests again."""
    local.settings = local.settings_with(complete=False)
    first = local.run([CROSSREF_DOI, "PMID:38147649"])
    (local.settings.cache / "records.sqlite").unlink()
    second = local.run([CROSSREF_DOI, "PMID:38147649"])
    assert [r.to_dict() for r in first.resolutions] == [r.to_dict() for r in second.resolutions]
    assert second.requests == {"crossref": 1, "pubmed": 1}


def test_short_dois_are_expanded_then_resolved_and_stored(local: Local) -> None:
    """doi:10/aabbe costs one handle request (cached), then the DOI it names resolves; the
    stored work carries both, so the document citing the shortDOI cites the work."""
    from refs.app import build_works, store_works
    from refs.extract import extract
    from refs.models import Document, Format
    from refs.store.library import SQLiteLibrary

    # Derived in the test: the fixture's alias answer, pointed at a DOI the index holds.
    local.data.handles["10/aabbe"] = local.data.handles["10/aabbe"].replace(
        "10.1000/182", CROSSREF_DOI
    )
    local.settings = local.settings_with(complete=False)
    report = local.run(["doi:10/aabbe", "doi:10/zzzzz"])
    found, missing = report.resolutions
    assert (str(found.identifier), found.status) == ("doi:10/aabbe", "resolved")
    assert found.identifiers[Scheme.DOI] == CROSSREF_DOI
    assert (found.via or "").startswith("handle 10/aabbe → crossref")
    assert missing.status == "not_found"
    assert "shortDOI" in (missing.reason or "")
    assert report.requests == {"handle": 2, "crossref": 1}
    assert local.run(["doi:10/aabbe"]).requests == {}  # cached, alias and record alike
    doc = Document("post.md", "As shown (https://doi.org/10/aabbe), it works.", Format.MARKDOWN)
    with SQLiteLibrary(local.tmp / "references") as library:
        store_works(library, build_works(report), [(doc.source, extract(doc))])
        (work,) = library.works(document="post.md")
    assert work.work.doi == CROSSREF_DOI


def test_an_alias_doi_is_stored_under_its_prime_and_another_doi_is_warned(local: Local) -> None:
    """Crossref answers an alias with the prime DOI's record (listing the alias): the work
    is the prime's, known by both. A record for an unrelated DOI is kept, with a warning."""
    from refs.app import build_works
    from refs.progress import NullReporter

    prime = dict(local.data.crossref[CROSSREF_DOI])
    local.data.crossref["10.1371/alias.1"] = {**prime, "alias": ["10.1371/ALIAS.1"]}  # derived
    local.data.crossref["10.1371/other.1"] = prime  # derived: answers for another DOI
    report = local.run(["doi:10.1371/alias.1"])
    (alias,) = report.resolutions
    assert alias.canonical is not None
    assert str(alias.canonical) == f"doi:{CROSSREF_DOI}"
    (cluster,) = build_works(report).clusters
    assert cluster.identifiers[Scheme.DOI] == CROSSREF_DOI
    assert [str(a) for a in cluster.aliases] == ["doi:10.1371/alias.1"]
    reporter = NullReporter()
    local.run(["doi:10.1371/other.1"], reporter=reporter)
    assert len(reporter.warnings) == 1
    assert "does not list 10.1371/other.1 as an alias" in reporter.warnings[0]


def test_a_not_found_from_another_base_url_is_asked_again(local: Local) -> None:
    """A 404 cached while REFS_CROSSREF_URL was mistyped does not stand once it is fixed;
    a not-found used from the cache says so."""
    wrong = local.settings_with(crossref_url="http://replay.test/wrong")
    local.settings = wrong
    first = local.run(["PMID:1", CROSSREF_DOI])
    assert first.resolutions[1].status == "not_found"
    local.settings = local.settings_with()
    again = local.run(["PMID:1", CROSSREF_DOI])
    assert again.resolutions[1].status == "resolved"
    assert "from the cache" in (again.resolutions[0].reason or "")


def test_completion_gives_works_the_records_their_citations_did_not_ask_for(local: Local) -> None:
    """A work cited by PMID gets Crossref's record for the DOI PubMed names; a work cited
    by DOI gets its PMID and PMCID (ID converter by DOI) and PubMed's record. DERIVED
    records (no recording pairs these): a Crossref work message copied from
    pone.0033693's with only DOI/URL replaced by the DOIs PubMed names for PMIDs 38147649
    and 29915538, and an ID-converter record copied from a genuine one with doi/pmid/pmcid
    set to what PubMed 29915538 names."""
    import copy

    template = local.data.crossref[CROSSREF_DOI]
    for doi in ("10.1073/pnas.2308706120", "10.3389/fphar.2018.00576"):
        message = copy.deepcopy(template)
        message.update({"DOI": doi, "URL": f"https://doi.org/{doi}"})
        local.data.crossref[doi] = message
    idconv = copy.deepcopy(next(iter(local.data.idconv.values())))
    idconv.update({"doi": "10.3389/fphar.2018.00576", "pmid": "29915538", "pmcid": "PMC5994433"})
    idconv.pop("versions", None)
    local.data.idconv["PMC5994433"] = idconv
    report = local.run(["PMID:38147649", "doi:10.3389/fphar.2018.00576"])
    r = by_id(report)
    services = {x.service for x in r["pmid:38147649"].records}
    assert {"pubmed", "crossref"} <= services  # Crossref's record (and its status) joined
    completed = r["doi:10.3389/fphar.2018.00576"]
    assert {x.service for x in completed.records} >= {"crossref", "idconv-doi", "pubmed"}
    assert completed.identifiers[Scheme.PMID] == "29915538"
    assert completed.identifiers[Scheme.PMCID] == "PMC5994433"
    # Off: only what was cited is asked.
    local.settings = local.settings_with(complete=False)
    (local.settings.cache / "records.sqlite").unlink()
    plain = by_id(local.run(["PMID:38147649"]))
    assert {x.service for x in plain["pmid:38147649"].records} == {"pubmed"}


def test_completion_finds_in_pubmed_the_pmid_of_a_doi_not_in_pmc(local: Local) -> None:
    """The ID converter knows only articles in PMC; for the others PubMed is searched by
    DOI (esearch "…"[doi], then efetch): the work gains its PMID and PubMed's record in
    two requests, and the next run asks nothing."""
    from refs.testing.replay.data import _retag_pubmed

    (doi,), _, _ = local.data.synthesize(1, 0, 0, prefix="10.5555/notpmc")
    # NOT genuine: a recorded PubMed article retagged with this DOI (and a PMC id the ID
    # converter does not know), so PubMed alone links the DOI to PMID 91000001.
    local.data.pubmed["91000001"] = _retag_pubmed(
        local.data.pubmed["38147649"], "91000001", doi, "PMC91000001"
    )
    report = local.run([doi])
    (r,) = report.resolutions
    assert r.identifiers[Scheme.PMID] == "91000001"
    assert {"crossref", "pubmed"} <= {x.service for x in r.records}
    assert report.requests["pubmed-doi"] == 2  # the esearch and the efetch
    assert "pubmed" not in report.requests  # the article fetched there is PubMed's record
    again = local.run([doi])
    assert sum(again.requests.values()) == 0
    (r2,) = again.resolutions
    assert r2.identifiers[Scheme.PMID] == "91000001"


def test_a_chunks_completion_runs_beside_the_next_chunk_and_shares_its_answers(
    local: Local,
) -> None:
    """refs resolve asks in chunks, and a chunk's completion round runs while the next
    chunk's first round is asked. Here chunk 1's DOI is completed with PMID 29915538,
    which chunk 2 cites: PubMed is asked for it once, each chunk's report is delivered in
    order and holds what a run of that chunk alone finds. DERIVED records as in the test
    above (an ID-converter record pointing the DOI to PMID 29915538)."""
    import copy

    doi = "10.3389/fphar.2018.00576"
    message = copy.deepcopy(local.data.crossref[CROSSREF_DOI])
    message.update({"DOI": doi, "URL": f"https://doi.org/{doi}"})
    local.data.crossref[doi] = message
    idconv = copy.deepcopy(next(iter(local.data.idconv.values())))
    idconv.update({"doi": doi, "pmid": "29915538", "pmcid": "PMC5994433"})
    idconv.pop("versions", None)
    local.data.idconv["PMC5994433"] = idconv
    report = local.run([], chunks=[[f"doi:{doi}"], ["PMID:29915538"], ["PMID:38147649"]])
    assert [[str(r.identifier) for r in d.resolutions] for d in local.delivered] == [
        [f"doi:{doi}"],
        ["pmid:29915538"],
        ["pmid:38147649"],
    ]
    first, second, third = report.resolutions
    assert first.identifiers[Scheme.PMID] == "29915538"
    assert {x.service for x in first.records} >= {"crossref", "idconv-doi", "pubmed"}
    assert second.status == third.status == "resolved"
    assert second.identifiers[Scheme.DOI] == doi
    # One request for the PMID both chunks need: 29915538 once, 38147649 once.
    assert report.requests["pubmed"] == 2


def test_a_key_asked_again_while_it_waits_is_sent_once() -> None:
    """Two rounds asking one key at once (a chunk's completion and the next chunk's
    first round): one request carries it, and both get its answer."""
    import asyncio
    from types import SimpleNamespace

    from refs.models import Record
    from refs.resolve.engine import Lookup, _Batcher

    sent: list[list[str]] = []

    class Service:
        name = "fake"

        def take(self, pending: list[str]) -> int:
            return len(pending)

        async def fetch(self, http: object, keys: list[str]) -> dict[str, Record]:
            sent.append(keys)
            return {k: Record("fake", k, "ok", 0.0, "{}", 200) for k in keys}

    async def go() -> list[Lookup]:
        resolver = SimpleNamespace(http=None, remember=lambda records: None)
        batcher = _Batcher(resolver, Service(), 1)  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(3)]
        batcher.submit("a", futures[0])
        batcher.submit("b", futures[1])
        batcher.submit("a", futures[2])
        results = await asyncio.wait_for(asyncio.gather(*futures), 10)  # not left waiting
        await batcher.close()
        return results

    first, _, again = asyncio.run(go())
    assert sent == [["a", "b"]]
    assert first.record is not None
    assert again.record is not None
    assert again.record.key == "a"
