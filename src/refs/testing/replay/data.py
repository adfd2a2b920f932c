"""The records a replay server knows: genuine recordings, and records derived from them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

__all__ = ["ReplayData"]


@dataclass
class ReplayData:
    """The records the server knows, by identifier."""

    crossref: dict[str, dict[str, Any]] = field(default_factory=dict)
    datacite: dict[str, str] = field(default_factory=dict)
    csl: dict[str, str] = field(default_factory=dict)
    pubmed: dict[str, str] = field(default_factory=dict)
    idconv: dict[str, dict[str, Any]] = field(default_factory=dict)
    handles: dict[str, str] = field(default_factory=dict)  # shortDOI → handle API answer
    # Europe PMC search results (``resultType=core`` objects), by their id.
    europepmc: dict[str, dict[str, Any]] = field(default_factory=dict)
    doi_not_found_page: bytes = b"<html><body>DOI Not Found</body></html>"
    _index: Any = field(default=None, repr=False)
    _indexed: tuple[int, int, int] = (-1, -1, -1)

    def search_index(self) -> Any:
        """The records indexed for the search routes (rebuilt when records were added)."""
        from refs.testing.replay.search import SearchIndex

        sizes = (len(self.crossref), len(self.pubmed), len(self.europepmc))
        if self._index is None or sizes != self._indexed:
            self._index = SearchIndex(self.crossref, self.pubmed, self.europepmc)
            self._indexed = sizes
        return self._index

    def add_europepmc(self, answer: dict[str, Any]) -> list[str]:
        """Add the results of a Europe PMC search answer; returns their ids."""
        ids = []
        for r in (answer.get("resultList") or {}).get("result") or []:
            self.europepmc[str(r["id"])] = r
            ids.append(str(r["id"]))
        return ids

    @classmethod
    def from_fixtures(cls, directory: Path, *, derived: bool = True) -> ReplayData:
        """Load every genuine recorded record under ``directory``, and (``derived``) the
        derived search records of ``derived/search/`` (NOT genuine; named DERIVED)."""
        data = cls()
        # Derived search records (NOT genuine; derived/search/README.md) join them: the
        # works that matching tests find, and their distractors.
        extra = directory / "derived" / "search" if derived else directory / "-none-"
        for path in sorted(directory.glob("crossref*/*.json")) + sorted(
            extra.glob("crossref_*.DERIVED.json")
        ):
            body = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(body, dict) and body.get("message-type") == "work":
                data.crossref[body["message"]["DOI"].lower()] = body["message"]
        for path in sorted(directory.glob("datacite/*.json")):
            text = path.read_text(encoding="utf-8")
            body = json.loads(text)
            if isinstance(body, dict) and isinstance(body.get("data"), dict):
                data.datacite[body["data"]["attributes"]["doi"].lower()] = text
        for path in sorted(directory.glob("doi-cn/*.csl.json")):
            text = path.read_text(encoding="utf-8")
            data.csl[json.loads(text)["DOI"].lower()] = text
        page = directory / "doi-cn" / "10.1126_foo.doi-org-404.html"
        if page.exists():
            data.doi_not_found_page = page.read_bytes()
        for path in sorted(directory.glob("ncbi-eutils/efetch_*.xml")) + sorted(
            extra.glob("efetch_*.DERIVED.xml")
        ):
            root = etree.fromstring(
                path.read_bytes(), etree.XMLParser(load_dtd=False, no_network=True)
            )
            for article in root:
                pmid = article.findtext("MedlineCitation/PMID") or article.findtext(
                    "BookDocument/PMID"
                )
                if pmid:
                    data.pubmed[pmid.strip()] = etree.tostring(
                        article, encoding="unicode", with_tail=False
                    )
        for path in sorted(directory.glob("doi-handle/*.json")):
            text = path.read_text(encoding="utf-8")
            data.handles[json.loads(text)["handle"].lower()] = text
        for path in sorted(directory.glob("search/europepmc/*.json")) + sorted(
            extra.glob("europepmc_*.DERIVED.json")
        ):
            data.add_europepmc(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(directory.glob("ncbi-idconv/*.json")):
            body = json.loads(path.read_text(encoding="utf-8"))
            for record in body.get("records", []) if isinstance(body, dict) else []:
                if record.get("status") != "error" and record.get("pmcid"):
                    data.idconv[record["pmcid"]] = record
        return data

    def synthesize(
        self, dois: int, pmids: int, pmcids: int, *, prefix: str = "10.5555/refs-bench"
    ) -> tuple[list[str], list[str], list[str]]:
        """Add load-test records derived from the genuine ones; return their identifiers.

        NOT genuine data: each synthetic record is a deep copy of a genuine recorded
        record (Crossref work messages, PubMed articles, idconv records) with only its
        identifiers replaced, so every shape and size is real. Used by benchmarks.
        """
        crossref_templates = [m for m in self.crossref.values() if "reference" in m] or list(
            self.crossref.values()
        )
        pubmed_templates = [self.pubmed[k] for k in sorted(self.pubmed)]
        idconv_template = next(iter(self.idconv.values()))
        self.synthetic: tuple[list[str], list[str], list[str]] = ([], [], [])
        new_dois = []
        for i in range(dois):
            doi = f"{prefix}.{i}"
            message = copy.deepcopy(crossref_templates[i % len(crossref_templates)])
            message["DOI"] = doi
            message["URL"] = f"https://doi.org/{doi}"
            self.crossref[doi] = message
            new_dois.append(doi)
        new_pmids, new_pmcids = [], []
        for i in range(pmids + pmcids):
            pmid = str(90_000_000 + i)
            pmcid = f"PMC{90_000_000 + i}"
            doi = f"{prefix}.pm{i}"
            xml = pubmed_templates[i % len(pubmed_templates)]
            self.pubmed[pmid] = _retag_pubmed(xml, pmid, doi, pmcid)
            if i < pmids:
                new_pmids.append(pmid)
            else:
                record = copy.deepcopy(idconv_template)
                record.update({"pmcid": pmcid, "pmid": pmid, "doi": doi})
                record.pop("versions", None)
                self.idconv[pmcid] = record
                new_pmcids.append(pmcid)
        self.synthetic = (new_dois, new_pmids, new_pmcids)
        return new_dois, new_pmids, new_pmcids

    def change(self, dois: list[str], pmids: list[str], *, indexed: tuple[int, int, int]) -> None:
        """Derived "after" versions, for refresh tests and benchmarks (NOT genuine data).

        Crossref works get a retraction in ``updated-by`` (the shape of the Retraction
        Watch entry in crossref-trimmed's Wakefield record, with a synthetic notice), a
        changed page range and a new ``indexed`` date; PubMed articles get a
        ``Retracted Publication`` type and a ``RetractionIn`` comment in the shape of the
        genuine ``ErratumIn`` ones (tests/fixtures/derived/README.md).
        """
        for i, doi in enumerate(dois):
            message = copy.deepcopy(self.crossref[doi])
            message["updated-by"] = [
                *(message.get("updated-by") or []),
                {
                    "DOI": f"10.5555/retraction.{i}",
                    "type": "retraction",
                    "label": "Retraction",
                    "source": "retraction-watch",
                    "record-id": str(90000 + i),
                    "updated": {"date-parts": [list(indexed)]},
                },
            ]
            message["page"] = f"{100 + i}-{110 + i}"
            message["indexed"] = {"date-parts": [list(indexed)]}
            self.crossref[doi] = message
        for i, pmid in enumerate(pmids):
            article = etree.fromstring(self.pubmed[pmid].encode("utf-8"))
            types = article.find("MedlineCitation/Article/PublicationTypeList")
            if types is not None:
                added = etree.SubElement(types, "PublicationType", UI="D016441")
                added.text = "Retracted Publication"
            citation = article.find("MedlineCitation")
            comments = citation.find("CommentsCorrectionsList") if citation is not None else None
            if citation is not None and comments is None:
                comments = etree.SubElement(citation, "CommentsCorrectionsList")
            if comments is not None:
                cc = etree.SubElement(comments, "CommentsCorrections", RefType="RetractionIn")
                etree.SubElement(
                    cc, "RefSource"
                ).text = f"Synthetic notice. {indexed[0]} Nov {indexed[2]}."
                etree.SubElement(cc, "PMID", Version="1").text = str(95_000_000 + i)
            self.pubmed[pmid] = etree.tostring(article, encoding="unicode")


def _retag_pubmed(xml: str, pmid: str, doi: str, pmcid: str) -> str:
    """A PubMed article with its own identifiers replaced (its references untouched)."""
    article = etree.fromstring(xml.encode("utf-8"))
    for el in article.iter("PMID"):
        parent = el.getparent()
        if parent is not None and parent.tag in ("MedlineCitation", "BookDocument"):
            el.text = pmid
    id_list = article.find("PubmedData/ArticleIdList")
    if id_list is not None:
        for el in list(id_list):
            id_list.remove(el)
        for kind, value in (("pubmed", pmid), ("doi", doi), ("pmc", pmcid)):
            sub = etree.SubElement(id_list, "ArticleId", IdType=kind)
            sub.text = value
    for el in article.iter("ELocationID"):
        if el.get("EIdType") == "doi":
            el.text = doi
    return etree.tostring(article, encoding="unicode")
