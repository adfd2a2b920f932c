"""The service registry: a service registered in one place resolves, merges and exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refs.app import resolve_inputs
from refs.identifiers import Scheme
from refs.models import Record
from refs.registry import (
    POOLS,
    REGISTRY,
    Pool,
    ServiceSpec,
    UrlSetting,
    _load,
    chain,
    precedence,
    registered,
)
from refs.resolve.http import Http
from refs.resolve.service import OneByOne
from refs.testing.replay import ReplayServer
from refs.work import Name, Provenance, Work
from tests.conftest import WebServer, settings_for

PNAS_DOI = "10.1073/pnas.2308706120"  # PubMed 38147649 names this DOI


def fake_names(payload: str) -> dict[Scheme, str]:
    return {Scheme.DOI: json.loads(payload)["doi"]}


def fake_work(payload: str, key: str, fetched_at: float) -> Work:
    data = json.loads(payload)
    return Work(
        type="article-journal",
        title=data["title"],
        doi=data["doi"],
        author=[Name(family="Fakeauthor", given="F")],
        provenance=[Provenance(service="fakeref", key=key, fetched_at=fetched_at)],
    )


class FakeRef(OneByOne):
    """A service one record per request at ``{fakeref_url}/records/{doi}``."""

    name = "fakeref"
    pool = "fake"

    def __init__(self, settings: object) -> None:
        self.base = settings.url("fakeref_url")  # type: ignore[attr-defined]

    async def fetch_one(self, http: Http, key: str, now: float) -> Record:
        _response, payload = await http.request(
            self.name, self.pool, "GET", f"{self.base}/records/{key}", validate=lambda r: r.text
        )
        if payload is None:
            return Record(self.name, key, "not_found", now, http_status=404, reason="not here")
        return Record(self.name, key, "ok", now, payload, 200, names=fake_names(payload))


FAKE = ServiceSpec(
    name="fakeref",
    pool="fake",
    url=UrlSetting("fakeref_url", "REFS_FAKEREF_URL", "https://fakeref.invalid"),
    fetcher=FakeRef,
    names_of=fake_names,
    normaliser=fake_work,
    rank=5,  # ahead of Crossref for bibliographic fields
    serves=(Scheme.DOI,),
    order=5,
    claims=lambda doi: doi.startswith("10.1073/"),
)


def test_a_registered_service_resolves_merges_and_exports(
    replay: ReplayServer, web: WebServer, tmp_path: Path
) -> None:
    """One registration makes a service part of every stage: its DOI chain, its pool and
    URL setting, its normaliser and its merge rank (title from it, PMID from PubMed)."""
    web.add(
        f"/records/{PNAS_DOI}",
        json.dumps({"doi": PNAS_DOI, "title": "A title only the fake service knows"}).encode(),
        "application/json",
    )
    doc = tmp_path / "paper.md"
    doc.write_text(f"See doi:{PNAS_DOI} and PMID: 38147649.\n", encoding="utf-8")
    with registered(FAKE, pools=(Pool("fake", 20.0, 2),)):
        assert [s.name for s in chain(Scheme.DOI, PNAS_DOI)][:2] == ["fakeref", "crossref"]
        assert precedence("title")[0] == "fakeref"
        assert precedence("pmid")[0] == "pubmed"
        settings = settings_for(replay, tmp_path, fakeref_url=web.url(""))
        run = resolve_inputs([str(doc)], settings)
    assert "fakeref" not in REGISTRY
    assert "fake" not in POOLS
    assert run.report.requests.get("fakeref") == 1
    assert "crossref" not in run.report.requests  # the chain stopped at the fake service
    (update,) = run.stored.updates
    assert update.outcome == "new"
    items = json.loads((settings.library / "library.json").read_text(encoding="utf-8"))
    (item,) = items
    assert item["title"] == "A title only the fake service knows"
    assert item["PMID"] == "38147649"
    assert item["DOI"] == PNAS_DOI
    assert item["custom"]["provenance"] == [f"fakeref:{PNAS_DOI}", "pubmed:38147649"]
    assert item["custom"]["sources"] == [str(doc)]
    bib = (settings.library / "library.bib").read_text(encoding="utf-8")
    assert "@article{fakeauthor2024title," in bib


def test_registering_needs_known_pools_and_new_names() -> None:
    """A service using an unregistered pool, or a taken name, is refused at registration."""
    with (
        pytest.raises(ValueError, match="pool 'nowhere'"),
        registered(
            ServiceSpec(
                name="lost",
                pool="nowhere",
                url=UrlSetting("lost_url", "REFS_LOST_URL", "https://lost.invalid"),
                fetcher=FakeRef,
                names_of=fake_names,
            )
        ),
    ):
        pass
    with (
        pytest.raises(ValueError, match="already registered"),
        registered(
            ServiceSpec(
                name="crossref",
                pool="crossref-list",
                url=REGISTRY["crossref"].url,
                fetcher=FakeRef,
                names_of=fake_names,
            )
        ),
    ):
        pass


def test_every_registered_reference_loads() -> None:
    """Each spec's fetcher, parser, normaliser and claim function imports and is callable."""
    from refs.config import load_settings

    settings = load_settings(environ={})
    for spec in REGISTRY.values():
        service = spec.make(settings)
        assert service.name == spec.name
        assert service.pool == spec.pool
        for ref in (spec.names_of, spec.normaliser, spec.claims, spec.incremental):
            assert ref is None or callable(_load(ref))
    assert [s.name for s in chain(Scheme.DOI, "10.5281/zenodo.1")] == ["datacite", "doi.org"]
    assert [s.name for s in chain(Scheme.PMCID)] == ["idconv"]
