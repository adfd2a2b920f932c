"""Citation keys: readable, ASCII, stable."""

from __future__ import annotations

import pytest

from refs.keys import base_key, next_free
from refs.work import DateParts, Name, Work


@pytest.mark.parametrize(
    ("work", "key"),
    [
        (
            Work(
                title="Headache after sport: a review",
                author=[Name(family="Sollmann", given="N")],
                issued=DateParts(parts=[2023, 7]),
            ),
            "sollmann2023headache",
        ),
        (
            Work(
                title="The structure of water",
                author=[Name(family="Mendonça", given="J")],
                issued=DateParts(parts=[1970]),
            ),
            "mendonca1970structure",
        ),
        (
            Work(
                title="RETRACTED: Ileal-lymphoid-nodular hyperplasia",
                author=[Name(family="Wakefield")],
                issued=DateParts(parts=[1998]),
            ),
            "wakefield1998ileal",
        ),
        (
            Work(
                title="Berg study",
                author=[Name(family="Berg", non_dropping_particle="van der")],
                issued=DateParts(parts=[2001]),
            ),
            "berg2001berg",
        ),
        (
            Work(
                title="Global report on hepatitis",
                author=[Name(literal="World Health Organization")],
                issued=DateParts(parts=[2024]),
            ),
            "world2024global",
        ),
        (Work(title="Untitled data", container_title="Zenodo"), "zenodonduntitled"),
        (Work(title="数据"), "anonnd"),
        (Work(title="A", author=[Name(family="李")], publisher="Science Press"), "sciencepressnd"),
    ],
)
def test_base_keys(work: Work, key: str) -> None:
    """family + year + first significant word; sensible without authors, year or Latin script."""
    assert base_key(work) == key


def test_collisions_get_suffixes() -> None:
    """A taken key gets a, b, … z, aa in order."""
    taken = {"smith2020deep"}
    assert next_free("smith2020deep", taken) == "smith2020deepa"
    taken |= {"smith2020deepa", *(f"smith2020deep{chr(c)}" for c in range(ord("b"), ord("z") + 1))}
    assert next_free("smith2020deep", taken) == "smith2020deepaa"


def test_suffix_hints_give_the_same_keys_as_searching_from_a() -> None:
    """A batch of works sharing a base key gets a, b, … with or without hints; a gap in
    the taken keys (an alias freed long ago) is still found first."""
    taken = {"smith2020deep", "smith2020deepb", "smith2020deepc"}
    plain, hinted = set(taken), set(taken)
    hints: dict[str, int] = {}
    for _ in range(800):
        a, b = next_free("smith2020deep", plain), next_free("smith2020deep", hinted, hints)
        assert a == b
        plain.add(a)
        hinted.add(b)
    assert "smith2020deepa" in hinted  # the gap before b was found first
    assert len(hinted) == 803
    assert "smith2020deepaaa" in hinted  # after zz comes aaa
