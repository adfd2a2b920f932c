"""PubMed XML (one ``<PubmedArticle>`` or ``<PubmedBookArticle>``) → Work. Pure.

Journal abbreviations come from ``ISOAbbreviation`` (falling back to ``MedlineTA``);
status from ``PublicationType`` ("Retracted Publication") and
``CommentsCorrectionsList/CommentsCorrections@RefType`` (RetractionIn, ErratumIn,
ExpressionOfConcernIn, the *andRepublishedIn forms), per NLM's errata policy.
"""

from __future__ import annotations

import html

from lxml import etree

from refs.identifiers import Scheme
from refs.normalise.markup import clean_markup
from refs.normalise.text import (
    collapse,
    date_parts,
    make_name,
    normalise_page,
    parse_free_date,
)
from refs.records.pubmed import names_of_article, parse_xml
from refs.work import DateParts, Name, Provenance, StatusEvent, Work

__all__ = ["COMMENT_STATUS", "normalise", "work_from_pubmed"]

# CommentsCorrections types that say something happened to *this* article.
COMMENT_STATUS = {
    "RetractionIn": "retraction",
    "RetractedandRepublishedIn": "retraction",
    "ErratumIn": "correction",
    "CorrectedandRepublishedIn": "correction",
    "ExpressionOfConcernIn": "expression_of_concern",
}
_LANGUAGES = {
    "eng": "en",
    "fre": "fr",
    "ger": "de",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "dut": "nl",
    "nor": "no",
    "swe": "sv",
    "dan": "da",
    "fin": "fi",
    "pol": "pl",
    "rus": "ru",
    "jpn": "ja",
    "chi": "zh",
    "kor": "ko",
}


def _text(el: etree._Element | None) -> str | None:
    """An element's content with its inline markup (<i>, <sup> …) kept as rich text."""
    if el is None:
        return None
    # The parser decoded the element's own text ("&lt;" is now "<"): escape it again, so
    # that clean_markup reads it as text, as tostring() does for the children.
    inner = html.escape(el.text or "", quote=False) + "".join(
        etree.tostring(c, encoding="unicode") for c in el
    )
    return clean_markup(inner)


def _date(el: etree._Element | None) -> DateParts | None:
    if el is None:
        return None
    year = el.findtext("Year")
    if year:
        return date_parts(year, el.findtext("Month") or el.findtext("Season"), el.findtext("Day"))
    return parse_free_date(el.findtext("MedlineDate"))


def _authors(parent: etree._Element | None) -> list[Name]:
    out = []
    for author in parent.findall("Author") if parent is not None else []:
        if author.get("ValidYN", "Y") != "Y":
            continue
        orcid = next(
            (i.text for i in author.findall("Identifier") if i.get("Source") == "ORCID"), None
        )
        collective = author.findtext("CollectiveName")
        name = make_name(
            family=author.findtext("LastName"),
            given=author.findtext("ForeName") or author.findtext("Initials"),
            literal=collective,
            suffix=author.findtext("Suffix"),
            orcid=orcid,
        )
        if name is not None:
            out.append(name)
    return out


def _status(article: etree._Element) -> list[StatusEvent]:
    events = []
    for cc in article.iter("CommentsCorrections"):
        kind = COMMENT_STATUS.get(cc.get("RefType", ""))
        if kind is None:
            continue
        pmid = (cc.findtext("PMID") or "").strip()
        source = collapse(cc.findtext("RefSource"))
        when = parse_free_date(source)
        events.append(
            StatusEvent(
                kind=kind,
                notice=f"pmid:{pmid}" if pmid.isdigit() else None,
                date=when.iso() if when else None,
                source="pubmed",
                label=source,
            )
        )
    types = {t.text for t in article.iter("PublicationType")}
    if "Retracted Publication" in types and not any(e.kind == "retraction" for e in events):
        events.append(
            StatusEvent(kind="retraction", source="pubmed", label="Retracted Publication")
        )
    return events


def work_from_pubmed(payload: str, *, key: str = "", fetched_at: float = 0.0) -> Work:
    """One PubMed article's XML → Work."""
    root = parse_xml(payload)
    ids = names_of_article(root)
    if root.tag == "PubmedBookArticle":
        return _book(root, ids, key=key, fetched_at=fetched_at)
    article = root.find("MedlineCitation/Article")
    if article is None:
        msg = "PubMed record without an Article element"
        raise ValueError(msg)
    journal = article.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    pagination = article.find("Pagination")
    page = None
    if pagination is not None:
        start, end = pagination.findtext("StartPage"), pagination.findtext("EndPage")
        page = normalise_page(
            f"{start}-{end}" if start and end else start or pagination.findtext("MedlinePgn")
        )
    if not page:
        eloc = next(
            (e.text for e in article.findall("ELocationID") if e.get("EIdType") == "pii"), None
        )
        page = collapse(eloc)
    types = [t.text for t in article.iter("PublicationType") if t.text]
    csl_type = "article" if "Preprint" in types else "article-journal"
    title = _text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle"))
    if title and title.endswith(".") and not title.endswith(".."):
        title = title[:-1]  # MEDLINE ends every title with a period
    abstract_parts = []
    for part in article.findall("Abstract/AbstractText"):
        text = _text(part)
        if text:
            label = part.get("Label")
            abstract_parts.append(f"{label.capitalize()}: {text}" if label else text)
    language = article.findtext("Language")
    issns = [
        i.text.strip() for i in (journal.findall("ISSN") if journal is not None else []) if i.text
    ]
    linking = root.findtext("MedlineCitation/MedlineJournalInfo/ISSNLinking")
    if linking and linking not in issns:
        issns.append(linking.strip())
    return Work(
        type=csl_type,
        genre="preprint" if "Preprint" in types else None,
        title=title,
        container_title=_text(journal.find("Title")) if journal is not None else None,
        container_title_short=collapse(
            (journal.findtext("ISOAbbreviation") if journal is not None else None)
            or root.findtext("MedlineCitation/MedlineJournalInfo/MedlineTA")
        ),
        author=_authors(article.find("AuthorList")),
        issued=_date(issue.find("PubDate") if issue is not None else None)
        or _date(article.find("ArticleDate")),
        volume=collapse(issue.findtext("Volume")) if issue is not None else None,
        issue=collapse(issue.findtext("Issue")) if issue is not None else None,
        page=page,
        doi=ids.get(Scheme.DOI),
        pmid=ids.get(Scheme.PMID),
        pmcid=ids.get(Scheme.PMCID),
        url=_url(ids),
        issn=issns,
        language=_LANGUAGES.get((language or "").strip(), (language or "").strip() or None),
        abstract="\n\n".join(abstract_parts) or None,
        status=_status(root),
        provenance=[
            Provenance(service="pubmed", key=key or ids.get(Scheme.PMID, ""), fetched_at=fetched_at)
        ],
    )


def _url(ids: dict[Scheme, str]) -> str | None:
    """The DOI's resolver URL when there is a DOI (the version of record), else PubMed's page."""
    if Scheme.DOI in ids:
        return f"https://doi.org/{ids[Scheme.DOI]}"
    return f"https://pubmed.ncbi.nlm.nih.gov/{ids[Scheme.PMID]}/" if Scheme.PMID in ids else None


def _book(root: etree._Element, ids: dict[Scheme, str], *, key: str, fetched_at: float) -> Work:
    doc = root.find("BookDocument")
    book = doc.find("Book") if doc is not None else None
    chapter_title = _text(doc.find("ArticleTitle")) if doc is not None else None
    book_title = _text(book.find("BookTitle")) if book is not None else None
    authors = _authors(doc.find("AuthorList") if doc is not None else None)
    editors: list[Name] = []
    if book is not None:
        for author_list in book.findall("AuthorList"):
            (editors if author_list.get("Type") == "editors" else authors).extend(
                _authors(author_list)
            )
    publisher = book.findtext("Publisher/PublisherName") if book is not None else None
    issued = _date(book.find("PubDate")) if book is not None else None
    return Work(
        type="chapter" if chapter_title else "book",
        title=chapter_title or book_title,
        container_title=book_title if chapter_title else None,
        author=authors,
        editor=editors,
        issued=issued,
        publisher=collapse(publisher),
        doi=ids.get(Scheme.DOI),
        pmid=ids.get(Scheme.PMID),
        pmcid=ids.get(Scheme.PMCID),
        url=_url(ids),
        isbn=[i.text.strip() for i in (book.findall("Isbn") if book is not None else []) if i.text],
        provenance=[
            Provenance(service="pubmed", key=key or ids.get(Scheme.PMID, ""), fetched_at=fetched_at)
        ],
    )


def normalise(payload: str, key: str, fetched_at: float) -> Work:
    """The registry's normaliser for PubMed records."""
    return work_from_pubmed(payload, key=key, fetched_at=fetched_at)
