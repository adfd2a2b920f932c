"""The identifier types: schemes, canonical identifiers and spans found in text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["IDENTIFIER_SCHEMES", "SCHEMES", "Found", "Identifier", "Scheme"]


class Scheme(StrEnum):
    """The identifier schemes refs knows."""

    DOI = "doi"
    PMID = "pmid"
    PMCID = "pmcid"
    # Citations without an identifier (``refs extract --unidentified``): an entry of a
    # reference list (its text) and a link to an article page (its URL). They are never
    # resolved as identifiers; matching (refs.match) turns them into a DOI or a PMID.
    REFERENCE = "reference"
    LINK = "link"

    @property
    def is_identifier(self) -> bool:
        return self in IDENTIFIER_SCHEMES

    # A member equals its value ("doi" == Scheme.DOI), so it hashes as its value; str's
    # own hash (in C) instead of Enum's (a Python call per hash, which dominated
    # clustering hundreds of thousands of identifiers).
    __hash__ = str.__hash__


# The schemes of identifiers proper (what services resolve).
IDENTIFIER_SCHEMES = frozenset({Scheme.DOI, Scheme.PMID, Scheme.PMCID})
# A scheme by its value, without Enum's call machinery (hot in storing and clustering).
SCHEMES: dict[str, Scheme] = {s.value: s for s in Scheme}


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A canonical identifier: ``Identifier(Scheme.DOI, "10.1186/s10194-023-01626-w")``."""

    scheme: Scheme
    value: str

    def __str__(self) -> str:
        return f"{self.scheme.value}:{self.value}"


@dataclass(frozen=True, slots=True)
class Found:
    """One identifier found in text: ``text[start:end] == raw``."""

    scheme: Scheme
    id: str
    raw: str
    start: int
    end: int

    @property
    def identifier(self) -> Identifier:
        return Identifier(self.scheme, self.id)
