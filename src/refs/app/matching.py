"""Matching in the application: citations without identifiers → identifier mentions.

:func:`match_documents` runs :mod:`refs.match` over the documents a resolve read (in a
resolver session of its own: searches are cached and rate-limited like records),
keeps the work items its searches returned for the DOIs it matched in the cache (the
resolution then needs no request of its own for them), and hands back the outcomes;
:func:`matched_mentions` turns the matched ones into identifier mentions of their
documents, which then flow through the pipeline as written identifiers do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from refs.app.inputs import DocumentResult
from refs.config import Settings
from refs.models import Mention, Record
from refs.progress import NullReporter, Reporter
from refs.storage import MatchDecision, StoredMatch

if TYPE_CHECKING:
    from refs.match.matcher import MatchOutcome, MatchSettings

__all__ = ["Landing", "Matching", "match_documents", "matched_mentions", "stored_match"]

LANDING_SERVICE = "landing-page"
_META_DOI = re.compile(
    r"<meta\b[^>]*?\bname\s*=\s*[\"'](citation_doi|dc\.identifier|prism\.doi|bepress_citation_doi)[\"'][^>]*>",
    re.I,
)
_CONTENT = re.compile(r"\bcontent\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)


def page_doi(html: str) -> str | None:
    """The DOI a landing page declares in its citation meta tags, if any."""
    from refs.identifiers import parse_identifier

    for m in _META_DOI.finditer(html):
        c = _CONTENT.search(m.group())
        if c is None:
            continue
        value = (c.group(1) or c.group(2) or "").strip()
        try:
            ident = parse_identifier(value.removeprefix("doi:").strip() or "x")
        except ValueError:
            continue
        if ident.scheme.value == "doi":
            return ident.value
    return None


class Landing:
    """Reads article pages for ``--follow-links``: the limits of URL documents, one
    request per host per second at most, refs' User-Agent; answers cached."""

    def __init__(self, settings: Settings, cache: object, offline: bool) -> None:
        self.settings = settings
        self.cache = cache
        self.offline = offline
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._client: object | None = None

    def _wait_turn(self, host: str) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                ready = self._last.get(host, 0.0) + 1.0
                if now >= ready:
                    self._last[host] = now
                    return
            time.sleep(ready - now)

    def _fetch(self, url: str) -> tuple[str | None, str]:
        import httpx

        from refs.bodies import is_private_host
        from refs.documents import fetch_url
        from refs.errors import InputError

        host = httpx.URL(url).host
        if not self.settings.allow_private_urls and is_private_host(url):
            return None, f"{url}: a loopback, private or link-local address; not read"
        self._wait_turn(host)
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(headers={"User-Agent": self.settings.user_agent})
        try:
            document = fetch_url(
                url,
                client=self._client,  # type: ignore[arg-type]
                max_bytes=self.settings.fetch_max_bytes,
                timeout=self.settings.fetch_timeout,
                allow_private=self.settings.allow_private_urls,
            )
        except InputError as exc:
            return None, f"the page could not be read: {exc}"
        doi = page_doi(document.text)
        return (
            doi,
            "" if doi else "the page declares no DOI (citation_doi, dc.identifier, prism.doi)",
        )

    async def __call__(self, url: str) -> tuple[str | None, str]:
        cache = self.cache
        cached = cache.get(LANDING_SERVICE, url)  # type: ignore[attr-defined]
        if cached is not None and cached.payload:
            data = json.loads(cached.payload)
            return data.get("doi"), data.get("reason", "")
        if self.offline:
            return None, "not in the cache, and --offline forbids reading the page"
        doi, reason = await asyncio.to_thread(self._fetch, url)
        payload = json.dumps({"doi": doi, "reason": reason})
        cache.put([Record(LANDING_SERVICE, url, "ok", time.time(), payload)])  # type: ignore[attr-defined]
        return doi, reason

    def close(self) -> None:
        if self._client is not None:
            self._client.close()  # type: ignore[attr-defined]


@dataclass(slots=True)
class Matching:
    """A run's matching: each citation's outcome, the search requests it made (per
    service) and the answers it read from the cache."""

    outcomes: list[MatchOutcome] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    from_cache: int = 0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def match_documents(
    documents: Sequence[DocumentResult],
    settings: Settings,
    *,
    match: MatchSettings,
    decisions: Mapping[str, MatchDecision],
    offline: bool = False,
    reporter: Reporter | None = None,
) -> Matching:
    """Match every unidentified citation of ``documents``."""
    from refs.app.stores import open_cache
    from refs.match.matcher import match_mentions, seed_records
    from refs.resolve.engine import Resolver

    mentions = [m for d in documents if d.error is None for m in d.unidentified]
    if not mentions:
        return Matching([], {}, 0)
    reporter = reporter or NullReporter()
    cache = open_cache(settings)
    landing = Landing(settings, cache, offline) if match.follow_links else None
    try:
        resolver = Resolver(settings, cache, offline=offline, reporter=reporter)

        async def run() -> tuple[list[MatchOutcome], dict[str, str]]:
            reporter.start("matching", len(mentions))
            try:
                async with resolver.session():
                    return await match_mentions(
                        mentions, resolver, settings=match, decisions=decisions, landing=landing
                    )
            finally:
                reporter.finish("matching")

        outcomes, seeded = asyncio.run(run())
        held = cache.get_many([("crossref", doi) for doi in seeded], payloads=False)
        fresh = [r for r in seed_records(seeded) if ("crossref", r.key) not in held]
        if fresh:
            resolver.remember(fresh)
        return Matching(outcomes, dict(resolver.http.requests), resolver.from_cache)
    finally:
        if landing is not None:
            landing.close()
        cache.close()


def matched_mentions(outcomes: Sequence[MatchOutcome]) -> dict[str, list[Mention]]:
    """Identifier mentions for the matched citations, by document: the citation's place
    in the document, the identifier it was matched to."""
    out: dict[str, list[Mention]] = {}
    for o in outcomes:
        if o.status != "matched" or o.identifier is None:
            continue
        m = o.mention
        out.setdefault(m.document, []).append(
            Mention(
                m.document,
                o.identifier.scheme,
                o.identifier.value,
                m.raw,
                m.start,
                m.end,
                m.context,
            )
        )
    return out


def stored_match(o: MatchOutcome) -> StoredMatch:
    m = o.mention
    return StoredMatch(
        key=o.key,
        document=m.document,
        scheme=m.scheme.value,
        text=m.id,
        context=m.context,
        status=o.status,
        identifier=str(o.identifier) if o.identifier else None,
        method=o.method,
        score=o.score,
        query=o.query,
        reason=o.reason,
        candidates=o.candidate_rows(),
        updated_at=time.time(),
    )


# ---------------------------------------------------------------- people decide

REVIEW_BELOW = 0.9  # matched citations scoring less are listed by `refs review` too


def review(settings: Settings, *, document: str | None = None) -> list[StoredMatch]:
    """Citations a person should look at: unmatched, failed, and matched with a score
    under :data:`REVIEW_BELOW` (never those a person decided)."""
    from refs.app.exporting import check_documents
    from refs.app.stores import opened_library

    with opened_library(settings, must_exist=True) as library:
        if document is not None:
            check_documents(library, [document])
        decided = {k for k, d in library.decisions().items() if d.verdict != "exclude"}
        return [
            m
            for m in library.matches(document=document)
            if m.key not in decided
            and m.method != "person"
            and (m.status != "matched" or (m.score is not None and m.score < REVIEW_BELOW))
        ]


def record_decision(
    settings: Settings, mention: str, verdict: str, identifier: str | None, *, wait: float = 30.0
) -> tuple[StoredMatch, MatchDecision]:
    """Record a person's decision on ``mention`` (a key ``refs review`` prints):
    ``accept`` an identifier, or ``reject`` one candidate or (no identifier) every match.
    Returns the citation and the decision as stored. Raises UnknownMention or
    IdentifierError naming what was given."""
    from refs.app.stores import stored
    from refs.errors import IdentifierError, UnknownMention
    from refs.identifiers import parse_identifier

    ident = None
    if identifier is not None:
        parsed = parse_identifier(identifier)
        if not parsed.scheme.is_identifier:
            msg = f"{identifier!r} is not a DOI, PMID or PMCID"
            raise IdentifierError(msg, text=identifier)
        ident = str(parsed)
    with stored(settings, wait=wait) as library:
        known = {m.key: m for m in library.matches() if m.key == mention}
        if mention not in known:
            msg = (
                f"{mention!r} is not a citation refs knows: `refs review` lists them "
                "(keys such as ref-1a2b3c4d5e6f, link-…)"
            )
            raise UnknownMention(msg, mention=mention)
        if verdict == "accept":
            assert ident is not None
            decision = MatchDecision(mention, "accept", ident)
        else:
            decision = MatchDecision(mention, "reject", None, (ident,) if ident else ())
        stored_decision = library.decide(decision)
        match = known[mention]
        if stored_decision.verdict == "accept":
            updated = dataclasses.replace(
                match,
                status="matched",
                identifier=stored_decision.identifier,
                method="person",
                score=1.0,
                reason=None,
            )
        elif stored_decision.verdict == "reject":
            updated = dataclasses.replace(
                match,
                status="rejected",
                identifier=None,
                method=None,
                score=None,
                reason="a person rejected every match",
            )
        elif match.identifier in stored_decision.rejected:
            updated = dataclasses.replace(
                match,
                status="unmatched",
                identifier=None,
                method=None,
                score=None,
                reason="a person rejected the match",
            )
        else:
            updated = match
        library.store_matches([], [updated])
        return updated, stored_decision


# ---------------------------------------------------------------- described studies


@dataclass(slots=True)
class Suggestion:
    """A passage that reports a study, the search built from it, ranked candidates."""

    document: str
    start: int
    end: int
    passage: str
    query: str
    candidates: list[dict[str, object]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "document": self.document,
            "start": self.start,
            "end": self.end,
            "passage": self.passage,
            "query": self.query,
            "candidates": self.candidates,
        }


def suggest(
    inputs: Sequence[str],
    settings: Settings,
    *,
    offline: bool = False,
    reporter: Reporter | None = None,
) -> tuple[list[Suggestion], list[DocumentResult]]:
    """``refs suggest``: passages that report a study without citing it, each with the
    Europe PMC search built from it and its candidates ranked. Never accepts one."""
    from refs.app.inputs import extract_documents
    from refs.app.stores import open_cache
    from refs.match import search as searches
    from refs.match.suggest import describe, find_passages, rank, visible_text
    from refs.models import Format
    from refs.resolve.engine import Resolver

    reporter = reporter or NullReporter()
    results = list(extract_documents(inputs, settings, reporter))
    planned: list[tuple[Suggestion, object]] = []
    for r in results:
        if r.document is None:
            continue
        markup = r.document.format in (Format.HTML, Format.XML)
        text = visible_text(r.document.text, markup=markup)
        for p in find_passages(text):
            d = describe(p, text)
            planned.append((Suggestion(r.source, p.start, p.end, p.text, d.query()), d))
    if not planned:
        return [], results
    cache = open_cache(settings)
    try:
        resolver = Resolver(settings, cache, offline=offline, reporter=reporter)

        async def run() -> None:
            async with resolver.session():
                lookups = await asyncio.gather(
                    *(resolver.lookup("europepmc", s.query) for s, _ in planned)
                )
            for (s, d), lookup in zip(planned, lookups, strict=True):
                record = lookup.record
                if record is not None and record.status == "ok" and record.payload is None:
                    record = cache.get("europepmc", s.query)
                if record is None or record.status != "ok" or not record.payload:
                    s.error = lookup.error or "no answer"
                    continue
                try:
                    candidates = searches.europepmc_candidates(record.payload)
                    texts = searches.europepmc_texts(record.payload)
                except ValueError as exc:
                    s.error = f"europepmc: unreadable answer ({exc})"
                    continue
                s.candidates = [
                    {"id": c.id, "title": c.title, "year": c.year, "score": score}
                    for c, score in rank(d, candidates, texts)  # type: ignore[arg-type]
                ]

        asyncio.run(run())
    finally:
        cache.close()
    return [s for s, _ in planned], results
