"""Politeness in one place: identification, timeouts, per-pool rate limits, retries.

Every request refs sends to a metadata service goes through :meth:`Http.request`:

* identification: ``User-Agent: refs/<version> (mailto:…)``; the services' own
  parameters (Crossref ``mailto``, NCBI ``tool``/``email``/``api_key``) are added by
  their modules from the same settings;
* a **pool** per published limit (registered in :mod:`refs.registry`: Crossref list
  and single-record pools, NCBI, DataCite, doi.org), each with a concurrency cap and a rate limit whose requests are
  spaced evenly (aiolimiter with capacity 1, so no burst can exceed a window-counting
  server); ``x-rate-limit-limit`` / ``x-rate-limit-interval`` headers can only lower a
  pool's rate;
* retries with exponential backoff and jitter (stamina) on 429, 5xx, timeouts,
  connection errors and garbled bodies, honouring ``Retry-After``, bounded by both a
  number of attempts and a total time; then the request fails with the reason.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import stamina
from aiolimiter import AsyncLimiter

from refs.bodies import ACCEPT_ENCODING, TooLarge, decode_body
from refs.config import Settings
from refs.errors import ServiceError
from refs.registry import POOLS, REGISTRY, Pool

__all__ = ["Http", "garbled", "make_client", "pools_for", "validators_of"]


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def make_client(settings: Settings) -> httpx.AsyncClient:
    """The one shared HTTP client: identification, timeouts, redirects for doi.org."""
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent},
        timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
        follow_redirects=False,  # Http follows them itself (see Http._redirect)
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
    )


# A pool whose every service is on a loopback address, with ``unlimited_local``.
LOCAL_RATE, LOCAL_CONCURRENCY = 10_000.0, 8


def pools_for(settings: Settings) -> dict[str, Pool]:
    """The registered pools at the rates that apply to these settings (keys raise some;
    ``unlimited_local`` lifts the limits of pools served from loopback addresses only)."""
    out = {}
    for name, pool in POOLS.items():
        keyed = pool.key_setting is not None and getattr(settings, pool.key_setting, None)
        if keyed and pool.keyed_rate is not None:
            pool = Pool(pool.name, pool.keyed_rate, pool.concurrency, floor=pool.floor)
        if settings.unlimited_local and _all_loopback(settings, name):
            pool = Pool(pool.name, LOCAL_RATE, LOCAL_CONCURRENCY, floor=LOCAL_RATE)
        out[name] = pool
    return out


def _all_loopback(settings: Settings, pool: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    hosts = [
        urlsplit(settings.url(spec.url.name)).hostname or ""
        for spec in REGISTRY.values()
        if spec.pool == pool or pool in spec.pools
    ]

    def loopback(host: str) -> bool:
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False  # a name other than localhost: not resolved, not trusted

    return bool(hosts) and all(loopback(h) for h in hosts)


class _PoolState:
    def __init__(self, pool: Pool, warn: Callable[[str], None]) -> None:
        self.pool = pool
        self.rate = pool.rate
        self.semaphore = asyncio.Semaphore(pool.concurrency)
        self.limiter = AsyncLimiter(1, 1.0 / pool.rate)
        self.warn = warn
        self.warned = False

    def adapt(self, headers: httpx.Headers) -> None:
        """Lower the rate when the service says its limit is lower than we assumed,
        but never below the public pool's (a header of 1 per 100,000 s would stall the run)."""
        limit, interval = headers.get("x-rate-limit-limit"), headers.get("x-rate-limit-interval")
        if not limit or not interval:
            return
        try:
            seconds = float(interval.strip().rstrip("s") or "1")
            rate = float(limit) / seconds
        except (ValueError, ZeroDivisionError):
            return
        if not math.isfinite(rate) or rate <= 0:
            return
        if rate < self.pool.floor:
            if not self.warned:
                self.warned = True
                self.warn(
                    f"{self.pool.name}: the service announced {limit} request(s) per "
                    f"{interval}; keeping {self.pool.floor:g}/s, its public pool's rate"
                )
            rate = self.pool.floor
        if rate < self.rate:
            self.rate = rate
            self.limiter = AsyncLimiter(1, 1.0 / rate)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self.semaphore:
            await self.limiter.acquire()
            yield


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Http:
    """Sends requests within the pools' limits and retries what may succeed later."""

    def __init__(
        self,
        client: httpx.AsyncClient | Callable[[], httpx.AsyncClient],
        settings: Settings,
        pools: Mapping[str, Pool] | None = None,
        *,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        # A factory is called on the first request: a run answered from the cache never
        # builds a client (its TLS context alone costs ~0.1 s).
        self._client = client if isinstance(client, httpx.AsyncClient) else None
        self._factory = None if isinstance(client, httpx.AsyncClient) else client
        self.settings = settings
        chosen = pools if pools is not None else pools_for(settings)
        warn = warn or (lambda message: None)
        self._pools = {name: _PoolState(p, warn) for name, p in chosen.items()}
        self.requests: Counter[str] = Counter()  # per service, every attempt counted
        self.retries: Counter[str] = Counter()

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            assert self._factory is not None
            self._client = self._factory()
        return self._client

    @property
    def started(self) -> bool:
        """Whether a client was built (and so must be closed)."""
        return self._client is not None

    def _backoff(self, exc: Exception) -> bool | float:
        """stamina hook: retry transient failures, waiting as ``Retry-After`` asks."""
        if isinstance(exc, ServiceError):
            if not exc.transient:
                return False
            if exc.retry_after is not None:
                return min(exc.retry_after, self.settings.retry_timeout)
            return True
        return isinstance(exc, httpx.TimeoutException | httpx.TransportError)

    async def request(
        self,
        service: str,
        pool: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: frozenset[int] = frozenset({200}),
        validate: Callable[[httpx.Response], Any] | None = None,
    ) -> tuple[httpx.Response, Any]:
        """Send one request (with retries); return the response and ``validate``'s result.

        Statuses in ``ok_statuses`` (and 404) are answers; ``validate`` turns a 200 body
        into data and raises a transient :class:`ServiceError` for a garbled one (an
        HTML page, truncated JSON), which is retried like a 5xx. Anything still failing
        when attempts or time run out raises :class:`ServiceError` with the reason.
        """
        state = self._pools[pool]
        started = time.monotonic()
        attempts = 0
        try:
            async for attempt in stamina.retry_context(
                on=self._backoff,
                attempts=self.settings.retry_attempts,
                timeout=self.settings.retry_timeout,
                wait_initial=self.settings.retry_wait_initial,
                wait_max=self.settings.retry_wait_max,
                wait_jitter=self.settings.retry_wait_initial,
            ):
                with attempt:
                    attempts += 1
                    if attempts > 1:
                        self.retries[service] += 1
                    return await self._send_once(
                        service, state, method, url, params, data, headers, ok_statuses, validate
                    )
        except ServiceError as exc:
            if attempts > 1:
                exc.args = (
                    f"{exc} (after {attempts} attempts in {time.monotonic() - started:.0f} s)",
                )
            raise
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            reason = _transport_reason(exc, self.settings.timeout)
            msg = f"{service}: {reason} (after {attempts} attempts in {time.monotonic() - started:.0f} s)"
            raise ServiceError(msg, service=service) from exc
        msg = f"{service}: no attempt was made"  # pragma: no cover - stamina always tries once
        raise ServiceError(msg, service=service)

    async def _send_once(
        self,
        service: str,
        state: _PoolState,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        ok_statuses: frozenset[int],
        validate: Callable[[httpx.Response], Any] | None,
    ) -> tuple[httpx.Response, Any]:
        async with state.slot():
            self.requests[service] += 1
            try:
                # One deadline for the whole answer: a service dripping bytes cannot
                # keep a request (and the run) going past it.
                async with asyncio.timeout(self.settings.timeout):
                    response = await self._fetch(service, method, url, params, data, headers)
            except TimeoutError as exc:
                msg = f"no complete answer within {self.settings.timeout:g} s"
                raise httpx.ReadTimeout(msg) from exc
        state.adapt(response.headers)
        status = response.status_code
        if status in RETRY_STATUSES:
            msg = f"{service}: HTTP {status}{_body_hint(response)}"
            raise ServiceError(
                msg,
                service=service,
                status=status,
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
        if status in ok_statuses:
            return response, (validate(response) if validate is not None else None)
        if status == 404:
            return response, None
        msg = f"{service}: HTTP {status}{_body_hint(response)}"
        raise ServiceError(msg, service=service, status=status, transient=False)

    async def _fetch(
        self,
        service: str,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        """One exchange: redirects followed here (a request that carries a body, with our
        credentials, is never re-sent to another origin), the body read raw within
        ``max_answer_bytes`` and decoded layer by layer within it too."""
        request = self.client.build_request(
            method,
            url,
            params=params,
            data=data,
            headers={**(headers or {}), "Accept-Encoding": ACCEPT_ENCODING},
        )
        limit = self.settings.max_answer_bytes
        for _hop in range(MAX_REDIRECTS + 1):
            response = await self.client.send(request, stream=True, follow_redirects=False)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    request = self._redirect(service, request, response, location)
                    continue
                raw = bytearray()
                if response.is_stream_consumed:  # built in memory (httpx.MockTransport)
                    raw += response.content
                else:
                    async for chunk in response.aiter_raw():
                        raw += chunk
                        if len(raw) > limit:
                            break
            finally:
                await response.aclose()
            try:
                body = decode_body(bytes(raw), response.headers.get("content-encoding"), limit)
            except TooLarge as exc:  # not an answer refs can use
                msg = f"{service}: an answer of {exc} (REFS_MAX_ANSWER_BYTES is {limit})"
                raise ServiceError(
                    msg, service=service, status=response.status_code, transient=False
                ) from exc
            except (ValueError, zlib.error) as exc:  # a coding we never asked for, or garbage
                raise garbled(service, f"answered a body refs cannot decode ({exc})") from exc
            kept = [
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ]
            return httpx.Response(response.status_code, headers=kept, content=body, request=request)
        msg = f"{service}: more than {MAX_REDIRECTS} redirects"
        raise ServiceError(msg, service=service, transient=False)

    def _redirect(
        self, service: str, request: httpx.Request, response: httpx.Response, location: str
    ) -> httpx.Request:
        target = request.url.join(location)
        same_origin = (target.scheme, target.host, target.port) == (
            request.url.scheme,
            request.url.host,
            request.url.port,
        )
        keeps_body = response.status_code in (307, 308) and request.method not in ("GET", "HEAD")
        if keeps_body and not same_origin:
            msg = (
                f"{service}: answered HTTP {response.status_code} moving the {request.method} "
                f"to {target.host}; refs does not re-send a request body (with its credentials) "
                "to another host"
            )
            raise ServiceError(msg, service=service, status=response.status_code, transient=False)
        method = request.method if keeps_body or request.method in ("GET", "HEAD") else "GET"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _PER_REQUEST}
        return self.client.build_request(
            method, target, headers=headers, content=request.content if keeps_body else None
        )


REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# Headers httpx computes for each request (and the host, which a redirect changes).
_PER_REQUEST = frozenset({"host", "content-length", "content-type", "transfer-encoding"})


def _body_hint(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    if not text:
        return ""
    return f": {text[:120]}{'…' if len(text) > 120 else ''}"


def _transport_reason(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection broke mid-answer ({exc})"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        detail = f" ({exc})" if str(exc) else ""
        return f"the connection was reset{detail}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc})"
    return f"{type(exc).__name__}: {exc}"


def validators_of(response: httpx.Response) -> dict[str, str]:
    """HTTP validators a service sent (Crossref sends none; others may), kept with the record."""
    return {k: v for k in ("etag", "last-modified") if (v := response.headers.get(k))}


T = TypeVar("T")


def garbled(service: str, what: str) -> ServiceError:
    """A transient error for a body that is not what the service should send."""
    return ServiceError(f"{service}: {what}", service=service, status=200, transient=True)


def parsed_by(
    service: str, what: str, parse: Callable[[bytes], T]
) -> Callable[[httpx.Response], T]:
    """A ``validate`` for :meth:`Http.request`: the body through ``parse``, whose
    ValueError makes the answer garbled ("answered something that is not {what}")."""

    def validate(response: httpx.Response) -> T:
        try:
            return parse(response.content)
        except ValueError as exc:
            raise garbled(service, f"answered something that is not {what} ({exc})") from exc

    return validate
