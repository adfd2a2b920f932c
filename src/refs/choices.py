"""The few choices a user makes by name, shared by the library and the command line."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ExportFormat", "FailOn"]


class ExportFormat(StrEnum):
    """What an export is written as."""

    bibtex = "bibtex"
    csl_json = "csl-json"


class FailOn(StrEnum):
    """Which events make ``refs refresh`` exit with status 1."""

    retraction = "retraction"
    status = "status"
    change = "change"
    never = "never"
