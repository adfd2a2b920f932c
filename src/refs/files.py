"""Writing files so that a reader never sees half of one: temp file, fsync, rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from refs.errors import ExportError

__all__ = ["write_atomic"]


def write_atomic(path: Path, text: str, *, only_if_changed: bool = True) -> bool:
    """Write ``text`` to ``path`` atomically; return False when it already held exactly that."""
    path = Path(path)
    data = text.encode("utf-8")
    try:
        if only_if_changed and path.is_file() and path.read_bytes() == data:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, mode)  # mkstemp creates 0600; give the file its usual mode
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        msg = f"cannot write {str(path)!r}: {exc.strerror or exc}"
        raise ExportError(msg) from exc
    return True


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
