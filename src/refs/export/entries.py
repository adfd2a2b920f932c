"""What an export is made of: a work, its citation key, and the documents citing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from refs.work import Work

__all__ = ["ExportEntry"]


@dataclass(frozen=True, slots=True)
class ExportEntry:
    key: str
    work: Work
    documents: list[str] = field(default_factory=list)
    # How the work was found when a citation named no identifier (CSL custom.match):
    # {"method", "score", "query"}.
    match: dict[str, Any] | None = None
    # The work's other keys (an imported bibliography's, renamed ones): BibTeX ``ids``.
    aliases: list[str] = field(default_factory=list)
