"""Regenerate the bundled offline example data: cache/records.sqlite and references/ exports.

    python scripts/regenerate_examples.py        (or: make examples)

The replay server serves the genuine recorded responses in tests/fixtures/ (only those:
no derived or synthetic record) on the services' real paths; `refs resolve examples/`
runs against it with a fresh cache and library. What it fetched is what `make run` then
resolves offline: the cache holds the genuine records of every work the examples cite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from refs.testing.replay import ReplayData, ReplayServer

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    cache = ROOT / "cache" / "records.sqlite"
    library = ROOT / "references"
    for path in [cache, *library.glob("library.*")]:
        path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(cache) + suffix).unlink(missing_ok=True)
    data = ReplayData.from_fixtures(ROOT / "tests" / "fixtures", derived=False)
    with ReplayServer(data) as server:
        env = {
            **os.environ,
            **server.environ(),
            "REFS_CACHE": str(ROOT / "cache"),
            "REFS_LIBRARY": str(library),
            "REFS_CONFIG": os.devnull,
        }
        result = subprocess.run(
            [sys.executable, "-m", "refs", "resolve", "examples/"], cwd=ROOT, env=env, check=False
        )
    # The library database is each user's own; only its exports are shipped.
    for path in library.glob("library.sqlite*"):
        path.unlink()
    shutil.rmtree(ROOT / "cache" / "__pycache__", ignore_errors=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
