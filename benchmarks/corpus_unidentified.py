"""Citations without identifiers in the public corpus (../shared/corpus/docs), as refs finds them.

    python benchmarks/corpus_unidentified.py [--sample 20] [--seed 3]

Runs ``refs extract --unidentified`` on the corpus as a subprocess and prints, per
document, the reference entries and article links found without identifiers; for JATS
documents, beside it, the ``<ref>`` elements that hold no identifier mention (the
structural count, so recall can be read off); then a fixed random sample of entries
and links to check by hand.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
CORPUS = ROOT.parent / "shared" / "corpus" / "docs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"{CORPUS} is absent")
    from refs.documents import read_file
    from refs.extract import extract
    from refs.extract.references import _REF, _Taken

    refs = str(Path(sys.executable).parent / "refs")
    started = time.perf_counter()
    out = subprocess.run(
        [refs, "extract", "--unidentified", "--format", "jsonl", str(CORPUS)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall = time.perf_counter() - started
    rows = [json.loads(line) for line in out.splitlines()]
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in rows:
        counts[Path(r["document"]).name][r["scheme"]] += 1
    print(f"refs extract --unidentified {CORPUS} ({wall:.2f} s):")
    total_refs = total_links = structural = 0
    for path in sorted(CORPUS.iterdir()):
        c = counts.get(path.name, collections.Counter())
        extra = ""
        if path.suffix in (".xml", ".nxml"):
            document = read_file(str(path))
            taken = _Taken(extract(document))
            src = document.text
            bare = 0
            for m in _REF.finditer(src):
                end = src.find("</ref>", m.end())
                bare += not taken.overlaps(m.start(), end if end >= 0 else len(src))
            structural += bare
            extra = f"  (<ref>s without an identifier: {bare})"
        total_refs += c["reference"]
        total_links += c["link"]
        print(f"  {path.name[:58]:58} reference {c['reference']:3}  link {c['link']:3}{extra}")
    print(
        f"  total: {total_refs} reference entries, {total_links} links; JATS <ref>s without an identifier: {structural}"
    )
    rng = random.Random(args.seed)
    found = [r for r in rows if r["scheme"] in ("reference", "link")]
    print(f"\nsample of {args.sample} (seed {args.seed}) to check by hand:")
    for r in rng.sample(found, min(args.sample, len(found))):
        print(f"  [{r['scheme']}] {Path(r['document']).name[:30]}: {r['id'][:150]}")


if __name__ == "__main__":
    main()
