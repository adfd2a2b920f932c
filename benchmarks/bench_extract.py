"""Extraction throughput on one core, beside a single-regex baseline run in this process.

    python benchmarks/bench_extract.py [--mb 40] [--repeat 5]

The corpora are generated (seeded, so every run measures the same bytes): prose made of
common English words with citations at about the density of the real corpus in
../shared/corpus (one identifier per ~2 KB; DOIs, PMIDs and PMCIDs in the forms people
write), and HTML pages of that prose with paragraphs, links to doi.org / PubMed / PMC,
navigation, inline scripts and styles. The baseline is the one regex most tools use
(Crossref's DOI pattern, case-insensitive, ``finditer`` over the whole text): it finds
only DOIs and neither trims nor classifies them, so it is a floor on the cost of reading
the text once with Python's regex engine, not a competitor on quality.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections.abc import Callable

from refs.extract import extract
from refs.models import Document, Format

WORDS = (
    "the of and to in a is that for it as was with be by on not this are or from at which but "
    "have an they were been one all we their has would when if so no out up what about into "
    "more them can only other new some could time these two may then first any such like over "
    "even most made after also did many before must through back years where much way down "
    "should because each just those people how little state good very make world still own "
    "patients trial randomised cohort placebo dose efficacy safety outcome risk ratio analysis "
    "children adults women men disease treatment therapy clinical study review evidence"
).split()
BASELINE = re.compile(r"10\.\d{4,9}/[-._;()/:A-Z0-9]+", re.IGNORECASE)


def _citation(rng: random.Random) -> str:
    doi = f"10.{rng.randint(1000, 99999)}/j.{rng.choice(WORDS)}.{rng.randint(1, 10**6)}"
    pmid = str(rng.randint(1, 39_999_999))
    pmcid = f"PMC{rng.randint(100_000, 12_000_000)}"
    return rng.choice(
        [
            f"doi: {doi}.",
            f"https://doi.org/{doi}",
            f"PMID: {pmid}",
            f"(PMID {pmid}; PMCID: {pmcid})",
            f"doi:{doi}. PMID: {pmid}; PMCID: {pmcid}.",
            f"[@doi:{doi}]",
        ]
    )


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 24))
    return " ".join(words).capitalize() + "."


def make_text(size: int, seed: int = 1, density: int | None = None) -> str:
    """Prose of ``size`` bytes; a citation per ``density`` bytes on average (default ~1.5 KB)."""
    rng = random.Random(seed)
    chance = 0.35 if density is None else min(1.0, 530 / density)
    parts: list[str] = []
    total = 0
    while total < size:
        para = " ".join(_sentence(rng) for _ in range(rng.randint(3, 8)))
        if rng.random() < chance:
            para += " " + _citation(rng)
        parts.append(para)
        total += len(para) + 2
    return "\n\n".join(parts)


def make_html(size: int, seed: int = 2) -> str:
    rng = random.Random(seed)
    head = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Health news</title>"
        "<style>body{font-family:sans-serif} .nav a{color:#333}</style>"
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}</script>"
        "</head><body><nav class='nav'><a href='/'>Home</a> <a href='/news'>News</a></nav><article>"
    )
    parts = [head]
    total = len(head)
    while total < size:
        text = " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))
        r = rng.random()
        if r < 0.15:
            doi = f"10.{rng.randint(1000, 99999)}/j.{rng.choice(WORDS)}.{rng.randint(1, 10**6)}"
            text += f' <a href="https://doi.org/{doi}" rel="noopener">a study</a>.'
        elif r < 0.25:
            text += f' (<a href="https://pubmed.ncbi.nlm.nih.gov/{rng.randint(1, 39_999_999)}/">PubMed</a>)'
        elif r < 0.30:
            text += f' <a href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC{rng.randint(100_000, 12_000_000)}/">free full text</a>'
        para = f"<p class='body-text'>{text} <em>{rng.choice(WORDS)}</em> &amp; more.</p>\n"
        if rng.random() < 0.05:
            para += "<script>trackView({id: 12345, section: 'health'});</script>\n"
        parts.append(para)
        total += len(para)
    parts.append("</article><footer>&copy; Example</footer></body></html>")
    return "".join(parts)


def _median_seconds(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times = []
    result: object = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=40.0, help="size of each corpus in MB")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    print(f"# extraction throughput, one core, median of {args.repeat} runs")
    print(
        f"{'corpus':6} {'MB':>6} {'refs MB/s':>10} {'mentions':>9} {'baseline MB/s':>14} {'ratio':>6}  goal"
    )
    for name, text, fmt, goal in (
        ("text", make_text(size), Format.TEXT, 50.0),
        ("html", make_html(size), Format.HTML, 15.0),
    ):
        mb = len(text.encode("utf-8")) / 1e6
        document = Document(f"generated.{name}", text, fmt)
        t_refs, mentions = _median_seconds(lambda d=document: extract(d), args.repeat)
        t_base, _ = _median_seconds(
            lambda t=text: sum(1 for _ in BASELINE.finditer(t)), args.repeat
        )
        n = len(mentions) if isinstance(mentions, list) else 0
        print(
            f"{name:6} {mb:6.1f} {mb / t_refs:10.1f} {n:9d} {mb / t_base:14.1f} "
            f"{t_refs / t_base:6.2f}  >= {goal:g} MB/s: {'met' if mb / t_refs >= goal else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
