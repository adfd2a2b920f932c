"""The services' bulk files, read as the records their APIs would have answered. Pure.

Three formats, each streamed (one record in memory at a time, one file for Crossref's
``.json.gz`` parts, whose items are one JSON document):

* **PMC-ids.csv(.gz)** (PMC's crosswalk: ``Journal Title,ISSN,eISSN,Year,Volume,Issue,
  Page,DOI,PMCID,PMID,Manuscript Id,Release Date``): each row becomes the ID converter's
  record for that PMCID (service ``idconv``) and, with a DOI, for that DOI
  (``idconv-doi``), in the converter's own record shape (``{"pmcid", "pmid", "doi"}``,
  as ``versions=no`` answers).
* **PubMed baseline and update files** (``PubmedArticleSet`` XML, gzip or not: the
  efetch format): each ``<PubmedArticle>``/``<PubmedBookArticle>`` becomes the
  ``pubmed`` record of its PMID, the same text efetch's answer is split into; an update
  file's ``<DeleteCitation>`` PMIDs become "not found" records.
* **Crossref's public data file** (``.jsonl(.gz)``: one ``/works`` item per line;
  ``.json(.gz)``: ``{"items": [...]}``): each item becomes the ``crossref`` record of its
  DOI, as a list answer's item is.

Every record is stamped with the snapshot's date (``fetched_at``) and its file
(``base = "snapshot:NAME"``). Malformed input raises :class:`SnapshotError` naming the
line.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal, cast

from lxml import etree

from refs import jsonio
from refs.identifiers import Scheme, canonical
from refs.models import Record
from refs.records.idconv import names_of_record
from refs.records.pubmed import names_of_article

__all__ = ["FORMATS", "SnapshotError", "SnapshotFormat", "guess_format", "read_snapshot"]

SnapshotFormat = Literal["pmc-ids", "pubmed", "crossref"]
FORMATS: tuple[SnapshotFormat, ...] = ("pmc-ids", "pubmed", "crossref")
_PMCID = re.compile(r"PMC\d+")
PMC_IDS_HEADER = (
    "Journal Title,ISSN,eISSN,Year,Volume,Issue,Page,DOI,PMCID,PMID,Manuscript Id,Release Date"
)


class SnapshotError(ValueError):
    """A bulk file that is not what its format says; ``line`` where it went wrong."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line


def _plain_name(path: Path) -> str:
    name = path.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def guess_format(path: Path) -> SnapshotFormat | None:
    """The format a file's name says: ``*.csv`` PMC-ids, ``*.xml`` PubMed, ``*.json(l)``
    Crossref (each possibly ``.gz``)."""
    name = _plain_name(path)
    if name.endswith(".csv"):
        return "pmc-ids"
    if name.endswith(".xml"):
        return "pubmed"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "crossref"
    return None


def _open(path: Path) -> IO[bytes]:
    raw = path.open("rb")
    head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if head == b"\x1f\x8b":  # gzip, whatever the name says
        return cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb"))
    return raw


def read_snapshot(path: Path, fmt: SnapshotFormat, stamp: float) -> Iterator[Record]:
    """The records of one bulk file, in file order. Raises OSError for an unreadable
    file and :class:`SnapshotError` for one that is not in ``fmt``."""
    base = f"snapshot:{path.name}"
    with _open(path) as stream:
        try:
            if fmt == "pmc-ids":
                yield from _pmc_ids(stream, stamp, base)
            elif fmt == "pubmed":
                yield from _pubmed(stream, stamp, base)
            else:
                yield from _crossref(stream, stamp, base, path)
        except (EOFError, gzip.BadGzipFile) as exc:
            msg = f"the gzip stream is truncated or damaged ({exc})"
            raise SnapshotError(msg) from exc


def _pmc_ids(stream: IO[bytes], stamp: float, base: str) -> Iterator[Record]:
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    columns = {name.strip(): i for i, name in enumerate(header)}
    # Old files name the column "PMC accession number".
    pmcid_at = columns.get("PMCID", columns.get("PMC accession number"))
    if pmcid_at is None or "DOI" not in columns or "PMID" not in columns:
        msg = f"not a PMC-ids.csv file: the header is not {PMC_IDS_HEADER!r}"
        raise SnapshotError(msg, line=1)
    doi_at, pmid_at = columns["DOI"], columns["PMID"]
    width = len(header)
    for row in reader:
        if not row:
            continue
        if len(row) < width:
            msg = f"{len(row)} fields, expected {width} ({','.join(row)[:80]!r})"
            raise SnapshotError(msg, line=reader.line_num)
        at = pmcid_at
        if len(row) > width:
            # An unquoted comma in a title or page field (seen in genuine files): find
            # the PMCID column and read its neighbours where the header puts them.
            at = next((i for i, v in enumerate(row) if _PMCID.fullmatch(v.strip())), pmcid_at)
        pmcid = canonical(row[at].strip(), Scheme.PMCID)
        if pmcid is None:
            continue
        doi_field = row[at + doi_at - pmcid_at] if 0 <= at + doi_at - pmcid_at < len(row) else ""
        pmid_field = row[at + pmid_at - pmcid_at] if 0 <= at + pmid_at - pmcid_at < len(row) else ""
        record: dict[str, str] = {"pmcid": pmcid}
        pmid = canonical(pmid_field.strip(), Scheme.PMID)
        doi = canonical(doi_field.strip(), Scheme.DOI)
        if pmid:
            record["pmid"] = pmid
        if doi:
            record["doi"] = doi
        payload = jsonio.dumps(record)
        names = names_of_record(record)
        yield Record(
            "idconv", pmcid, "ok", stamp, payload, None, "application/json", names=names, base=base
        )
        if doi:
            yield Record(
                "idconv-doi",
                doi,
                "ok",
                stamp,
                payload,
                None,
                "application/json",
                names=names,
                base=base,
            )


_ARTICLES = ("PubmedArticle", "PubmedBookArticle")


def _pubmed(stream: IO[bytes], stamp: float, base: str) -> Iterator[Record]:
    events = etree.iterparse(
        stream,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    )
    depth = 0
    try:
        for event, element in events:
            if event == "start":
                depth += 1
                if depth == 1 and element.tag != "PubmedArticleSet":
                    msg = f"root element is <{element.tag}>, not <PubmedArticleSet>"
                    raise SnapshotError(msg, line=element.sourceline)
                continue
            depth -= 1
            if depth != 1:
                continue
            if element.tag in _ARTICLES:
                names = names_of_article(element)
                pmid = names.get(Scheme.PMID)
                if pmid:
                    xml = etree.tostring(element, encoding="unicode", with_tail=False)
                    yield Record(
                        "pubmed", pmid, "ok", stamp, xml, None, "text/xml", names=names, base=base
                    )
            elif element.tag == "DeleteCitation":
                for el in element.iter("PMID"):
                    pmid = canonical((el.text or "").strip(), Scheme.PMID)
                    if pmid:
                        yield Record(
                            "pubmed",
                            pmid,
                            "not_found",
                            stamp,
                            reason=f"deleted from PubMed ({base.removeprefix('snapshot:')})",
                            base=base,
                        )
            # Constant memory: drop what was read (the element and finished siblings).
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        msg = f"not well-formed XML ({exc.msg})"
        raise SnapshotError(msg, line=exc.lineno) from exc


def _crossref(stream: IO[bytes], stamp: float, base: str, path: Path) -> Iterator[Record]:
    def record(item: object, line: int | None) -> Record | None:
        if not isinstance(item, dict):
            msg = "not a Crossref work item (a JSON object)"
            raise SnapshotError(msg, line=line)
        doi = item.get("DOI")
        if not isinstance(doi, str):
            msg = "a Crossref work item without a DOI"
            raise SnapshotError(msg, line=line)
        key = doi.lower()
        return Record(
            "crossref",
            key,
            "ok",
            stamp,
            jsonio.dumps(item),
            None,
            "application/json",
            names={Scheme.DOI: key},
            base=base,
        )

    if _plain_name(path).endswith(".json"):
        # A part of the annual file: {"items": [...]} (one JSON document per part).
        try:
            data = jsonio.loads(stream.read())
        except ValueError as exc:
            msg = f"not JSON ({exc})"
            raise SnapshotError(msg) from exc
        items = data.get("items") if isinstance(data, dict) else data
        if isinstance(data, dict) and isinstance(data.get("message"), dict):
            items = data["message"].get("items")  # a saved /works answer
        if not isinstance(items, list):
            msg = 'not a Crossref data file part: no "items" list'
            raise SnapshotError(msg)
        for item in items:
            rec = record(item, None)
            if rec is not None:
                yield rec
        return
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            item = jsonio.loads(line)
        except ValueError as exc:
            msg = f"not JSON ({exc})"
            raise SnapshotError(msg, line=number) from exc
        rec = record(item, number)
        if rec is not None:
            yield rec
