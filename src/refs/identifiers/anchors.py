"""One pass over a text for the literal anchors every identifier form starts from. Pure.

Each scanner (DOIs, publisher URLs, PMIDs/PMCIDs) checks its full pattern only where one
of its anchors stands. All anchors are found together by one Aho-Corasick automaton
(``ahocorasick-rs``, a DFA in Rust) over the text's UTF-8 bytes: one pass at memory speed
instead of a ``str.find`` (or a case-insensitive regex) pass per anchor. Anchors that
are matched case-insensitively (``pmid``, ``PubMed``) are listed in every case variant of
the letters that matter.
"""

from __future__ import annotations

import itertools
from enum import IntEnum

import ahocorasick_rs

__all__ = ["Anchor", "find_anchors"]


class Anchor(IntEnum):
    DOI = 0  # "10."
    SHORT_DOI = 1  # "10/"
    PUBLISHER = 2  # "/articles/", "/content/early/"
    PM = 3  # "pm" in any case: PMID, PMCID, PMC…, europepmc
    PUBMED = 4  # "bmed" in any case, two characters into "pubmed"
    TEMPLATE = 5  # "|" and "{{": wiki templates
    LIST_UIDS = 6  # "list_uids=": old Entrez URLs


def _cases(word: str) -> list[str]:
    return ["".join(c) for c in itertools.product(*((ch.lower(), ch.upper()) for ch in word))]


_NEEDLES: list[tuple[str, Anchor]] = [
    ("10.", Anchor.DOI),
    ("10/", Anchor.SHORT_DOI),
    ("/articles/", Anchor.PUBLISHER),
    ("/content/early/", Anchor.PUBLISHER),
    *((v, Anchor.PM) for v in _cases("pm")),
    *((v, Anchor.PUBMED) for v in _cases("bmed")),
    ("|", Anchor.TEMPLATE),
    ("{{", Anchor.TEMPLATE),
    ("list_uids=", Anchor.LIST_UIDS),
]
_KINDS = [kind for _, kind in _NEEDLES]
_AUTOMATON = ahocorasick_rs.BytesAhoCorasick(
    [needle.encode("ascii") for needle, _ in _NEEDLES],
    implementation=ahocorasick_rs.Implementation.DFA,
)


def find_anchors(text: str) -> list[list[int]]:
    """Positions (character offsets into ``text``) of each :class:`Anchor`, in order."""
    out: list[list[int]] = [[] for _ in Anchor]
    data = text.encode("utf-8", "surrogatepass")
    hits = _AUTOMATON.find_matches_as_indexes(data)
    if not hits:
        return out
    kinds = _KINDS
    if len(data) == len(text):  # ASCII: byte offsets are character offsets
        for index, start, _end in hits:
            out[kinds[index]].append(start)
        return out
    # Anchors are ASCII, so every hit starts on a character boundary; count the
    # characters between successive hits (one decode of the text in all).
    chars = byte = 0
    for index, start, _end in hits:
        chars += len(data[byte:start].decode("utf-8", "surrogatepass"))
        byte = start
        out[kinds[index]].append(chars)
    return out
