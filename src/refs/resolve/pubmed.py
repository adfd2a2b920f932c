"""PubMed E-utilities ``efetch``: PMIDs → PubMed XML, up to 200 per POST.

efetch's ``id`` takes a comma list with "no set maximum", but beyond ~200 UIDs NCBI
asks for POST (NBK25499). PubMed XML carries the DOI and PMCID in ``ArticleIdList``,
the publication types and ``CommentsCorrectionsList`` that later stages need. Unknown
PMIDs are silently left out of the answer, so a PMID missing from it is "not found".
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx
from lxml import etree

from refs.config import Settings
from refs.identifiers import Scheme, canonical, parse_identifier
from refs.models import Record
from refs.resolve.http import Http, garbled
from refs.resolve.service import ncbi_identity

__all__ = ["PubMed", "identifiers_of", "names_of", "parse_xml", "split_article_set"]

NAME = "pubmed"
MAX_BATCH = 200

# Never fetch DTDs or external entities: the answer is data, not instructions.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml(text: bytes | str) -> etree._Element:
    """Parse XML safely; raises ValueError (never lxml's errors) on bad input."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        msg = f"not well-formed XML ({exc})"
        raise ValueError(msg) from exc
    if root is None:
        msg = "empty XML document"
        raise ValueError(msg)
    return root


def _pmid_of(article: etree._Element) -> str | None:
    pmid = article.findtext("MedlineCitation/PMID") or article.findtext("BookDocument/PMID")
    return pmid.strip().lstrip("0") if pmid and pmid.strip().isdigit() else None


def split_article_set(body: bytes | str) -> dict[str, tuple[str, dict[Scheme, str]]]:
    """A ``PubmedArticleSet`` → {PMID: (that article's XML, the ids it names)}.

    Raises ValueError for anything that is not an article set.
    """
    root = parse_xml(body)
    if root.tag != "PubmedArticleSet":
        msg = f"root element is <{root.tag}>, not <PubmedArticleSet>"
        raise ValueError(msg)
    out: dict[str, tuple[str, dict[Scheme, str]]] = {}
    for article in root:
        if article.tag not in ("PubmedArticle", "PubmedBookArticle"):
            continue
        pmid = _pmid_of(article)
        if pmid and pmid not in out:
            xml = etree.tostring(article, encoding="unicode", with_tail=False)
            out[pmid] = (xml, names_of(article))
    return out


def identifiers_of(payload: str) -> dict[Scheme, str]:
    """The identifiers one article's XML names (see :func:`names_of`)."""
    return names_of(parse_xml(payload))


def names_of(article: etree._Element) -> dict[Scheme, str]:
    """The PMID, and the DOI and PMCID from the article's own ``ArticleIdList``.

    Only ``PubmedData/ArticleIdList`` (or the book's) names the article itself; the
    ``ArticleIdList`` inside ``ReferenceList`` names the works it cites.
    """
    out: dict[Scheme, str] = {}
    pmid = _pmid_of(article)
    if pmid:
        out[Scheme.PMID] = pmid
    ids = article.findall("PubmedData/ArticleIdList/ArticleId") + article.findall(
        "PubmedBookData/ArticleIdList/ArticleId"
    )
    for el in ids:
        kind, value = el.get("IdType"), (el.text or "").strip()
        scheme = {"doi": Scheme.DOI, "pmc": Scheme.PMCID}.get(kind or "")
        if scheme is None or scheme in out:
            continue
        found = canonical(value, scheme)
        if found:
            out[scheme] = found
    if Scheme.DOI not in out:
        for el in article.findall("MedlineCitation/Article/ELocationID"):
            if el.get("EIdType") == "doi" and el.get("ValidYN", "Y") == "Y" and el.text:
                try:
                    out[Scheme.DOI] = parse_identifier(el.text.strip()).value
                except ValueError:
                    continue
                break
    return out


class PubMed:
    """NCBI E-utilities efetch on db=pubmed."""

    name = NAME
    pool = "ncbi"

    def __init__(self, settings: Settings) -> None:
        self.url = f"{settings.eutils_url}/efetch.fcgi"
        self.identity = ncbi_identity(settings.mailto, settings.ncbi_api_key)

    def take(self, pending: Sequence[str]) -> int:
        return min(len(pending), MAX_BATCH)

    def identifiers_of(self, payload: str) -> dict[Scheme, str]:
        return identifiers_of(payload)

    async def fetch(self, http: Http, keys: list[str]) -> dict[str, Record]:
        now = time.time()

        def parse(response: httpx.Response) -> dict[str, tuple[str, dict[Scheme, str]]]:
            try:
                return split_article_set(response.content)
            except ValueError as exc:
                raise garbled(NAME, f"answered something that is not PubMed XML ({exc})") from exc

        form = {"db": "pubmed", "id": ",".join(keys), "retmode": "xml", **self.identity}
        response, articles = await http.request(
            NAME, "ncbi", "POST", self.url, data=form, validate=parse
        )
        articles = articles or {}
        return {
            key: Record(
                NAME, key, "ok", now, articles[key][0], 200, "text/xml", names=articles[key][1]
            )
            if key in articles
            else Record(
                NAME,
                key,
                "not_found",
                now,
                http_status=response.status_code,
                reason="PubMed has no record with this PMID",
            )
            for key in keys
        }
