"""How well a candidate work explains a reference string: a score in [0, 1]. Pure.

A search service ranks by its own relevance, which is not evidence: the top hit of a
query for a work it does not hold is some other work (Crossref's "non-existent
article" answer). Each candidate is therefore *validated* against the string, field by
field, as Crossref's own search-based matcher with validation does (SBMV, see
``../shared/fixtures/search/PROVENANCE.md`` §5), with rapidfuzz for the fuzzy parts:

* **title**: the candidate's title (or its main title, before a colon) aligned inside
  the string (``partial_ratio``), so that the authors and venue around it cost nothing;
* **first author**: the family name of the candidate's first author near the start of
  the string, plus the share of its other authors found anywhere;
* **year** (the candidate's year in the string; one year off counts half: online and
  print dates), **volume**, **first page** and **issue**: exact numbers among the
  string's numbers, a contradiction when the string has numbers of that kind but not
  this one;
* **container**: the journal or book title, full or abbreviated.

The score is the weighted mean of the fields both sides have, minus penalties for
contradictions (a wrong year, volume or page is strong evidence of another work), and
halved when fewer than three fields support the candidate (SBMV's "3 of title, year,
volume, author, page"). :func:`decide` then accepts the best candidate only when it
reaches the threshold and stands clearly ahead of the runner-up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_MIN_SCORE",
    "Candidate",
    "Decision",
    "Evidence",
    "decide",
    "fold",
    "score",
]

# The threshold at which accepted matches were 99% right or better on the calibration
# set (benchmarks/bench_match.py; README "Matching citations without identifiers").
DEFAULT_MIN_SCORE = 0.8
# The best candidate must lead the runner-up (another work) by this much.
DEFAULT_MARGIN = 0.08

_WEIGHTS = {
    "title": 0.40,
    "author": 0.18,
    "year": 0.14,
    "volume": 0.09,
    "page": 0.09,
    "container": 0.06,
    "issue": 0.04,
}
_DOI = re.compile(r"\b(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?10\.\d{4,9}/\S+", re.I)
_URL = re.compile(r"https?://\S+", re.I)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_NUMBER = re.compile(r"(?<![0-9a-z])[a-z]?\d+[a-z]?(?![0-9a-z])")
_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|20[0-4]\d)(?!\d)")
# A page range "E694-700", "317–335": its second number is often abbreviated.
_RANGE_END = re.compile(r"(?<![\w])[A-Za-z]?\d+\s*[-–—]\s*([A-Za-z]?\d+)(?![\w])")
# Titles of notices about a work, not the work: "Erratum: …", "Reply to …".
_NOTICE = re.compile(
    r"^\W*(erratum|errata|corrigendum|correction|retraction|retracted|reply|response|"
    r"comment|commentary|expression of concern|withdrawn|addendum)\b",
    re.I,
)


def fold(text: str) -> str:
    """Lower case, accents off, punctuation to spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


@dataclass(frozen=True, slots=True)
class Candidate:
    """A work a search proposed, reduced to the fields a citation shows."""

    id: str  # "doi:10.…" or "pmid:…"
    title: str | None = None
    authors: tuple[str, ...] = ()  # family names, in order
    year: int | None = None
    container: tuple[str, ...] = ()  # full and abbreviated names
    volume: str | None = None
    issue: str | None = None
    page: str | None = None  # the first page
    last_page: str | None = None
    type: str | None = None
    relevance: float | None = None  # the search service's own score, if it gave one
    source: str = ""  # the search method that proposed it
    # Other identifiers the record names (a PubMed record's DOI), "scheme:value".
    also: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """A candidate's score and the per-field similarities behind it."""

    candidate: Candidate
    score: float
    fields: dict[str, float] = field(default_factory=dict)


_FILLER = frozenset(
    "et al and in of the a an vol pp no eds ed edn edition press publ available online "
    "retrieved from accessed doi http https www org com".split()
)
_TAG = re.compile(r"<[^>]+>")


class _Reference:
    """A reference string prepared once for scoring many candidates."""

    def __init__(self, text: str) -> None:
        text = _URL.sub(" ", _DOI.sub(" ", text))
        self.text = fold(text)
        self.words = self.text.split()
        self.tokens = set(self.words)
        self.numbers = {n for n in _NUMBER.findall(self.text) if any(c.isdigit() for c in n)}
        self.years = {int(y) for y in _YEAR.findall(self.text)}
        # Numbers that are not years: volumes, issues, pages (the ends of page ranges,
        # often abbreviated, "694-7", are left out).
        ends = {fold(m.group(1)) for m in _RANGE_END.finditer(text)}
        self.small = {
            n for n in self.numbers if not (n.isdigit() and int(n) in self.years) and n not in ends
        }


def _title_similarity(ref: _Reference, title: str) -> float:
    title = _TAG.sub("", title)
    t = fold(title)
    if not t:
        return 0.0
    best = (
        fuzz.partial_ratio(t, ref.text) / 100
        if len(t) <= len(ref.text)
        else (fuzz.ratio(t, ref.text) / 100)
    )
    # The string may cite the main title or the subtitle only: slightly weaker evidence.
    for part in re.split(r"[:?.]\s|\s[—–-]\s", title):
        p = fold(part)
        if p and p != t and len(p) >= 12:
            best = max(best, 0.92 * fuzz.partial_ratio(p, ref.text) / 100)
    if len(t) < 20:
        # Short titles align somewhere in most strings: trust them less.
        best *= 0.85 + 0.0075 * len(t)
    return best


_STOP = frozenset("a an the of and in on for to with by at from as or is are its".split())


def _extra_words(ref: _Reference, title: str) -> int:
    """Words of the candidate's title that the string lacks (a typo'd word counts as
    present): "… (part II)" of a companion paper, "Erratum" of a notice. A subtitle
    after the first colon is not counted (citations drop subtitles)."""
    main = _TAG.sub("", title).split(":", 1)[0]
    missing = 0
    for word in fold(main).split():
        if word in _STOP or word in ref.tokens:
            continue
        if len(word) >= 4 and process.extractOne(
            word, ref.tokens, scorer=fuzz.ratio, score_cutoff=75
        ):
            continue
        missing += 1
    return missing


def _author_similarity(ref: _Reference, authors: Sequence[str]) -> float | None:
    families = [fold(a) for a in authors if a and fold(a)]
    if not families:
        return None
    first = families[0]
    head = ref.text[: max(3 * len(first), 40)]
    sim = (
        fuzz.partial_ratio(first, head) / 100
        if len(first) > 2
        else (1.0 if first in head.split() else 0.0)
    )
    others = families[1:6]
    if others:
        found = sum(1 for a in others if a in ref.tokens or all(p in ref.tokens for p in a.split()))
        sim = 0.8 * sim + 0.2 * (found / len(others))
    return sim


def _plain_number(value: str) -> str:
    return value.lstrip("e").lstrip("0")


def _number_evidence(ref: _Reference, value: str | None, others: set[str]) -> float | None:
    """1 when the string shows ``value``; 0 (a contradiction) when it shows a number that
    nothing else of the candidate (``others``: its year, volume, issue, pages) explains;
    None when the string simply leaves it out."""
    if not value:
        return None
    v = fold(value).replace(" ", "")
    if not v or not any(c.isdigit() for c in v):
        return None
    if v in ref.numbers:
        return 1.0
    # "e21194" printed as "21194", or leading zeros.
    bare = _plain_number(v)
    if any(_plain_number(n) == bare for n in ref.numbers if n):
        return 0.9
    unexplained = {n for n in ref.small if _plain_number(n) not in others}
    return 0.0 if unexplained else None


def _container_similarity(ref: _Reference, names: Sequence[str]) -> float | None:
    best = None
    for name in names:
        n = fold(name)
        if len(n) < 2:
            continue
        sim = fuzz.partial_ratio(n, ref.text) / 100 if len(n) <= len(ref.text) else 0.0
        if len(n) < 6:
            sim = 1.0 if n in ref.text.split() or f" {n} " in f" {ref.text} " else sim * 0.6
        best = sim if best is None else max(best, sim)
    return best


def score(reference: str, candidate: Candidate) -> Evidence:
    """How well ``candidate`` explains the citation ``reference``, in [0, 1]."""
    return _score(_Reference(reference), candidate)


def _holds_a_title(ref: _Reference, c: Candidate) -> bool:
    """Whether the string has words that its authors, venue and numbers do not explain:
    a structured citation ("Tkaczyk IJDAR 2015 18 317") names no title to compare."""
    explained = set(_FILLER)
    for name in (*c.authors, *c.container):
        explained.update(fold(name).split())
    leftover = [
        w
        for w in ref.words
        if len(w) >= 3 and w not in explained and not any(ch.isdigit() for ch in w)
    ]
    return len(leftover) >= 3


def _score(ref: _Reference, c: Candidate) -> Evidence:
    fields: dict[str, float] = {}
    if c.title and _holds_a_title(ref, c):
        fields["title"] = _title_similarity(ref, c.title)
    author = _author_similarity(ref, c.authors)
    if author is not None:
        fields["author"] = author
    if c.year is not None and ref.years:
        fields["year"] = (
            1.0 if c.year in ref.years else 0.5 if {c.year - 1, c.year + 1} & ref.years else 0.0
        )
    numbers = {c.volume, c.issue, c.page, c.last_page, str(c.year) if c.year else None}
    others = {_plain_number(fold(n).replace(" ", "")) for n in numbers if n}
    for name, number in (("volume", c.volume), ("page", c.page), ("issue", c.issue)):
        ev = _number_evidence(ref, number, others)
        # An issue number is often left out of a citation: only its presence counts.
        if ev is not None and (name != "issue" or ev > 0):
            fields[name] = ev
    container = _container_similarity(ref, c.container)
    if container is not None:
        fields["container"] = container
    if (
        not ref.numbers
        and fields.get("title", 0) >= 0.9
        and len(fold(_TAG.sub("", c.title or ""))) >= 0.8 * len(ref.text)
    ):
        # The string is (nearly) the title alone: authors and venue it does not show
        # are missing, not contradicting.
        for name in ("author", "container"):
            if fields.get(name, 1.0) < 0.8:
                fields.pop(name, None)
    if not fields:
        return Evidence(c, 0.0, fields)
    total = sum(_WEIGHTS[k] for k in fields)
    value = sum(_WEIGHTS[k] * v for k, v in fields.items()) / total
    # Contradictions: another year, volume or first page means another work, however
    # similar the title (a series, a reply, a later edition).
    if fields.get("year") == 0.0:
        value -= 0.25
    if fields.get("volume") == 0.0:
        value -= 0.12
    if fields.get("page") == 0.0:
        value -= 0.12
    if fields.get("title", 1.0) < 0.6:
        value -= 0.15
    elif "title" in fields and c.title and _extra_words(ref, c.title) >= 2:
        value -= 0.2  # the candidate's title says more than the string: another work
    notice = _NOTICE.match(c.title or "")
    if notice and notice.group(1).lower() not in ref.tokens:
        value -= 0.3  # an erratum or reply of the cited work, which the string does not cite
    if fields.get("author", 1.0) < 0.5:
        value -= 0.1
    support = sum(
        (
            fields.get("title", 0) >= 0.8,
            fields.get("author", 0) >= 0.8,
            fields.get("year", 0) >= 1.0,
            fields.get("volume", 0) >= 0.9,
            fields.get("page", 0) >= 0.9,
        )
    )
    if not ref.numbers:
        # A citation without numbers (author and title, or a title alone): its title
        # must be found whole, with its first author or long enough to be distinctive.
        title = fields.get("title", 0)
        long_title = len(fold(_TAG.sub("", c.title or ""))) >= 40
        if not (title >= 0.9 and (fields.get("author", 0) >= 0.8 or long_title)):
            value *= 0.5
    elif support < 3:
        value *= 0.5
    # Evidence from fewer fields is less certain: shrink towards zero a little.
    coverage = total / sum(_WEIGHTS.values())
    value *= 0.85 + 0.15 * coverage
    return Evidence(c, round(max(0.0, min(1.0, value)), 4), fields)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of validating a search's candidates for one citation."""

    accepted: Evidence | None
    ranked: list[Evidence]
    reason: str | None = None  # why nothing was accepted

    @property
    def best(self) -> Evidence | None:
        return self.ranked[0] if self.ranked else None


def _same_work(a: Candidate, b: Candidate) -> bool:
    """A preprint and its article, or a work found by two searches."""
    if a.id == b.id or a.id in b.also or b.id in a.also:
        return True
    if a.title and b.title and fold(a.title) == fold(b.title):
        return bool(a.authors and b.authors and fold(a.authors[0]) == fold(b.authors[0]))
    return False


_PREFER = {"article-journal": 0, "paper-conference": 1, "chapter": 1, "book": 1}


def decide(
    reference: str,
    candidates: Sequence[Candidate],
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    margin: float = DEFAULT_MARGIN,
    excluded: Sequence[str] = (),
) -> Decision:
    """Score every candidate; accept the best when it reaches ``min_score`` and leads the
    best *other* work by ``margin``. ``excluded`` ids (a person rejected them) never win.
    """
    ref = _Reference(reference)
    ranked = sorted(
        (_score(ref, c) for c in candidates if c.id not in excluded),
        key=lambda e: (-e.score, _PREFER.get(e.candidate.type or "", 2), e.candidate.id),
    )
    merged: list[Evidence] = []
    for ev in ranked:  # one entry per work: the best-scored, published version first
        if not any(_same_work(ev.candidate, m.candidate) for m in merged):
            merged.append(ev)
    if not merged:
        return Decision(None, merged, "the search found no candidate")
    best = merged[0]
    if best.score < min_score:
        return Decision(None, merged, f"best candidate scored {best.score:.2f} < {min_score:.2f}")
    if len(merged) > 1 and best.score - merged[1].score < margin:
        return Decision(
            None,
            merged,
            f"best candidate ({best.score:.2f}) is not clearly ahead of the next "
            f"({merged[1].score:.2f})",
        )
    return Decision(best, merged)
