"""Matching citations without identifiers, end to end: `refs resolve`, review, accept, reject."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from refs.testing.replay import Fault, ReplayServer
from tests.conftest import cli_for

ELLIOTT = (
    "Elliott JM, Courtney DM, Rademaker A, et al. The rapid and progressive degeneration of "
    "the cervical multifidus in whiplash. Spine. 2015;40(12):E694-700."
)
STERLING = (  # only PubMed holds it (a derived record): found through ecitmatch
    "Sterling M. Physiotherapy management of whiplash-associated disorders (WAD). "
    "J Physiother. 2014;60(1):5-12."
)
ABSENT = (  # Crossref's "non-existent article" case: some hit comes back, none is right
    "Foo A, Bar B. A non-existent article that should remain a plain text reference. "
    "J Nowhere. 2003;1:1-2."
)
CELL = "https://www.cell.com/cell/fulltext/S0092-8674(20)30000-0"
DOCUMENT = f"""# Whiplash reading list

Muscles change after a crash, see {CELL} as well.

## References

1. {ELLIOTT}
2. {STERLING}
3. {ABSENT}
"""


def refs(server: ReplayServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_for(server, tmp_path)(*args)


def searches(server: ReplayServer) -> int:
    return sum(1 for _, _, target in server.log if "query.bibliographic=" in target)


def resolved(server: ReplayServer, tmp_path: Path, *args: str) -> dict[str, object]:
    result = refs(server, tmp_path, "resolve", "--json", *args)
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def by_text(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {m["text"]: m for m in report["matches"]}  # type: ignore[attr-defined]


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "reading.md"
    path.write_text(DOCUMENT, encoding="utf-8")
    return path


def test_citations_without_identifiers_become_works_with_how_they_were_found(
    replay: ReplayServer, tmp_path: Path, doc: Path
) -> None:
    report = resolved(replay, tmp_path, str(doc))
    m = by_text(report)
    assert m[ELLIOTT]["status"] == "matched"
    assert m[ELLIOTT]["identifier"] == "doi:10.5555/refs-derived.elliott2015"
    assert m[ELLIOTT]["method"] == "crossref-bibliographic"
    assert m[STERLING]["identifier"] == "pmid:41000002"
    assert m[STERLING]["method"] == "pubmed"
    assert m[CELL]["identifier"] == "doi:10.5555/refs-derived.cell2020"
    assert m[CELL]["method"] == "url-rule"
    assert m[ABSENT]["status"] == "unmatched"
    assert m[ABSENT]["identifier"] is None
    assert m[ABSENT]["candidates"], "the candidates of an unmatched citation are kept"
    # The matched works are in the library and its exports, linked to the document.
    exported = json.loads((tmp_path / "references" / "library.json").read_text(encoding="utf-8"))
    found = {item.get("DOI") or item.get("PMID"): item["custom"] for item in exported}
    elliott = found["10.5555/refs-derived.elliott2015"]
    assert elliott["sources"] == ["reading.md"]  # named relative to where refs ran
    assert elliott["match"]["method"] == "crossref-bibliographic"
    assert elliott["match"]["query"] == ELLIOTT
    assert 0.8 <= elliott["match"]["score"] <= 1.0
    assert found["41000002"]["match"]["method"] == "pubmed"
    assert len(exported) == 3  # the unmatched citation made no work
    bib = (tmp_path / "references" / "library.bib").read_text(encoding="utf-8")
    assert "10.5555/refs-derived.elliott2015" in bib
    # People read "matched", with the score, not "resolved".
    text = refs(replay, tmp_path, "resolve", str(doc)).stderr
    assert "matched    doi:10.5555/refs-derived.elliott2015  score 0." in text
    assert "unmatched  ref-" in text


def test_one_search_per_distinct_string_and_none_when_warm(
    replay: ReplayServer, tmp_path: Path, doc: Path
) -> None:
    again = tmp_path / "again.md"
    again.write_text(f"## References\n\n- {ELLIOTT}\n- {ABSENT}\n", encoding="utf-8")
    resolved(replay, tmp_path, str(doc), str(again))
    assert searches(replay) == 3  # three distinct strings, in two documents
    before = len(replay.log)
    report = resolved(replay, tmp_path, str(doc), str(again))
    assert len(replay.log) == before, "a warm rerun asks nothing"
    assert report["summary"]["search_requests"] == {}  # type: ignore[index]
    assert by_text(report)[ELLIOTT]["status"] == "matched"


def test_no_match_and_offline(replay: ReplayServer, tmp_path: Path, doc: Path) -> None:
    report = resolved(replay, tmp_path, "--no-match", str(doc))
    assert report["matches"] == []
    assert searches(replay) == 0
    report = resolved(replay, tmp_path, "--offline", str(doc))
    m = by_text(report)
    assert m[ELLIOTT]["status"] == "failed"
    assert "offline" in str(m[ELLIOTT]["reason"])
    assert searches(replay) == 0


@pytest.mark.parametrize("fault", ["503", "html", "truncated"])
def test_a_failed_search_is_that_citations_outcome(
    replay: ReplayServer, tmp_path: Path, fault: str
) -> None:
    """A search that keeps failing, or answers an HTML page or truncated JSON, is that
    citation's outcome with its reason; the run goes on."""
    path = tmp_path / "one.md"
    path.write_text(
        f"## References\n\n1. {ELLIOTT}\n\nAlso doi:10.1371/journal.pone.0033693\n", "utf-8"
    )
    replay.faults.append(Fault("crossref-list", fault, times=50))
    report = resolved(replay, tmp_path, str(path))
    m = by_text(report)[ELLIOTT]
    assert m["status"] == "failed"
    assert "crossref-bibliographic" in str(m["reason"])
    # The run went on: the written DOI resolved (single-record route, another pool).
    assert report["summary"]["resolved"] == 1  # type: ignore[index]


def test_decisions_survive_reruns_and_refresh_and_beat_automatic_matches(
    replay: ReplayServer, tmp_path: Path, doc: Path
) -> None:
    report = resolved(replay, tmp_path, str(doc))
    keys = {t: str(m["mention"]) for t, m in by_text(report).items()}
    review = refs(replay, tmp_path, "review", "--json")
    listed = [json.loads(line) for line in review.stdout.splitlines()]
    assert [r["mention"] for r in listed] == [keys[ABSENT]]
    assert set(listed[0]) >= {"mention", "document", "context", "candidates", "status"}
    # A person accepts a work for the unmatched citation and overrides a match.
    assert (
        refs(
            replay, tmp_path, "accept", keys[ABSENT], "doi:10.1371/journal.pone.0033693"
        ).returncode
        == 0
    )
    assert (
        refs(
            replay, tmp_path, "accept", keys[ELLIOTT], "doi:10.5555/refs-derived.elliott2011"
        ).returncode
        == 0
    )
    for _ in range(2):
        m = by_text(resolved(replay, tmp_path, str(doc)))
        assert m[ABSENT]["identifier"] == "doi:10.1371/journal.pone.0033693"
        assert m[ABSENT]["method"] == "person"
        assert m[ELLIOTT]["identifier"] == "doi:10.5555/refs-derived.elliott2011"
    assert refs(replay, tmp_path, "refresh", "--all").returncode == 0
    cited = refs(replay, tmp_path, "export", "--format", "csl-json", "--document", str(doc))
    items = json.loads(cited.stdout)
    dois = {item.get("DOI") for item in items}
    assert "10.5555/refs-derived.elliott2011" in dois
    assert "10.5555/refs-derived.elliott2015" not in dois
    person = next(i for i in items if i.get("DOI") == "10.5555/refs-derived.elliott2011")
    assert person["custom"]["match"] == {"method": "person", "score": 1.0, "query": None}
    # Rejecting every match: the citation is never matched again.
    assert refs(replay, tmp_path, "reject", keys[STERLING]).returncode == 0
    m = by_text(resolved(replay, tmp_path, str(doc)))
    assert m[STERLING]["status"] == "rejected"
    assert m[STERLING]["identifier"] is None
    # Rejecting one candidate: the automatic match may still find another (here none).
    assert (
        refs(replay, tmp_path, "reject", keys[CELL], "doi:10.5555/refs-derived.cell2020").returncode
        == 0
    )


def test_accept_names_an_unknown_mention_or_identifier(
    replay: ReplayServer, tmp_path: Path, doc: Path
) -> None:
    resolved(replay, tmp_path, str(doc))
    bad = refs(replay, tmp_path, "accept", "ref-000000000000", "doi:10.1371/journal.pone.0033693")
    assert bad.returncode == 2
    assert "'ref-000000000000' is not a citation refs knows" in bad.stderr
    key = by_text(resolved(replay, tmp_path, str(doc)))[ABSENT]["mention"]
    bad = refs(replay, tmp_path, "accept", str(key), "not-an-identifier")
    assert bad.returncode == 2
    assert "not-an-identifier" in bad.stderr


def test_follow_links_reads_the_pages_citation_doi(
    replay: ReplayServer, tmp_path: Path, web: object
) -> None:
    from refs.app.matching import Landing
    from refs.identifiers import Scheme
    from refs.match.matcher import MatchSettings, match_mentions
    from refs.models import Mention
    from refs.resolve.engine import Resolver
    from refs.store.cache import Cache
    from tests.conftest import WebServer, settings_for

    assert isinstance(web, WebServer)
    page = web.add(
        "/article/1",
        b'<html><head><meta name="citation_doi" content="10.1371/journal.pone.0033693">'
        b"</head><body>An article</body></html>",
    )
    bare = web.add("/article/2", b"<html><head><title>No DOI here</title></head></html>")
    settings = settings_for(replay, tmp_path, allow_private_urls=True)
    links = [Mention("doc", Scheme.LINK, url, url, 0, len(url), url) for url in (page, bare)]
    cache = Cache(settings.cache)
    landing = Landing(settings, cache, offline=False)

    async def run() -> list[object]:
        resolver = Resolver(settings, cache)
        async with resolver.session():
            outcomes, _ = await match_mentions(
                links, resolver, settings=MatchSettings(follow_links=True), landing=landing
            )
        return list(outcomes)

    first = asyncio.run(run())
    assert [str(o.identifier) for o in first] == ["doi:10.1371/journal.pone.0033693", "None"]  # type: ignore[attr-defined]
    assert first[0].method == "landing-page"  # type: ignore[attr-defined]
    assert "declares no DOI" in first[1].reason  # type: ignore[attr-defined]
    web.routes.clear()  # cached: the pages are not read again
    again = asyncio.run(run())
    assert str(again[0].identifier) == "doi:10.1371/journal.pone.0033693"  # type: ignore[attr-defined]
    landing.close()
    cache.close()
