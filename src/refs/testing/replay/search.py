"""Search answers of the replay server, ranked over the records it holds.

Shapes are the genuine ones (``tests/fixtures/search/``): a Crossref ``work-list``
whose items carry ``score`` (``message.query.search-terms`` null, as for
``query.bibliographic``); an esearch ``eSearchResult``; ecitmatch lines
``journal|year|volume|first_page|author|key|PMID``; a Europe PMC ``resultList``.

The relevance is simple and documented so that tests can place the right work among
distractors, or leave it out: a record's *search text* is its title, container titles,
author family names, year, volume and first page, folded (lower case, accents and
punctuation off); a query's score for a record is the sum of ``ln(1 + N / df(t))`` over
the distinct query tokens ``t`` (two characters or more) found in that text, where
``N`` is the number of records and ``df(t)`` how many hold ``t``; Crossref's ``score``
is that sum times 10. Records scoring 0 are left out; ties go by identifier. esearch
is boolean as PubMed's is: every ``term[au]``, ``term[dp]``, ``term[tiab]`` (or
untagged term) must hold, ``"…"[doi]`` matches the article's own DOI exactly, and
``OR`` joins such AND-groups; newest PMID first. ecitmatch finds the record with that
year, volume and first page whose journal abbreviation or first author agrees
(``NOT_FOUND`` otherwise; no genuine NOT_FOUND body was found, so that line's shape
is an assumption).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["SearchIndex", "fold_tokens"]

_DOI_TAGS = ("doi", "aid", "lid")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


def fold_tokens(text: str) -> list[str]:
    return [t for t in _fold(text).split() if len(t) >= 2]


@dataclass(slots=True)
class _Entry:
    kind: str  # crossref | pubmed | europepmc
    id: str  # DOI, PMID or Europe PMC id
    tokens: set[str]
    title: str
    authors: list[str]
    year: str
    volume: str
    page: str
    journals: list[str]
    body: Any  # the record as the service returns it
    dois: frozenset[str] = frozenset()  # the article's own DOI (PubMed's [doi] field)


def _crossref_entry(doi: str, m: dict[str, Any]) -> _Entry:
    title = " ".join(m.get("title") or [])
    journals = [*(m.get("container-title") or []), *(m.get("short-container-title") or [])]
    authors = [a.get("family") or a.get("name") or "" for a in m.get("author") or []]
    year = ""
    for key in ("issued", "published-print", "published-online", "published"):
        parts = (m.get(key) or {}).get("date-parts") or [[None]]
        if parts and parts[0] and parts[0][0]:
            year = str(parts[0][0])
            break
    page = str(m.get("page") or "").split("-")[0]
    text = " ".join([title, *journals, *authors, year, str(m.get("volume") or ""), page])
    return _Entry(
        "crossref",
        doi,
        set(fold_tokens(text)),
        title,
        authors,
        year,
        str(m.get("volume") or ""),
        page,
        journals,
        m,
    )


def _pubmed_entry(pmid: str, xml: str) -> _Entry | None:
    from refs.normalise.pubmed import normalise

    try:
        w = normalise(xml, pmid, 0.0)
    except ValueError:
        return None
    journals = [j for j in (w.container_title, w.container_title_short) if j]
    authors = [a.family or a.literal or "" for a in w.author]
    year = str(w.issued.parts[0]) if w.issued else ""
    page = (w.page or "").replace("–", "-").split("-")[0]
    abstract = w.abstract or ""
    text = " ".join([w.title or "", abstract, *journals, *authors, year, w.volume or "", page])
    from refs.identifiers import Scheme
    from refs.records.pubmed import names_of

    doi = names_of(xml).get(Scheme.DOI)
    return _Entry(
        "pubmed",
        pmid,
        set(fold_tokens(text)),
        w.title or "",
        authors,
        year,
        w.volume or "",
        page,
        journals,
        xml,
        frozenset({doi}) if doi else frozenset(),
    )


def _europepmc_entry(r: dict[str, Any]) -> _Entry:
    authors = [
        a.get("lastName") or "" for a in (r.get("authorList") or {}).get("author") or []
    ] or [p.strip().rsplit(" ", 1)[0] for p in str(r.get("authorString") or "").split(",")]
    info = r.get("journalInfo") or {}
    journal = info.get("journal") or {}
    journals = [j for j in (journal.get("title"), journal.get("isoabbreviation")) if j]
    affiliations = " ".join(
        str(x.get("affiliation") or "")
        for a in (r.get("authorList") or {}).get("author") or []
        for x in (a.get("authorAffiliationDetailsList") or {}).get("authorAffiliation") or []
    )
    text = " ".join(
        [
            str(r.get("title") or ""),
            str(r.get("abstractText") or ""),
            *journals,
            *authors,
            str(r.get("pubYear") or ""),
            affiliations,
        ]
    )
    return _Entry(
        "europepmc",
        str(r.get("id")),
        set(fold_tokens(text)),
        str(r.get("title") or ""),
        authors,
        str(r.get("pubYear") or ""),
        str(info.get("volume") or ""),
        str(r.get("pageInfo") or "").split("-")[0],
        journals,
        r,
    )


class SearchIndex:
    """The replay data's records, indexed for the search routes (built on first use)."""

    def __init__(
        self,
        crossref: dict[str, dict[str, Any]],
        pubmed: dict[str, str],
        europepmc: dict[str, dict[str, Any]],
    ) -> None:
        self.crossref = [_crossref_entry(d, m) for d, m in sorted(crossref.items())]
        self.pubmed = [e for p, x in sorted(pubmed.items()) if (e := _pubmed_entry(p, x))]
        self.europepmc = [_europepmc_entry(r) for _, r in sorted(europepmc.items())]
        # PubMed's [doi] field is an exact lookup: a batch of 100 OR-ed DOIs must not
        # scan every record per DOI (the server would be the benchmark's bottleneck).
        self._by_doi: dict[str, list[_Entry]] = {}
        for e in self.pubmed:
            for doi in e.dois:
                self._by_doi.setdefault(doi, []).append(e)
        self._df = {
            kind: Counter(t for e in entries for t in e.tokens)
            for kind, entries in (
                ("crossref", self.crossref),
                ("pubmed", self.pubmed),
                ("europepmc", self.europepmc),
            )
        }

    def rank(self, kind: str, query: str) -> list[tuple[float, _Entry]]:
        entries = getattr(self, kind)
        df = self._df[kind]
        n = len(entries)
        tokens = set(fold_tokens(query))
        scored = []
        for e in entries:
            s = sum(math.log(1 + n / df[t]) for t in tokens & e.tokens)
            if s > 0:
                scored.append((s, e))
        scored.sort(key=lambda x: (-x[0], x[1].id))
        return scored

    # ---------------------------------------------------------------- Crossref

    def crossref_bibliographic(self, query: str, rows: int) -> dict[str, Any]:
        items = []
        for s, e in self.rank("crossref", query)[:rows]:
            item = dict(e.body)
            item["score"] = round(10 * s, 5)
            items.append(item)
        return {
            "status": "ok",
            "message-type": "work-list",
            "message-version": "1.0.0",
            "message": {
                "facets": {},
                "total-results": len(self.rank("crossref", query)),
                "items": items,
                "items-per-page": rows,
                "query": {"start-index": 0, "search-terms": None},
            },
        }

    # ---------------------------------------------------------------- PubMed

    def esearch(self, term: str, retmax: int) -> str:
        # ``A AND B OR C AND D``: OR of AND-groups (no parentheses across groups).
        groups = [
            [c.strip() for c in re.split(r"\bAND\b", alt) if c.strip()]
            for alt in re.split(r"\bOR\b", term)
        ]
        found_ids: set[str] = set()
        for group in groups:
            if not group:
                continue
            clauses = [self._clause(c) for c in group]
            doi = next((v for v, tag in clauses if tag in _DOI_TAGS), None)
            candidates = self.pubmed if doi is None else self._by_doi.get(doi, [])
            found_ids.update(
                e.id for e in candidates if all(self._holds(e, v, t) for v, t in clauses)
            )
        found = sorted(found_ids, key=lambda p: -int(p))
        ids = "".join(f"<Id>{p}</Id>\n" for p in found[:retmax])
        return (
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
            '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
            f"<eSearchResult><Count>{len(found)}</Count><RetMax>{min(retmax, len(found))}</RetMax>"
            f"<RetStart>0</RetStart><IdList>\n{ids}</IdList><TranslationSet/>"
            f"<QueryTranslation>{_xml_escape(term)}</QueryTranslation></eSearchResult>\n"
        )

    @staticmethod
    def _clause(clause: str) -> tuple[str, str]:
        """``value[tag]`` → (value, tag); a DOI's value without its quotes, lower-cased."""
        m = re.fullmatch(r"\(?\s*(.+?)\s*\[(\w+)\]\s*\)?", clause)
        value, tag = (m.group(1), m.group(2).lower()) if m else (clause.strip("() "), "")
        if tag in _DOI_TAGS:
            value = value.strip('" ').lower()
        return value, tag

    @staticmethod
    def _holds(e: _Entry, value: str, tag: str) -> bool:
        if tag in _DOI_TAGS:  # the article's own DOI, exactly
            return value in e.dois
        tokens = fold_tokens(value)
        if not tokens:
            return True
        if tag in ("au", "author"):
            family = tokens[0]
            return any(
                _fold(a).split()[:1] == [family] or family in _fold(a).split() for a in e.authors
            )
        if tag in ("dp", "pdat"):
            return e.year == tokens[0]
        if tag in ("ta", "journal"):
            return any(set(tokens) <= set(fold_tokens(j)) for j in e.journals)
        if tag in ("vi",):
            return e.volume == tokens[0]
        return set(tokens) <= e.tokens

    def ecitmatch(self, bdata: str) -> str:
        lines = []
        for line in bdata.replace("\r", "\n").split("\n"):
            parts = line.split("|")
            if len(parts) < 6:
                continue
            journal, year, volume, page, author, key = (p.strip() for p in parts[:6])
            pmid = "NOT_FOUND"
            for e in self.pubmed:
                if e.year != year or e.volume != volume or e.page.lower() != page.lower():
                    continue
                journal_ok = any(_fold(j) == _fold(journal) for j in e.journals)
                family = (fold_tokens(author) or [""])[0]
                author_ok = bool(e.authors) and _fold(e.authors[0]).split()[:1] == [family]
                if journal_ok or author_ok:
                    pmid = e.id
                    break
            lines.append(f"{journal}|{year}|{volume}|{page}|{author}|{key}|{pmid}")
        return "\n".join(lines) + "\n"

    # ---------------------------------------------------------------- Europe PMC

    def europepmc_search(self, query: str, page_size: int, result_type: str) -> dict[str, Any]:
        # Field prefixes (AUTH:, TITLE_ABS:, PUB_YEAR:) and boolean words are dropped:
        # the ranking is the documented token relevance over all of a record's text.
        plain = re.sub(r"\b[A-Z_]+:", " ", query)
        plain = re.sub(r"\b(?:AND|OR|NOT)\b", " ", plain)
        ranked = self.rank("europepmc", plain)
        results = [e.body for _, e in ranked[:page_size]]
        return {
            "version": "6.9",
            "hitCount": len(ranked),
            "request": {
                "queryString": query,
                "resultType": result_type,
                "cursorMark": "*",
                "pageSize": page_size,
                "sort": "",
                "synonym": False,
            },
            "resultList": {"result": results},
        }


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
