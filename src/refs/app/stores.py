"""Opening the library and the record cache that the settings name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from refs.config import Settings
from refs.storage import Library, RecordCache

__all__ = ["library_exists", "locked", "open_cache", "open_library", "opened_library", "stored"]


def open_library(settings: Settings) -> Library:
    """The library at ``settings.library`` (created if new), or in the PostgreSQL
    database ``settings.library_url`` names."""
    if settings.library_url:
        from refs.store.library import PostgresLibrary

        return PostgresLibrary(settings.library_url)
    from refs.store.library import SQLiteLibrary

    return SQLiteLibrary(settings.library)


def library_exists(settings: Settings) -> bool:
    if settings.library_url:
        return True  # a database the user named: an empty one is an empty library
    from refs.store.library import FILENAME

    return (settings.library / FILENAME).exists()


def open_cache(settings: Settings) -> RecordCache:
    """The record cache at ``settings.cache`` (created if new), or in PostgreSQL."""
    if settings.cache_url:
        from refs.store.cache import PostgresCache

        return PostgresCache(settings.cache_url)
    from refs.store.cache import Cache

    return Cache(settings.cache)


@contextmanager
def opened_library(settings: Settings, *, must_exist: bool = False) -> Iterator[Library]:
    """The library, closed at the end; ``must_exist`` refuses to create an empty one."""
    if must_exist and not library_exists(settings):
        from refs.errors import NoLibrary

        msg = (
            f"no library at {str(settings.library)!r} (REFS_LIBRARY or --library): run "
            "`refs resolve` on your documents first, or point refs at the library"
        )
        raise NoLibrary(msg, path=str(settings.library))
    library = open_library(settings)
    try:
        yield library
    finally:
        library.close()


@contextmanager
def locked(settings: Settings, *, wait: float) -> Iterator[None]:
    """Hold the library's lock (waiting up to ``wait`` seconds): only around writing the
    library and its exports, never during network I/O."""
    if settings.library_url:
        # Every machine using the database takes turns: a lock held by the database.
        from refs.store.pg import advisory_lock

        with advisory_lock(settings.library_url, wait=wait):
            yield
        return
    from refs.store.lock import library_lock

    with library_lock(settings.library, wait=wait):
        yield


@contextmanager
def stored(settings: Settings, *, wait: float) -> Iterator[Library]:
    """The library, opened under its lock."""
    with locked(settings, wait=wait), opened_library(settings) as library:
        yield library
