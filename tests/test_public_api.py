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
    for name in refs.__all__:
        assert hasattr(refs, name)
