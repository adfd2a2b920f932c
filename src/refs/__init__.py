"""refs: turn the citations inside articles into a clean, deduplicated, always-fresh library.

The public API is what ``__all__`` lists; everything else is an implementation detail.
The stage functions (:mod:`refs.app`) and the models they pass along are imported on
first use, so ``import refs`` (and ``refs --help``) stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from refs.errors import (
    ConfigError,
    ExportError,
    IdentifierError,
    InputError,
    LockTimeout,
    RefsError,
    ServiceError,
    StoreError,
    UnknownDocument,
)

if TYPE_CHECKING:
    from refs.app import (
        build_works,
        export_library,
        extract_documents,
        library_entries,
        refresh,
        render,
        resolve_identifiers,
        resolve_inputs,
        store_works,
    )
    from refs.choices import ExportFormat, FailOn
    from refs.config import Settings, load_settings
    from refs.identifiers import Identifier, Scheme, parse_identifier, scan
    from refs.models import Document, Format, Mention
    from refs.work import Work

__version__ = "0.2.0.dev0"

_LAZY = {
    "Document": "refs.models",
    "ExportFormat": "refs.choices",
    "FailOn": "refs.choices",
    "Format": "refs.models",
    "Identifier": "refs.identifiers",
    "Mention": "refs.models",
    "Scheme": "refs.identifiers",
    "Settings": "refs.config",
    "Work": "refs.work",
    "build_works": "refs.app",
    "export_library": "refs.app",
    "extract_documents": "refs.app",
    "library_entries": "refs.app",
    "load_settings": "refs.config",
    "parse_identifier": "refs.identifiers",
    "refresh": "refs.app",
    "render": "refs.app",
    "resolve_inputs": "refs.app",
    "resolve_identifiers": "refs.app",
    "scan": "refs.identifiers",
    "store_works": "refs.app",
}

__all__ = [
    "ConfigError",
    "Document",
    "ExportError",
    "ExportFormat",
    "FailOn",
    "Format",
    "Identifier",
    "IdentifierError",
    "InputError",
    "LockTimeout",
    "Mention",
    "RefsError",
    "Scheme",
    "ServiceError",
    "Settings",
    "StoreError",
    "UnknownDocument",
    "Work",
    "__version__",
    "build_works",
    "export_library",
    "extract_documents",
    "library_entries",
    "load_settings",
    "parse_identifier",
    "refresh",
    "render",
    "resolve_identifiers",
    "resolve_inputs",
    "scan",
    "store_works",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'refs' has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
