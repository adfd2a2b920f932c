"""Resolving in chunks (bounded memory, storing while the next chunk's requests wait)
builds the same works as one pass."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from refs.app import resolve_inputs, resolving
from refs.identifiers import Identifier, Scheme
from refs.testing.replay import ReplayData, ReplayServer
from tests.conftest import settings_for


def test_balanced_chunks_hold_whole_batches_of_every_scheme() -> None:
    ids = (
        [Identifier(Scheme.DOI, f"10.1/{i}") for i in range(1050)]
        + [Identifier(Scheme.PMID, str(i + 1)) for i in range(450)]
        + [Identifier(Scheme.PMCID, f"PMC{i + 1}") for i in range(10)]
    )
    chunks = resolving.balanced_chunks(ids, target=500)
    assert sorted(i for c in chunks for i in c) == sorted(ids)  # each once
    # Every scheme's share of a chunk is whole batches, but for its last share: chunking
    # adds no request to the batched minimum (DOIs: Crossref's lists of 100 and the
    # completion round's ID-converter batches of 200).
    for scheme, batch in (
        (Scheme.DOI, 100),
        (Scheme.DOI, 200),
        (Scheme.PMID, 200),
        (Scheme.PMCID, 200),
    ):
        shares = [n for c in chunks if (n := sum(1 for i in c if i.scheme is scheme))]
        assert all(n % batch == 0 for n in shares[:-1]), (scheme, shares)
        assert sum(-(-n // batch) for n in shares) == -(-sum(shares) // batch)
    # Within a scheme, the order given is kept across chunks.
    dois = [i for c in chunks for i in c if i.scheme is Scheme.DOI]
    assert dois == ids[:1050]
    assert resolving.balanced_chunks(ids[:3]) == [ids[:3]]


def _library(tmp: Path, server: ReplayServer, doc: Path) -> dict[str, bytes]:
    settings = settings_for(server, tmp)
    run = resolve_inputs([str(doc)], settings)
    assert run.report.count("resolved") == len(run.report.resolutions) > 0
    return {
        name: (tmp / "references" / name).read_bytes() for name in ("library.bib", "library.json")
    }


def test_chunked_run_equals_one_pass(
    replay_data: ReplayData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = copy.deepcopy(replay_data)
    dois, pmids, pmcids = data.synthesize(45, 25, 12)
    doc = tmp_path / "article.md"
    doc.write_text(
        "\n".join(
            [f"A study (doi:{d})." for d in dois]
            + [f"Another (PMID: {p})." for p in pmids]
            + [f"Free text: {c}." for c in pmcids]
        ),
        encoding="utf-8",
    )
    with ReplayServer(data) as server:
        whole = _library(tmp_path / "whole", server, doc)
        monkeypatch.setattr(resolving, "CHUNK", 20)
        monkeypatch.setattr(resolving, "_BATCH", {Scheme.DOI: 5, Scheme.PMID: 5, Scheme.PMCID: 5})
        sizes: list[int] = []
        split = resolving.balanced_chunks

        def counted(ids: list[Identifier], target: int = 20) -> list[list[Identifier]]:
            chunks = split(ids, target)
            sizes.extend(len(c) for c in chunks)
            return chunks

        monkeypatch.setattr(resolving, "balanced_chunks", counted)
        chunked = _library(tmp_path / "chunked", server, doc)
    assert len(sizes) > 3  # really in chunks
    # The same works, with the same data and citing documents. Only the suffixes of keys
    # that several works share may differ: suffixes follow the order works are stored in,
    # which chunks change (within a chunk, each scheme in the order first cited).
    assert _works(chunked) == _works(whole)
    with ReplayServer(copy.deepcopy(data)) as server:
        again = _library(tmp_path / "again", server, doc)
    assert again == chunked  # chunked runs are deterministic, byte for byte


def _works(files: dict[str, bytes]) -> list[str]:
    items = json.loads(files["library.json"])
    for item in items:
        del item["id"], item["citation-key"]
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def test_a_new_library_from_a_warm_cache_is_the_same(replay: ReplayServer, tmp_path: Path) -> None:
    """Cached records are read without their payloads; a run that must normalise them
    (here: the library was deleted, the cache kept) loads them and builds the same
    library, asking no service."""
    doc = tmp_path / "a.md"
    doc.write_text(
        "See doi:10.1371/journal.pone.0033693 and PMID: 38147649.",
        encoding="utf-8",
    )
    first = _library(tmp_path, replay, doc)
    shutil.rmtree(tmp_path / "references")
    replay.reset_counters()
    assert _library(tmp_path, replay, doc) == first
    assert sum(replay.requests.values()) == 0
