"""The one error family of refs.

Every error refs raises on purpose derives from :class:`RefsError`, so a caller
(and the CLI's single error boundary) can catch them all in one place::

    RefsError
    ├── IdentifierError      a DOI, PMID or PMCID that is not valid
    ├── InputError           a document that cannot be read, decoded or fetched
    ├── ConfigError          a setting or config file that does not make sense
    ├── UnknownDocument      a document named by the user is not in the library
    ├── ServiceError         a metadata service answered with something unusable
    ├── StoreError           the library or cache database cannot be used
    │   └── LockTimeout      another refs process holds the library lock
    └── ExportError          an export cannot be written

Messages name the input and say what was expected, e.g.
``'PMID: abc' is not a valid PMID: expected 1 to 8 digits such as PMID:37438700``.
"""

from __future__ import annotations


class RefsError(Exception):
    """Base class of every error refs raises on purpose."""


class IdentifierError(RefsError, ValueError):
    """A DOI, PMID or PMCID that could not be parsed or is not valid."""

    def __init__(self, message: str, *, text: str, scheme: str | None = None) -> None:
        super().__init__(message)
        self.text = text
        self.scheme = scheme


class InputError(RefsError):
    """A document that cannot be read, decoded or fetched."""

    def __init__(self, message: str, *, source: str) -> None:
        super().__init__(message)
        self.source = source


class ConfigError(RefsError):
    """A setting, environment variable or config file that does not make sense."""


class UnknownDocument(RefsError, LookupError):
    """A document the user named (``--document``) that the library does not know."""

    def __init__(self, message: str, *, document: str) -> None:
        super().__init__(message)
        self.document = document


class UnknownMention(RefsError, LookupError):
    """A citation (``refs accept MENTION``) that the library does not know."""

    def __init__(self, message: str, *, mention: str) -> None:
        super().__init__(message)
        self.mention = mention


class ServiceError(RefsError):
    """A metadata service answered with something refs cannot use.

    ``transient`` says whether asking again may help (429, 5xx, timeouts, resets,
    truncated or garbled bodies); a permanent error is reported at once.
    """

    def __init__(
        self,
        message: str,
        *,
        service: str,
        status: int | None = None,
        identifier: str | None = None,
        transient: bool = True,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.status = status
        self.identifier = identifier
        self.transient = transient
        self.retry_after = retry_after


class StoreError(RefsError):
    """The library or the cache database cannot be opened, read or written."""


class NoLibrary(StoreError):
    """A command that reads the library was pointed at a directory that holds none."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class LockTimeout(StoreError):
    """Another refs process held the library lock for longer than we may wait."""


class ExportError(RefsError):
    """An export could not be produced or written."""
