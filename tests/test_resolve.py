"""Resolution against the replay server: batching, crosswalk, cache, and every fault."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from refs.config import Settings
from refs.identifiers import parse_identifier
from refs.registry import Pool
from refs.resolve.engine import Resolution, Resolver, ResolveReport
from refs.store.cache import Cache
from refs.testing.replay import Fault, Limit, ReplayServer
from tests.conftest import settings_for

CROSSREF_DOI = "10.1371/journal.pone.0033693"


def run(settings: Settings, ids: list[str], **kwargs: object) -> ResolveReport:
    cache = Cache(settings.cache)
    try:
        resolver = Resolver(settings, cache, **kwargs)  # type: ignore[arg-type]
        return asyncio.run(resolver.resolve([parse_identifier(i) for i in ids]))
    finally:
        cache.close()


def by_id(report: ResolveReport) -> dict[str, Resolution]:
    return {str(r.identifier): r for r in report.resolutions}


# ------------------------------------------------------------------ faults


@pytest.mark.parametrize(
    "kind",
    ["429", "500", "502", "503", "reset", "truncated", "incomplete", "html"],
)
def test_transient_fault_is_retried_and_the_user_sees_success(
    replay: ReplayServer, tmp_path: Path, kind: str
) -> None:
    """One fault on Crossref is retried; the DOI resolves and the retry is counted."""
    replay.faults.append(Fault("crossref-single", kind))
    report = run(settings_for(replay, tmp_path), [CROSSREF_DOI])
    assert report.resolutions[0].status == "resolved"
    assert report.retries == {"crossref": 1}
    assert (tmp_path / "cache" / "records.sqlite").exists()


def test_retry_after_is_honoured(replay: ReplayServer, tmp_path: Path) -> None:
    """After a 429 with Retry-After: 1 the next attempt waits about a second."""
    replay.faults.append(Fault("ncbi", "429-retry-after", retry_after=1))
    report = run(settings_for(replay, tmp_path), ["PMID:38147649"])
    assert report.resolutions[0].status == "resolved"
    times = [t for t, pool, _ in replay.log if pool == "ncbi"]
    assert times[1] - times[0] >= 0.95


def test_delay_past_the_timeout_is_retried(replay: ReplayServer, tmp_path: Path) -> None:
    """A request that outlives the timeout is abandoned and asked again."""
    replay.faults.append(Fault("ncbi", "delay", delay=1.5))
    report = run(settings_for(replay, tmp_path, timeout=0.5), ["PMID:38147649"])
    assert report.resolutions[0].status == "resolved"
    assert report.retries == {"pubmed": 1}


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("503", "HTTP 503"),
        ("reset", "connection"),
        ("truncated", "not PubMed XML"),
        ("html", "not PubMed XML"),
        ("429", "HTTP 429"),
    ],
)
def test_persistent_fault_fails_the_identifier_with_its_reason(
    replay: ReplayServer, tmp_path: Path, kind: str, reason: str
) -> None:
    """When every attempt fails the identifier is 'failed' with the reason; the run finishes."""
    replay.faults.append(Fault("ncbi", kind, times=100))
    report = run(settings_for(replay, tmp_path, retry_attempts=3), ["PMID:38147649", CROSSREF_DOI])
    r = by_id(report)
    assert r["pmid:38147649"].status == "failed"
    assert reason in (r["pmid:38147649"].reason or "")
    assert "after 3 attempts" in (r["pmid:38147649"].reason or "")
    assert r[f"doi:{CROSSREF_DOI}"].status == "resolved"  # the other service was fine
    # Error bodies are never cached: nothing for PubMed is in the cache.
    cache = Cache(tmp_path / "cache")
    assert cache.get("pubmed", "38147649") is None
    cache.close()


def test_failed_refresh_falls_back_to_the_stale_record(
    replay: ReplayServer, tmp_path: Path
) -> None:
    """With the service down, an old cached record is used and marked stale."""
    settings = settings_for(replay, tmp_path, retry_attempts=2)
    run(settings, ["PMID:38147649"])
    replay.faults.append(Fault("ncbi", "503", times=100))
    time.sleep(0.02)
    report = run(settings, ["PMID:38147649"], max_age=0.01)
    assert report.resolutions[0].status == "resolved"
    assert report.resolutions[0].stale


def test_client_stays_within_enforced_limits(replay: ReplayServer, tmp_path: Path) -> None:
    """Against a server enforcing 5/s with 2 at once, 12 batched requests draw no 429, nor
    do the completion round's 21 (the 1,200 DOIs PubMed names at Crossref, the 600 DOIs
    without PMID at the ID converter, then at PubMed's esearch), batched as fully."""
    replay.limits = {"crossref-list": Limit(5, 2), "ncbi": Limit(5, 2)}
    replay.latency = 0.05
    dois, pmids, _ = replay.data.synthesize(600, 1200, 0, prefix="10.5555/limits")
    pools = {
        "crossref-list": Pool("crossref-list", 5, 2),
        "crossref-single": Pool("crossref-single", 5, 2),
        "ncbi": Pool("ncbi", 5, 2),
        "datacite": Pool("datacite", 5, 2),
        "doi": Pool("doi", 5, 2),
    }
    report = run(settings_for(replay, tmp_path), dois + [f"PMID:{p}" for p in pmids], pools=pools)
    assert report.count("resolved") == 1800
    assert report.requests == {"crossref": 6 + 12, "idconv-doi": 3, "pubmed-doi": 6, "pubmed": 6}
    assert replay.rejected == {}


def test_bad_batch_is_bisected_so_one_odd_doi_fails_alone(
    replay: ReplayServer, tmp_path: Path
) -> None:
    """A permanent 400 on a list request splits the batch; good DOIs still resolve."""
    replay.faults.append(Fault("crossref-list", "400-bad-request"))
    report = run(settings_for(replay, tmp_path), [CROSSREF_DOI, "10.1073/pnas.1414271111"])
    assert report.count("resolved") == 2


def test_identifiers_are_resolved_in_given_order_once(replay: ReplayServer, tmp_path: Path) -> None:
    """Duplicates are resolved once; results come back in the order given."""
    report = run(settings_for(replay, tmp_path), ["PMID:38147649", CROSSREF_DOI, "pmid:38147649"])
    assert [str(r.identifier) for r in report.resolutions] == [
        "pmid:38147649",
        f"doi:{CROSSREF_DOI}",
    ]


def test_validators_are_kept_with_the_record(replay: ReplayServer, tmp_path: Path) -> None:
    """An ETag or Last-Modified a service sends is cached with the record; Crossref sends none."""
    replay.extra_headers["datacite"] = [("etag", '"v1"')]
    settings = settings_for(replay, tmp_path)
    run(settings, ["10.5281/zenodo.1196821", CROSSREF_DOI])
    cache = Cache(settings.cache)
    try:
        assert cache.get("datacite", "10.5281/zenodo.1196821").validators == {"etag": '"v1"'}  # type: ignore[union-attr]
        assert cache.get("crossref", CROSSREF_DOI).validators == {}  # type: ignore[union-attr]
    finally:
        cache.close()
