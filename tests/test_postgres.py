"""A PostgreSQL library and cache (REFS_LIBRARY / REFS_CACHE = postgresql://…), on a real
throw-away server the tests start (tests/postgres.py). The storage contract tests run on
it too (tests/test_storage_contract.py, the ``library`` fixture)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from refs.identifiers import Scheme
from refs.models import Record
from refs.records.pubmed import split_article_set
from refs.store.cache import Cache, PostgresCache
from refs.store.library import PostgresLibrary, SQLiteLibrary
from refs.store.pg import translate
from refs.testing.replay import ReplayServer
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
DERIVED = FIXTURES / "derived"
PLOS = "10.1371/journal.pone.0033693"


def _env(server: ReplayServer, tmp: Path, library: str, cache: str) -> dict[str, str]:
    return {
        **os.environ,
        **server.environ(),
        "REFS_LIBRARY": library,
        "REFS_CACHE": cache,
        "REFS_MAILTO": "tests@example.org",
        "REFS_RETRY_ATTEMPTS": "2",
        "REFS_RETRY_WAIT_INITIAL": "0.01",
        "REFS_RETRY_WAIT_MAX": "0.02",
    }


def _refs(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "refs", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def _start(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "refs", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sql_is_translated_for_postgresql() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c LIKE '5%'") == (
        "SELECT a FROM t WHERE b = %s AND c LIKE '5%%'"
    )
    assert translate("INSERT OR IGNORE INTO citations (document_id, work_id) VALUES (?, ?)") == (
        "INSERT INTO citations (document_id, work_id) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    )
    assert translate("INSERT OR REPLACE INTO key_aliases (alias, work_id) VALUES (?, ?)") == (
        "INSERT INTO key_aliases (alias, work_id) VALUES (%s, %s) "
        "ON CONFLICT (alias) DO UPDATE SET work_id = EXCLUDED.work_id"
    )


def _sqlite_columns(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in tables}


def _pg_columns(url: str) -> dict[str, set[str]]:
    import psycopg

    out: dict[str, set[str]] = {}
    with psycopg.connect(url) as conn:
        for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        ):
            out.setdefault(table, set()).add(column)
    return out


def test_both_schemas_have_the_same_tables_and_columns(
    tmp_path: Path, postgres_server: object
) -> None:
    from tests.postgres import Server

    assert isinstance(postgres_server, Server)
    SQLiteLibrary(tmp_path / "lib").close()
    Cache(tmp_path / "cache").close()
    library_url, cache_url = postgres_server.new_database(), postgres_server.new_database()
    PostgresLibrary(library_url).close()
    PostgresCache(cache_url).close()
    assert _pg_columns(library_url) == _sqlite_columns(tmp_path / "lib" / "library.sqlite")
    assert _pg_columns(cache_url) == _sqlite_columns(tmp_path / "cache" / "records.sqlite")
    lib = PostgresLibrary(library_url)
    sqlite_lib = SQLiteLibrary(tmp_path / "lib")
    try:
        assert lib.migrations() == sqlite_lib.migrations()  # recorded by the same names
    finally:
        lib.close()
        sqlite_lib.close()


def test_the_cache_contract_on_postgresql(postgres_url: str) -> None:
    xml = (FIXTURES / "ncbi-eutils" / "efetch_pubmed_29915538.xml").read_bytes()
    ((payload, names),) = split_article_set(xml).values()
    cache = PostgresCache(postgres_url)
    try:
        records = [
            Record("pubmed", "29915538", "ok", 10.0, payload, 200, "text/xml", names=names),
            Record("crossref", "10.5555/none", "not_found", 11.0, reason="not in Crossref"),
        ]
        cache.put(records)
        cache.put(records[:1])  # replacing a record keeps one row
        got = cache.get("pubmed", "29915538")
        assert got is not None
        assert got.payload == payload
        assert got.names == names
        many = cache.get_many([("pubmed", "29915538"), ("crossref", "10.5555/none"), ("x", "y")])
        assert set(many) == {("pubmed", "29915538"), ("crossref", "10.5555/none")}
        assert many[("crossref", "10.5555/none")].status == "not_found"
        light = cache.get_many([("pubmed", "29915538")], payloads=False)
        assert light[("pubmed", "29915538")].lazy
        named = cache.naming_many([(Scheme.PMCID, "PMC5994433")])
        assert [r.key for r in named[(Scheme.PMCID, "PMC5994433")]] == ["29915538"]
        cache.add_snapshot("PMC-ids.csv.gz", "idconv", 5.0, whole=True, records=1)
        assert cache.coverage() == {"idconv": (5.0, "PMC-ids.csv.gz")}
        assert cache.count() == {"crossref": 1, "pubmed": 1}
    finally:
        cache.close()


def test_a_run_on_postgresql_exports_what_a_run_on_sqlite_does(
    replay: ReplayServer, tmp_path: Path, postgres_server: object
) -> None:
    from tests.postgres import Server

    assert isinstance(postgres_server, Server)
    examples = str(ROOT / "examples")
    lite = _env(
        replay, tmp_path, str(tmp_path / "lite" / "references"), str(tmp_path / "lite" / "cache")
    )
    assert _refs(lite, tmp_path / "lite", "resolve", "-q", examples).returncode == 0
    pg = _env(replay, tmp_path, postgres_server.new_database(), postgres_server.new_database())
    done = _refs(pg, tmp_path / "pg", "resolve", "-q", examples)
    assert done.returncode == 0, done.stderr
    for name in ("library.bib", "library.json"):
        assert (tmp_path / "pg" / "references" / name).read_bytes() == (
            tmp_path / "lite" / "references" / name
        ).read_bytes(), name
    # A second run is answered from the PostgreSQL cache: no request.
    replay.reset_counters()
    done = _refs(pg, tmp_path / "pg", "resolve", "-q", examples)
    assert done.returncode == 0, done.stderr
    assert sum(replay.requests.values()) == 0


def test_two_writers_at_once_build_the_library_one_run_builds(
    replay: ReplayServer, tmp_path: Path, postgres_server: object
) -> None:
    """Two `refs resolve` on different documents (sharing one cited work) against one
    database, started together, from two folders (two machines): both succeed, and the
    library equals one run over both documents, keys included."""
    from tests.postgres import Server

    assert isinstance(postgres_server, Server)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(
        f"doi:{PLOS}, doi:10.1073/pnas.1414271111 and PMID: 22351513.\n", encoding="utf-8"
    )
    (docs / "b.md").write_text(
        f"https://doi.org/{PLOS}, doi:10.1021/acs.jctc.2c01235 and PMID: 29915538.\n",
        encoding="utf-8",
    )
    library, cache = postgres_server.new_database(), postgres_server.new_database()
    env = _env(replay, tmp_path, library, cache)
    runs = [
        _start(env, tmp_path / f"machine-{name}", "resolve", "-q", str(docs / f"{name}.md"))
        for name in ("a", "b")
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    one = _env(replay, tmp_path, postgres_server.new_database(), postgres_server.new_database())
    assert (
        _refs(
            one, tmp_path / "one", "resolve", "-q", str(docs / "a.md"), str(docs / "b.md")
        ).returncode
        == 0
    )
    assert (
        _refs(env, tmp_path / "after", "export", "-o", str(tmp_path / "both.json")).returncode == 0
    )
    assert _refs(one, tmp_path / "one", "export", "-o", str(tmp_path / "one.json")).returncode == 0
    both = json.loads((tmp_path / "both.json").read_text())
    single = json.loads((tmp_path / "one.json").read_text())

    def cited(entries: list[dict[str, object]]) -> dict[str, list[str]]:
        return {str(e["id"]): sorted(e["custom"]["sources"]) for e in entries}  # type: ignore[index]

    assert cited(both) == cited(single)  # the same works, keys and citing documents
    assert len(both) == 5  # PLOS cited by both documents is one work
    plos = next(e["id"] for e in both if str(e.get("DOI", "")).lower() == PLOS)
    assert len(cited(both)[str(plos)]) == 2


def test_two_refreshes_at_once_report_each_event_once(
    replay: ReplayServer, tmp_path: Path, postgres_server: object
) -> None:
    from tests.postgres import Server

    assert isinstance(postgres_server, Server)
    import psycopg

    library = postgres_server.new_database()
    env = _env(replay, tmp_path, library, postgres_server.new_database())
    assert _refs(env, tmp_path / "m0", "resolve", "-q", str(ROOT / "examples")).returncode == 0
    with psycopg.connect(library) as db:  # last checked before the "after" records (2026-11-20)
        db.execute("UPDATE works SET checked = 1790812800")
    after = json.loads(
        (DERIVED / "works_10.1371_journal.pone.0033693.after.DERIVED.json").read_text()
    )
    replay.data.crossref[PLOS] = after["message"]
    ((xml, _),) = split_article_set(
        (DERIVED / "efetch_pubmed_38147649.retracted.DERIVED.xml").read_bytes()
    ).values()
    replay.data.pubmed["38147649"] = xml
    runs = [_start(env, tmp_path / f"m{i}", "refresh", "--all", "--json") for i in (1, 2)]
    events = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        events += [(e["key"], e["kind"]) for e in json.loads(out)["events"]]
    assert sorted(events) == sorted(
        [("sadasivan2012methylphenidate", "retraction"), ("ritz2024social", "retraction")]
    )


@pytest.mark.parametrize("url", ["postgresql://nobody@/nodb?host=/nonexistent"])
def test_an_unreachable_database_is_a_clear_error(url: str, tmp_path: Path) -> None:
    env = {**os.environ, "REFS_LIBRARY": url, "REFS_CACHE": str(tmp_path / "cache")}
    doc = tmp_path / "a.txt"
    doc.write_text("doi:10.1371/journal.pone.0033693\n", encoding="utf-8")
    done = _refs(env, tmp_path, "resolve", "--offline", str(doc))
    assert done.returncode == 1
    assert "cannot open the library at 'postgresql://nobody@/nodb" in done.stderr
    assert "Traceback" not in done.stderr
