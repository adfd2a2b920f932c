"""The data that flows between the stages of refs.

Documents and mentions (extraction) are small frozen dataclasses, because a large
corpus makes hundreds of thousands of them; works (normalisation onwards) are
pydantic models compatible with CSL-JSON, see :mod:`refs.work`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from refs.identifiers import Identifier, Scheme

__all__ = ["Document", "Format", "Mention"]


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
        data = asdict(self)
        data["scheme"] = self.scheme.value
        return data
