"""Shared fixtures: a clean environment and a loopback web server for documents."""

from __future__ import annotations

import contextlib
import http.server
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"


@pytest.fixture(scope="session")
def _empty_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "empty.toml"
    path.write_text("", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, _empty_config: Path) -> None:
    """No test sees the developer's REFS_* variables or config files."""
    for name in list(os.environ):
        if name.startswith("REFS_") or name == "NCBI_API_KEY":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(_empty_config.parent / "xdg"))
    monkeypatch.setenv("REFS_CONFIG", str(_empty_config))


Route = tuple[int, str, bytes, float, tuple[tuple[str, str], ...], float]


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Route]] = {}

    def do_GET(self) -> None:
        status, content_type, body, delay, headers, trickle = self.routes.get(
            self.path, (404, "text/plain", b"not here", 0.0, (), 0.0)
        )
        if delay:
            time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if not trickle:
                self.wfile.write(body)
                return
            for i in range(len(body)):  # one byte at a time (bounded by the body)
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(trickle)

    def log_message(self, format: str, *args: object) -> None:
        return None


class WebServer:
    """A tiny loopback site: ``add(path, body, content_type)`` then ``url(path)``."""

    def __init__(self) -> None:
        handler: type[_Handler] = type("Handler", (_Handler,), {"routes": {}})
        self.routes: dict[str, Route] = handler.routes
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(
        self,
        path: str,
        body: bytes,
        content_type: str = "text/html",
        *,
        status: int = 200,
        delay: float = 0.0,
        headers: tuple[tuple[str, str], ...] = (),
        trickle: float = 0.0,
    ) -> str:
        self.routes[path] = (status, content_type, body, delay, headers, trickle)
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def web() -> Iterator[WebServer]:
    server = WebServer()
    yield server
    server.close()


# ---------------------------------------------------------------- storage

from refs.storage import Library  # noqa: E402
from tests import postgres  # noqa: E402


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server]:
    """One throw-away PostgreSQL for the session (tests/postgres.py); skipped with the
    reason when PostgreSQL is not installed, unless CI requires it."""
    try:
        server = postgres.Server()
    except (RuntimeError, OSError) as exc:
        if postgres.REQUIRED:
            raise
        pytest.skip(f"PostgreSQL is not available ({exc}); CI installs it")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: postgres.Server) -> str:
    """A fresh empty database on the session's server."""
    return postgres_server.new_database()


def _sqlite_library(request: pytest.FixtureRequest, directory: Path) -> Library:
    from refs.store.library import SQLiteLibrary

    return SQLiteLibrary(directory)


def _postgres_library(request: pytest.FixtureRequest, directory: Path) -> Library:
    from refs.store.library import PostgresLibrary

    return PostgresLibrary(request.getfixturevalue("postgres_url"))


# Every implementation of the storage interface; the contract tests run on each.
LIBRARIES = [
    pytest.param(_sqlite_library, id="sqlite"),
    pytest.param(_postgres_library, id="postgresql"),
]


@pytest.fixture(params=LIBRARIES)
def library(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Library]:
    """An empty library of each implementation."""
    lib = request.param(request, tmp_path / "references")
    yield lib
    lib.close()


# ---------------------------------------------------------------- replay server

from refs.config import Settings, load_settings  # noqa: E402
from refs.testing.replay import ReplayData, ReplayServer  # noqa: E402

if TYPE_CHECKING:
    from refs.resolve.engine import ResolveReport


@pytest.fixture(scope="session")
def replay_data() -> ReplayData:
    """Every genuine recorded record in tests/fixtures, loaded once."""
    return ReplayData.from_fixtures(FIXTURES)


@pytest.fixture
def replay(replay_data: ReplayData) -> Iterator[ReplayServer]:
    """A replay server with no limits and no latency (tests set what they need)."""
    import copy

    with ReplayServer(copy.deepcopy(replay_data)) as server:
        yield server


def settings_for(server: ReplayServer, tmp_path: Path, **overrides: object) -> Settings:
    """Settings pointing at the replay server, a fresh cache, and quick retries."""
    values: dict[str, object] = {
        **server.settings_overrides(),
        "cache": tmp_path / "cache",
        "library": tmp_path / "references",
        "mailto": "tests@example.org",
        "timeout": 2.0,
        "retry_attempts": 4,
        "retry_timeout": 10.0,
        "retry_wait_initial": 0.01,
        "retry_wait_max": 0.05,
    }
    values.update(overrides)
    return load_settings(values, environ={})


class Local:
    """The replay answers without a socket (httpx.MockTransport) and a fresh cache."""

    def __init__(self, data: ReplayData, tmp: Path) -> None:
        from refs.testing.replay.answers import mounts

        self.data = data
        self.tmp = tmp
        self.urls = {name: f"http://replay.test{mount}" for name, mount in mounts().items()}
        self.settings = self.settings_with()
        self.seen: list[str] = []  # every request target, in order
        self.delivered: list[ResolveReport] = []  # a chunked run's reports

    def settings_with(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            **self.urls,
            "cache": self.tmp / "cache",
            "library": self.tmp / "references",
            "mailto": "tests@example.org",
            **overrides,
        }
        return load_settings(values, environ={})

    def run(
        self,
        ids: list[str],
        *,
        negative_ttl: float | None = None,
        chunks: list[list[str]] | None = None,
        **kwargs: Any,
    ) -> ResolveReport:
        """Resolve ``ids`` (parsed) through the replay answers; the cache persists.
        With ``chunks``, those are resolved chunk after chunk instead (``ids`` unused)."""
        import asyncio

        import httpx

        from refs.identifiers import parse_identifier
        from refs.registry import POOLS, Pool
        from refs.resolve.engine import Resolver, ResolveReport
        from refs.store.cache import Cache
        from refs.testing.replay import transport

        settings = (
            self.settings if negative_ttl is None else self.settings_with(negative_ttl=negative_ttl)
        )
        fast = {name: Pool(name, 1000.0, p.concurrency) for name, p in POOLS.items()}

        inner = transport(self.data)

        def handler(request: httpx.Request) -> httpx.Response:
            self.seen.append(request.url.raw_path.decode("ascii"))
            return inner.handle_request(request)

        async def go() -> ResolveReport:
            async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
                resolver = Resolver(settings, cache, client=client, pools=fast, **kwargs)
                if chunks is None:
                    return await resolver.resolve([parse_identifier(i) for i in ids])
                # In chunks, as refs resolve runs (one session; chunk k's completion
                # beside chunk k+1's first round): the reports in the order delivered.
                delivered: list[ResolveReport] = []

                async def deliver(report: ResolveReport) -> None:
                    delivered.append(report)

                await resolver.resolve_chunks(
                    [[parse_identifier(i) for i in c] for c in chunks], deliver
                )
                self.delivered = delivered
                return ResolveReport(
                    [r for d in delivered for r in d.resolutions],
                    delivered[-1].requests,
                    delivered[-1].retries,
                    resolver.from_cache,
                    sum(d.elapsed for d in delivered),
                )

        cache = Cache(settings.cache)
        try:
            return asyncio.run(go())
        finally:
            cache.close()


@pytest.fixture
def local(replay_data: ReplayData, tmp_path: Path) -> Local:
    """Socket-free resolution over a private copy of the recorded records."""
    import copy

    return Local(copy.deepcopy(replay_data), tmp_path)


# ---------------------------------------------------------------- the command line

import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402

Refs = Callable[..., "subprocess.CompletedProcess[str]"]


def cli_for(server: ReplayServer, tmp_path: Path, *, cwd: Path | None = None) -> Refs:
    """``refs`` as a user runs it: a subprocess pointed at the replay server, with a cache
    and library of its own under ``tmp_path``, run in ``cwd`` (default ``tmp_path``)."""
    env = {
        **os.environ,
        **server.environ(),
        "REFS_CACHE": str(tmp_path / "cache"),
        "REFS_LIBRARY": str(tmp_path / "references"),
        "REFS_MAILTO": "tests@example.org",
        "REFS_RETRY_ATTEMPTS": "2",
        "REFS_RETRY_WAIT_INITIAL": "0.01",
        "REFS_RETRY_WAIT_MAX": "0.02",
    }

    def refs(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "refs", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd or tmp_path,
            check=False,
        )

    return refs


@pytest.fixture
def cli(replay: ReplayServer, tmp_path: Path) -> Refs:
    """:func:`cli_for` the test's replay server and tmp dir."""
    return cli_for(replay, tmp_path)
