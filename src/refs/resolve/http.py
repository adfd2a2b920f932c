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
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import stamina
from aiolimiter import AsyncLimiter

from refs.config import Settings
from refs.errors import ServiceError
from refs.registry import POOLS, Pool

__all__ = ["Http", "garbled", "make_client", "pools_for", "validators_of"]


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def make_client(settings: Settings) -> httpx.AsyncClient:
    """The one shared HTTP client: identification, timeouts, redirects for doi.org."""
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent},
        timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
        follow_redirects=True,
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
    )


def pools_for(settings: Settings) -> dict[str, Pool]:
    """The registered pools at the rates that apply to these settings (keys raise some)."""
    out = {}
    for name, pool in POOLS.items():
        keyed = pool.key_setting is not None and getattr(settings, pool.key_setting, None)
        if keyed and pool.keyed_rate is not None:
            pool = Pool(pool.name, pool.keyed_rate, pool.concurrency)
        out[name] = pool
    return out


class _PoolState:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.rate = pool.rate
        self.semaphore = asyncio.Semaphore(pool.concurrency)
        self.limiter = AsyncLimiter(1, 1.0 / pool.rate)

    def adapt(self, headers: httpx.Headers) -> None:
        """Lower the rate when the service says its limit is lower than we assumed."""
        limit, interval = headers.get("x-rate-limit-limit"), headers.get("x-rate-limit-interval")
        if not limit or not interval:
            return
        try:
            seconds = float(interval.strip().rstrip("s") or "1")
            rate = float(limit) / seconds
        except ValueError:
            return
        if 0 < rate < self.rate:
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
        client: httpx.AsyncClient,
        settings: Settings,
        pools: Mapping[str, Pool] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        chosen = pools if pools is not None else pools_for(settings)
        self._pools = {name: _PoolState(p) for name, p in chosen.items()}
        self.requests: Counter[str] = Counter()  # per service, every attempt counted
        self.retries: Counter[str] = Counter()

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
            response = await self.client.request(
                method, url, params=params, data=data, headers=headers
            )
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


def garbled(service: str, what: str) -> ServiceError:
    """A transient error for a body that is not what the service should send."""
    return ServiceError(f"{service}: {what}", service=service, status=200, transient=True)
