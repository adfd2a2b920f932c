"""The library → BibTeX and CSL-JSON files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refs.choices import ExportFormat
from refs.config import Settings
from refs.errors import ExportError, UnknownDocument
from refs.export.entries import ExportEntry
from refs.storage import Library

__all__ = [
    "LIBRARY_EXPORTS",
    "check_documents",
    "export_library",
    "library_entries",
    "render",
    "write_exports",
    "write_library_exports",
]

LIBRARY_EXPORTS = {"library.bib": ExportFormat.bibtex, "library.json": ExportFormat.csl_json}
# Below this many works, writing the two exports one after the other is quicker than forking.
PARALLEL_MIN_WORKS = 2_000


def render(
    entries: Sequence[ExportEntry],
    fmt: ExportFormat,
    *,
    unicode: bool = False,
    abstracts: bool = False,
) -> str:
    """Export entries as the text of one file."""
    from refs.export.bibtex import to_bibtex
    from refs.export.csl import to_csl_json

    if fmt is ExportFormat.bibtex:
        return to_bibtex(entries, unicode=unicode, abstracts=abstracts)
    return to_csl_json(entries)


def check_documents(library: Library, documents: Sequence[str]) -> None:
    """Raise :class:`UnknownDocument` for the first document the library does not know."""
    for document in documents:
        if library.has_document(document):
            continue
        known = library.documents()
        hint = (
            f"; the library knows {len(known)} document(s), e.g. {', '.join(repr(k) for k in known[:3])}"
            if known
            else "; the library has no documents yet"
        )
        msg = f"{document!r} is not a document in the library{hint}"
        raise UnknownDocument(msg, document=document)


def library_entries(
    library: Library, *, document: str | None = None, keys: Sequence[str] | None = None
) -> list[ExportEntry]:
    """The library's works (or one document's, or some keys'), in key order, as export entries."""
    if document is not None:
        check_documents(library, [document])
    return [
        ExportEntry(w.key, w.work, w.documents) for w in library.works(document=document, keys=keys)
    ]


def export_library(
    settings: Settings,
    fmt: ExportFormat,
    *,
    document: str | None = None,
    unicode: bool = False,
    abstracts: bool = False,
) -> str:
    """``refs export``: the text of the library's (or one document's) export."""
    from refs.app.stores import opened_library

    with opened_library(settings, must_exist=True) as library:
        entries = library_entries(library, document=document)
    return render(entries, fmt, unicode=unicode, abstracts=abstracts)


def exports_fingerprint(paths: Sequence[Path]) -> int:
    """A number that changes when any of these files changes (size, modification time,
    inode) or refs' version does (a new version may render differently); 0 when a file is
    missing."""
    import hashlib

    from refs import __version__

    parts = [__version__]
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            return 0
        parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    digest = hashlib.sha256("\n".join(parts).encode()).digest()
    return int.from_bytes(digest[:7], "big") or 1


def write_library_exports(library: Library, settings: Settings) -> list[str]:
    """Rewrite references/library.bib and library.json (atomically, only when changed).

    Nothing is rendered when the library has not changed since the exports were last
    written whole and the files are still the ones written then (same fingerprint).
    Temporary files a killed run left beside them are removed first.
    """
    from refs.files import clean_orphans

    clean_orphans(settings.library)
    paths = [settings.library / name for name in LIBRARY_EXPORTS]
    generation, exported = library.generation()
    if generation == exported and exports_fingerprint(paths) == library.export_fingerprint():
        return []
    entries = library_entries(library)
    written = write_exports(entries, list(zip(paths, LIBRARY_EXPORTS.values(), strict=True)))
    # Only reached when every file was written.
    library.mark_exported(generation, exports_fingerprint(paths))
    return written


def _write_one(
    entries: Sequence[ExportEntry], path: Path, fmt: ExportFormat, unicode: bool
) -> bool:
    from refs.files import write_atomic

    return write_atomic(path, render(entries, fmt, unicode=unicode))


def _can_fork() -> bool:
    import multiprocessing
    import threading

    # fork() with other threads alive can deadlock the child; never risk it.
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def write_exports(
    entries: Sequence[ExportEntry],
    targets: Sequence[tuple[Path, ExportFormat]],
    *,
    unicode: bool = False,
) -> list[str]:
    """Write each target (path, format) atomically; return the paths whose content changed.

    With many works and more than one target, each extra target is written by a forked
    child while this process writes the first: the files are independent and rendering
    is CPU-bound, so two formats take the time of the slower one.
    """
    if len(targets) < 2 or len(entries) < PARALLEL_MIN_WORKS or not _can_fork():
        return [str(path) for path, fmt in targets if _write_one(entries, path, fmt, unicode)]
    import multiprocessing

    context = multiprocessing.get_context("fork")
    children = []
    for path, fmt in targets[1:]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_child_write, args=(entries, path, fmt, unicode, sender), daemon=True
        )
        child.start()
        sender.close()
        children.append((path, child, receiver))
    first_path, first_fmt = targets[0]
    written = [str(first_path)] if _write_one(entries, first_path, first_fmt, unicode) else []
    for path, child, receiver in children:
        try:
            status, detail = receiver.recv()
        except EOFError:
            status, detail = "error", f"the process writing it died (exit status {child.exitcode})"
        child.join()
        if status == "error":
            msg = f"cannot write {str(path)!r}: {detail}"
            raise ExportError(msg)
        if detail:
            written.append(str(path))
    return written


def _child_write(
    entries: Sequence[ExportEntry], path: Path, fmt: ExportFormat, unicode: bool, sender: Any
) -> None:
    try:
        sender.send(("ok", _write_one(entries, path, fmt, unicode)))
    except BaseException as exc:  # report anything to the parent, which raises it
        sender.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()
