"""`refs report`: the editors' page, opened in a real browser (headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from refs.testing.replay import ReplayServer
from tests.conftest import cli_for

EXAMPLES = Path(__file__).parent.parent / "examples"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("REFS_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required here (REFS_REQUIRE_CHROMIUM=1) but not installed")
        pytest.skip("chromium is not installed (CI installs it and sets REFS_REQUIRE_CHROMIUM=1)")
    return CHROMIUM


def xp(node: Any, query: str) -> list[Any]:
    """XPath results, untyped (lxml's stubs type them as a union of everything)."""
    return list(node.xpath(query))


def parse(text: str) -> Any:
    return lxml_html.fromstring(text)


def _browser(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--user-data-dir={cwd / 'profile'}"]  # fmt: skip
    return subprocess.run(
        [*base, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


@pytest.fixture
def report(replay: ReplayServer, tmp_path: Path) -> Path:
    extra = tmp_path / "draft.md"
    extra.write_text(
        "A draft citing doi:10.1371/notarealdoi and nothing else.\n\n## References\n\n"
        "1. Foo A, Bar B. A non-existent article that should remain a plain text reference. "
        "J Nowhere. 2003;1:1-2.\n",
        encoding="utf-8",
    )

    refs = cli_for(replay, tmp_path, cwd=EXAMPLES.parent)

    refs("resolve", "-q", "--allow-unresolved", "examples/", str(extra))
    out = refs("report", "-o", str(tmp_path / "report.html"))
    assert out.returncode == 0, out.stderr
    assert "KB" in out.stderr
    return tmp_path / "report.html"


def test_the_page_is_self_contained_and_counts_what_needs_action(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    doc = parse(page)
    # No external asset: no stylesheet, script or image from anywhere.
    assert not xp(doc, "//link[@href] | //script[@src] | //img[@src] | //iframe")
    assert xp(doc, "//meta[@name='viewport']")
    counts = {li.get("class"): li.text_content() for li in xp(doc, "//ul[@class='counts']/li")}
    assert counts["count-articles"] == "4articles"
    assert counts["count-retracted"].startswith("2")  # Wakefield, cited by two articles
    assert counts["count-failed"].startswith("1")
    assert counts["count-unmatched"].startswith("1")


def test_chromium_renders_badges_links_and_the_filter(report: Path, tmp_path: Path) -> None:
    url = report.as_uri()
    shot = tmp_path / "report-phone.png"
    taken = _browser(f"--screenshot={shot}", "--window-size=390,1600", url, cwd=tmp_path)
    assert shot.exists(), taken.stderr[-500:]
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
    dom = _browser("--dump-dom", url, cwd=tmp_path)
    doc = parse(dom.stdout)
    articles = xp(doc, "//article")
    assert len(articles) == 4
    assert not xp(doc, "//article[contains(@class,'hidden')]")
    assert xp(doc, "//span[@id='shown']")[0].text == "4"  # the script ran
    retracted = xp(doc, "//li[@class='cite'][span[contains(@class,'retracted')]]")
    assert len(retracted) == 2
    for li in retracted:
        assert "Wakefield" in li.text_content()
        assert xp(li, ".//a[@href='https://doi.org/10.1016/s0140-6736(97)11096-0']")
        assert xp(li, "span")[0].get("class") == "badge retracted"  # the worst news first
    assert xp(doc, "//a[@href='https://pubmed.ncbi.nlm.nih.gov/38147649/']")
    assert xp(doc, "//a[@href='https://pmc.ncbi.nlm.nih.gov/articles/PMC10769841/']")
    draft = next(a for a in articles if "draft.md" in xp(a, "h2")[0].text)
    kinds = [s.text for s in xp(draft, ".//li[@class='problem']/span")]
    assert sorted(kinds) == ["failed", "unmatched"]
    # Filtered through the page's fragment: only articles citing retracted work remain.
    filtered = parse(_browser("--dump-dom", url + "#filter=retracted", cwd=tmp_path).stdout)
    shown = [a for a in xp(filtered, "//article") if "hidden" not in (a.get("class") or "")]
    assert len(shown) == 2
    assert all(xp(a, ".//span[contains(@class,'retracted')]") for a in shown)
    assert re.fullmatch(r"2", xp(filtered, "//span[@id='shown']")[0].text)
