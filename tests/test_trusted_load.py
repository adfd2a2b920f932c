"""Works loaded from the library without validation equal the validated ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refs.normalise.crossref import work_from_crossref
from refs.normalise.pubmed import work_from_pubmed
from refs.records.pubmed import split_article_set
from refs.store.works import dump, load
from refs.work import Work

FIX = Path(__file__).parent / "fixtures"


def _works() -> list[Work]:
    works = []
    for path in sorted(FIX.glob("crossref*/*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("message-type") == "work":
            works.append(work_from_crossref(body["message"]))
    for path in sorted(FIX.glob("ncbi-eutils/efetch_*.xml")):
        works += [work_from_pubmed(xml) for xml, _ in split_article_set(path.read_bytes()).values()]
    return works


@pytest.mark.parametrize("work", _works(), ids=lambda w: w.doi or w.pmid or "work")
def test_loaded_work_is_the_validated_one(work: Work) -> None:
    """Every field, nested model and default: as Work.model_validate_json would build it."""
    text = dump(work)
    fast, slow = load(text), Work.model_validate_json(text)
    assert fast == slow
    assert dump(fast) == text
    assert fast.model_dump() == slow.model_dump()
    assert fast.comparable() == slow.comparable()
    # Defaults are fresh objects, never shared between loaded works.
    other = load(text)
    assert other.issn is not fast.issn or not fast.issn


def test_loaded_works_share_no_defaults() -> None:
    """Two works loaded from one text are independent: changing one changes not the other."""
    text = dump(Work(title="T", doi="10.1/x"))
    a, b = load(text), load(text)
    a.issn.append("1234-5678")
    a.title = "U"
    assert b.issn == []
    assert b.title == "T"
    assert a.model_copy(update={"volume": "3"}).volume == "3"
