"""Studies that an article describes without citing them: passages, searches, ranks. Pure.

News and blog posts report research in prose ("a new study", "the researchers found",
"Jim's latest paper followed 36 neck injury patients") and cite nothing. This module
finds such passages, reads what they name (people, institutions, journals, years,
numbers and the distinctive terms of the topic) from the passage and the sentences
around it, builds a search (Europe PMC's query syntax: ``AUTH:``, ``TITLE_ABS:``,
``PUB_YEAR:``), and ranks the candidates a search returns by how much of that
description each one explains. Suggestions are for a person to confirm; nothing here
accepts one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from refs.match.score import Candidate, fold

__all__ = ["Description", "Passage", "describe", "find_passages", "rank", "visible_text"]

# Sentences end at . ! ? (not in "U.S.", "Dr.", "et al.", initials) or a line break.
_SENTENCE = re.compile(
    r"(?:[^.!?\n]|(?<=\b[A-Z])\.|(?<=\bDr)\.|(?<=\bProf)\.|(?<=\bal)\.|(?<=\bvs)\.|(?<=\be\.g)\.|(?<=\bi\.e)\.)+"
    r"(?:[.!?]+[\"'”’)]*|\n|$)"
)
_TRIGGERS = re.compile(
    r"\b(?:a|the|this|their|his|her)\s+(?:new|recent|latest|small|large|landmark|"
    r"\d+-year)\s+(?:study|trial|paper|research|analysis|review|report|survey)\b"
    r"|\b\w+(?:'s|’s)\s+(?:latest|new|recent|last)\s+(?:paper|study|research|work|trial)\b"
    r"|\b(?:researchers?|scientists?|investigators?|the\s+authors|the\s+team)\s+"
    r"(?:found|showed|reported|discovered|concluded|followed|studied|tracked|analy[sz]ed|observed)\b"
    r"|\b(?:study|paper|research|trial)\s+(?:followed|found|showed|tracked|published|reported)\b"
    r"|\bpublished\s+(?:in|this|last)\s+(?:the\s+)?[A-Z\w]"
    r"|\bfollowed\s+\d+\s+\w+"
    r"|\b(?:a|the)\s+(?:randomi[sz]ed\s+)?(?:controlled\s+)?trial\s+of\b"
    r"|\bconcluded\s+that\b",
    re.I,
)
_CITED = re.compile(
    r"\b10\.\d{4,9}/|\bPMID\b|\bPMC\d|https?://|\[\d+\]|\(\w+ et al\.?,? \d{4}\)", re.I
)
_TAGS = re.compile(r"<!--.*?-->|<(script|style|head)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
_ACRONYM = re.compile(r"\b([A-Z]{2,5})s?\b")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d|s\b)")  # not decades ("the 1970s")
_COUNT = re.compile(
    r"\b(\d{1,3}(?:,\d{3})+|\d{2,5})\s+(?:[a-z-]+\s+){0,2}"
    r"(?!(?:years|months|weeks|days|hours|minutes|seconds|times|percent)\b)[a-z]{3,}s\b"
)
_POSSESSIVE = re.compile(r"\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?:'s|’s)\b")
_TITLED = re.compile(
    r"\b(?:Dr\.?|Prof\.?|Professor|Doctor)\s+(?:[A-Z][a-z]+\s+)?([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b"
)
_FULL_NAME = re.compile(r"\b([A-Z][a-z]+)\s+([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b")
_INSTITUTION = re.compile(
    r"\b(University\s+of\s+[A-Z][\w-]+(?:\s+[A-Z][\w-]+)?|[A-Z][\w-]+\s+University|"
    r"[A-Z][\w-]+\s+(?:Medical\s+(?:School|Center|Centre)|Institute|Hospital|Clinic))\b"
    r"|\b(?:professor|researcher|scientist|physician|doctor)s?\s+at\s+(?:the\s+)?([A-Z][\w&.-]+)",
)
_JOURNAL = re.compile(r"\bpublished\s+in\s+(?:the\s+(?:journal\s+)?)?((?:[A-Z][\w&-]*\s?){1,6})")
_JOURNAL_WORDS = re.compile(
    r"\b(?:journal|review|lancet|jama|bmj|nature|science|cell|medicine|annals|archives|"
    r"proceedings|plos|pediatrics|spine|neurology|circulation|radiology|pain|reports)\b",
    re.I,
)

# Words of everyday English and of every study: never distinctive terms of a topic.
_COMMON = frozenset(
    """a about above across after again against all almost also although always am among an and
    another any anyone anything are around as at away back be became because become been before
    being below best better between beyond big both but by can cannot could day days decade
    decades did do does doing done down during each early easily either else end enough even
    ever every extreme extremely fact far few finally find finding findings first for found from
    further get gets getting give given go going good great had has have having he her here him
    his how however huge i if in indeed into is it its itself just keep keeps know known large
    last late later latest lead least less like likely little long look looking lot made make
    makes making many may me might more most much must my near need needs never new next no not
    nothing now of off often old on once one only or other others our out over own part people
    per perhaps point put quickly rather read real really recent recently right same saw say says
    see seen seems several she should show showed shown shows since small so some something soon
    still such take taken than that the their them then there these they thing things think this
    those though three through thus time times to today together too took two under until up upon
    us use used using very want was way ways we well went were what when where whether which
    while who whom whose why will with within without work worked working would year years yet
    you your amazing interesting important new research study studies paper papers published
    researchers scientists author authors journal results result data patients patient people
    group groups participants team professor doctor doctors physician physicians clinic clinics
    university hospital institute trial trials analysis evidence effect effects case cases level
    levels rate rates risk high higher low lower average number numbers percent month months week
    weeks help helps helped treat treated treatment treatments likelihood chance hard work
    leap forward ground breaking testament dedication curious journey world talented school
    likely others whom chronic term quickly either status comment point finer add altered routine
    protocols psychological conditioning training keeping literature stuck mentality reality
    understanding scientifically extremely important nutty scary crazy equation person neglected
    education necessary blog post article story news""".split()
)


@dataclass(frozen=True, slots=True)
class Passage:
    """A passage that reports a study: ``text[start:end]`` of the document."""

    start: int
    end: int
    text: str
    window: str  # the passage with the sentences around it, where names are read


@dataclass(slots=True)
class Description:
    """What a passage says about the study it reports."""

    people: list[str] = field(default_factory=list)  # surnames
    institutions: list[str] = field(default_factory=list)
    journals: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # "36" of "36 neck injury patients"
    terms: list[str] = field(default_factory=list)  # distinctive words of the topic

    def query(self) -> str:
        """The Europe PMC search for the study."""
        parts = []
        if self.people:
            parts.append(" OR ".join(f'AUTH:"{p}"' for p in self.people[:2]))
        if self.terms:
            parts.append("(" + " OR ".join(f'TITLE_ABS:"{t}"' for t in self.terms) + ")")
        if self.journals:
            parts.append(" OR ".join(f'JOURNAL:"{j}"' for j in self.journals[:1]))
        if self.years:
            lo, hi = min(self.years), max(self.years)
            parts.append(f"PUB_YEAR:{lo}" if lo == hi else f"PUB_YEAR:[{lo} TO {hi}]")
        return " AND ".join(f"({p})" if " OR " in p and not p.startswith("(") else p for p in parts)


def visible_text(text: str, *, markup: bool) -> str:
    """The text with markup blanked out character for character (offsets unchanged)."""
    if not markup:
        return text
    return _TAGS.sub(lambda m: " " * len(m.group()), text)


def _sentences(text: str) -> list[tuple[int, int]]:
    out = []
    for m in _SENTENCE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s >= 3:
            out.append((s, e))
    return out


def find_passages(text: str) -> list[Passage]:
    """Passages that report a study without citing it, in document order."""
    sentences = _sentences(text)
    hits = [i for i, (s, e) in enumerate(sentences) if _TRIGGERS.search(text, s, e)]
    passages = []
    i = 0
    while i < len(hits):
        first = last = hits[i]
        while i + 1 < len(hits) and hits[i + 1] <= last + 2:  # neighbours: one passage
            i += 1
            last = hits[i]
        i += 1
        start, end = sentences[first][0], sentences[last][1]
        lo = sentences[max(0, first - 3)][0]
        hi = sentences[min(len(sentences) - 1, last + 2)][1]
        if _CITED.search(text, lo, hi):
            continue  # the study is cited nearby: a description of a cited work
        passages.append(
            Passage(start, end, " ".join(text[start:end].split()), " ".join(text[lo:hi].split()))
        )
    return passages


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def describe(passage: Passage, document: str) -> Description:
    """People, institutions, journals, years, numbers and terms of a passage."""
    window = passage.window
    doc_words = Counter(w.lower() for w in _WORD.findall(document))
    # People: surnames cued by a title or a possessive, or written in full, and named
    # again in the document.
    # A first name stands for the surname it is written with elsewhere ("Jim" → Elliott).
    surname_of: dict[str, str] = {}
    for m in _FULL_NAME.finditer(document):
        if m.group(1).lower() not in _COMMON and m.group(2).lower() not in _COMMON:
            surname_of.setdefault(m.group(1), m.group(2))
    cued: Counter[str] = Counter()
    for name in [m.group(1) for m in _TITLED.finditer(window)] + [
        m.group(1) for m in _POSSESSIVE.finditer(window)
    ]:
        cued[surname_of.get(str(name), str(name))] += 1
    for m in _FULL_NAME.finditer(window):
        cued[m.group(2)] += 1
    surnames = set(surname_of.values())
    for word in re.findall(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b", window):
        if word in surnames:
            cued[word] += 1  # a surname the document gives in full elsewhere
    standalone = Counter(re.findall(r"(?<=[a-z,;:] )([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b", document))
    people = sorted(
        (n for n in cued if standalone[n] >= 2 and n.lower() not in _COMMON and len(n) > 2),
        key=lambda n: (-(standalone[n] + cued[n]), n),
    )
    institutions = []
    for m in _INSTITUTION.finditer(window):
        name = (m.group(1) or m.group(2) or "").strip(" .")
        if name and name not in institutions:
            institutions.append(name)
    journals = [
        " ".join(m.group(1).split())
        for m in _JOURNAL.finditer(window)
        if _JOURNAL_WORDS.search(m.group(1)) or "journal" in m.group().lower()
    ]
    years = sorted({int(y) for y in _YEAR.findall(window)})
    numbers = list(dict.fromkeys(m.group(1) for m in _COUNT.finditer(window)))
    # Terms: acronyms, and words of the passage that are not everyday English, ranked by
    # how often the whole document uses them.
    named = {w.lower() for n in people + institutions + journals for w in n.split()}
    scores: dict[str, float] = {}
    for word in _WORD.findall(window):
        lower = _singular(word.lower().strip("'’"))
        if (
            len(lower) < 4
            or lower in _COMMON
            or lower in named
            or (word[0].isupper() and lower not in doc_words)
        ):
            continue
        if word[0].isupper() and word.lower() not in doc_words:
            continue
        # How often the document uses it, more if the passage itself does, and a little
        # more for long words (the rare ones of a field are long: "multifidus").
        in_passage = 2 if word in passage.text else 0
        scores[lower] = max(
            scores.get(lower, 0.0),
            doc_words[word.lower()] + doc_words[lower] + in_passage + len(lower) / 8,
        )
    for m in _ACRONYM.finditer(window):
        acronym = m.group(1)
        if acronym.lower() not in _COMMON and acronym not in {
            "PT",
            "US",
            "UK",
            "USA",
            "MD",
            "PHD",
            "PhD",
        }:
            scores[acronym] = 3 + document.count(acronym) + (2 if acronym in passage.text else 0)
    terms = [t for t, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
    return Description(people[:3], institutions[:3], journals[:1], years, numbers, terms)


def rank(
    description: Description, candidates: list[Candidate], texts: dict[str, str]
) -> list[tuple[Candidate, float]]:
    """Candidates by how much of the description each explains, in [0, 1]: its authors
    (0.35), the topic's terms and numbers in its title and abstract (0.4), the
    institutions in its affiliations (0.15), its year (0.1). ``texts``: id → the
    candidate's title, abstract and affiliations."""
    out = []
    for c in candidates:
        haystack = f" {fold(texts.get(c.id, c.title or ''))} "
        families = [fold(a) for a in c.authors]
        author = 0.0
        for p in description.people:
            f = fold(p)
            if families and f in (families[0], families[-1]):
                author = max(author, 1.0)
            elif f in families:
                author = max(author, 0.7)
        wanted = [fold(t) for t in description.terms] + list(description.numbers)
        terms = sum(1 for t in wanted if f" {t} " in haystack or f" {t}s " in haystack)
        topic = terms / len(wanted) if wanted else 0.0
        inst = 0.0
        if description.institutions:
            inst = max(
                (1.0 if fold(i) in haystack else 0.0 for i in description.institutions), default=0.0
            )
        year = 0.0
        if description.years and c.year:
            year = (
                1.0
                if c.year in description.years
                else 0.5
                if any(abs(c.year - y) <= 1 for y in description.years)
                else 0.0
            )
        weights = {"author": 0.35, "topic": 0.4, "inst": 0.15, "year": 0.1}
        if not description.institutions:
            weights.pop("inst")
        if not description.years:
            weights.pop("year")
        values = {"author": author, "topic": topic, "inst": inst, "year": year}
        total = sum(weights.values())
        out.append((c, round(sum(weights[k] * values[k] for k in weights) / total, 4)))
    out.sort(key=lambda x: (-x[1], x[0].id))
    return out
