"""Works → one record per work, with the reasons. Pure.

**Clustering.** Identifiers that any record (or the PMC ID converter's crosswalk) names
together belong to one work: a PubMed record naming its DOI and PMCID joins the
Crossref record of that DOI and the PMCID cited elsewhere. A cluster never holds two
different DOIs (nor two PMIDs, nor two PMCIDs): a link that would join them is refused
and noted, which keeps a preprint and its published version apart (they have
different DOIs; ``relations`` links them instead).

**Merging.** When several services describe one work, each field comes from the first
source in its precedence list that has it (:func:`precedence`, from each service's
rank and authority in :mod:`refs.registry`): Crossref for bibliographic fields, PubMed
for PMID, PMCID, the ISO journal abbreviation and the abstract; status events and relations are united. Every merge and every contested
field (sources disagreeing) is recorded in ``Work.merges``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from refs.identifiers import Identifier, Scheme
from refs.models import Record
from refs.registry import REGISTRY
from refs.registry import precedence as registry_precedence
from refs.work import MergeNote, Provenance, StatusEvent, Work

__all__ = [
    "MERGED_FIELDS",
    "Cluster",
    "cluster_records",
    "lasting_notes",
    "merge_works",
    "precedence",
]

# The Work fields a merge chooses, each from the first service of its precedence.
MERGED_FIELDS = (
    "type",
    "genre",
    "title",
    "container_title",
    "container_title_short",
    "author",
    "editor",
    "issued",
    "volume",
    "issue",
    "page",
    "doi",
    "pmid",
    "pmcid",
    "url",
    "issn",
    "isbn",
    "publisher",
    "language",
    "abstract",
)
_ranks: tuple[tuple[str, ...], dict[str, dict[str, int]]] = ((), {})


def precedence() -> dict[str, dict[str, int]]:
    """Field → {service: rank}, from the registry (recomputed when services change)."""
    global _ranks
    names = tuple(REGISTRY)
    if _ranks[0] != names:
        _ranks = (
            names,
            {
                name: {svc: i for i, svc in enumerate(registry_precedence(name))}
                for name in MERGED_FIELDS
            },
        )
    return _ranks[1]


_SCALAR_CONTESTED = {"title", "container_title", "issued", "volume", "issue", "page", "type"}


@dataclass
class Cluster:
    """The records and identifiers of one work found in a run."""

    identifiers: dict[Scheme, str] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def identifier_list(self) -> list[Identifier]:
        return [Identifier(s, v) for s, v in sorted(self.identifiers.items())]


class _Groups:
    """Union-find over identifiers, refusing unions that would mix two ids of one scheme."""

    def __init__(self) -> None:
        self.parent: dict[Identifier, Identifier] = {}
        self.members: dict[Identifier, dict[Scheme, str]] = {}
        # Refused unions: the note, and the identifiers it is about.
        self.refused: list[tuple[str, frozenset[Identifier]]] = []

    def add(self, ident: Identifier) -> Identifier:
        if ident not in self.parent:
            self.parent[ident] = ident
            self.members[ident] = {ident.scheme: ident.value}
        return self.find(ident)

    def find(self, ident: Identifier) -> Identifier:
        # Roots are the very objects stored as keys (parent[root] is root), so identity
        # tests suffice: no dataclass __eq__ call per step.
        parent = self.parent
        root = parent[ident]
        while (up := parent[root]) is not root:
            root = up
        node = parent[ident]
        while node is not root:
            parent[ident], ident, node = root, node, parent[node]
        return root

    def union(self, a: Identifier, b: Identifier, why: str) -> None:
        ra, rb = self.add(a), self.add(b)
        if ra is rb:
            return
        ma, mb = self.members[ra], self.members[rb]
        clash = [s for s in ma.keys() & mb.keys() if ma[s] != mb[s]]
        if clash:
            note = (
                f"not merged: {why} would join {', '.join(f'{s.value}:{ma[s]}' for s in clash)} "
                f"with {', '.join(f'{s.value}:{mb[s]}' for s in clash)}"
            )
            involved = {Identifier(s, v) for s, v in (*ma.items(), *mb.items()) if s in clash}
            self.refused.append((note, frozenset(involved)))
            return
        if len(ma) < len(mb):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].update(self.members.pop(rb))


def cluster_records(
    groups: Iterable[tuple[Identifier, dict[Scheme, str], Sequence[Record]]],
) -> tuple[list[Cluster], dict[Identifier, int]]:
    """Group resolved identifiers into works.

    ``groups`` holds, per resolved identifier, the identifiers found for it and the raw
    records describing it. Returns the clusters and, for every identifier seen, the
    index of its cluster.
    """
    uf = _Groups()
    items = list(groups)
    for ident, ids, records in items:
        uf.add(ident)
        for scheme, value in ids.items():
            uf.union(
                ident, Identifier(scheme, value), f"{ident} resolves to {scheme.value}:{value}"
            )
        for record in records:
            names = [Identifier(s, v) for s, v in record.names.items()]
            for other in names[1:]:
                uf.union(names[0], other, f"{record.service}:{record.key} names both")
    roots: dict[Identifier, int] = {}
    clusters: list[Cluster] = []
    seen_records: list[set[tuple[str, str]]] = []
    for ident, _ids, records in items:
        root = uf.find(ident)
        index = roots.get(root)
        if index is None:
            index = roots[root] = len(clusters)
            clusters.append(Cluster(identifiers=dict(uf.members[root])))
            seen_records.append(set())
        for record in records:
            slot = (record.service, record.key)
            if slot not in seen_records[index]:
                seen_records[index].add(slot)
                clusters[index].records.append(record)
    where = {ident: roots[uf.find(ident)] for ident in uf.parent if uf.find(ident) in roots}
    for note, involved in uf.refused:
        for c in clusters:
            if any(Identifier(s, v) in involved for s, v in c.identifiers.items()):
                c.notes.append(note)
    for c in clusters:
        services = sorted({f"{r.service}:{r.key}" for r in c.records if _describes(r)})
        if len(services) > 1:
            shared = ", ".join(f"{s.value}:{v}" for s, v in sorted(c.identifiers.items()))
            c.notes.append(f"merged {' + '.join(services)}: they share {shared}")
    return clusters, where


def components(
    groups: Sequence[tuple[Identifier, dict[Scheme, str], Sequence[Record]]],
) -> list[list[int]]:
    """The connected components of the identifier graph :func:`cluster_records` walks
    (every union it tries, refused ones included, and each group's identifier joined to
    what its records name, since the records' unions happen while that group is
    clustered), as lists of indices into ``groups`` in their order; components in the
    order of their first group. Pure."""
    parent: dict[Identifier, Identifier] = {}

    def find(x: Identifier) -> Identifier:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: Identifier, b: Identifier) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra

    for ident, ids, records in groups:
        find(ident)
        for scheme, value in ids.items():
            union(ident, Identifier(scheme, value))
        for record in records:
            names = [Identifier(s, v) for s, v in record.names.items()]
            for other in names:
                union(ident, other)
    out: dict[Identifier, list[int]] = {}
    for index, (ident, _, _) in enumerate(groups):
        out.setdefault(find(ident), []).append(index)
    return list(out.values())


def cluster_by_components(
    groups: Iterable[tuple[Identifier, dict[Scheme, str], Sequence[Record]]],
    *,
    mapper: Callable[..., Iterable[tuple[list[Cluster], dict[Identifier, int]]]] = map,
) -> tuple[list[Cluster], dict[Identifier, int]]:
    """:func:`cluster_records`, run on each connected component apart (``mapper`` may run
    them on a cluster's workers) and put back together in one fixed order: the same
    clusters, in the same order, as one global run (a union never crosses components,
    and within one the groups keep their order)."""
    items = list(groups)
    parts = components(items)
    results = list(mapper(cluster_records, [[items[i] for i in part] for part in parts]))
    placed: list[tuple[int, Cluster, list[Identifier]]] = []
    for part, (clusters, where) in zip(parts, results, strict=True):
        # A cluster's place in the global run: the first group (in input order) in it.
        first: dict[int, int] = {}
        for index in part:
            ident = items[index][0]
            first.setdefault(where[ident], index)
        members: dict[int, list[Identifier]] = {}
        for ident, c in where.items():
            members.setdefault(c, []).append(ident)
        for c, cluster in enumerate(clusters):
            placed.append((first[c], cluster, members.get(c, [])))
    placed.sort(key=lambda p: p[0])
    all_clusters = [cluster for _, cluster, _ in placed]
    all_where = {ident: n for n, (_, _, idents) in enumerate(placed) for ident in idents}
    return all_clusters, all_where


def _describes(record: Record) -> bool:
    """Records of services that describe works (not the ID converter's links)."""
    spec = REGISTRY.get(record.service)
    return spec is not None and spec.normaliser is not None


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def _rank(ranks: dict[str, int], work: Work) -> int:
    service = work.provenance[0].service if work.provenance else ""
    return ranks.get(service, len(ranks))


def merge_works(sources: Sequence[Work], notes: Iterable[str] = ()) -> Work:
    """One work from the normalised records of one cluster, by field precedence."""
    if not sources:
        msg = "merge_works needs at least one source"
        raise ValueError(msg)
    merges = [MergeNote(reason=n) for n in notes]
    values: dict[str, Any] = {}
    table = precedence()
    if len(sources) == 1:  # one record: every field it has wins, nothing is contested
        only = sources[0]
        values = {n: v for n in MERGED_FIELDS if not _empty(v := getattr(only, n))}
    for name in MERGED_FIELDS if len(sources) > 1 else ():
        ranks = table[name]
        ranked = sorted(
            (w for w in sources if not _empty(getattr(w, name))), key=lambda w: _rank(ranks, w)
        )
        if not ranked:
            continue
        winner = ranked[0]
        values[name] = getattr(winner, name)
        if name in _SCALAR_CONTESTED:
            losers = sorted(
                {
                    w.provenance[0].service
                    for w in ranked[1:]
                    if w.provenance and _differs(getattr(w, name), values[name])
                }
            )
            if losers:
                merges.append(
                    MergeNote(
                        reason=(
                            f"{name.replace('_', '-')}: {winner.provenance[0].service} preferred over "
                            f"{', '.join(losers)} (precedence: {', '.join(ranks)})"
                        )
                    )
                )
    status: dict[tuple[str, str], StatusEvent] = {}
    for w in sources:
        for event in w.status:
            status.setdefault(event.key(), event)
    relations = {(r.type, r.doi): r for w in sources for r in w.relations}
    provenance: dict[tuple[str, str], Provenance] = {}
    for w in sources:
        for p in w.provenance:
            provenance[(p.service, p.key)] = p
    return Work(
        **values,
        status=sorted(status.values(), key=lambda e: (e.date or "", e.kind, e.notice or "")),
        relations=[relations[k] for k in sorted(relations)],
        provenance=[provenance[k] for k in sorted(provenance)],
        merges=merges,
    )


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.lower().split()).rstrip(".") != " ".join(b.lower().split()).rstrip(".")
    if hasattr(a, "parts") and hasattr(b, "parts"):
        return bool(a.parts[0] != b.parts[0])
    return bool(a != b)


def lasting_notes(work: Work) -> list[str]:
    """The notes of a stored work that a re-merge must keep: why its records are one work.

    (Notes on contested fields are recomputed by every merge.)
    """
    return [
        n.reason
        for n in work.merges
        if n.reason.startswith(("merged", "library works", "not merged"))
    ]
