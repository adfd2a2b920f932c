"""`refs snapshot load`: the services' bulk files as the record cache.

The files in fixtures/snapshots/ are cut from the genuine recorded records (cut.py):
each record is the one the API answered, in its bulk format's container."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

from refs import jsonio
from refs.identifiers import Scheme
from refs.records.pubmed import split_article_set
from refs.store.cache import Cache
from refs.testing.replay import ReplayServer
from tests.conftest import FIXTURES, Refs, cli_for

SNAPSHOTS = FIXTURES / "snapshots"
ALL = sorted(str(p) for p in SNAPSHOTS.glob("*.gz"))
DAY = "2026-01-15"
STAMP = dt.datetime(2026, 1, 15, tzinfo=dt.UTC).timestamp()


def _load(refs: Refs, *files: str, date: str = DAY) -> list[dict[str, object]]:
    done = refs("snapshot", "load", *files, "--date", date, "--json")
    assert done.returncode == 0, done.stderr
    loads: list[dict[str, object]] = json.loads(done.stdout)
    return loads


def test_each_format_loads_the_records_its_api_answers(cli: Refs, tmp_path: Path) -> None:
    loads = _load(cli, *ALL)
    by_file = {Path(str(x["file"])).name: x for x in loads}
    assert by_file["pubmed26n0001.cut.xml.gz"]["format"] == "pubmed"
    assert by_file["pubmed26n0001.cut.xml.gz"]["records"] == 7
    assert by_file["pubmed26n1400.cut.xml.gz"]["deleted"] == 1
    assert by_file["crossref-2026-part0001.cut.jsonl.gz"]["records"] == 11
    assert by_file["crossref-2025-part0001.cut.json.gz"]["records"] == 3
    assert by_file["PMC-ids.cut.csv.gz"]["records"] == 14  # 7 rows: by PMCID and by DOI
    cache = Cache(tmp_path / "cache")
    try:
        # A PubMed record is the text efetch's answer is split into, dated the snapshot.
        genuine = (FIXTURES / "ncbi-eutils" / "efetch_pubmed_38147649.metapub.xml").read_bytes()
        pubmed = cache.get("pubmed", "38147649")
        assert pubmed is not None
        assert pubmed.payload == split_article_set(genuine)["38147649"][0]
        assert pubmed.fetched_at == STAMP
        assert pubmed.names[Scheme.PMCID] == "PMC10769841"
        # A Crossref item is the recorded work message, keyed by its lower-case DOI.
        message = json.loads(
            (FIXTURES / "crossref" / "works_10.1073_pnas.1414271111.json").read_text()
        )["message"]
        crossref = cache.get("crossref", "10.1073/pnas.1414271111")
        assert crossref is not None
        assert crossref.payload is not None
        assert jsonio.loads(crossref.payload) == message
        # A PMC-ids row is the ID converter's record, asked by PMCID or by DOI.
        for service, key in (("idconv", "PMC5994433"), ("idconv-doi", "10.3389/fphar.2018.00576")):
            row = cache.get(service, key)
            assert row is not None
            assert row.status == "ok"
            assert row.names == {
                Scheme.PMCID: "PMC5994433",
                Scheme.PMID: "29915538",
                Scheme.DOI: "10.3389/fphar.2018.00576",
            }
        # The update file's DeleteCitation: PubMed no longer has that PMID.
        deleted = cache.get("pubmed", "1234567")
        assert deleted is not None
        assert deleted.status == "not_found"
        assert "pubmed26n1400" in (deleted.reason or "")
    finally:
        cache.close()


def test_resolving_what_the_snapshots_hold_asks_no_service(
    replay: ReplayServer, tmp_path: Path
) -> None:
    refs = cli_for(replay, tmp_path)
    _load(refs, *ALL)
    doc = tmp_path / "article.md"
    doc.write_text(
        "Cited by DOI: doi:10.1073/pnas.1414271111 and https://doi.org/10.1021/acs.jctc.2c01235.\n"
        "By PMID: PMID: 22351513, and by PMCID: PMC9619446 (PubMed's record names it).\n",
        encoding="utf-8",
    )
    done = refs("resolve", str(doc), "--no-complete", "--json")
    assert done.returncode == 0, done.stderr
    assert sum(replay.requests.values()) == 0, replay.log
    report = json.loads(done.stdout)
    assert report["summary"]["resolved"] == 4, report["summary"]
    library = json.loads((tmp_path / "references" / "library.json").read_text())
    assert len(library) == 4
    assert all(entry.get("title") for entry in library)
    assert {e.get("PMID") for e in library} >= {"22351513", "36156117"}


def test_an_answer_newer_than_the_snapshot_is_kept(replay: ReplayServer, tmp_path: Path) -> None:
    refs = cli_for(replay, tmp_path)
    doc = tmp_path / "a.txt"
    doc.write_text("doi:10.1073/pnas.1414271111\n", encoding="utf-8")
    assert refs("resolve", str(doc), "--no-complete").returncode == 0
    cache = Cache(tmp_path / "cache")
    before = cache.get("crossref", "10.1073/pnas.1414271111")
    cache.close()
    assert before is not None
    loads = _load(refs, str(SNAPSHOTS / "crossref-2026-part0001.cut.jsonl.gz"))
    assert loads[0]["kept"] == 1
    assert loads[0]["records"] == 10
    cache = Cache(tmp_path / "cache")
    after = cache.get("crossref", "10.1073/pnas.1414271111")
    cache.close()
    assert after is not None
    assert after.fetched_at == before.fetched_at > STAMP


def test_a_broken_file_is_named_by_line_and_earlier_loads_stay(
    replay: ReplayServer, tmp_path: Path
) -> None:
    refs = cli_for(replay, tmp_path)
    _load(refs, str(SNAPSHOTS / "pubmed26n0001.cut.xml.gz"))
    lines = gzip.decompress((SNAPSHOTS / "crossref-2026-part0001.cut.jsonl.gz").read_bytes())
    first, second, *_ = lines.splitlines()
    broken = tmp_path / "crossref-broken.jsonl"
    broken.write_bytes(first + b"\n" + second + b"\n" + b'{"DOI": "10.1/x", "title": [\n')
    done = refs("snapshot", "load", str(broken), "--date", DAY)
    assert done.returncode == 1
    assert "crossref-broken.jsonl" in done.stderr
    assert "line 3" in done.stderr
    assert "Traceback" not in done.stderr
    cache = Cache(tmp_path / "cache")
    try:
        assert len(cache.all("pubmed")) == 7  # the earlier load is untouched
        assert cache.get("crossref", "10.1/x") is None
    finally:
        cache.close()
    # A file that is not in the format its name says, and a name that says no format.
    wrong = tmp_path / "PMC-ids.csv"
    wrong.write_text("PMID,Title\n1,x\n", encoding="utf-8")
    done = refs("snapshot", "load", str(wrong))
    assert done.returncode == 1
    assert "PMC-ids.csv" in done.stderr
    assert "header" in done.stderr
    odd = tmp_path / "dump.bin"
    odd.write_bytes(b"\x00")
    done = refs("snapshot", "load", str(odd))
    assert done.returncode == 1
    assert "--format" in done.stderr


def test_refresh_asks_crossref_what_changed_since_the_snapshot(
    replay: ReplayServer, tmp_path: Path
) -> None:
    refs = cli_for(replay, tmp_path)
    _load(refs, str(SNAPSHOTS / "crossref-2026-part0001.cut.jsonl.gz"))
    doc = tmp_path / "a.txt"
    doc.write_text("doi:10.1073/pnas.1414271111\n", encoding="utf-8")
    assert refs("resolve", str(doc), "--no-complete").returncode == 0
    assert sum(replay.requests.values()) == 0
    done = refs("refresh", "--all")
    assert done.returncode == 0, done.stderr
    targets = [t for _, pool, t in replay.log if pool.startswith("crossref")]
    assert targets, replay.log
    # The work was checked today, but its record is the snapshot's: changes since then.
    assert all("from-index-date:2026-01-1" in t for t in targets), targets


def test_whole_snapshots_answer_completion_too(replay: ReplayServer, tmp_path: Path) -> None:
    """Completion asks for the DOIs PubMed names and the PMIDs of cited DOIs: a cut of a
    snapshot cannot say a key is absent, so those go to the services; a whole one can
    (PMC-ids.csv.gz always is; --whole declares the others), and nothing is asked."""
    doc = tmp_path / "article.md"
    doc.write_text(
        "doi:10.1073/pnas.1414271111, PMID: 22351513 and PMC9619446.\n", encoding="utf-8"
    )
    (tmp_path / "cut").mkdir()
    (tmp_path / "whole").mkdir()
    cut = cli_for(replay, tmp_path / "cut")
    _load(cut, *ALL)
    assert cut("resolve", str(doc)).returncode == 0
    assert replay.requests["ncbi"] > 0  # the ID converter, asked for the DOI's PMID
    assert sum(replay.requests.values()) > replay.requests["ncbi"]  # Crossref, for PubMed's DOIs

    replay.reset_counters()
    whole = cli_for(replay, tmp_path / "whole")
    crosswalk = tmp_path / "PMC-ids.csv.gz"
    crosswalk.write_bytes((SNAPSHOTS / "PMC-ids.cut.csv.gz").read_bytes())
    loads = _load(whole, str(crosswalk))
    assert loads[0]["whole"] is True
    others = [f for f in ALL if "PMC-ids" not in f]
    done = whole("snapshot", "load", *others, "--whole", "--date", dt.date.today().isoformat())
    assert done.returncode == 0, done.stderr
    done = whole("resolve", str(doc), "--json")
    assert done.returncode == 0, done.stderr
    assert sum(replay.requests.values()) == 0, replay.log
    assert json.loads(done.stdout)["summary"]["resolved"] == 3


def test_bulk_identifier_columns_read_as_canonical_reads_them() -> None:
    """The fast checks of the PMC-ids columns agree with the identifier parser."""
    from refs.identifiers import canonical
    from refs.records.snapshots import _doi, _pmcid, _pmid

    for value in ["PMC13900", "pmc0012", "PMC", "PMC0", "13900", " ", "PMCX1"]:
        assert _pmcid(value.strip()) == canonical(value.strip(), Scheme.PMCID), value
    for value in ["11250746", "000123", "0", "", "12a", "١٢٣"]:
        assert _pmid(value) == canonical(value, Scheme.PMID), value
    for value in [
        "10.1186/bcr271",
        "10.1186/BCR271",
        "10.1523/JNEUROSCI.0913-05.2005",
        "10.1000/x.",
        "10.1000/(abc)",
        "10.1002/(SICI)1097-0258(19980815/30)17:15/16<1661::AID-SIM968>3.0.CO;2-2",
        "doi:10.1/x",
        "",
    ]:
        assert _doi(value) == canonical(value, Scheme.DOI), value


def test_xml_that_is_not_pubmed_or_is_cut_short_is_refused(cli: Refs, tmp_path: Path) -> None:
    other = tmp_path / "pubmed-other.xml"
    other.write_text("<?xml version='1.0'?><eSearchResult><Count>0</Count></eSearchResult>")
    done = cli("snapshot", "load", str(other))
    assert done.returncode == 1
    assert "PubmedArticleSet" in done.stderr
    whole = gzip.decompress((SNAPSHOTS / "pubmed26n0001.cut.xml.gz").read_bytes())
    cut = tmp_path / "pubmed26n0002.xml.gz"
    cut.write_bytes(gzip.compress(whole[: len(whole) // 2]))
    done = cli("snapshot", "load", str(cut))
    assert done.returncode == 1
    assert "pubmed26n0002.xml.gz" in done.stderr
    assert "line" in done.stderr
    assert "Traceback" not in done.stderr


def test_refresh_takes_a_whole_pubmed_snapshot_newer_than_the_check_as_the_answer(
    replay: ReplayServer, tmp_path: Path
) -> None:
    """The nightly job: load the day's PubMed update file (the baseline and every update
    loaded: --whole), then refresh. What changed comes from the file; PubMed is not asked."""
    import sqlite3

    refs = cli_for(replay, tmp_path)
    doc = tmp_path / "a.txt"
    doc.write_text("PMID: 38147649\n", encoding="utf-8")
    assert refs("resolve", str(doc), "--no-complete").returncode == 0
    with sqlite3.connect(tmp_path / "references" / "library.sqlite") as db:
        db.execute("UPDATE works SET checked = 1790812800")  # checked on 2026-10-01
    with sqlite3.connect(tmp_path / "cache" / "records.sqlite") as db:
        db.execute("UPDATE records SET fetched_at = 1790812800")  # and fetched then
    retracted = (FIXTURES / "derived" / "efetch_pubmed_38147649.retracted.DERIVED.xml").read_bytes()
    update = tmp_path / "pubmed26n1500.xml.gz"
    update.write_bytes(gzip.compress(retracted))
    done = refs("snapshot", "load", str(update), "--whole", "--date", dt.date.today().isoformat())
    assert done.returncode == 0, done.stderr
    replay.reset_counters()
    done = refs("refresh", "--all", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert sum(replay.requests.values()) == 0, replay.log
    assert report["from_snapshots"] == 1
    assert [(e["kind"], e["source"]) for e in report["events"]] == [("retraction", "pubmed")]
