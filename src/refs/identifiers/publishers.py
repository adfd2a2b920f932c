"""Publisher and preprint URLs whose path determines a DOI. Pure.

Some hosts print an article's URL with the DOI's suffix but not its prefix; each rule
below names the host path and the prefix its articles are registered under:

* ``nature.com/articles/s41591-020-0000-0`` → ``10.1038/s41591-020-0000-0`` (Springer
  Nature: every ``/articles/`` id is the DOI suffix, old ones such as ``nature12373``
  and ``ng.590`` too);
* ``elifesciences.org/articles/55167`` → ``10.7554/eLife.55167``;
* ``peerj.com/articles/1234`` → ``10.7717/peerj.1234``;
* bioRxiv/medRxiv's old ``/content/early/2016/05/12/052456(.full.pdf)`` →
  ``10.1101/052456`` (their DOIs were ``10.1101/`` + the six-digit id until 2019-12).

Hits become DOI mentions whose ``raw`` is the whole URL.
"""

from __future__ import annotations

import re

from refs.identifiers.model import Found, Scheme

__all__ = ["scan_publisher_urls"]

_HEAD = r"(?:https?://)?(?:www\.)?"
_RULES: list[tuple[str, re.Pattern[str], str]] = [
    (
        "nature.com/articles/",
        re.compile(_HEAD + r"nature\.com/articles/([A-Za-z][A-Za-z0-9._-]*\d[A-Za-z0-9_-]*)", re.I),
        "10.1038/",
    ),
    (
        "elifesciences.org/articles/",
        re.compile(_HEAD + r"elifesciences\.org/articles/(\d{4,6})(?![\w])", re.I),
        "10.7554/elife.",
    ),
    (
        "peerj.com/articles/",
        re.compile(_HEAD + r"peerj\.com/articles/(\d{2,6})(?![\w])", re.I),
        "10.7717/peerj.",
    ),
    (
        "rxiv.org/content/early/",
        re.compile(
            _HEAD + r"(?:bio|med)rxiv\.org/content/early/\d{4}/\d{2}/\d{2}/(\d{6})(?![\d])"
            r"(?:v\d+)?(?:\.[a-z][a-z.+-]*)?",
            re.I,
        ),
        "10.1101/",
    ),
]
# A view appended to an article id: /articles/s41586-020-2012-7.pdf
_VIEW = re.compile(r"\.(?:pdf|html?)$", re.I)


def scan_publisher_urls(text: str, out: list[Found], paths_at: list[int]) -> None:
    """DOIs of the publisher URLs whose path (``/articles/``, ``/content/early/``, found
    at ``paths_at``) follows a known host; the host before it says which rule applies
    (hosts are written in lower case in URLs)."""
    for at in paths_at:
        host_end = at + 1
        rule = next(
            (r for r in _RULES if text.startswith(r[0], host_end - r[0].index("/") - 1)), None
        )
        if rule is None:
            continue
        anchor, pattern, prefix = rule
        at = host_end - anchor.index("/") - 1
        m = None
        for m in pattern.finditer(text, max(0, at - 30), at + len(anchor) + 80):
            if m.start() <= at < m.end():
                break
        else:
            m = None
        if m is None:
            continue
        suffix = _VIEW.sub("", m.group(1)).rstrip(".-_")
        if suffix:
            end = m.end() if "rxiv" in anchor else m.start(1) + len(m.group(1))
            out.append(
                Found(Scheme.DOI, (prefix + suffix).lower(), text[m.start() : end], m.start(), end)
            )
