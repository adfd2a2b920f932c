"""Reading documents: files, directories and URLs → decoded :class:`~refs.models.Document`.

This is the input edge of extraction (file system and, for URLs, the network); the
extraction itself (:mod:`refs.extract`) is pure.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import sys
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from refs.bodies import ACCEPT_ENCODING, TooLarge, decode_body, is_private_host
from refs.errors import InputError
from refs.models import Document, Format

if TYPE_CHECKING:
    import httpx  # imported by fetch_url: reading files never loads the HTTP client

__all__ = [
    "FORMAT_BY_SUFFIX",
    "decode",
    "document_name",
    "expand_inputs",
    "fetch_url",
    "is_url",
    "read_file",
]

FORMAT_BY_SUFFIX: dict[str, Format] = {
    ".txt": Format.TEXT,
    ".text": Format.TEXT,
    ".md": Format.MARKDOWN,
    ".markdown": Format.MARKDOWN,
    ".html": Format.HTML,
    ".htm": Format.HTML,
    ".xhtml": Format.HTML,
    ".xml": Format.XML,
    ".nxml": Format.XML,
    ".jats": Format.XML,
    ".wiki": Format.WIKI,
    ".wikitext": Format.WIKI,
    ".mediawiki": Format.WIKI,
}

_FORMAT_BY_MEDIA_TYPE: dict[str, Format] = {
    "text/html": Format.HTML,
    "application/xhtml+xml": Format.HTML,
    "application/xml": Format.XML,
    "text/xml": Format.XML,
    "application/jats+xml": Format.XML,
    "text/markdown": Format.MARKDOWN,
    "text/x-markdown": Format.MARKDOWN,
    "text/plain": Format.TEXT,
}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HTML_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_XML_ENCODING = re.compile(rb"^<\?xml[^>]+encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)")
_EXPECTED = "expected UTF-8 text, HTML, Markdown, JATS XML or wiki markup"


@dataclass(frozen=True, slots=True)
class Input:
    """One thing to read: a file path as the user wrote it (or found in a directory) or a URL."""

    name: str
    url: bool = False


def is_url(text: str) -> bool:
    """True for anything that looks like a URL with a scheme (``http://``, ``ftp://``…)."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def document_name(name: str) -> str:
    """The one name of a local document however it was given: ``paper.md``,
    ``./paper.md`` and its absolute path are one document (``paper.md``, relative to the
    working directory when inside it, else the normalised absolute path). URLs and
    ``-`` stay as given."""
    if name == "-" or is_url(name):
        return name
    path = os.path.normpath(name)
    if os.path.isabs(path):
        try:
            relative = os.path.relpath(path, os.getcwd())
        except ValueError:  # another drive (Windows)
            return path
        if not relative.startswith(os.pardir):
            return relative
    return path


def expand_inputs(inputs: Sequence[str], *, skip: Iterable[Path] = ()) -> Iterator[Input]:
    """Paths and URLs as given; directories walked recursively in sorted order.

    Inside a directory, hidden entries (names starting with ``.``, as ``git`` and
    ``ripgrep`` do), anything that is not a regular file (FIFOs, devices, sockets: they
    can hang or never end) and the folders in ``skip`` (the library and the cache refs
    writes) are passed over; a path named explicitly is always read (``-`` is stdin).
    """
    skipped = {_identity(p) for p in skip}
    skipped.discard(None)
    for item in inputs:
        if is_url(item):
            yield Input(item, url=True)
            continue
        path = Path(item)
        if item != "-" and path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(
                    d
                    for d in dirs
                    if not d.startswith(".") and _identity(Path(root, d)) not in skipped
                )
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if not name.startswith(".") and _is_regular(full):
                        yield Input(document_name(full))
        else:
            yield Input(document_name(item))


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # let reading it say what is wrong


def format_for(name: str) -> Format:
    """The format a file name implies; unknown suffixes are read as text."""
    return FORMAT_BY_SUFFIX.get(Path(name).suffix.lower(), Format.TEXT)


def decode(data: bytes, *, source: str, fmt: Format, charset: str | None = None) -> str:
    """Bytes → text: BOM, then UTF-8, then a declared charset; binary data is refused.

    HTML without a usable declaration falls back to windows-1252, as the HTML standard's
    encoding sniffing does; other text must be UTF-8 or say what it is.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                msg = f"{source}: cannot decode as {encoding} despite its byte-order mark ({exc.reason} at byte {exc.start}); {_EXPECTED}"
                raise InputError(msg, source=source) from exc
    if charset and _is_wide(charset):
        # UTF-16/32 declared by the server (charset=utf-16le): NUL bytes are expected.
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    if b"\x00" in data[:8192]:
        msg = f"{source}: binary file (it contains NUL bytes); {_EXPECTED}"
        raise InputError(msg, source=source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    declared = charset or _declared_charset(data, fmt)
    candidates = [declared] if declared else []
    if fmt is Format.HTML:
        candidates.append("windows-1252")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    msg = (
        f"{source}: not valid UTF-8 (byte 0x{data[utf8_error.start]:02x} at offset "
        f"{utf8_error.start})"
        + (f" nor valid {declared}" if declared else " and no charset is declared")
        + f"; {_EXPECTED} (convert it, e.g. with iconv -t UTF-8)"
    )
    raise InputError(msg, source=source)


def _is_wide(charset: str) -> bool:
    return charset.lower().replace("_", "-").startswith(("utf-16", "utf-32", "ucs-2", "ucs2"))


def _declared_charset(data: bytes, fmt: Format) -> str | None:
    head = data[:4096]
    if fmt is Format.XML:
        m = _XML_ENCODING.match(head)
        return m.group(1).decode("ascii") if m else None
    if fmt is Format.HTML:
        m = _HTML_CHARSET.search(head)
        return m.group(1).decode("ascii") if m else None
    return None


def read_file(name: str, *, max_bytes: int = 200_000_000) -> Document:
    """Read and decode one regular file (or stdin for ``-``), at most ``max_bytes``.

    :class:`InputError` says why it cannot be read: a FIFO, a device (``/dev/zero``, or
    a link to one) or a socket is refused before it is opened.
    """
    if name == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            msg = f"-: standard input holds more than {max_bytes} bytes (--max-bytes)"
            raise InputError(msg, source=name)
        return Document(name, decode(data, source=name, fmt=Format.MARKDOWN), Format.MARKDOWN)
    path = Path(name)
    try:
        st = os.stat(path)  # follows symbolic links
    except OSError as exc:
        raise _unreadable(name, exc) from exc
    if stat.S_ISDIR(st.st_mode):
        msg = f"{name}: is a directory"
        raise InputError(msg, source=name)
    if not stat.S_ISREG(st.st_mode):
        msg = (
            f"{name}: not a regular file (a FIFO, device or socket); refs reads files, "
            "or standard input when given -"
        )
        raise InputError(msg, source=name)
    if st.st_size > max_bytes:
        msg = f"{name}: {st.st_size} bytes is more than the limit of {max_bytes} (--max-bytes)"
        raise InputError(msg, source=name)
    try:
        with open(path, "rb") as handle:
            # One read of the size stat gave (a read of max_bytes would grow its buffer
            # in steps); a file that grew since is read on, still within the limit.
            data = handle.read(st.st_size + 1) if st.st_size else b""
            if len(data) > st.st_size or not st.st_size:
                data += handle.read(max_bytes + 1 - len(data))
    except OSError as exc:
        raise _unreadable(name, exc) from exc
    if len(data) > max_bytes:
        msg = f"{name}: more than the limit of {max_bytes} bytes (--max-bytes)"
        raise InputError(msg, source=name)
    fmt = format_for(name)
    return Document(name, decode(data, source=name, fmt=fmt), fmt)


MAX_REDIRECTS = 10


def _unreadable(name: str, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{name}: no such file or directory", source=name)
    return InputError(f"{name}: cannot read it ({exc.strerror or exc})", source=name)


def fetch_url(
    url: str,
    *,
    client: httpx.Client,
    max_bytes: int,
    timeout: float,
    allow_private: bool = False,
) -> Document:
    """Fetch a web page (http/https only) within a size limit (every decoded layer
    included) and a time limit for the whole answer.

    The URL itself was given by the user; a redirect to a loopback, private or
    link-local address is refused unless ``allow_private``.
    """
    import httpx

    if not url.lower().startswith(("http://", "https://")):
        msg = f"{url}: only http:// and https:// URLs can be fetched"
        raise InputError(msg, source=url)
    deadline = time.monotonic() + timeout
    target = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            left = max(0.01, deadline - time.monotonic())
            with client.stream(
                "GET",
                target,
                timeout=httpx.Timeout(left),
                follow_redirects=False,
                headers={"Accept-Encoding": ACCEPT_ENCODING},
            ) as response:
                location = response.headers.get("location")
                if response.status_code in (301, 302, 303, 307, 308) and location:
                    nxt = str(response.url.join(location))
                    if not nxt.lower().startswith(("http://", "https://")):
                        msg = f"{url}: redirected to {nxt!r}, which is not an http(s) URL"
                        raise InputError(msg, source=url)
                    if not allow_private and is_private_host(nxt):
                        msg = (
                            f"{url}: redirected to {nxt}, a loopback, private or link-local "
                            "address; refused (--allow-private-urls allows it)"
                        )
                        raise InputError(msg, source=url)
                    target = nxt
                    continue
                if response.status_code >= 400:
                    msg = f"{url}: the server answered HTTP {response.status_code}"
                    raise InputError(msg, source=url)
                raw = _read_raw(response, url, max_bytes, deadline, timeout)
                try:
                    body = decode_body(raw, response.headers.get("content-encoding"), max_bytes)
                except TooLarge as exc:
                    msg = f"{url}: larger than the limit of {max_bytes} bytes ({exc}; --fetch-max-bytes)"
                    raise InputError(msg, source=url) from exc
                except (ValueError, OSError, zlib.error) as exc:
                    msg = f"{url}: cannot decode the answer ({exc})"
                    raise InputError(msg, source=url) from exc
                media_type, charset = _content_type(response.headers.get("content-type", ""))
                break
        else:
            msg = f"{url}: more than {MAX_REDIRECTS} redirects"
            raise InputError(msg, source=url)
    except httpx.TimeoutException as exc:
        msg = f"{url}: no complete answer within {timeout:g} s (--fetch-timeout)"
        raise InputError(msg, source=url) from exc
    except httpx.HTTPError as exc:
        msg = f"{url}: cannot fetch it ({type(exc).__name__}: {exc})"
        raise InputError(msg, source=url) from exc
    fmt = _FORMAT_BY_MEDIA_TYPE.get(media_type)
    if fmt is None:
        if media_type and not media_type.startswith("text/"):
            msg = f"{url}: content type {media_type!r} is not a document refs reads; {_EXPECTED}"
            raise InputError(msg, source=url)
        fmt = format_for(httpx.URL(url).path)
    return Document(url, decode(body, source=url, fmt=fmt, charset=charset), fmt)


def _read_raw(
    response: httpx.Response, url: str, max_bytes: int, deadline: float, timeout: float
) -> bytes:
    """The raw (still encoded) body, at most ``max_bytes``, before the deadline."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        msg = f"{url}: {declared} bytes is more than the limit of {max_bytes} (--fetch-max-bytes)"
        raise InputError(msg, source=url)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        size += len(chunk)
        if size > max_bytes:
            msg = f"{url}: larger than the limit of {max_bytes} bytes (--fetch-max-bytes)"
            raise InputError(msg, source=url)
        chunks.append(chunk)
        if time.monotonic() > deadline:  # a server trickling bytes never ends the read
            msg = f"{url}: no complete answer within {timeout:g} s (--fetch-timeout)"
            raise InputError(msg, source=url)
    return b"".join(chunks)


def _content_type(header: str) -> tuple[str, str | None]:
    parts = [p.strip() for p in header.split(";")]
    media_type = parts[0].lower() if parts else ""
    charset = None
    for p in parts[1:]:
        key, _, value = p.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media_type, charset
