"""One refs at a time per library: a lock file next to the database.

The lock is an OS file lock (filelock), so it is released when the process ends,
however it ends (SIGKILL included): a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from refs.errors import LockTimeout, StoreError

__all__ = ["LOCK_NAME", "library_lock"]

LOCK_NAME = ".refs.lock"


@contextmanager
def library_lock(directory: Path, *, wait: float) -> Iterator[None]:
    """Hold the library's lock; wait up to ``wait`` seconds for it, else raise LockTimeout."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        msg = f"the library folder {str(directory)!r} is a file, not a folder (REFS_LIBRARY)"
        raise StoreError(msg) from exc
    except OSError as exc:
        msg = f"cannot use the library folder {str(directory)!r}: {exc.strerror or exc}"
        raise StoreError(msg) from exc
    lock = FileLock(directory / LOCK_NAME)
    try:
        lock.acquire(timeout=max(wait, 0.0))
    except Timeout as exc:
        msg = (
            f"another refs (refresh or resolve) is using the library at {str(directory)!r}; "
            f"waited {wait:g} s for it to finish (--wait), nothing was changed"
        )
        raise LockTimeout(msg) from exc
    try:
        yield
    finally:
        lock.release()
