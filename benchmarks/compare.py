"""Run the benchmarks on an earlier revision and on this tree, in one run, one after the other.

    python benchmarks/compare.py --base REV [--only extract,resolve,refresh,export]

The earlier revision is checked out in a temporary git worktree and run with its own
``src/`` and its own benchmark scripts (so each side measures what it shipped), on
the same machine, in the same minutes. Each benchmark prints its own figures; this
script prints them side by side, "before" first.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ("extract", "resolve", "refresh", "export")


def run(tree: Path, bench: str) -> tuple[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(tree / "benchmarks" / f"bench_{bench}.py")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    out = result.stdout + (
        f"\n[exit {result.returncode}]\n{result.stderr[-2000:]}" if result.returncode else ""
    )
    return out, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base", required=True, help="the revision to compare with (e.g. a commit)"
    )
    parser.add_argument("--only", default=",".join(BENCHES))
    args = parser.parse_args()
    rev = subprocess.run(
        ["git", "rev-parse", "--short", args.base],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="refs-bench-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), rev],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            for bench in args.only.split(","):
                print(f"=============== bench_{bench}.py ===============", flush=True)
                for label, tree in (
                    (f"before ({rev})", base),
                    (f"after ({head} + work tree)", ROOT),
                ):
                    out, seconds = run(tree, bench)
                    print(f"--- {label}: {seconds:.0f} s", flush=True)
                    print(out.rstrip(), flush=True)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
