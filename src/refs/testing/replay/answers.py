"""The answers of each service, on its real paths, in its genuine shapes.

Batch answers are composed from single records the way each service does (a Crossref
``work-list``, a ``PubmedArticleSet`` holding several articles, an idconv ``records``
list); unknown identifiers get the services' genuine not-found answers. Paths are
mounted where the registry's URL settings say (``/crossref``, ``/eutils`` …).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from refs.registry import URL_SETTINGS
from refs.testing.replay.data import ReplayData

__all__ = ["Answer", "dispatch", "json_answer", "mounts", "route_of"]

# Genuine bodies (tests/fixtures/PROVENANCE.md) for the not-found answers.
CROSSREF_NOT_FOUND = b"Resource not found."
DATACITE_NOT_FOUND = (
    b'{"errors":[{"status":"404","title":"The resource you are looking for doesn\'t exist."}]}'
)
PUBMED_HEADER = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
# Not recorded anywhere public; shapes as documented (API-FACTS.md §3) or plain text.
NCBI_TOO_MANY = b'{"error":"API rate limit exceeded","count":"4"}'
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service temporarily unavailable</title></head>"
    b"<body><h1>We'll be back soon</h1><p>Maintenance in progress.</p></body></html>"
)


def mounts() -> dict[str, str]:
    """URL setting name → the path its service is answered under."""
    return {name: s.mount for name, s in URL_SETTINGS.items()}


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    action: str | None = None  # reset | incomplete


def route_of(target: str) -> tuple[str | None, str]:
    path = urlsplit(target).path
    if path.startswith(mounts()["crossref_url"] + "/works/"):
        return "crossref-single", "crossref-work"
    if path.rstrip("/") == mounts()["crossref_url"] + "/works":
        return "crossref-list", "crossref-list"
    if path.startswith(mounts()["datacite_url"] + "/dois/"):
        return "datacite", "datacite"
    if path.startswith(mounts()["eutils_url"] + "/efetch.fcgi"):
        return "ncbi", "efetch"
    if path.startswith(mounts()["eutils_url"] + "/esearch.fcgi"):
        return "ncbi", "esearch"
    if path.startswith(mounts()["eutils_url"] + "/ecitmatch.cgi"):
        return "ncbi", "ecitmatch"
    if path.rstrip("/") == mounts()["europepmc_url"] + "/search":
        return "europepmc", "europepmc-search"
    if path.startswith(mounts()["idconv_url"]) or path == mounts()["idconv_url"].rstrip("/"):
        return "ncbi", "idconv"
    if path.startswith(mounts()["doi_url"] + "/10."):
        return "doi", "doi"
    if path.startswith(mounts()["doi_url"] + "/api/handles/"):
        return "doi", "handle"
    return None, ""


def dispatch(
    data: ReplayData, route: str, method: str, target: str, headers: dict[str, str], body: bytes
) -> Answer:
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    if route == "crossref-work":
        doi = unquote(parts.path[len(mounts()["crossref_url"] + "/works/") :]).lower()
        message = data.crossref.get(doi)
        if message is None:
            return Answer(404, CROSSREF_NOT_FOUND, "text/plain")
        return json_answer(
            {
                "status": "ok",
                "message-type": "work",
                "message-version": "1.0.0",
                "message": message,
            }
        )
    if route == "crossref-list":
        return _crossref_list(data, query)
    if route == "datacite":
        doi = unquote(parts.path[len(mounts()["datacite_url"] + "/dois/") :]).lower()
        text = data.datacite.get(doi)
        if text is None:
            return Answer(404, DATACITE_NOT_FOUND, "application/json; charset=utf-8")
        return Answer(200, text.encode(), "application/json; charset=utf-8")
    if route == "doi":
        doi = unquote(parts.path[len(mounts()["doi_url"] + "/") :]).lower()
        csl = data.csl.get(doi)
        if csl is None:
            return Answer(404, data.doi_not_found_page, "text/html;charset=utf-8")
        return Answer(200, csl.encode(), "application/vnd.citationstyles.csl+json")
    if route == "handle":  # shortDOIs; unknown handles: responseCode 100 with HTTP 404
        handle = unquote(parts.path[len(mounts()["doi_url"] + "/api/handles/") :]).lower()
        answer = data.handles.get(handle)
        if answer is None:
            return json_answer({"responseCode": 100, "handle": handle}, status=404)
        return Answer(200, answer.encode(), "application/json")
    if route == "efetch":
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True) if method == "POST" else query
        ids = [i.strip() for i in ",".join(form.get("id", [])).split(",") if i.strip()]
        articles = "".join(data.pubmed[i] + "\n" for i in ids if i in data.pubmed)
        xml = f"{PUBMED_HEADER}<PubmedArticleSet>\n{articles}</PubmedArticleSet>\n"
        return Answer(200, xml.encode(), "text/xml; charset=UTF-8")
    if route == "idconv":
        return _idconv(data, query)
    if route == "esearch":
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True) if method == "POST" else query
        term = form.get("term", [""])[0]
        retmax = int(form.get("retmax", ["20"])[0])
        xml = data.search_index().esearch(term, retmax)
        return Answer(200, xml.encode(), "text/xml; charset=UTF-8")
    if route == "ecitmatch":
        text = data.search_index().ecitmatch(query.get("bdata", [""])[0])
        return Answer(200, text.encode(), "text/plain; charset=UTF-8")
    if route == "europepmc-search":
        answer = data.search_index().europepmc_search(
            query.get("query", [""])[0],
            int(query.get("pageSize", ["25"])[0]),
            query.get("resultType", ["lite"])[0],
        )
        return json_answer(answer)
    return Answer(404, b"no such route", "text/plain")


def _crossref_list(data: ReplayData, query: dict[str, list[str]]) -> Answer:
    if "query.bibliographic" in query:
        rows = int(query.get("rows", ["20"])[0])
        return json_answer(
            data.search_index().crossref_bibliographic(query["query.bibliographic"][0], rows)
        )
    filters = ",".join(query.get("filter", []))
    dois: list[str] = []
    piis: list[str] = []
    since: tuple[int, ...] | None = None
    for item in _split_filters(filters):
        name, _, value = item.partition(":")
        if name == "doi":
            dois.append(unquote(value).lower())
        elif name == "alternative-id":
            piis.append(unquote(value).upper())
        elif name == "from-index-date":
            since = tuple(int(x) for x in value.split("-"))
        else:
            return json_answer(
                {
                    "status": "failed",
                    "message-type": "validation-failure",
                    "message": [
                        {
                            "type": "filter-not-available",
                            "value": name,
                            "message": f"Filter {name} specified but there is no such filter for this route.",
                        }
                    ],
                },
                status=400,
            )
    rows = int(query.get("rows", ["20"])[0])
    if piis:
        wanted = set(piis)
        dois += [
            doi
            for doi, m in data.crossref.items()
            if any(str(a).upper() in wanted for a in m.get("alternative-id") or [])
        ]
    items = []
    for doi in dict.fromkeys(dois):
        message = data.crossref.get(doi)
        if message is None:
            continue
        if since is not None:
            indexed = tuple(message.get("indexed", {}).get("date-parts", [[0]])[0])
            if indexed < since:
                continue
        items.append(message)
    items = items[:rows]
    return json_answer(
        {
            "status": "ok",
            "message-type": "work-list",
            "message-version": "1.0.0",
            "message": {
                "facets": {},
                "total-results": len(items),
                "items": items,
                "items-per-page": rows,
                "query": {"start-index": 0, "search-terms": None},
            },
        }
    )


def _idconv(data: ReplayData, query: dict[str, list[str]]) -> Answer:
    ids = [i.strip() for i in ",".join(query.get("ids", [])).split(",") if i.strip()]
    idtype = query.get("idtype", ["pmcid"])[0]
    if idtype == "doi":
        by_doi = {str(r.get("doi", "")).lower(): r for r in data.idconv.values()}
        records = [
            by_doi.get(d.lower())
            or {"doi": d, "live": "false", "status": "error", "errmsg": "invalid article id"}
            for d in ids
        ]
        return json_answer(
            {
                "status": "ok",
                "responseDate": time.strftime("%Y-%m-%d %H:%M:%S"),
                "request": "format=json;idtype=doi;ids=" + ",".join(ids),
                "records": records,
            }
        )
    if idtype != "pmcid" and any(i.upper().startswith("PMC") for i in ids):
        message = f"ID%20type%20%27{idtype}%27%20mismatch%20for%20%27{ids[0]}%27"
        return json_answer({"status": "error", "message": message}, status=404)
    records = []
    for raw in ids:
        pmcid = raw.upper() if raw.upper().startswith("PMC") else f"PMC{raw}"
        pmcid = pmcid.split(".")[0]
        record = data.idconv.get(pmcid)
        if record is None:
            records.append(
                {
                    "pmcid": pmcid,
                    "live": "false",
                    "status": "error",
                    "errmsg": "invalid article id",
                }
            )
        else:
            records.append(record)
    return json_answer(
        {
            "status": "ok",
            "responseDate": time.strftime("%Y-%m-%d %H:%M:%S"),
            "request": "format=json;ids=" + ",".join(ids),
            "records": records,
        }
    )


def _split_filters(value: str) -> Iterator[str]:
    """``doi:A,doi:B,from-index-date:…`` → items (a comma starts a new ``name:`` item)."""
    for item in re.split(r",(?=[a-z-]+:)", value):
        if item:
            yield item


def json_answer(data: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json")
