"""Writing exports: regular files atomically, links followed, streams never replaced."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from refs.errors import ExportError
from refs.files import clean_orphans, write_atomic


def test_a_symlink_stays_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    """-o paper.bib where paper.bib links to a shared bibliography updates the shared file."""
    shared = tmp_path / "shared" / "all.bib"
    shared.parent.mkdir()
    shared.write_text("old\n", encoding="utf-8")
    os.chmod(shared, 0o640)
    link = tmp_path / "paper" / "paper.bib"
    link.parent.mkdir()
    link.symlink_to(shared)
    assert write_atomic(link, "new\n")
    assert link.is_symlink()
    assert shared.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert not list(link.parent.glob(".*.tmp"))
    assert not write_atomic(link, "new\n")  # unchanged: not rewritten


def test_devices_and_fifos_are_streamed_into(tmp_path: Path) -> None:
    """/dev/null stays a device; a FIFO receives the text; neither becomes a regular file."""
    assert write_atomic(Path("/dev/null"), "x" * 100)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_atomic(fifo, "through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_directory_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is a directory"):
        write_atomic(tmp_path, "x")


def test_orphaned_temporary_files_are_cleaned(tmp_path: Path) -> None:
    """A refs killed mid-write leaves .library.bib.XXXX.tmp; the next run removes it."""
    orphan = tmp_path / ".library.bib.abc123.tmp"
    orphan.write_text("half", encoding="utf-8")
    keep = tmp_path / "library.bib"
    keep.write_text("whole", encoding="utf-8")
    assert clean_orphans(tmp_path) == [orphan]
    assert keep.exists()
    assert not orphan.exists()
