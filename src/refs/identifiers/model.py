"""The identifier types: schemes, canonical identifiers and spans found in text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["SCHEMES", "Found", "Identifier", "Scheme"]


class Scheme(StrEnum):
    """The identifier schemes refs knows."""

    DOI = "doi"
    PMID = "pmid"
    PMCID = "pmcid"

    # A member equals its value ("doi" == Scheme.DOI), so it hashes as its value; str's
    # own hash (in C) instead of Enum's (a Python call per hash, which dominated
    # clustering hundreds of thousands of identifiers).
    __hash__ = str.__hash__


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
