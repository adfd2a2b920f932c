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


# The identifier columns of bulk files hold bare identifiers: the common forms are
# checked by pattern (canonical() runs the whole mention scanner: 25 µs a value), the
# rest by canonical().
_PMCID_FORM = re.compile(r"PMC0*([1-9]\d{0,9})", re.IGNORECASE)
_DOI_FORM = re.compile(r"10\.\d{4,9}/[a-z0-9._;()/:\-]*[a-z0-9]")


def _pmcid(value: str) -> str | None:
    m = _PMCID_FORM.fullmatch(value)
    return f"PMC{m.group(1)}" if m else canonical(value, Scheme.PMCID) if value else None


def _pmid(value: str) -> str | None:
    if value.isascii() and value.isdigit():
        return value.lstrip("0") or None
    return canonical(value, Scheme.PMID) if value else None


def _doi(value: str) -> str | None:
    lower = value.lower()
    if _DOI_FORM.fullmatch(lower):
        return lower
    return canonical(value, Scheme.DOI) if value else None


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
        pmcid = _pmcid(row[at].strip())
        if pmcid is None:
            continue
        doi_field = row[at + doi_at - pmcid_at] if 0 <= at + doi_at - pmcid_at < len(row) else ""
        pmid_field = row[at + pmid_at - pmcid_at] if 0 <= at + pmid_at - pmcid_at < len(row) else ""
        record: dict[str, str] = {"pmcid": pmcid}
        pmid = _pmid(pmid_field.strip())
        doi = _doi(doi_field.strip())
        if pmid:
            record["pmid"] = pmid
        if doi:
            record["doi"] = doi
        payload = jsonio.dumps(record)
        names = {Scheme.PMCID: pmcid}
        if pmid:
            names[Scheme.PMID] = pmid
        if doi:
            names[Scheme.DOI] = doi
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
    # Only the elements wanted reach Python (lxml filters the rest in C).
    events = etree.iterparse(
        stream,
        events=("end",),
        tag=(*_ARTICLES, "DeleteCitation"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    )
    checked = False
    try:
        for _, element in events:
            parent = element.getparent()
            if not checked:
                root = element.getroottree().getroot()
                if root.tag != "PubmedArticleSet":
                    msg = f"root element is <{root.tag}>, not <PubmedArticleSet>"
                    raise SnapshotError(msg, line=root.sourceline)
                checked = True
            if parent is None or parent.getparent() is not None:
                continue  # not a child of the set (inside another element)
            if element.tag in _ARTICLES:
                names = names_of_article(element)
                pmid = names.get(Scheme.PMID)
                if pmid:
                    xml = etree.tostring(element, encoding="unicode", with_tail=False)
                    yield Record(
                        "pubmed", pmid, "ok", stamp, xml, None, "text/xml", names=names, base=base
                    )
            else:
                for el in element.iter("PMID"):
                    pmid = _pmid((el.text or "").strip())
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
            while element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        msg = f"not well-formed XML ({exc.msg})"
        raise SnapshotError(msg, line=exc.lineno) from exc
    root = getattr(events, "root", None)
    if not checked and (root is None or root.tag != "PubmedArticleSet"):
        tag = "nothing" if root is None else f"<{root.tag}>"
        msg = f"root element is {tag}, not <PubmedArticleSet>"
        raise SnapshotError(msg, line=1)


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
