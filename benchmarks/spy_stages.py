"""The stage breakdown of a profiled refs command: py-spy samples → pipeline stages.

    py-spy record -r 100 -f raw -o cold.raw -- refs resolve citations.txt --quiet
    python benchmarks/spy_stages.py cold.raw 100

Each sample (of every thread) is counted in the stage of its innermost frame that a rule
below names (validation, parsing, normalising, SQLite, dedup, planning, export, extract,
HTTP, waiting, start-up); the figures are thread-seconds, so with the resolver and
normaliser threads they add up to more than the wall time.
"""

from __future__ import annotations

import collections
import re
import sys

RULES = [
    ("validation", r"BaseModel\.__init__|model_validate|validate_python|validate_json"),
    (
        "parsing",
        r"split_work_list|split_article_set|parse_xml|names_of|Crossref\._list\.<locals>\.parse|PubMed\.fetch\.<locals>\.parse|IdConverter\.fetch\.<locals>\.parse|work_message|jsonio\.py",
    ),
    ("normalising", r"normalise_record_checked|work_from_crossref|work_from_pubmed"),
    (
        "SQLite",
        r"Cache\.put|get_many|naming_many|holdings|apply_plan|_Writes|store_renders|export_rows|renders \(works|read_works|transaction|snapshot|cited_by|SQLiteLibrary|connect \(db",
    ),
    ("dedup", r"cluster_records|merge_works|unchanged_clusters|unchanged_resolutions|_Groups"),
    ("planning", r"plan_store|_plan \(|build_works|cluster_resolutions|next_free|base_key"),
    (
        "export",
        r"write_library_exports|prerender|render_library|_Rendering|render_entry|to_bibtex|to_csl|write_atomic|assemble",
    ),
    ("extract", r"extract_documents|scan \(|find_anchors"),
    ("HTTP", r"Http\.|httpx|httpcore|h11"),
    (
        "waiting",
        r"select \(.*selectors|Condition\.wait|_worker \(.*thread\.py|Queue\.get|wait \(.*threading|sleep",
    ),
    ("start-up", r"_find_and_load|<module>"),
]
counts = collections.Counter()
total = 0
for line in open(sys.argv[1]):  # noqa: SIM115 (read to the end, closed at exit)
    stack, _, n = line.rstrip().rpartition(" ")
    n = int(n)
    total += n
    frames = stack.split(";")
    stage = "other"
    for f in reversed(frames):
        hit = next((name for name, pat in RULES if re.search(pat, f)), None)
        if hit:
            stage = hit
            break
    counts[stage] += n
rate = float(sys.argv[2]) if len(sys.argv) > 2 else 200
print(f"{'stage':12} {'thread-s':>8}")
for name, _ in [*RULES, ("other", "")]:
    if counts[name]:
        print(f"{name:12} {counts[name] / rate:8.2f}")
print(f"{'total':12} {total / rate:8.2f}")
