"""CSL rich text → LaTeX-safe BibTeX values, and back for checking. Pure.

* ``& % $ # _ { } ~ ^ \\ < >`` are escaped (braces as ``\\textbraceleft{}`` and
  ``\\textbraceright{}``: BibTeX and biber count ``\\{`` as a brace, so only a command
  keeps every value's braces balanced as they count them) and TeX's ASCII ligatures (``--``, ``?`` `` …)
  broken, so the text prints as written; control characters are dropped; white space
  is collapsed (paragraph breaks included), so a value never spans lines.
* ``<i>``, ``<b>``, ``<sup>``, ``<sub>`` and small caps become ``\\textit{}``,
  ``\\textbf{}``, ``\\textsuperscript{}``, ``\\textsubscript{}``, ``\\textsc{}``; in titles
  each word in italics is braced so styles keep its case (species, genes, Latin
  phrases); markup that is not properly nested is dropped, so braces always balance.
* Non-ASCII characters become LaTeX (pylatexenc's encoder, which knows accents, Greek
  and symbols) unless ``unicode=True``; characters LaTeX has no name for stay as UTF-8.
  Nothing is ever dropped.
* ``protect=True`` wraps words whose capitals carry meaning in braces so that BibTeX
  styles do not lower-case them: ``{MRI}``, ``{T2}``, ``{mRNA}``, ``{GeO2}``.
* ``protect="title"`` (a work's title) also braces every word after the first that holds
  a capital: a style or pandoc that sentence-cases a BibTeX title then prints it as
  written, as it prints the same title from CSL-JSON (which no processor recases), so
  ``.bib`` and ``.json`` render alike ("{Parkinson}'s disease" stays a name).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

__all__ = ["latex_to_text", "to_latex"]

_SPECIAL = {
    "\\": r"\textbackslash{}",
    # BibTeX and biber count "\{" as a brace: only a command keeps braces balanced.
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # In OT1-encoded fonts "<" and ">" print as "¡" and "¿".
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_ESCAPE = str.maketrans(_SPECIAL)
# TeX ligatures in ASCII: -- and --- are dashes, `` and '' quotes, ?` and !` are ¿ and ¡.
_LIGATURES = ("--", "``", "''", "?`", "!`", "'`")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_TOKEN = re.compile(r"(</?(?:i|b|sup|sub)>|<span style=\"font-variant:small-caps;\">|</span>)")
_COMMANDS = {
    "i": r"\textit{",
    "b": r"\textbf{",
    "sup": r"\textsuperscript{",
    "sub": r"\textsubscript{",
    "sc": r"\textsc{",
}
# A "word" for capital protection: letters and digits (a hyphen separates words, so
# title-case "Once-Weekly" stays unprotected while "SARS-CoV-2" protects SARS and CoV).
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Only words holding a letter that is not an ASCII lower-case letter can need braces;
# the rest never reach Python code.
_CANDIDATE = re.compile(r"(?<![^\W_])[^\W_]*[^\W\d_a-z][^\W_]*(?:['’][^\W_]+)*")


@lru_cache(maxsize=1)
def _encoder():  # type: ignore[no-untyped-def]
    from pylatexenc.latexencode import UnicodeToLatexEncoder

    return UnicodeToLatexEncoder(
        non_ascii_only=True,
        replacement_latex_protection="braces-all",
        unknown_char_policy="keep",
        unknown_char_warning=False,
    )


def _meaningful_caps(word: str) -> bool:
    """MRI, DNA, T2, mRNA, GeO2, iPhone, COVID-19: capitals a style must not lower."""
    if word.islower() or not any(c.isupper() for c in word):
        return False
    if len(word) == 1:  # "T cells", "vitamin D", T<sub>2</sub>; not the article "A"
        return word != "A"
    uppers = sum(1 for c in word if c.isupper())
    if uppers >= 2:
        return True
    return not word[0].isupper() or any(c.isdigit() for c in word)


# Protected words are marked with two control characters (control characters never
# survive into a value, see to_latex) and turned into braces after escaping.
_OPEN, _CLOSE = "\x01", "\x02"


def _mark(match: re.Match[str]) -> str:
    word = match.group(0)
    return f"{_OPEN}{word}{_CLOSE}" if _meaningful_caps(word) else word


def _mark_all(match: re.Match[str]) -> str:
    return f"{_OPEN}{match.group(0)}{_CLOSE}"


def _mark_capitals(match: re.Match[str]) -> str:
    word = match.group(0)
    return f"{_OPEN}{word}{_CLOSE}" if any(c.isupper() for c in word) else word


def _title_case(text: str) -> bool:
    """Whether a title is in Title Case: every word after the first of four letters or
    more (at least two of them) starts with a capital."""
    long = [w for w in _WORD.findall(text)[1:] if len(w) >= 4 and w[0].isalpha()]
    return len(long) >= 2 and all(w[0].isupper() for w in long)


def _mark_title(text: str) -> str:
    """Braces for every capitalised word but a first one whose capital is only the
    sentence's: the first word is whatever the value starts with."""
    first = _WORD.search(text)
    if first is None:
        return text
    head, rest = text[: first.end()], text[first.end() :]
    return _CANDIDATE.sub(_mark, head) + _CANDIDATE.sub(_mark_capitals, rest)


@lru_cache(maxsize=4096)
def _char_latex(char: str) -> str:
    return str(_encoder().unicode_to_latex(char))


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


Protect = bool | Literal["title"]


def _escape(
    text: str, *, unicode: bool, protect: Protect, every_word: bool = False, first: bool = True
) -> str:
    """``first``: the text starts the value (its first word may be sentence case)."""
    if protect and text:
        if every_word:
            text = _WORD.sub(_mark_all, text)
        elif protect != "title":
            text = _CANDIDATE.sub(_mark, text)
        elif first:
            text = _mark_title(text)
        else:
            text = _CANDIDATE.sub(_mark_capitals, text)
    escaped = _encode(text, unicode=unicode)
    if protect and _OPEN in escaped:
        escaped = escaped.replace(_OPEN, "{").replace(_CLOSE, "}")
    return escaped


def _encode(text: str, *, unicode: bool) -> str:
    if not text:
        return text
    escaped = text.translate(_ESCAPE)
    for pair in _LIGATURES:
        while pair in escaped:  # "---" needs two passes
            escaped = escaped.replace(pair, f"{pair[0]}{{}}{pair[1]}")
    if unicode or escaped.isascii():
        return escaped
    # One character at a time, each looked up once: pylatexenc scans every character
    # of a string it is given, which is slow on long abstracts.
    return _NON_ASCII.sub(lambda m: _char_latex(m.group(0)), unicodedata.normalize("NFC", escaped))


def to_latex(rich: str | None, *, unicode: bool = False, protect: Protect = False) -> str:
    """A BibTeX field value (without its enclosing braces) for CSL rich text."""
    if not rich:
        return ""
    if len(rich) <= 160:
        # Journal titles, publishers and names repeat across a library.
        return _to_latex_cached(rich, unicode, protect)
    return _to_latex(rich, unicode, protect)


@lru_cache(maxsize=65536)
def _to_latex_cached(rich: str, unicode: bool, protect: Protect) -> str:
    return _to_latex(rich, unicode, protect)


def _to_latex(rich: str, unicode: bool, protect: Protect) -> str:
    if not rich.isprintable():
        rich = _CONTROL.sub(" ", rich)
    text = " ".join(rich.split())
    if "<" not in text:  # no markup: the common case
        if protect == "title" and _title_case(text):
            # Every word capitalised: braced once as a whole, the same effect as each
            # word braced (printed as written), and still readable.
            return "{" + _escape(text, unicode=unicode, protect=False) + "}"
        return _escape(text, unicode=unicode, protect=protect)
    parts = _TOKEN.split(text)
    # Pair the markup tags; unmatched ones are dropped so braces always balance.
    stack: list[tuple[str, int]] = []
    opens: dict[int, str] = {}
    closes: set[int] = set()
    for index, part in enumerate(parts):
        if index % 2 == 0:
            continue
        name = "sc" if part.startswith("<span") else part.strip("</>")
        if part.startswith("</"):
            if stack and stack[-1][0] == name:
                _, opened = stack.pop()
                opens[opened] = name
                closes.add(index)
        else:
            stack.append((name, index))
    out = []
    italic = 0
    started = False  # whether a word of the value came before this part
    for index, part in enumerate(parts):
        if index % 2 == 0:
            part = part.replace("&lt;", "<")  # a literal "<" kept apart from the tags
            # Italics (species, genes, Latin phrases) keep their case: every word is braced,
            # the form both BibTeX and pandoc honour inside \textit.
            out.append(
                _escape(
                    part,
                    unicode=unicode,
                    protect=protect,
                    every_word=italic > 0,
                    first=not started,
                )
            )
            started = started or _WORD.search(part) is not None
        elif index in opens:
            italic += opens[index] == "i"
            out.append(_COMMANDS[opens[index]])
        elif index in closes:
            italic -= parts[index] == "</i>"
            out.append("}")
    return "".join(out)


@lru_cache(maxsize=1)
def _decoder():  # type: ignore[no-untyped-def]
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    db = get_default_latex_context_db().filter_context()
    # pylatexenc renders these as modifier letters (U+02C6, U+02DC); we wrote ASCII.
    db.add_context_category(
        "refs",
        prepend=True,
        macros=[
            MacroTextSpec("textasciicircum", simplify_repl="^"),
            MacroTextSpec("textasciitilde", simplify_repl="~"),
            MacroTextSpec("textless", simplify_repl="<"),
            MacroTextSpec("textgreater", simplify_repl=">"),
            MacroTextSpec("textbraceleft", simplify_repl="{"),
            MacroTextSpec("textbraceright", simplify_repl="}"),
        ],
    )
    return LatexNodes2Text(latex_context=db, math_mode="verbatim", strict_latex_spaces=True)


def latex_to_text(value: str) -> str:
    """Decode a value written by :func:`to_latex` to plain text (for round-trip checks)."""
    return " ".join(str(_decoder().latex_to_text(value)).split())
