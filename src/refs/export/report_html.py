"""The editors' page (``refs report``): one self-contained static HTML file. Pure.

Each article with its citations (formatted, linked to doi.org, PubMed and PMC), badges
for retracted, corrected, concerned and withdrawn works and for citations that could
not be resolved or matched, counts at the top, and a filter box. No external asset:
the CSS and the few lines of script are inline, so the page works offline, from a
file, and on a phone (one column, a viewport meta tag). The filter also reads the
page's fragment (``report.html#filter=retracted``), so a link can open it filtered.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["ArticleView", "CitationView", "ProblemView", "render_report"]

BADGES = {
    "retraction": ("retracted", "Retracted"),
    "correction": ("corrected", "Corrected"),
    "expression_of_concern": ("concern", "Expression of concern"),
    "withdrawal": ("withdrawn", "Withdrawn"),
}


@dataclass(slots=True)
class CitationView:
    key: str
    text_html: str  # the formatted reference (citeproc's HTML)
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    status: list[tuple[str, str]] = field(default_factory=list)  # (kind, details)
    matched: str | None = None  # how a citation without identifier found it


@dataclass(slots=True)
class ProblemView:
    kind: str  # "unmatched" | "failed"
    text: str
    reason: str


@dataclass(slots=True)
class ArticleView:
    document: str
    citations: list[CitationView] = field(default_factory=list)
    problems: list[ProblemView] = field(default_factory=list)


_CSS = """
*{box-sizing:border-box}body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
margin:0 auto;max-width:60rem;padding:1rem;color:#1d1d1f;background:#fff}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:0 0 .5rem;word-break:break-all}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;padding:0;list-style:none}
.counts li{border:1px solid #ccc;border-radius:.5rem;padding:.35rem .7rem}
.counts b{font-size:1.15rem;margin-right:.25rem}
#filter{width:100%;font-size:1rem;padding:.55rem .7rem;border:1px solid #999;border-radius:.4rem;margin-bottom:1rem}
article{border:1px solid #ddd;border-radius:.6rem;padding:.8rem 1rem;margin:0 0 1rem}
ol,ul{list-style:none;padding-left:0;margin:.3rem 0}li.cite,li.problem{margin:.55rem 0;overflow-wrap:anywhere}
.links a{margin-right:.6rem;font-size:.9rem}
.badge{display:inline-block;font-size:.78rem;font-weight:600;border-radius:.3rem;padding:.05rem .4rem;margin:0 .3rem .2rem 0}
.retracted{background:#b00020;color:#fff}.corrected{background:#8a5a00;color:#fff}
.concern{background:#6a1b9a;color:#fff}.withdrawn{background:#444;color:#fff}
.unmatched{background:#e6e6e6;color:#222}.failed{background:#ffd7d7;color:#600}
.matched{background:#e3f0ff;color:#0b3d91}
.status{font-size:.88rem;color:#555;margin:.15rem 0}.problem{font-size:.92rem;color:#444}
.hidden{display:none}
@media (max-width:40rem){body{padding:.6rem}article{padding:.6rem .7rem}}
"""

_JS = """
(function(){var box=document.getElementById('filter');
function apply(){var q=box.value.trim().toLowerCase();var shown=0;
document.querySelectorAll('article').forEach(function(a){
var hit=!q||a.textContent.toLowerCase().indexOf(q)>=0||(a.dataset.flags||'').indexOf(q)>=0;
a.classList.toggle('hidden',!hit);if(hit){shown++;}});
document.getElementById('shown').textContent=shown;}
box.addEventListener('input',apply);
var m=/filter=([^&]*)/.exec(location.hash);if(m){box.value=decodeURIComponent(m[1]);}
apply();})();
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _links(c: CitationView) -> str:
    links = []
    if c.doi:
        links.append(f'<a href="https://doi.org/{_e(c.doi)}">doi:{_e(c.doi)}</a>')
    if c.pmid:
        links.append(
            f'<a href="https://pubmed.ncbi.nlm.nih.gov/{_e(c.pmid)}/">PMID {_e(c.pmid)}</a>'
        )
    if c.pmcid:
        links.append(
            f'<a href="https://pmc.ncbi.nlm.nih.gov/articles/{_e(c.pmcid)}/">{_e(c.pmcid)}</a>'
        )
    return f'<div class="links">{"".join(links)}</div>' if links else ""


def render_report(articles: Sequence[ArticleView], *, title: str = "References report") -> str:
    """The whole page."""
    counts = {
        "articles": len(articles),
        "citations": sum(len(a.citations) for a in articles),
        "retracted": 0,
        "corrected": 0,
        "concern": 0,
        "withdrawn": 0,
        "unmatched": 0,
        "failed": 0,
    }
    body = []
    for a in articles:
        flags: set[str] = set()
        items = []
        for c in a.citations:
            badges = []
            lines = []
            order = list(BADGES)
            for kind, details in sorted(
                c.status, key=lambda s: order.index(s[0]) if s[0] in order else 9
            ):
                cls, label = BADGES.get(kind, (kind, kind))
                badges.append(f'<span class="badge {cls}">{_e(label)}</span>')
                lines.append(f'<div class="status">{_e(label)}: {_e(details)}</div>')
                flags.add(cls)
            if c.matched:
                badges.append(f'<span class="badge matched">{_e(c.matched)}</span>')
            items.append(
                f'<li class="cite" id="{_e(a.document)}::{_e(c.key)}">{"".join(badges)}'
                f"{c.text_html}{''.join(lines)}{_links(c)}</li>"
            )
        for cls in ("retracted", "corrected", "concern", "withdrawn"):
            counts[cls] += sum(
                1 for c in a.citations if any(BADGES.get(k, ("",))[0] == cls for k, _ in c.status)
            )
        problems = []
        for p in a.problems:
            counts[p.kind] += 1
            flags.add(p.kind)
            problems.append(
                f'<li class="problem"><span class="badge {_e(p.kind)}">{_e(p.kind)}</span>'
                f"{_e(p.text)} <em>({_e(p.reason)})</em></li>"
            )
        section = [
            f'<article data-flags="{_e(" ".join(sorted(flags)))}">',
            f"<h2>{_e(a.document)}</h2>",
            f'<div class="status">{len(a.citations)} cited work(s)</div>',
            f"<ol>{''.join(items)}</ol>" if items else "",
            f"<ul>{''.join(problems)}</ul>" if problems else "",
            "</article>",
        ]
        body.append("".join(section))
    labels = {
        "articles": "articles",
        "citations": "citations",
        "retracted": "retracted",
        "corrected": "corrected",
        "concern": "expressions of concern",
        "withdrawn": "withdrawn",
        "unmatched": "unmatched",
        "failed": "failed",
    }
    summary = "".join(
        f'<li class="count-{k}"><b>{v}</b>{_e(labels[k])}</li>' for k, v in counts.items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{_e(title)}</h1><ul class="counts">{summary}</ul>'
        '<input id="filter" type="search" placeholder="Filter: a title, a DOI, retracted, unmatched …" '
        'aria-label="Filter articles">'
        f'<p class="status"><span id="shown">{len(articles)}</span> of {len(articles)} article(s) shown</p>'
        f"{''.join(body)}<script>{_JS}</script></body></html>\n"
    )
