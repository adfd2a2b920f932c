"""Citations without identifiers → identifiers, through searches and validation.

For each distinct citation (a reference string or a link), in this order:

1. a person's decision (``refs accept`` / ``refs reject``) stands: no search is made;
2. links: a URL that names an Elsevier/Cell PII is looked up with Crossref's
   ``alternative-id`` filter (batched); others, only with ``follow_links``, by reading
   the page's ``citation_doi`` / ``dc.identifier`` / ``prism.doi`` meta tags;
3. reference strings: Crossref's bibliographic search; when its best candidate is not
   accepted and the string looks biomedical, PubMed (ecitmatch for a Vancouver
   string's parts, else a fielded esearch), whose PMIDs are fetched as records (from
   the cache when held) and validated the same way.

Every search is a lookup of the resolver (cached, rate-limited, retried; offline
answers from the cache alone), so a repeated run asks nothing. A search that fails is
that citation's outcome (``failed`` with the reason), never the run's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from refs import jsonio
from refs.identifiers import SCHEMES, Identifier, Scheme
from refs.match import search
from refs.match.score import (
    DEFAULT_MARGIN,
    DEFAULT_MIN_SCORE,
    Candidate,
    Decision,
    Evidence,
    decide,
)
from refs.models import Mention, Record
from refs.resolve.engine import Resolver
from refs.storage import MatchDecision

__all__ = [
    "MatchOutcome",
    "MatchSettings",
    "match_mentions",
    "mention_key",
    "pubmed_query",
]

Status = Literal["matched", "unmatched", "failed", "rejected"]
CANDIDATES_KEPT = 5
QUERY_MAX = 1000  # characters of a reference string sent as a search


def mention_key(mention: Mention) -> str:
    """A citation's stable name: its document and its text (not its offsets), so it
    survives re-extraction of an unchanged document and edits elsewhere in it."""
    return citation_key(mention.document, mention.scheme, mention.id)


def citation_key(document: str, scheme: Scheme, text: str) -> str:
    """:func:`mention_key` of the citation ``text`` of ``scheme`` in ``document``."""
    digest = hashlib.blake2b(f"{document}\n{scheme.value}\n{text}".encode(), digest_size=6)
    return f"{'ref' if scheme is Scheme.REFERENCE else 'link'}-{digest.hexdigest()}"


@dataclass(frozen=True, slots=True)
class MatchSettings:
    min_score: float = DEFAULT_MIN_SCORE
    margin: float = DEFAULT_MARGIN
    follow_links: bool = False


@dataclass(slots=True)
class MatchOutcome:
    """What matching concluded for one citation."""

    mention: Mention
    key: str
    status: Status
    identifier: Identifier | None = None
    method: str | None = None
    score: float | None = None
    query: str | None = None
    reason: str | None = None
    candidates: list[Evidence] = field(default_factory=list)

    @property
    def match(self) -> dict[str, Any] | None:
        """CSL-JSON ``custom.match`` of the work it found."""
        if self.identifier is None:
            return None
        return {"method": self.method, "score": self.score, "query": self.query}

    def candidate_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "id": e.candidate.id,
                "title": e.candidate.title,
                "year": e.candidate.year,
                "score": e.score,
            }
            for e in self.candidates[:CANDIDATES_KEPT]
        ]


def _identifier(ident: str) -> Identifier | None:
    scheme, _, value = ident.partition(":")
    s = SCHEMES.get(scheme)
    if s is None or not s.is_identifier or not value:
        return None
    return Identifier(s, value)


# ---------------------------------------------------------------- PubMed queries

# "Spine. 2015;40(12):E694-700." / "Lancet 2020; 395: 497–506"
_VANCOUVER = re.compile(
    r"(?P<journal>[A-Z][A-Za-z .&'-]{1,80}?)\.?\s+(?P<year>(?:19|20)\d\d)(?:\s+[A-Z][a-z]{2}(?:\s+\d{1,2})?)?"
    r"\s*;\s*(?P<volume>\d+)\s*(?:\((?P<issue>[^)]*)\))?\s*:\s*(?P<page>[A-Za-z]?\d+)"
)
_FIRST_AUTHOR = re.compile(
    r"^\W*([A-Z][A-Za-z'’-]+(?:\s[a-z]{1,3}\s[A-Z][A-Za-z'’-]+)?)\s*,?\s+([A-Z]{1,3})\b"
)
_BIOMEDICAL = re.compile(
    r"\b(?:med|medicine|medical|clin|clinical|health|pain|spine|lancet|bmj|jama|n engl j|"
    r"surg|cancer|oncol|neurol?|cardi\w*|physiother|rehabil|pediatr|nurs|epidemiol|"
    r"patients?|therap\w*|disease|pharm\w*|psychiatr\w*|immunol|infect\w*|radiol|"
    r"orthop\w*|musculoskelet\w*|trials?|plos one|biomed|pubmed)\b",
    re.I,
)


def biomedical(text: str) -> bool:
    return _VANCOUVER.search(text) is not None or _BIOMEDICAL.search(text) is not None


def pubmed_query(text: str) -> tuple[str, str] | None:
    """The PubMed search for a citation: (service, key), ecitmatch's ``bdata`` line when
    a Vancouver string shows journal, year, volume and first page, else a fielded
    esearch term (first author, year, title words); None when neither can be built."""
    author = _FIRST_AUTHOR.search(text)
    v = _VANCOUVER.search(text)
    if v and author:
        journal = v.group("journal").strip().lower()
        name = f"{author.group(1).lower()} {author.group(2).lower()}"
        line = f"{journal}|{v.group('year')}|{v.group('volume')}|{v.group('page')}|{name}|refs|"
        return "pubmed-ecitmatch", line
    years = re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", text)
    words = [
        w
        for w in re.findall(r"[A-Za-z][a-z]{5,}", text)
        if not _BIOMEDICAL.fullmatch(w) and w.lower() not in _COMMON
    ]
    words = sorted(dict.fromkeys(words), key=len, reverse=True)[:4]
    if not author or not years or len(words) < 2:
        return None
    term = f"{author.group(1)} {author.group(2)}[au] AND {years[0]}[dp] AND " + " AND ".join(
        f"{w}[tiab]" for w in words
    )
    return "pubmed-esearch", term


_COMMON = {
    "journal",
    "review",
    "between",
    "during",
    "effect",
    "effects",
    "study",
    "studies",
    "analysis",
    "among",
    "after",
    "before",
    "therefore",
    "university",
    "press",
    "retrieved",
    "available",
    "accessed",
    "through",
    "without",
    "within",
    "association",
}

# ---------------------------------------------------------------- links

_PII_IN_URL = re.compile(
    r"(?:/pii/|/fulltext/|/article/PII|/retrieve/pii/|/abstract/|/article/)(S?\d{4}-?\d{3}[\dXx]\(?\d{2}\)?\d{5}-?[\dXx])",
    re.I,
)


# arXiv has registered a DataCite DOI for every paper since 2022: 10.48550/arXiv.<id>.
_ARXIV = re.compile(
    r"arxiv\.org/(?:abs|pdf)/((?:\d{4}\.\d{4,5})|(?:[a-z-]+(?:\.[A-Z]{2})?/\d{7}))(?:v\d+)?", re.I
)


def url_rule_doi(url: str) -> str | None:
    """The DOI a link's URL determines by rule, beyond those extraction knows."""
    m = _ARXIV.search(url)
    return f"10.48550/arxiv.{m.group(1).lower()}" if m else None


def url_pii(url: str) -> str | None:
    m = _PII_IN_URL.search(url)
    if m is None:
        return None
    forms = search.pii_forms(m.group(1))
    return forms[0] if forms else None


# ---------------------------------------------------------------- the run


class _Run:
    def __init__(
        self,
        resolver: Resolver,
        settings: MatchSettings,
        decisions: Mapping[str, MatchDecision],
        landing: Any | None,
    ) -> None:
        self.resolver = resolver
        self.settings = settings
        self.decisions = decisions
        self.landing = landing  # (url) -> Awaitable[(doi | None, reason)]
        self.seeded: dict[str, str] = {}  # DOI → its work item from a search answer

    async def _search(self, service: str, key: str) -> tuple[Record | None, str | None]:
        lookup = await self.resolver.lookup(service, key)
        if lookup.record is None:
            return None, lookup.error or "no answer"
        if lookup.record.payload is None and lookup.record.status == "ok":
            full = self.resolver.cache.get(service, key)
            return full, None if full else "the cached answer has no payload"
        return lookup.record, None

    async def reference(self, mention: Mention, key: str, excluded: Sequence[str]) -> MatchOutcome:
        text = mention.id
        query = text[:QUERY_MAX]
        record, error = await self._search("crossref-bibliographic", query)
        candidates: list[Candidate] = []
        reasons = []
        if record is not None and record.status == "ok" and record.payload:
            try:
                candidates = search.crossref_candidates(record.payload)
                for item in search.crossref_items(record.payload):
                    self.seeded.setdefault(item["DOI"].lower(), jsonio.dumps(item))
            except ValueError as exc:
                reasons.append(f"crossref-bibliographic: unreadable answer ({exc})")
        elif error:
            reasons.append(error)
        decision = decide(
            text,
            candidates,
            min_score=self.settings.min_score,
            margin=self.settings.margin,
            excluded=excluded,
        )
        method, sent = "crossref-bibliographic", query
        if decision.accepted is None and biomedical(text):
            pubmed = pubmed_query(text)
            if pubmed is not None:
                more, problem = await self._pubmed(*pubmed)
                if problem:
                    reasons.append(problem)
                if more:
                    decision = decide(
                        text,
                        candidates + more,
                        min_score=self.settings.min_score,
                        margin=self.settings.margin,
                        excluded=excluded,
                    )
                    if (
                        decision.accepted is not None
                        and decision.accepted.candidate.source != method
                    ):
                        method, sent = "pubmed", pubmed[1]
        return self._outcome(
            mention,
            key,
            decision,
            method,
            sent,
            reasons,
            searched=bool(candidates) or record is not None,
        )

    async def _pubmed(self, service: str, key: str) -> tuple[list[Candidate], str | None]:
        record, error = await self._search(service, key)
        if record is None or record.status != "ok" or not record.payload:
            return [], error
        try:
            pmids = (
                search.ecitmatch_pmids(record.payload)
                if service == "pubmed-ecitmatch"
                else search.esearch_pmids(record.payload)
            )[: search.PUBMED_ROWS]
        except ValueError as exc:
            return [], f"{service}: unreadable answer ({exc})"
        if not pmids:
            return [], None
        from refs.normalise.pubmed import normalise

        lookups = await asyncio.gather(*(self.resolver.lookup("pubmed", p) for p in pmids))
        out = []
        for pmid, lookup in zip(pmids, lookups, strict=True):
            rec = lookup.record
            if rec is not None and rec.status == "ok" and rec.payload is None:
                rec = self.resolver.cache.get("pubmed", pmid)
            if rec is None or rec.status != "ok" or not rec.payload:
                continue
            try:
                work = normalise(rec.payload, pmid, rec.fetched_at)
            except ValueError:
                continue
            out.append(search.candidate_of(work, f"pmid:{pmid}", "pubmed"))
        return out, None

    def _outcome(
        self,
        mention: Mention,
        key: str,
        decision: Decision,
        method: str,
        query: str,
        reasons: list[str],
        *,
        searched: bool,
    ) -> MatchOutcome:
        if decision.accepted is not None:
            best = decision.accepted
            ident = _identifier(best.candidate.id)
            # Prefer the DOI of a PubMed record: one work, the identifier most services know.
            return MatchOutcome(
                mention,
                key,
                "matched",
                ident,
                method,
                best.score,
                query,
                candidates=decision.ranked,
            )
        if not searched and reasons:
            return MatchOutcome(mention, key, "failed", query=query, reason="; ".join(reasons))
        reason = decision.reason or "no candidate"
        if reasons:
            reason += " (" + "; ".join(reasons) + ")"
        return MatchOutcome(
            mention, key, "unmatched", query=query, reason=reason, candidates=decision.ranked
        )

    async def link(self, mention: Mention, key: str) -> MatchOutcome:
        url = mention.id
        ruled = url_rule_doi(url)
        if ruled is not None:
            return MatchOutcome(
                mention, key, "matched", Identifier(Scheme.DOI, ruled), "url-rule", 1.0, url
            )
        pii = url_pii(url)
        if pii is not None:
            record, error = await self._search("crossref-pii", pii)
            if record is not None and record.status == "ok":
                doi = record.names.get(Scheme.DOI)
                if doi is None and record.payload:
                    doi = str(jsonio.loads(record.payload).get("DOI", "")).lower() or None
                if doi:
                    if record.payload:
                        self.seeded.setdefault(doi, record.payload)
                    return MatchOutcome(
                        mention,
                        key,
                        "matched",
                        Identifier(Scheme.DOI, doi),
                        "url-rule",
                        1.0,
                        f"alternative-id:{pii}",
                    )
            if error:
                return MatchOutcome(
                    mention, key, "failed", query=f"alternative-id:{pii}", reason=error
                )
        if not self.settings.follow_links or self.landing is None:
            why = (
                "no Crossref work lists its PII"
                if pii
                else "no rule gives this page's DOI; --follow-links reads the page"
            )
            return MatchOutcome(mention, key, "unmatched", query=url, reason=why)
        doi, reason = await self.landing(url)
        if doi is None:
            return MatchOutcome(mention, key, "unmatched", query=url, reason=reason)
        return MatchOutcome(
            mention, key, "matched", Identifier(Scheme.DOI, doi), "landing-page", 1.0, url
        )

    async def one(self, mention: Mention) -> MatchOutcome:
        key = mention_key(mention)
        decided = self.decisions.get(key)
        if decided is not None and decided.verdict == "accept" and decided.identifier:
            ident = _identifier(decided.identifier)
            if ident is not None:
                return MatchOutcome(mention, key, "matched", ident, "person", 1.0, None)
        if decided is not None and decided.verdict == "reject":
            return MatchOutcome(mention, key, "rejected", reason="a person rejected every match")
        excluded = decided.rejected if decided is not None else ()
        try:
            if mention.scheme is Scheme.LINK:
                return await self.link(mention, key)
            return await self.reference(mention, key, excluded)
        except Exception as exc:
            return MatchOutcome(mention, key, "failed", reason=f"{type(exc).__name__}: {exc}")


async def match_mentions(
    mentions: Sequence[Mention],
    resolver: Resolver,
    *,
    settings: MatchSettings | None = None,
    decisions: Mapping[str, MatchDecision] | None = None,
    landing: Any | None = None,
) -> tuple[list[MatchOutcome], dict[str, str]]:
    """Match every citation (each distinct text searched once) inside the resolver's
    session; returns the outcomes in the order given, and the work items the searches
    returned for the DOIs they matched (DOI → item JSON), which spare the resolution
    its own request."""
    run = _Run(resolver, settings or MatchSettings(), decisions or {}, landing)
    by_text: dict[tuple[Scheme, str], asyncio.Task[MatchOutcome]] = {}
    keyed: list[tuple[Mention, asyncio.Task[MatchOutcome]]] = []
    for m in mentions:
        decided = (decisions or {}).get(mention_key(m))
        slot = (m.scheme, m.id)
        if decided is not None or slot not in by_text:
            task = asyncio.ensure_future(run.one(m))
            if decided is None:
                by_text[slot] = task
        else:
            task = by_text[slot]
        keyed.append((m, task))
    outcomes = []
    for m, task in keyed:
        result = await task
        if result.mention is not m:  # the same text in another place or document
            result = dataclasses.replace(result, mention=m, key=mention_key(m))
        outcomes.append(result)
    matched = {
        o.identifier.value for o in outcomes if o.identifier and o.identifier.scheme is Scheme.DOI
    }
    return outcomes, {doi: item for doi, item in run.seeded.items() if doi in matched}


def seed_records(seeded: Mapping[str, str], now: float | None = None) -> list[Record]:
    """Crossref records for matched DOIs, from the work items their search returned."""
    from refs.records.crossref import names_of

    now = time.time() if now is None else now
    return [
        Record("crossref", doi, "ok", now, item, 200, "application/json", names=names_of(item))
        for doi, item in seeded.items()
    ]
