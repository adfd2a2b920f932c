"""The application layer: the stages of refs as functions, composed once.

documents ─extract→ mentions ─resolve→ raw records ─normalise→ works ─dedup→ library ─export→ files

* :func:`extract_documents`: inputs (files, directories, URLs) → mentions, per document;
* :func:`resolve_identifiers`: identifiers → raw records (cache and services);
* :func:`build_works`: resolved records → normalised, deduplicated clusters of works;
* :func:`store_works`: clusters and documents → the library (planned, one transaction);
* :func:`library_entries`, :func:`render`, :func:`export_library`: the library → BibTeX / CSL-JSON;
* :func:`resolve_inputs` and :func:`refresh`: the two commands that compose them, holding the
  library's lock only while writing the library and its exports.

Each command of the CLI calls one of these.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refs.app.exporting import export_library, library_entries, render, write_library_exports
    from refs.app.inputs import DocumentResult, extract_documents, split_inputs
    from refs.app.refreshing import NotChecked, RefreshReport, Shown, refresh
    from refs.app.resolving import (
        BuiltWorks,
        ResolveRun,
        StoreSummary,
        build_works,
        normalise_records,
        resolve_identifiers,
        resolve_inputs,
        store_works,
    )
    from refs.app.stores import library_exists, open_cache, open_library, opened_library

# Each name's module, imported on first use: ``refs extract`` needs only the inputs
# stage, and must not pay for importing the network, storage and export stages.
_HOMES = {
    "export_library": "exporting",
    "library_entries": "exporting",
    "render": "exporting",
    "write_library_exports": "exporting",
    "DocumentResult": "inputs",
    "extract_documents": "inputs",
    "split_inputs": "inputs",
    "NotChecked": "refreshing",
    "RefreshReport": "refreshing",
    "Shown": "refreshing",
    "refresh": "refreshing",
    "BuiltWorks": "resolving",
    "ResolveRun": "resolving",
    "StoreSummary": "resolving",
    "build_works": "resolving",
    "normalise_records": "resolving",
    "resolve_identifiers": "resolving",
    "resolve_inputs": "resolving",
    "store_works": "resolving",
    "library_exists": "stores",
    "open_cache": "stores",
    "open_library": "stores",
    "opened_library": "stores",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module 'refs.app' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(import_module(f"refs.app.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BuiltWorks",
    "DocumentResult",
    "NotChecked",
    "RefreshReport",
    "ResolveRun",
    "Shown",
    "StoreSummary",
    "build_works",
    "export_library",
    "extract_documents",
    "library_entries",
    "library_exists",
    "normalise_records",
    "open_cache",
    "open_library",
    "opened_library",
    "refresh",
    "render",
    "resolve_identifiers",
    "resolve_inputs",
    "split_inputs",
    "store_works",
    "write_library_exports",
]
