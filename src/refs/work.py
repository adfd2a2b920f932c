"""The clean record of one work: a pydantic model compatible with CSL-JSON.

Field names follow CSL-JSON (``container-title``, ``DOI`` …; in Python the same names
in snake case). Titles, container titles and abstracts are *CSL rich text*: plain text
in which only ``<i>``, ``<b>``, ``<sup>``, ``<sub>`` and
``<span style="font-variant:small-caps;">`` carry meaning (the subset citeproc and pandoc
understand); every other character is literal, ``&`` included, except that a literal
``<`` which would read as one of those tags is written ``&lt;``. :func:`plain_text`
gives the text without that markup (``T<sub>2</sub>`` → ``T2``).

Beyond CSL: ``status`` (retractions, corrections, expressions of concern, withdrawals,
each with its notice, date and the service that said so), ``provenance`` (which
records the work was built from), ``relations`` (preprint ↔ published version) and
``merges`` (why records were merged, and which source won each field).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DateParts",
    "MergeNote",
    "Name",
    "Provenance",
    "Relation",
    "StatusEvent",
    "Work",
    "plain_text",
    "status_note",
    "trusted_work",
]

StatusKind = Literal["retraction", "correction", "expression_of_concern", "withdrawal"]
STATUS_LABELS: dict[str, str] = {
    "retraction": "Retracted",
    "correction": "Corrected",
    "expression_of_concern": "Expression of concern",
    "withdrawal": "Withdrawn",
}

_MARKUP = re.compile(r"</?(?:i|b|sup|sub)>|<span style=\"font-variant:small-caps;\">|</span>")


def plain_text(rich: str | None) -> str:
    """CSL rich text without its markup: ``T<sub>2</sub>-weighted`` → ``T2-weighted``."""
    if not rich:
        return ""
    return _MARKUP.sub("", rich).replace("&lt;", "<")


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=False, extra="forbid")


class Name(_Model):
    """A person (``family``/``given`` with particles kept) or an organisation (``literal``)."""

    family: str | None = None
    given: str | None = None
    non_dropping_particle: str | None = Field(None, alias="non-dropping-particle")
    dropping_particle: str | None = Field(None, alias="dropping-particle")
    suffix: str | None = None
    literal: str | None = None
    orcid: str | None = Field(None, alias="ORCID")

    def display(self) -> str:
        if self.literal:
            return self.literal
        family = " ".join(p for p in (self.non_dropping_particle, self.family) if p)
        return ", ".join(p for p in (family, self.given) if p)


class DateParts(_Model):
    """A date with its precision: ``[2023]``, ``[2023, 7]`` or ``[2023, 7, 12]``."""

    parts: list[int] = Field(min_length=1, max_length=3)

    @property
    def year(self) -> int:
        return self.parts[0]

    def iso(self) -> str:
        return "-".join(f"{p:04d}" if i == 0 else f"{p:02d}" for i, p in enumerate(self.parts))


class StatusEvent(_Model):
    """A retraction, correction, expression of concern or withdrawal of the work."""

    kind: StatusKind
    notice: str | None = None  # the notice's identifier: "doi:…" or "pmid:…"
    date: str | None = None  # ISO date, as precise as the service gives it
    source: str  # who said so: "crossref (publisher)", "crossref (retraction-watch)", "pubmed"
    label: str | None = None

    def key(self) -> tuple[str, str]:
        return (self.kind, (self.notice or "").lower())

    def details(self) -> str:
        """``notice doi:…, 2026-11-02, reported by crossref (retraction-watch)``."""
        parts = []
        if self.notice:
            parts.append(f"notice {self.notice}")
        if self.date:
            parts.append(self.date)
        parts.append(f"reported by {self.source}")
        return ", ".join(parts)

    def describe(self) -> str:
        """``Retracted, notice doi:…, 2026-11-02, reported by …``: the one wording of an event."""
        return f"{STATUS_LABELS[self.kind]}, {self.details()}"


class Provenance(_Model):
    """A raw record the work was built from."""

    service: str
    key: str
    fetched_at: float
    digest: str | None = None  # SHA-256 of the raw payload: an identical answer is no change


class Relation(_Model):
    """A link to another version of the work (never merged with it)."""

    type: Literal["has-preprint", "is-preprint-of", "is-version-of", "has-version"]
    doi: str


class MergeNote(_Model):
    """Why records became one work, or which record supplied a contested field."""

    reason: str


class Work(_Model):
    """One cited work, normalised from one or more raw records."""

    type: str = "article"
    title: str | None = None
    container_title: str | None = Field(None, alias="container-title")
    container_title_short: str | None = Field(None, alias="container-title-short")
    author: list[Name] = Field(default_factory=list)
    editor: list[Name] = Field(default_factory=list)
    issued: DateParts | None = None
    volume: str | None = None
    issue: str | None = None
    page: str | None = None  # ranges with an en dash: "e2308706120", "159–167"
    doi: str | None = Field(None, alias="DOI")
    pmid: str | None = Field(None, alias="PMID")
    pmcid: str | None = Field(None, alias="PMCID")
    url: str | None = Field(None, alias="URL")
    issn: list[str] = Field(default_factory=list, alias="ISSN")
    isbn: list[str] = Field(default_factory=list, alias="ISBN")
    publisher: str | None = None
    language: str | None = None
    abstract: str | None = None
    genre: str | None = None  # e.g. "preprint", "PhD thesis"
    status: list[StatusEvent] = Field(default_factory=list)
    provenance: list[Provenance] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    merges: list[MergeNote] = Field(default_factory=list)

    def identifiers(self) -> dict[str, str]:
        """{"doi": …, "pmid": …, "pmcid": …} for the identifiers the work has."""
        return {
            k: v for k, v in (("doi", self.doi), ("pmid", self.pmid), ("pmcid", self.pmcid)) if v
        }

    def comparable(self) -> dict[str, Any]:
        """The bibliographic content: what a refresh compares (not provenance or merges)."""
        data = self.model_dump(mode="json", exclude={"provenance", "merges"}, exclude_none=True)
        return {k: v for k, v in data.items() if v not in ([], "")}

    @property
    def retracted(self) -> bool:
        return any(e.kind == "retraction" for e in self.status)


def trusted_work(data: dict[str, Any]) -> Work:
    """A :class:`Work` from data refs itself wrote (the library's JSON), built without
    validation. Only for data a validated ``Work`` was dumped to (by alias, None left
    out); answers and files from outside are validated.

    Each model is made the way pydantic's ``model_construct`` makes one (its field
    values in ``__dict__``, the names given in ``__pydantic_fields_set__``), with the
    alias table and defaults prepared once per model: loading 100,000 works this way
    takes a fraction of validating them, or of ``model_construct`` itself.
    """
    values = dict(data)
    for name, builder in _NESTED_LISTS:
        items = values.get(name)
        if items:
            values[name] = [builder.build(item) for item in items]
    issued = values.get("issued")
    if issued is not None:
        values["issued"] = _DATE.build(issued)
    return _WORK.build(values)  # type: ignore[return-value]


class _Builder:
    """Builds one model class from trusted data (see :func:`trusted_work`)."""

    def __init__(self, model: type[_Model]) -> None:
        self.model = model
        self.names = {(f.alias or n): n for n, f in model.model_fields.items()}
        self.names.update({n: n for n in model.model_fields})
        # Field order matters: serialisation follows ``__dict__``'s order.
        self.fields = [(n, f.default_factory, f.default) for n, f in model.model_fields.items()]

    def build(self, data: dict[str, Any]) -> _Model:
        given = {self.names[k]: v for k, v in data.items()}
        values = {}
        for name, factory, default in self.fields:
            if name in given:
                values[name] = given[name]
            else:
                values[name] = factory() if factory is not None else default  # type: ignore[call-arg]
        obj = self.model.__new__(self.model)
        object.__setattr__(obj, "__dict__", values)
        object.__setattr__(obj, "__pydantic_fields_set__", set(given))
        object.__setattr__(obj, "__pydantic_extra__", None)
        object.__setattr__(obj, "__pydantic_private__", None)
        return obj


_WORK = _Builder(Work)
_DATE = _Builder(DateParts)
_NESTED_LISTS: tuple[tuple[str, _Builder], ...] = (
    ("author", _Builder(Name)),
    ("editor", _Builder(Name)),
    ("status", _Builder(StatusEvent)),
    ("provenance", _Builder(Provenance)),
    ("relations", _Builder(Relation)),
    ("merges", _Builder(MergeNote)),
)


def status_note(work: Work) -> str | None:
    """``Retracted (…)``, ``Corrected (…)`` … for a work with status events, else None:
    the note every export carries, so a bibliography in any style shows it."""
    parts = []
    for label in STATUS_LABELS:
        events = [e for e in work.status if e.kind == label]
        if events:
            parts.append(f"{STATUS_LABELS[label]} ({'; '.join(e.details() for e in events)})")
    return ". ".join(parts) or None


# Fields a person may set for a work (an imported bibliography's values).
OVERRIDABLE = ("title", "container", "volume", "issue", "page", "year")


def with_overrides(work: Work, overrides: dict[str, str]) -> Work:
    """The work as a person set it: their values for the fields they gave."""
    if not overrides:
        return work
    update: dict[str, Any] = {}
    for name, value in overrides.items():
        if name == "container":
            update["container_title"] = value
        elif name == "year":
            if value[:4].isdigit():
                parts = list(work.issued.parts) if work.issued else [int(value[:4])]
                parts[0] = int(value[:4])
                update["issued"] = DateParts(parts=parts)
        elif name in ("title", "volume", "issue", "page"):
            update[name] = value
    return work.model_copy(update=update)
