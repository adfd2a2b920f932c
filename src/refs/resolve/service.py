"""The protocol every metadata service module implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from refs.identifiers import Scheme
from refs.models import Record

if TYPE_CHECKING:
    from refs.resolve.http import Http

__all__ = ["Service"]


class Service(Protocol):
    """A metadata service: how to ask it for a batch of keys and what they name."""

    name: str
    pool: str

    def take(self, pending: Sequence[str]) -> int:
        """How many of ``pending`` (in order) fit in one request (at least 1)."""

    def identifiers_of(self, payload: str) -> dict[Scheme, str]:
        """Every identifier a record names (its DOI, PMID, PMCID): the crosswalk."""

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        """Ask for ``keys`` in one request; every key gets a record (ok or not_found).

        Raises :class:`~refs.errors.ServiceError` when the request fails after retries.
        """
