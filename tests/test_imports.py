"""The import graph follows the data's flow (scripts/imports.py, which `make test` runs)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "imports.py"
spec = importlib.util.spec_from_file_location("imports_script", SCRIPT)
assert spec is not None
assert spec.loader is not None
imports = importlib.util.module_from_spec(spec)
sys.modules["imports_script"] = imports
spec.loader.exec_module(imports)


def test_the_source_tree_breaks_no_rule() -> None:
    """refs' own graph: pure stages free of I/O stages, storage free of policy, no CLI imports."""
    assert imports.violations(imports.graph()) == []


def test_each_rule_catches_its_breach() -> None:
    """A pure stage importing the store, the store importing policy, resolve importing a
    concrete store and anyone importing the CLI are each reported."""
    edges = {
        "refs.dedup": {"refs.store.library"},
        "refs.store.works": {"refs.keys"},
        "refs.resolve.engine": {"refs.store.cache"},
        "refs.app.resolving": {"refs.cli"},
        "refs.__main__": {"refs.cli"},
        "refs.app.inputs": {"refs.store.lock"},
    }
    broken = imports.violations(edges)
    assert broken == [
        "pure stages import no I/O stage: refs.dedup imports refs.store.library",
        "store carries no policy: refs.store.works imports refs.keys",
        "resolve knows no concrete store: refs.resolve.engine imports refs.store.cache",
        "nothing imports the CLI: refs.app.resolving imports refs.cli",
    ]


def test_imports_inside_functions_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deferred import (inside a function) is still a dependency."""
    module = tmp_path / "refs" / "keys.py"
    module.parent.mkdir()
    module.write_text("def f():\n    from refs.store import cache\n", encoding="utf-8")
    monkeypatch.setattr(imports, "SRC", tmp_path)
    assert "refs.store" in imports.imports_of(module)
