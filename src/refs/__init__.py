"""refs: turn the citations inside articles into a clean, deduplicated, always-fresh library.

The public API is what ``__all__`` lists; everything else is an implementation detail.
"""

from __future__ import annotations

from refs.errors import (
    ConfigError,
    ExportError,
    IdentifierError,
    InputError,
    LockTimeout,
    RefsError,
    ServiceError,
    StoreError,
)
from refs.identifiers import Identifier, Scheme, parse_identifier, scan
from refs.models import Document, Format, Mention

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Document",
    "ExportError",
    "Format",
    "Identifier",
    "IdentifierError",
    "InputError",
    "LockTimeout",
    "Mention",
    "RefsError",
    "Scheme",
    "ServiceError",
    "StoreError",
    "__version__",
    "parse_identifier",
    "scan",
]
