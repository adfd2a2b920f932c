"""The protocol every metadata service module implements."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from refs.models import Record

if TYPE_CHECKING:
    from refs.resolve.http import Http

__all__ = ["OneByOne", "Service", "batch_without", "ncbi_identity"]


class Service(Protocol):
    """A metadata service: how to ask it for a batch of keys and what they name."""

    name: str
    pool: str

    def take(self, pending: Sequence[str]) -> int:
        """How many of ``pending`` (in order) fit in one request (at least 1)."""

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        """Ask for ``keys`` in one request; every key gets a record (ok or not_found).

        Raises :class:`~refs.errors.ServiceError` when the request fails after retries.
        """


def batch_without(pending: Sequence[str], limit: int, forbidden: str) -> int:
    """How many of ``pending`` fit in one request of at most ``limit`` keys, none holding
    ``forbidden`` (a character the request's list syntax cannot carry): such a key is
    sent alone (at least 1 is always taken)."""
    if forbidden in pending[0]:
        return 1
    n = 0
    for key in pending[:limit]:
        if forbidden in key:
            break
        n += 1
    return max(n, 1)


class OneByOne:
    """Base for services with no batch endpoint: each key is one request (DataCite, doi.org)."""

    name: str
    pool: str

    def take(self, pending: Sequence[str]) -> int:
        return 1

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        return {key: await self.fetch_one(http, key, time.time()) for key in keys}

    async def fetch_one(self, http: Http, key: str, now: float) -> Record:
        raise NotImplementedError


def ncbi_identity(mailto: str | None, api_key: str | None) -> dict[str, str]:
    """What NCBI asks every E-utilities and ID-converter request to carry (NBK25497)."""
    identity = {"tool": "refs"}
    if mailto:
        identity["email"] = mailto
    if api_key:
        identity["api_key"] = api_key
    return identity
