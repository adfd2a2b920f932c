"""``refs resolve --workers N`` / ``--cluster tcp://SCHEDULER:8786``: a run spread over
a Dask distributed cluster.

Plan first, then resolve in one place:

1. The client expands the inputs (directories walked as a serial run walks them) and
   partitions the documents by a stable hash of their names (blake2b, never Python's
   per-process ``hash()``), :data:`PARTITIONS_PER_WORKER` partitions per worker.
2. Workers read and extract their partitions (the documents must be readable at the
   same paths on every worker: a shared file system, or URLs).
3. The client gathers every partition's mentions, in the serial run's document order,
   and resolves the run's distinct identifiers itself, minus what the cache and loaded
   snapshots hold: one resolver holding every per-host pool, so the cluster asks each
   service no more, and no faster, than one machine would.
4. The records it fetches are normalised on the workers while the next requests wait
   (:class:`ClusterNormaliser`); deduplication and storing follow in the client, in
   the serial run's order, so the library and exports equal a serial run's byte for
   byte.

Workers never write: a worker that dies costs the partitions it held, which Dask runs
again elsewhere; nothing is stored twice because nothing is stored until every
partition is in.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from refs.app.inputs import DocumentResult
from refs.app.resolving import Normaliser
from refs.config import Settings
from refs.errors import ConfigError
from refs.models import Record
from refs.progress import NullReporter, Reporter

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "PARTITIONS_PER_WORKER",
    "ClusterNormaliser",
    "cluster_client",
    "extract_distributed",
    "partition_of",
]

PARTITIONS_PER_WORKER = 4
STAGE = "extract"


def partition_of(name: str, partitions: int) -> int:
    """The partition a document goes to: the same on every machine and in every run."""
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % max(partitions, 1)


@contextmanager
def cluster_client(*, workers: int | None = None, address: str | None = None) -> Iterator[Client]:
    """A Dask client: of the scheduler at ``address``, or of a :class:`LocalCluster` of
    ``workers`` processes (one thread each) started for this run and stopped after it."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        msg = "--workers and --cluster need Dask distributed: pip install 'refs[cluster]'"
        raise ConfigError(msg) from exc
    if address is not None:
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            msg = f"--cluster {address!r}: cannot reach the Dask scheduler there ({exc})"
            raise ConfigError(msg) from exc
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=workers or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _extract_partition(
    items: Sequence[tuple[int, str]], settings: Settings, cwd: str, unidentified: bool
) -> list[tuple[int, DocumentResult]]:
    """On a worker: read and extract these documents ((position, name) each)."""
    from refs.app.inputs import extract_documents

    if os.getcwd() != cwd and os.path.isdir(cwd):
        os.chdir(cwd)  # names are relative to the client's folder (one thread per worker)
    out = []
    for (position, _), result in zip(
        items,
        extract_documents([name for _, name in items], settings, unidentified=unidentified),
        strict=True,
    ):
        if not unidentified:
            result.document = None  # the text itself is not needed past extraction
        out.append((position, result))
    return out


def extract_distributed(
    client: Client,
    paths: Sequence[str],
    settings: Settings,
    *,
    unidentified: bool = False,
    reporter: Reporter | None = None,
) -> list[DocumentResult]:
    """Every document's mentions, extracted on the cluster's workers, in the order a
    serial run reads them."""
    from refs.documents import expand_inputs

    reporter = reporter or NullReporter()
    names = [i.name for i in expand_inputs(paths, skip=[settings.library, settings.cache])]
    local = [(p, n) for p, n in enumerate(names) if n == "-"]  # stdin is the client's
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    count = min(len(names), workers * PARTITIONS_PER_WORKER) or 1
    parts: list[list[tuple[int, str]]] = [[] for _ in range(count)]
    for position, name in enumerate(names):
        if name != "-":
            parts[partition_of(name, count)].append((position, name))
    reporter.start(STAGE, len(names))
    futures = [
        client.submit(_extract_partition, part, settings, os.getcwd(), unidentified, pure=False)
        for part in parts
        if part
    ]
    results: dict[int, DocumentResult] = {}
    if local:
        results.update(_extract_partition(local, settings, os.getcwd(), unidentified))
    for future in futures:
        for position, result in future.result():
            results[position] = result
            reporter.advance(STAGE)
    reporter.finish(STAGE)
    ordered = [results[p] for p in range(len(names))]
    for result in ordered:
        if result.error is not None:
            reporter.warning(str(result.error))
    return ordered


def _normalise_batch(records: Sequence[Record]) -> list[Any]:
    """On a worker: each record's normalised work (or the reason it cannot be read)."""
    from refs.normalise import normalise_record_checked

    out: list[Any] = []
    for record in records:
        try:
            out.append(normalise_record_checked(record))
        except ValueError as exc:
            out.append(str(exc))
    return out


class ClusterNormaliser(Normaliser):
    """:class:`Normaliser` whose batches are normalised on the cluster's workers: the
    resolver hands each fetched batch over and goes on asking; the works come back by
    the time the chunk is stored."""

    def __init__(self, client: Client) -> None:
        super().__init__()
        self._client = client
        # slot → (the Dask future of its batch, the slots of that batch in order)
        self._remote: dict[tuple[str, str, float], tuple[Any, list[tuple[str, str, float]]]] = {}

    def add(self, records: Sequence[Record]) -> None:
        batch = [r for r in records if r.status == "ok" and r.payload is not None]
        if not batch:
            return
        future = self._client.submit(_normalise_batch, batch, pure=False)
        slots = [(r.service, r.key, r.fetched_at) for r in batch]
        for slot in slots:
            self._remote[slot] = (future, slots)

    def get(self, record: Record) -> Any:
        slot = (record.service, record.key, record.fetched_at)
        remote = self._remote.pop(slot, None)
        if remote is not None and slot not in self._done:
            # The whole batch comes back at once (one transfer, not one per record).
            future, slots = remote
            for other, done in zip(slots, future.result(), strict=True):
                if other == slot or self._remote.pop(other, None) is not None:
                    self._done.setdefault(other, done)  # (not those forgotten meanwhile)
            future.release()
        return super().get(record)

    def forget(self, records: Any) -> None:
        records = list(records)
        for r in records:
            self._remote.pop((r.service, r.key, r.fetched_at), None)
        super().forget(records)


def normaliser_for(client: Client) -> Callable[[], Normaliser]:
    return lambda: ClusterNormaliser(client)


def resolve_distributed(
    inputs: Sequence[str],
    settings: Settings,
    *,
    workers: int | None = None,
    address: str | None = None,
    reporter: Reporter | None = None,
    **options: Any,
) -> Any:
    """``refs resolve`` on a Dask cluster (see the module's docstring); ``options`` as
    :func:`refs.app.resolving.resolve_documents` takes them. Returns its ResolveRun."""
    from refs.app.inputs import split_inputs
    from refs.app.resolving import resolve_documents

    reporter = reporter or NullReporter()
    paths, given = split_inputs(inputs)  # usage errors before any cluster starts
    with cluster_client(workers=workers, address=address) as client:
        documents = (
            extract_distributed(
                client,
                paths,
                settings,
                unidentified=options.get("match") is not None,
                reporter=reporter,
            )
            if paths
            else []
        )
        return resolve_documents(
            documents,
            given,
            settings,
            reporter=reporter,
            normaliser=normaliser_for(client),
            **options,
        )
