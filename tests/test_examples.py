"""The README's main command runs offline on the bundled examples and reproduces references/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    """The README's two commands exist, `make run` resolves the examples, .ci/run runs `make test`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme
    assert "make test" in readme
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run: setup\n\t\$\(BIN\)/refs resolve examples/$", makefile, re.M)
    assert "make test" in (ROOT / ".ci/run").read_text(encoding="utf-8")


def test_main_command_offline_reproduces_the_shipped_library(tmp_path: Path) -> None:
    """`refs resolve examples/` with the shipped cache makes no request and writes the shipped exports."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "cache").mkdir()
    shutil.copy(ROOT / "cache" / "records.sqlite", tmp_path / "cache" / "records.sqlite")
    closed = "http://127.0.0.1:9"  # discard port: any request would fail
    env = {
        **os.environ,
        "REFS_CONFIG": os.devnull,
        "REFS_CROSSREF_URL": closed,
        "REFS_DATACITE_URL": closed,
        "REFS_DOI_URL": closed,
        "REFS_EUTILS_URL": closed,
        "REFS_IDCONV_URL": closed + "/",
        "REFS_RETRY_ATTEMPTS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "refs", "resolve", "examples/"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "requests: none" in result.stderr
    assert "8 new" in result.stderr
    assert "2 duplicate(s) merged" in result.stderr
    for name in ("library.bib", "library.json"):
        assert (tmp_path / "references" / name).read_bytes() == (
            ROOT / "references" / name
        ).read_bytes()
