"""Print refs' import graph and check that it follows the flow of the data.

    python scripts/imports.py [--quiet]

Every ``import`` in ``src/refs`` counts (at module level, inside functions, and under
``TYPE_CHECKING``): a dependency is a dependency. The rules:

1. the pure stages (identifiers, extract, records, normalise, dedup, keys, planner,
   export) import none of resolve, store, app (the application layer) or cli;
2. store imports no dedup, keys, planner or normalise: policy stays out of storage;
3. resolve imports no concrete store class (it gets a RecordCache);
4. nothing imports cli (but ``refs.__main__``, the entry point).

Exits 1 and names each broken rule's import. Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

PURE = ("identifiers", "extract", "records", "normalise", "dedup", "keys", "planner", "export")
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...], str]] = [
    ("pure stages import no I/O stage", PURE, ("resolve", "store", "app", "cli"), ""),
    ("store carries no policy", ("store",), ("dedup", "keys", "planner", "normalise"), ""),
    ("resolve knows no concrete store", ("resolve",), ("store",), ""),
    ("nothing imports the CLI", ("*",), ("cli",), "__main__"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every refs module ``path`` imports (``from refs.x import y`` counts refs.x.y if it is one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("refs"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "refs" or base.startswith("refs."):
                found.add(base)
                for alias in node.names:
                    if (SRC / Path(*f"{base}.{alias.name}".split("."))).exists() or (
                        SRC / Path(*f"{base}.{alias.name}".split("."))
                    ).with_suffix(".py").exists():
                        found.add(f"{base}.{alias.name}")
    return found


def stage(module: str) -> str:
    """The stage a module belongs to: the part after ``refs.`` (``refs.store.cache`` → store)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted((SRC / "refs").rglob("*.py"))}


def violations(edges: dict[str, set[str]]) -> list[str]:
    broken = []
    for name, sources, forbidden, exempt in RULES:
        for module, targets in sorted(edges.items()):
            if stage(module) == exempt:
                continue
            if "*" not in sources and stage(module) not in sources:
                continue
            for target in sorted(targets):
                if stage(target) in forbidden and stage(target) != stage(module):
                    broken.append(f"{name}: {module} imports {target}")
    return broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="print only broken rules")
    args = parser.parse_args(argv)
    edges = graph()
    if not args.quiet:
        stages: dict[str, set[str]] = {}
        for module, targets in edges.items():
            stages.setdefault(stage(module) or "refs", set()).update(
                stage(t) for t in targets if stage(t) and stage(t) != stage(module)
            )
        print("stage -> stages it imports")
        for name in sorted(stages):
            print(f"  {name:12} -> {', '.join(sorted(stages[name])) or '-'}")
    broken = violations(edges)
    for line in broken:
        print(f"BROKEN {line}", file=sys.stderr)
    if not args.quiet:
        print(
            f"{len(edges)} modules, {sum(len(t) for t in edges.values())} imports, "
            f"{len(broken)} broken rule(s)"
        )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
