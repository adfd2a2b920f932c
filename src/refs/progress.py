"""How the library reports progress and warnings without printing (the CLI renders them)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["NullReporter", "Reporter"]


class Reporter(Protocol):
    """Receives progress from long operations; every method must be cheap."""

    def warning(self, message: str) -> None:
        """Something the user should know about that did not stop the operation."""

    def start(self, stage: str, total: int | None) -> None:
        """A stage begins, with the number of steps if known."""

    def advance(self, stage: str, steps: int = 1) -> None:
        """Steps of a stage are done."""

    def finish(self, stage: str) -> None:
        """A stage is done."""


class NullReporter:
    """Reports nothing; warnings are collected for callers that want them."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def start(self, stage: str, total: int | None) -> None:
        return None

    def advance(self, stage: str, steps: int = 1) -> None:
        return None

    def finish(self, stage: str) -> None:
        return None
