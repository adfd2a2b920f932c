"""Documents → mentions. Pure: takes decoded documents, returns mentions.

Plain text, Markdown (pandoc/Manubot citekeys such as ``[@doi:10.…]``) and wiki markup
(``{{cite journal |doi= |pmid= |pmc=}}``, ``{{pmid|…}}``) are scanned as text; the
scanner in :mod:`refs.identifiers` knows all their forms. HTML and XML go through
:mod:`refs.extract.markup`, which keeps only visible text, links and typed elements.
"""

from __future__ import annotations

from collections.abc import Sequence

from refs.extract.context import sentence_context
from refs.extract.markup import extract_html, extract_xml
from refs.identifiers import scan
from refs.models import Document, Format, Mention

__all__ = ["extract", "extract_text", "unidentified"]


def extract_text(source: str, text: str) -> list[Mention]:
    """Mentions in plain text, Markdown or wiki markup."""
    return [
        Mention(
            source, f.scheme, f.id, f.raw, f.start, f.end, sentence_context(text, f.start, f.end)
        )
        for f in scan(text)
    ]


def extract(document: Document) -> list[Mention]:
    """Every DOI, PMID and PMCID mention in ``document``, in order of position."""
    if document.format is Format.HTML:
        return extract_html(document.source, document.text)
    if document.format is Format.XML:
        return extract_xml(document.source, document.text)
    return extract_text(document.source, document.text)


def unidentified(document: Document, identified: Sequence[Mention]) -> list[Mention]:
    """The citations of ``document`` that carry no identifier (reference entries and
    scholarly links; see :mod:`refs.extract.references`), given its identifier
    mentions ``identified`` (nothing found overlaps one of them)."""
    from refs.extract import references as r

    source, text = document.source, document.text
    if document.format is Format.HTML:
        return r.unidentified_html(source, text, identified)
    if document.format is Format.XML:
        return r.unidentified_xml(source, text, identified)
    if document.format is Format.WIKI or "{{cite" in text or "{{Cite" in text:
        return r.unidentified_wiki(source, text, identified)
    return r.unidentified_text(
        source, text, identified, markdown=document.format is Format.MARKDOWN
    )
