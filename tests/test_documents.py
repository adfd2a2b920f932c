"""Reading documents: encodings, binary files, directories."""

from __future__ import annotations

import codecs
import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refs.documents import decode, expand_inputs, format_for, read_file
from refs.errors import InputError
from refs.models import Format


@pytest.mark.parametrize(
    ("data", "fmt", "text"),
    [
        pytest.param("PMID: 1 – ü".encode(), Format.TEXT, "PMID: 1 – ü", id="utf8"),
        pytest.param(codecs.BOM_UTF8 + b"PMID: 1", Format.TEXT, "PMID: 1", id="utf8-bom"),
        pytest.param("PMID: 1 ü".encode("utf-16"), Format.TEXT, "PMID: 1 ü", id="utf16-bom"),
        pytest.param(
            b'<meta charset="iso-8859-1"><p>M\xfcller PMID: 1</p>',
            Format.HTML,
            '<meta charset="iso-8859-1"><p>Müller PMID: 1</p>',
            id="html-declared-latin1",
        ),
        pytest.param(
            b"<p>caf\xe9 \x93quoted\x94</p>",
            Format.HTML,
            "<p>café “quoted”</p>",
            id="html-cp1252-default",
        ),
        pytest.param(
            b'<?xml version="1.0" encoding="ISO-8859-1"?><p>M\xfcller</p>',
            Format.XML,
            '<?xml version="1.0" encoding="ISO-8859-1"?><p>Müller</p>',
            id="xml-declared",
        ),
    ],
)
def test_decode_accepts(data: bytes, fmt: Format, text: str) -> None:
    """UTF-8, byte-order marks and declared charsets decode to the same text."""
    assert decode(data, source="x", fmt=fmt) == text


@pytest.mark.parametrize(
    ("data", "fmt", "reason"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", Format.TEXT, "binary file", id="png"),
        pytest.param(
            b"caf\xe9 au lait",
            Format.TEXT,
            "not valid UTF-8 (byte 0xe9 at offset 3)",
            id="latin1-text",
        ),
        pytest.param(b"\xef\xbb\xbfbad \xff", Format.TEXT, "byte-order mark", id="bad-after-bom"),
    ],
)
def test_decode_refuses_naming_the_reason(data: bytes, fmt: Format, reason: str) -> None:
    """Binary or undecodable input raises InputError naming the source and the reason."""
    with pytest.raises(InputError) as info:
        decode(data, source="some/file.txt", fmt=fmt)
    assert "some/file.txt" in str(info.value)
    assert reason in str(info.value)


def test_read_file_errors_name_the_file(tmp_path: Path) -> None:
    """Missing files and directories are reported by name."""
    with pytest.raises(InputError, match="no such file"):
        read_file(str(tmp_path / "missing.txt"))
    with pytest.raises(InputError, match="is a directory"):
        read_file(str(tmp_path))


def test_directories_are_walked_sorted_without_hidden(tmp_path: Path) -> None:
    """A directory expands to its files, recursively, sorted, hidden entries skipped."""
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("b/z.md", "a.txt", ".hidden.txt", ".git/config", "b/a.html"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    names = [Path(i.name).relative_to(tmp_path).as_posix() for i in expand_inputs([str(tmp_path)])]
    assert names == ["a.txt", "b/a.html", "b/z.md"]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.TXT", Format.TEXT),
        ("a.md", Format.MARKDOWN),
        ("a.htm", Format.HTML),
        ("a.nxml", Format.XML),
        ("a.wikitext", Format.WIKI),
        ("a.mediawiki", Format.WIKI),
        ("README", Format.TEXT),
        ("a.csv", Format.TEXT),
    ],
)
def test_format_by_suffix(name: str, fmt: Format) -> None:
    """File suffixes choose the format; anything else is text."""
    assert format_for(name) is fmt


@given(st.binary(max_size=300), st.sampled_from(list(Format)))
def test_decode_never_fails_unexpectedly(data: bytes, fmt: Format) -> None:
    """Arbitrary bytes decode or raise InputError, nothing else."""
    with contextlib.suppress(InputError):
        decode(data, source="x", fmt=fmt)
