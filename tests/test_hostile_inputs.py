"""Inputs that hang, explode or mislead: each is refused by name, within its limits."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from refs.app import extract_documents
from refs.config import load_settings
from refs.documents import fetch_url, read_file
from refs.errors import InputError
from tests.conftest import WebServer

ROOT = Path(__file__).resolve().parent.parent


def test_fifos_and_devices_are_never_opened(tmp_path: Path) -> None:
    """A FIFO in a walked folder is passed over (reading it would hang); named, it and
    /dev/zero (or a link to it) are refused with the reason."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("doi:10.1000/abc\n", encoding="utf-8")
    os.mkfifo(folder / "pipe.md")
    (folder / "zero.txt").symlink_to("/dev/zero")
    settings = load_settings({"library": tmp_path / "lib", "cache": tmp_path / "c"}, environ={})
    results = list(extract_documents([str(folder)], settings))
    assert [Path(r.source).name for r in results] == ["a.md"]
    for name in (str(folder / "pipe.md"), "/dev/zero", str(folder / "zero.txt")):
        with pytest.raises(InputError, match="not a regular file"):
            read_file(name)


def test_files_larger_than_max_bytes_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 5000)
    with pytest.raises(InputError, match=r"more than the limit of 1000 \(--max-bytes\)"):
        read_file(str(big), max_bytes=1000)


def test_refs_never_reads_its_own_library_and_cache(tmp_path: Path) -> None:
    """`refs resolve .` beside references/ and cache/ reads the documents only."""
    (tmp_path / "post.md").write_text("PMID: 38147649\n", encoding="utf-8")
    for sub, name in (("references", "library.bib"), ("cache", "records.sqlite")):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / name).write_text("@article{x, doi = {10.1000/own}}", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFS_")}
    env["REFS_CONFIG"] = os.devnull
    out = subprocess.run(
        [sys.executable, "-m", "refs", "extract", ".", "--format", "jsonl"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"10.1000/own"' not in out.stdout
    assert '"38147649"' in out.stdout


def _client() -> httpx.Client:
    return httpx.Client()


def test_a_trickling_server_hits_the_total_deadline(web: WebServer) -> None:
    """One byte every 0.2 s: the fetch gives up after --fetch-timeout in all, not per byte."""
    url = web.add("/slow", b"<p>doi:10.1000/slow</p>" * 10, trickle=0.2)
    started = time.monotonic()
    with _client() as client, pytest.raises(InputError, match="within 1 s"):
        fetch_url(url, client=client, max_bytes=10_000, timeout=1.0)
    assert time.monotonic() - started < 5


def test_stacked_compression_is_capped_at_every_layer(web: WebServer) -> None:
    """gzip, gzip around 50 MB of zeros (a few KB on the wire) fails at the limit."""
    bomb = gzip.compress(gzip.compress(b"\x00" * 50_000_000))
    url = web.add("/bomb", bomb, headers=(("Content-Encoding", "gzip, gzip"),))
    with _client() as client, pytest.raises(InputError, match="larger than the limit"):
        fetch_url(url, client=client, max_bytes=1_000_000, timeout=10)
    ok = web.add(
        "/ok",
        gzip.compress(b"doi:10.1000/zipped"),
        "text/plain",
        headers=(("Content-Encoding", "gzip"),),
    )
    with _client() as client:
        assert "10.1000/zipped" in fetch_url(ok, client=client, max_bytes=1000, timeout=10).text


def test_redirects_to_private_addresses_are_refused(web: WebServer) -> None:
    """A page given on the command line may be local; where it redirects to may not,
    unless --allow-private-urls."""
    target = web.add("/inside", b"doi:10.1000/inside", "text/plain")
    url = web.add("/hop", b"", status=302, headers=(("Location", target),))
    with _client() as client:
        with pytest.raises(InputError, match="private or link-local"):
            fetch_url(url, client=client, max_bytes=1000, timeout=5)
        page = fetch_url(url, client=client, max_bytes=1000, timeout=5, allow_private=True)
    assert "10.1000/inside" in page.text


def test_a_declared_utf16_charset_is_honoured(web: WebServer) -> None:
    url = web.add("/utf16", "doi:10.1000/wide".encode("utf-16-le"), "text/plain; charset=utf-16le")
    with _client() as client:
        assert fetch_url(url, client=client, max_bytes=1000, timeout=5).text == "doi:10.1000/wide"


def test_stdin_is_a_document(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFS_")}
    env["REFS_CONFIG"] = os.devnull
    out = subprocess.run(
        [sys.executable, "-m", "refs", "extract", "-", "--format", "jsonl"],
        cwd=tmp_path,
        env=env,
        input="See doi:10.1000/piped.\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"10.1000/piped"' in out.stdout
    assert '"document": "-"' in out.stdout
