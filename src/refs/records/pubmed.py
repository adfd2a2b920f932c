"""PubMed XML (``PubmedArticleSet``, as efetch and the baseline files hold it). Pure.

PubMed XML carries the DOI and PMCID in ``ArticleIdList``, the publication types and
``CommentsCorrectionsList`` that normalisation reads.
"""

from __future__ import annotations

from lxml import etree

from refs.identifiers import Scheme, canonical, parse_identifier

__all__ = ["esearch_pmids", "names_of", "names_of_article", "parse_xml", "split_article_set"]

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
            out[pmid] = (xml, names_of_article(article))
    return out


def names_of(payload: str) -> dict[Scheme, str]:
    """The identifiers one article's XML names (see :func:`names_of_article`)."""
    return names_of_article(parse_xml(payload))


def names_of_article(article: etree._Element) -> dict[Scheme, str]:
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


def esearch_pmids(payload: str | bytes) -> list[str]:
    """The PMIDs of an esearch answer (``eSearchResult``), in its order; ``ValueError`` if
    garbled."""
    root = parse_xml(payload)
    if root.tag != "eSearchResult":
        msg = f"<{root.tag}> instead of <eSearchResult>"
        raise ValueError(msg)
    return [i.text.strip() for i in root.iterfind("IdList/Id") if i.text and i.text.strip()]
