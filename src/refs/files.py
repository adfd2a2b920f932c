"""Writing files so that a reader never sees half of one: temp file, fsync, rename.

Only a regular file is replaced (atomically, keeping its mode). A symbolic link is
followed, so the file it points to is replaced and the link stays a link (a shared
bibliography linked into a paper's folder). Anything else that exists at the path,
a FIFO, a character device (``/dev/null``, ``/dev/stdout``), a socket, is written to as a
stream, never replaced by a regular file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from refs.errors import ExportError

__all__ = ["clean_orphans", "write_atomic"]


def write_atomic(path: Path, text: str | Iterable[str], *, only_if_changed: bool = True) -> bool:
    """Write ``text`` (a string, or its pieces in order) to ``path``; return False when
    it already held exactly that.

    Regular files (and what symbolic links point to) are replaced atomically; other
    kinds of file are streamed into. Pieces are encoded and written one at a time (a
    large export is never one string in memory), and compared with the file they would
    replace by digest.
    """
    path = Path(path)
    pieces = [text] if isinstance(text, str) else text
    try:
        try:
            mode = os.stat(path).st_mode  # follows symbolic links
        except FileNotFoundError:
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            msg = f"cannot write {str(path)!r}: it is a directory"
            raise ExportError(msg)
        if mode is not None and not stat.S_ISREG(mode):
            with open(path, "wb") as stream:  # a FIFO, a device: write to it, never replace it
                for piece in pieces:
                    stream.write(piece.encode("utf-8"))
            return True
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        target.parent.mkdir(parents=True, exist_ok=True)
        keep = mode & 0o777 if mode is not None else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            os.fchmod(fd, keep)  # mkstemp creates 0600; give the file its usual mode
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as handle:
                for piece in pieces:
                    data = piece.encode("utf-8")
                    digest.update(data)
                    handle.write(data)
                handle.flush()
                if only_if_changed and mode is not None and _digest_of(target) == digest.digest():
                    os.unlink(tmp)
                    return False
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        msg = f"cannot write {str(path)!r}: {exc.strerror or exc}"
        raise ExportError(msg) from exc
    return True


def _digest_of(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.digest()


def clean_orphans(directory: Path) -> list[Path]:
    """Remove temporary files a killed refs left in ``directory`` (``.name.*.tmp``)."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in Path(directory).glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if entry.is_file() and not entry.is_symlink():
                    entry.unlink()
                    removed.append(entry)
    return removed


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
