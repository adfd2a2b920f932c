"""The replay server itself: genuine shapes composed, limits enforced, faults on demand."""

from __future__ import annotations

import httpx

from refs.registry import POOLS, URL_SETTINGS
from refs.testing.replay import Fault, Limit, ReplayServer, published_limits

PLOS = "10.1371/journal.pone.0033693"


def test_its_urls_and_limits_come_from_the_registry(replay: ReplayServer) -> None:
    """Every registered URL variable points at the server; published limits are the pools'."""
    env = replay.environ()
    assert set(env) == {s.env for s in URL_SETTINGS.values()}
    assert env["REFS_CROSSREF_URL"] == f"{replay.url}/crossref"
    assert env["REFS_IDCONV_URL"] == f"{replay.url}/idconv/"
    limits = published_limits()
    assert limits.keys() == POOLS.keys()
    assert limits["crossref-list"] == Limit(3.0, 3)
    assert published_limits(ncbi_key=True)["ncbi"].rate == 10.0


def test_batch_answers_are_composed_like_the_services(replay: ReplayServer) -> None:
    """A Crossref filter list returns the known DOIs' works (unknown ones are absent);
    from-index-date leaves out works indexed earlier; efetch returns an article set."""
    with httpx.Client(base_url=replay.url) as client:
        body = client.get(
            "/crossref/works", params={"filter": f"doi:{PLOS},doi:10.9999/none", "rows": "2"}
        ).json()
        assert body["message-type"] == "work-list"
        assert [i["DOI"].lower() for i in body["message"]["items"]] == [PLOS]
        later = client.get(
            "/crossref/works", params={"filter": f"from-index-date:2999-01-01,doi:{PLOS}"}
        ).json()
        assert later["message"]["items"] == []
        missing = client.get("/crossref/works/10.9999/none")
        assert (missing.status_code, missing.text) == (404, "Resource not found.")
        xml = client.post("/eutils/efetch.fcgi", data={"db": "pubmed", "id": "38147649,1"}).text
        assert xml.count("<PubmedArticle>") == 1


def test_limits_answer_429_and_faults_come_once(replay_data: object) -> None:
    """Beyond a pool's rate the server answers 429 (NCBI's JSON body); a fault hits the next
    matching request only."""
    import copy

    with ReplayServer(copy.deepcopy(replay_data), limits={"ncbi": Limit(1, 1)}) as server:  # type: ignore[arg-type]
        server.faults.append(Fault("crossref-single", "503"))
        with httpx.Client(base_url=server.url) as client:
            statuses = [
                client.post("/eutils/efetch.fcgi", data={"id": "38147649"}).status_code
                for _ in range(3)
            ]
            assert statuses[0] == 200
            assert 429 in statuses
            assert server.rejected["ncbi"] >= 1
            first = client.get(f"/crossref/works/{PLOS}")
            second = client.get(f"/crossref/works/{PLOS}")
        assert (first.status_code, second.status_code) == (503, 200)
        assert second.json()["message"]["DOI"].lower() == PLOS
