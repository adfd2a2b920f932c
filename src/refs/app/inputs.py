"""Reading what the user gives: command-line arguments → documents, URLs, identifiers."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from refs.config import Settings
from refs.errors import IdentifierError, InputError
from refs.identifiers import Identifier, parse_identifier
from refs.models import Document, Mention
from refs.progress import NullReporter, Reporter

__all__ = ["DocumentResult", "extract_documents", "split_inputs"]


@dataclass(slots=True)
class DocumentResult:
    """What one input yielded: its mentions, or the reason it could not be read."""

    source: str
    mentions: list[Mention] = field(default_factory=list)
    error: InputError | None = None
    document: Document | None = None
    # Citations without an identifier (reference entries, scholarly links), when asked.
    unidentified: list[Mention] = field(default_factory=list)


def extract_documents(
    inputs: Sequence[str],
    settings: Settings,
    reporter: Reporter | None = None,
    *,
    unidentified: bool = False,
) -> Iterator[DocumentResult]:
    """Read every input (files, directories, URLs) and extract its mentions, in order.

    An input that cannot be read yields a result carrying its :class:`InputError`
    (and a warning to ``reporter``); the others go on. ``unidentified`` also finds the
    citations that carry no identifier (:attr:`DocumentResult.unidentified`).
    """
    from refs.documents import expand_inputs, fetch_url, read_file
    from refs.extract import extract
    from refs.extract import unidentified as find_unidentified

    reporter = reporter or NullReporter()
    client = None
    try:
        # Never read what refs itself writes (`refs resolve .` beside references/).
        for item in expand_inputs(inputs, skip=[settings.library, settings.cache]):
            try:
                if item.url:
                    if client is None:
                        import httpx

                        client = httpx.Client(headers={"User-Agent": settings.user_agent})
                    document = fetch_url(
                        item.name,
                        client=client,
                        max_bytes=settings.fetch_max_bytes,
                        timeout=settings.fetch_timeout,
                        allow_private=settings.allow_private_urls,
                    )
                else:
                    document = read_file(item.name, max_bytes=settings.max_bytes)
            except InputError as exc:
                reporter.warning(str(exc))
                yield DocumentResult(item.name, error=exc)
                continue
            mentions = extract(document)
            others = find_unidentified(document, mentions) if unidentified else []
            yield DocumentResult(item.name, mentions, document=document, unidentified=others)
    finally:
        if client is not None:
            client.close()


def split_inputs(inputs: Sequence[str]) -> tuple[list[str], list[Identifier]]:
    """Command-line arguments → (documents to read, identifiers given directly).

    An existing file or directory is a document; then anything that parses as one
    identifier (``doi:…``, ``10.…``, ``PMID:…``, ``PMC…``, a doi.org or PubMed URL) is an
    identifier; then other http(s) URLs are web pages to read. Anything else raises
    :class:`IdentifierError`, naming the argument and what was expected.
    """
    from refs.documents import is_url

    documents: list[str] = []
    identifiers: list[Identifier] = []
    for item in inputs:
        if item == "-" or os.path.exists(item):
            documents.append(item)
            continue
        try:
            identifiers.append(parse_identifier(item))
            continue
        except IdentifierError as exc:
            error = exc
        if is_url(item):
            documents.append(item)
            continue
        if error.scheme is None:
            msg = (
                f"{item!r} is not an existing file or directory, a URL, or an identifier: expected "
                "a path, an http(s) URL, or an identifier such as doi:10.1186/s10194-023-01626-w, "
                "PMID:37438700 or PMC10337094"
            )
            raise IdentifierError(msg, text=item) from error
        raise error
    return documents, identifiers
