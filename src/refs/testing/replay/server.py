"""The replay server: HTTP on loopback, per-pool limits, latency and injected faults.

Each pool (as registered in :mod:`refs.registry`) enforces a rate (token bucket holding
one second's worth) and a concurrency cap, answering 429 beyond them, and every answer
can be delayed by a fixed latency. Faults are injected on demand: 429 with and without
``Retry-After``, 500/502/503, a delay past the client's timeout, a connection reset,
truncated JSON, a body cut off mid-transfer, an HTML page with status 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h11

from refs.registry import POOLS, URL_SETTINGS
from refs.testing.replay.answers import (
    HTML_PAGE,
    NCBI_TOO_MANY,
    Answer,
    dispatch,
    json_answer,
    route_of,
)
from refs.testing.replay.data import ReplayData

__all__ = ["Fault", "Limit", "ReplayServer", "published_limits"]


@dataclass(frozen=True, slots=True)
class Limit:
    """``rate`` requests per second (bucket of one second's worth) and ``concurrency``."""

    rate: float
    concurrency: int


def published_limits(*, ncbi_key: bool = False) -> dict[str, Limit]:
    """The services' published limits: the registry's pools, as refs uses them."""
    return {
        name: Limit(
            pool.keyed_rate if ncbi_key and pool.keyed_rate else pool.rate, pool.concurrency
        )
        for name, pool in POOLS.items()
    }


@dataclass(slots=True)
class Fault:
    """Answer the next ``times`` matching requests of ``pool`` with ``kind``.

    kinds: ``429``, ``429-retry-after`` (with ``Retry-After: retry_after``), ``500``,
    ``502``, ``503``, ``400-bad-request``, ``delay`` (answer after ``delay`` seconds),
    ``reset`` (TCP reset),
    ``truncated`` (half the body, consistent length), ``incomplete`` (announce the
    whole body, send half, close), ``html`` (an HTML page with status 200).
    """

    pool: str
    kind: str
    times: int = 1
    retry_after: float = 1.0
    delay: float = 5.0


class _Bucket:
    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.capacity = max(1.0, limit.rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.active = 0

    def admit(self) -> str | None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.limit.rate)
        self.stamp = now
        if self.active >= self.limit.concurrency:
            return "concurrency"
        if self.tokens < 1.0:
            return "rate"
        self.tokens -= 1.0
        return None


class ReplayServer:
    """The replay server; use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(
        self,
        data: ReplayData,
        *,
        limits: dict[str, Limit] | None = None,
        latency: float = 0.0,
        port: int = 0,
    ) -> None:
        self.data = data
        self.limits = dict(limits) if limits is not None else {}
        self.latency = latency
        self.port = port
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()  # per pool, admitted or not
        self.rejected: Counter[str] = Counter()  # 429s for exceeding a limit
        self.log: list[tuple[float, str, str]] = []  # (time, pool, target)
        # Headers added to every answer of a pool (e.g. validators a service may send).
        self.extra_headers: dict[str, list[tuple[str, str]]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        """``REFS_*_URL`` variables (every registered URL setting) pointing refs here."""
        return {s.env: self.url + s.mount for s in URL_SETTINGS.values()}

    def settings_overrides(self) -> dict[str, str]:
        """The same as settings (``crossref_url`` …), for :func:`refs.config.load_settings`."""
        return {s.name: self.url + s.mount for s in URL_SETTINGS.values()}

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._run, name="replay-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            msg = "replay server did not start"
            raise RuntimeError(msg)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=256)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def serve_forever(self) -> None:
        """Run in the current event loop (the command-line entry point)."""
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=256)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        async with self._server:
            await self._server.serve_forever()

    def reset_counters(self) -> None:
        self.requests.clear()
        self.rejected.clear()
        self.log.clear()

    # ---------------------------------------------------------------- HTTP

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                event = await self._next(conn, reader)
                if not isinstance(event, h11.Request):
                    break
                body = b""
                while True:
                    part = await self._next(conn, reader)
                    if isinstance(part, h11.Data):
                        body += part.data
                    elif isinstance(part, h11.EndOfMessage):
                        break
                    else:
                        return
                answer = await self._answer(event, body)
                if answer.action == "reset":
                    sock = writer.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                    writer.transport.abort()
                    return
                headers = [
                    ("content-type", answer.content_type),
                    ("content-length", str(len(answer.body))),
                    *answer.headers,
                ]
                writer.write(conn.send(h11.Response(status_code=answer.status, headers=headers)))
                if answer.action == "incomplete":
                    writer.write(conn.send(h11.Data(data=answer.body[: len(answer.body) // 2])))
                    await writer.drain()
                    writer.close()
                    return
                writer.write(conn.send(h11.Data(data=answer.body)))
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _next(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
                continue
            return event

    async def _answer(self, request: h11.Request, body: bytes) -> Answer:
        target = request.target.decode("latin-1")
        method = request.method.decode("ascii")
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in request.headers}
        pool, route = route_of(target)
        if pool is None:
            if target.startswith("/_stats"):
                stats = {"requests": dict(self.requests), "rejected": dict(self.rejected)}
                return Answer(200, json.dumps(stats).encode(), "application/json")
            if target.startswith("/_change"):  # benchmarks: ?n=N changes N synthetic DOIs and PMIDs
                n = int(parse_qs(urlsplit(target).query).get("n", ["0"])[0])
                dois, pmids, _ = getattr(self.data, "synthetic", ([], [], []))
                today = time.gmtime()
                self.data.change(
                    dois[:n], pmids[:n], indexed=(today.tm_year, today.tm_mon, today.tm_mday)
                )
                return Answer(200, b"changed", "text/plain")
            return Answer(404, b"no such route", "text/plain")
        self.requests[pool] += 1
        self.log.append((time.monotonic(), pool, target))
        bucket = self._buckets.get(pool)
        if bucket is None and pool in self.limits:
            bucket = self._buckets[pool] = _Bucket(self.limits[pool])
        if bucket is not None:
            why = bucket.admit()
            if why is not None:
                self.rejected[pool] += 1
                return self._too_many(pool)
            bucket.active += 1
        try:
            fault = self._take_fault(pool)
            if self.latency:
                await asyncio.sleep(self.latency)
            if fault is not None and fault.kind == "delay":
                await asyncio.sleep(fault.delay)
            answer = dispatch(self.data, route, method, target, headers, body)
            if pool.startswith("crossref") and pool in self.limits:
                limit = self.limits[pool]
                answer.headers += [
                    ("x-rate-limit-limit", f"{limit.rate:g}"),
                    ("x-rate-limit-interval", "1s"),
                ]
            answer.headers += self.extra_headers.get(pool, [])
            return self._apply(fault, pool, answer) if fault is not None else answer
        finally:
            if bucket is not None:
                bucket.active -= 1

    def _too_many(self, pool: str) -> Answer:
        if pool == "ncbi":
            return Answer(429, NCBI_TOO_MANY, "application/json")
        return Answer(429, b"Too Many Requests", "text/plain")

    def _take_fault(self, pool: str) -> Fault | None:
        for fault in self.faults:
            if fault.pool == pool and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _apply(self, fault: Fault, pool: str, answer: Answer) -> Answer:
        kind = fault.kind
        if kind == "429":
            return self._too_many(pool)
        if kind == "429-retry-after":
            too_many = self._too_many(pool)
            too_many.headers.append(("retry-after", f"{fault.retry_after:g}"))
            return too_many
        if kind in {"500", "502", "503"}:
            return Answer(int(kind), HTML_PAGE, "text/html")
        if kind == "reset":
            return Answer(0, b"", "", action="reset")
        if kind == "truncated":
            return Answer(
                answer.status, answer.body[: max(1, len(answer.body) // 2)], answer.content_type
            )
        if kind == "incomplete":
            answer.action = "incomplete"
            return answer
        if kind == "html":
            return Answer(200, HTML_PAGE, "text/html; charset=utf-8")
        if kind == "400-bad-request":  # Crossref's genuine validation-failure shape
            return json_answer(
                {
                    "status": "failed",
                    "message-type": "validation-failure",
                    "message": [
                        {
                            "type": "parameter-not-allowed",
                            "value": "filter",
                            "message": "This route does not support this filter",
                        }
                    ],
                },
                status=400,
            )
        return answer  # "delay" has already waited
