"""The public API is pinned: changing it is a deliberate act."""

from __future__ import annotations

import refs


def test_all_is_pinned_and_sorted() -> None:
    """refs.__all__ lists exactly the public names, sorted, and each exists."""
    assert refs.__all__ == sorted(refs.__all__)
    assert refs.__all__ == [
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
    for name in refs.__all__:
        assert hasattr(refs, name)


def test_import_is_light() -> None:
    """Importing refs (as `refs --help` does) loads no stage: the API is imported on use."""
    import subprocess
    import sys

    code = "import refs, sys; print(sorted(m for m in sys.modules if m.startswith(('httpx', 'pydantic', 'refs.app'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
