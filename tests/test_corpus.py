"""Extraction on the real documents in ../shared/corpus (skipped where it is absent).

The corpus is measured, never copied: this runs `refs extract` over it as a user would
and scores the output with the corpus's own scorer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


@pytest.mark.skipif(not (CORPUS / "score.py").exists(), reason="../shared/corpus is not here")
def test_real_documents_keep_their_precision_and_recall(tmp_path: Path) -> None:
    """Precision >= 0.995 and strict recall >= 0.99 on the public corpus (both 1.0 today)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFS_")}
    env["REFS_CONFIG"] = os.devnull
    mentions = tmp_path / "mentions.jsonl"
    with mentions.open("w", encoding="utf-8") as out:
        subprocess.run(
            [sys.executable, "-m", "refs", "extract", str(CORPUS / "docs"), "--format", "jsonl"],
            stdout=out,
            env=env,
            cwd=tmp_path,
            check=True,
        )
    scored = subprocess.run(
        [sys.executable, str(CORPUS / "score.py"), str(mentions), "--mentions", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    overall = json.loads(scored.stdout)["overall"]["all"]
    assert overall["precision"] >= 0.995, overall
    assert overall["recall_strict"] >= 0.99, overall
