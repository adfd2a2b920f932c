"""`refs suggest`: passages that report a study without citing it, with ranked candidates."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from refs.match.suggest import describe, find_passages
from refs.testing.replay import ReplayServer
from tests.conftest import cli_for

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_cf4eb436c13c0dae.txt"
OWN = """Why some necks never heal

Dr. Maria Okafor has studied whiplash for years. In a new study, Okafor and her team at the
University of Leeds followed 120 drivers after rear-end crashes and found that fatty
infiltration of the multifidus on MRI predicted who still had pain a year later.

The findings were published in the journal Spine in 2021. Okafor's group now plans a trial.

Tips: sleep well, move gently, and see a physiotherapist if pain lasts.
"""


def suggest(server: ReplayServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_for(server, tmp_path)("suggest", *args)


def test_a_described_study_gives_a_search_from_what_it_names() -> None:
    passages = find_passages(OWN)
    assert len(passages) == 1
    p = passages[0]
    assert OWN[p.start : p.end].startswith("In a new study")
    d = describe(p, OWN)
    assert d.people[0] == "Okafor"
    assert "University of Leeds" in d.institutions
    assert d.years == [2021]
    assert d.numbers == ["120"]
    assert {"multifidus", "MRI"} <= set(d.terms)
    assert "Tips" not in p.text


def test_prose_without_a_study_has_no_passage() -> None:
    text = "Neck pain is common. Sleep on a firm pillow and take breaks every hour.\n"
    assert find_passages(text) == []
    cited = "A new study (doi:10.1186/s10194-023-01626-w) found that neck pain is common.\n"
    assert find_passages(cited) == []


@pytest.mark.skipif(not SEED.exists(), reason="../shared/seeds is absent")
def test_the_seed_articles_study_ranks_first_among_distractors(
    replay: ReplayServer, tmp_path: Path
) -> None:
    """The seed describes Jim Elliott's study (36 neck-injury patients, the multifidus on
    serial MRIs). Its record is derived (no recording of it exists): it must rank first,
    ahead of another Elliott paper on the multifidus and another team's whiplash cohort."""
    result = suggest(replay, tmp_path, "--json", str(SEED))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows, "the seed's study is found"
    first = rows[0]
    assert set(first) == {"document", "start", "end", "passage", "query", "candidates"}
    assert isinstance(first["query"], str)
    assert "Elliott" in first["query"]
    assert "multifidus" in first["query"]
    assert "whiplash" in first["query"] or "neck" in first["query"]
    assert "MRI" in first["query"]
    assert "36 neck injury patients" in first["passage"]
    text = SEED.read_text(encoding="utf-8")
    assert " ".join(text[first["start"] : first["end"]].split()) == first["passage"]
    ids = [c["id"] for c in first["candidates"]]
    assert ids[0] == "pmid:41000003"
    assert set(ids) >= {"pmid:41000004", "pmid:41000005"}
    assert first["candidates"][0]["score"] > first["candidates"][1]["score"]
    assert set(first["candidates"][0]) == {"id", "title", "year", "score"}
    # Suggestions are never accepted: nothing was stored.
    assert not (tmp_path / "references" / "library.sqlite").exists()


def test_suggest_answers_from_the_cache_when_offline(replay: ReplayServer, tmp_path: Path) -> None:
    doc = tmp_path / "news.txt"
    doc.write_text(OWN, encoding="utf-8")
    assert suggest(replay, tmp_path, "--json", str(doc)).returncode == 0
    asked = len(replay.log)
    again = suggest(replay, tmp_path, "--json", "--offline", str(doc))
    assert again.returncode == 0
    assert len(replay.log) == asked
    assert json.loads(again.stdout.splitlines()[0])["query"].startswith('AUTH:"Okafor"')
