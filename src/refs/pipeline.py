"""The one place where the stages are composed.

documents ─extract→ mentions ─resolve→ raw records ─normalise→ works ─dedup→ library ─export→ files

Each stage is a pure function of its input except reading documents, talking to the
services and the store, which this module wires together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from refs.config import Settings
from refs.errors import InputError
from refs.models import Document, Mention
from refs.progress import NullReporter, Reporter

__all__ = ["DocumentResult", "extract_inputs"]


@dataclass(slots=True)
class DocumentResult:
    """What one input yielded: its mentions, or the reason it could not be read."""

    source: str
    mentions: list[Mention] = field(default_factory=list)
    error: InputError | None = None
    document: Document | None = None


def extract_inputs(
    inputs: Sequence[str], settings: Settings, reporter: Reporter | None = None
) -> Iterator[DocumentResult]:
    """Read every input (files, directories, URLs) and extract its mentions, in order.

    An input that cannot be read yields a result carrying its :class:`InputError`
    (and a warning to ``reporter``); the others go on.
    """
    from refs.documents import expand_inputs, fetch_url, read_file
    from refs.extract import extract

    reporter = reporter or NullReporter()
    client = None
    try:
        for item in expand_inputs(inputs):
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
                    )
                else:
                    document = read_file(item.name)
            except InputError as exc:
                reporter.warning(str(exc))
                yield DocumentResult(item.name, error=exc)
                continue
            yield DocumentResult(item.name, extract(document), document=document)
    finally:
        if client is not None:
            client.close()
