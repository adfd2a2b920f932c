"""The identifier types: schemes, canonical identifiers and spans found in text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Found", "Identifier", "Scheme"]


class Scheme(StrEnum):
    """The identifier schemes refs knows."""

    DOI = "doi"
    PMID = "pmid"
    PMCID = "pmcid"


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
