"""The data that flows between the stages of refs.

Documents and mentions (extraction) are small frozen dataclasses, because a large
corpus makes hundreds of thousands of them; works (normalisation onwards) are
pydantic models compatible with CSL-JSON, see :mod:`refs.work`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from refs.identifiers import Identifier, Scheme

# The json module's string escaper (its C version when built, as json.dumps uses it).
_json_string = json.encoder.encode_basestring

__all__ = ["Document", "Format", "Mention", "Record", "RecordStatus", "payload_digest"]


class Format(StrEnum):
    """How a document's text is read."""

    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    XML = "xml"
    WIKI = "wiki"


@dataclass(frozen=True, slots=True)
class Document:
    """A decoded document: ``source`` is the path as given or the URL."""

    source: str
    text: str
    format: Format


@dataclass(frozen=True, slots=True)
class Mention:
    """One identifier as it stands in one document.

    ``document[start:end]`` (the document's decoded text, for HTML and XML the markup
    itself) is ``raw``; ``id`` is the canonical identifier; ``context`` is the line or
    sentence around it, whitespace collapsed.
    """

    document: str
    scheme: Scheme
    id: str
    raw: str
    start: int
    end: int
    context: str

    @property
    def identifier(self) -> Identifier:
        return Identifier(self.scheme, self.id)

    def to_dict(self) -> dict[str, Any]:
        """The mention as JSON-ready data with exactly the documented keys."""
        return {
            "document": self.document,
            "scheme": self.scheme.value,
            "id": self.id,
            "raw": self.raw,
            "start": self.start,
            "end": self.end,
            "context": self.context,
        }

    def json_line(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, built directly: the strings
        by the json module's own C escaper, with no dict and no encoder walk per mention
        (a third of ``refs extract``'s output time)."""
        q = _json_string
        return (
            f'{{"document": {q(self.document)}, "scheme": {q(self.scheme.value)}, '
            f'"id": {q(self.id)}, "raw": {q(self.raw)}, "start": {self.start:d}, '
            f'"end": {self.end:d}, "context": {q(self.context)}}}'
        )


# "unchanged": a refresh learned the record did not change since it was last fetched
# (Crossref's from-index-date filter left it out). Never cached.
RecordStatus = Literal["ok", "not_found", "unchanged"]


@dataclass(frozen=True, slots=True)
class Record:
    """One service's answer for one key (a DOI, a PMID, a PMCID).

    ``payload`` is the raw text of the record: for a batch answer, the part of it that
    belongs to this key (a Crossref work message, one ``<PubmedArticle>``, one idconv
    record), so that normalisation can be re-run from the cache without the network.
    """

    service: str
    key: str
    status: RecordStatus
    fetched_at: float
    payload: str | None = field(default=None, repr=False)  # can be large: keep out of reprs
    http_status: int | None = None
    content_type: str | None = None
    validators: dict[str, str] = field(default_factory=dict)
    reason: str | None = None  # for not_found: what the service said
    # Every identifier the record names (its DOI, PMID, PMCID): the crosswalk, read
    # once by the service module when it parsed the answer.
    names: dict[Scheme, str] = field(default_factory=dict)
    # Something the user should know about this answer (not cached).
    warning: str | None = None
    # The service's base URL it came from: a not-found answer from a mistyped
    # REFS_*_URL must not stand once the URL is fixed.
    base: str | None = None
    # payload_digest(payload), when known (the cache stores it beside the payload).
    digest: str | None = None
    # Read from the cache without its payload (a run that finds its records unchanged
    # never needs them); ``RecordCache.get`` has the whole record.
    lazy: bool = False

    def payload_digest(self) -> str | None:
        if self.digest is not None:
            return self.digest
        return payload_digest(self.payload) if self.payload is not None else None


def payload_digest(payload: str) -> str:
    """A fingerprint of a raw record: a refresh that gets the same bytes back has no news."""
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()
