"""Service clients: request building and the HTTP layer's rules (no network)."""

from __future__ import annotations

import pytest

from refs.config import load_settings
from refs.resolve import crossref, datacite
from refs.resolve.http import _retry_after


def test_crossref_batches_fit_the_url_limit() -> None:
    """A list request holds at most 100 DOIs and its URL stays under ~4 KB, long DOIs too."""
    client = crossref.Crossref(load_settings({"mailto": "someone@example.org"}, environ={}))
    short = [f"10.1371/journal.pone.{i:07d}" for i in range(300)]
    assert client.take(short) == 100
    long_dois = [
        f"10.1002/(SICI)1097-0142(19990101)85:1<1::AID-CNCR{i}>3.0.CO;2-#" for i in range(300)
    ]
    n = client.take(long_dois)
    url = f"{client.base}/works?{crossref.list_query(long_dois[:n], client.mailto)}"
    assert 10 < n < 100
    assert len(url) <= crossref.URL_BUDGET
    assert client.take(["10.1000/a,b", "10.1000/c"]) == 1  # a comma cannot stand in the filter
    query = crossref.list_query(["10.1000/a#b"], "x@example.org")
    assert "filter=doi:10.1000/a%23b" in query
    assert "rows=1" in query
    assert "mailto=x@example.org" in query


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0", 0.0), (None, None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    """Retry-After in seconds or as a (past) HTTP date; garbage is ignored."""
    assert _retry_after(header) == seconds


def test_datacite_prefixes_are_claimed() -> None:
    """DOIs under DataCite's well-known prefixes start their chain at DataCite."""
    assert datacite.is_datacite_doi("10.5281/zenodo.1196821")
    assert datacite.is_datacite_doi("10.48550/arxiv.2311.16162")
    assert not datacite.is_datacite_doi("10.1371/journal.pone.0033693")
