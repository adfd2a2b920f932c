"""A replay server for the metadata services, for tests, benchmarks and offline demos.

It listens on 127.0.0.1 and answers on the services' real paths, each under a prefix
(``/crossref``, ``/datacite``, ``/doi``, ``/eutils``, ``/idconv/``), so pointing refs at
it is a matter of base URLs (:meth:`ReplayServer.environ`). Answers are the genuine
recorded responses in a fixtures folder; batch answers are composed from single
records the way each service does (a Crossref ``work-list``, a ``PubmedArticleSet``
holding several articles, an idconv ``records`` list). Unknown identifiers get the
services' genuine not-found answers (Crossref's ``Resource not found.``, DataCite's
JSON:API 404, doi.org's 404 page, efetch leaving the id out, idconv error records).

Each pool (crossref-list, crossref-single, ncbi, datacite, doi) enforces a rate (token
bucket holding one second's worth) and a concurrency cap, answering 429 beyond them,
and every answer can be delayed by a fixed latency. Faults are injected on demand:
429 with and without ``Retry-After``, 500/502/503, a delay past the client's timeout,
a connection reset, truncated JSON, a body cut off mid-transfer, an HTML page with
status 200.

Modules: :mod:`.data` (the records), :mod:`.answers` (each service's answers),
:mod:`.server` (HTTP, limits, faults). Run it alone with ``python -m refs.testing.replay --fixtures tests/fixtures``.
"""

from __future__ import annotations

import httpx

from refs.testing.replay.data import ReplayData
from refs.testing.replay.server import Fault, Limit, ReplayServer, published_limits

__all__ = ["Fault", "Limit", "ReplayData", "ReplayServer", "published_limits", "transport"]


def transport(data: ReplayData) -> httpx.MockTransport:
    """The replay server's answers without a socket: an ``httpx.MockTransport`` for unit
    tests (no limits, latency or faults; use :class:`ReplayServer` for those)."""
    from refs.testing.replay.answers import dispatch, route_of

    def handle(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode("ascii")
        _pool, route = route_of(target)
        answer = dispatch(
            data, route, request.method, target, dict(request.headers), request.content
        )
        headers = [("content-type", answer.content_type), *answer.headers]
        return httpx.Response(answer.status, headers=headers, content=answer.body)

    return httpx.MockTransport(handle)
