"""Clustering the account graph from arrays: no database, no Python object per edge.

The input is the graph as stored (``models``): links from accounts to keys. ``project`` turns it into
weighted account-account edges: every pair of accounts that carry a key gets the key's weight, and a
pair's weights add up over the keys they share. A key's weight is its kind's (``KIND_WEIGHTS``: a
payment handle says more than an upload address) times a hub factor: full up to
``soft_accounts`` accounts, falling as ``sqrt(soft_accounts / accounts)`` above, and zero above
``hub_accounts``: a key that many accounts carry (a carrier-grade NAT address, a meme) is not
evidence, and is cut before any pair is made (``key_weight`` says which, for the evidence).

``cluster`` keeps the trustworthy edges (weight at least ``min_edge_weight``), finds connected
components (a union-find compiled with numba), and splits each component larger than
``leiden_min_accounts`` into communities with Leiden (igraph's, weighted, seeded: the same graph gives
the same clusters), by default with the constant Potts model: a community must hold at least
``resolution`` of edge weight per pair of its accounts, so a racket (many heavy edges) stays whole and
the ordinary accounts around it, each tied by an edge or two, fall away.

``carry_ids`` keeps a cluster's id across runs: a new cluster takes the id of the previous cluster
that most of its accounts came from, when the two overlap by at least half (Jaccard).
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import igraph
import numba
import numpy as np
import numpy.typing as npt

from suraksha.network.models import KeyKind

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

PAYMENT_KINDS = frozenset({"upi_id", "bitcoin_address", "ethereum_address", "tron_address"})
"""Identifier kinds that take money: the racket's till."""
CONTACT_KINDS = frozenset({"phone", "email", "telegram", "whatsapp", "signal", "url"})
MEDIA_KINDS = frozenset({KeyKind.MEDIA.value, KeyKind.NEAR_MEDIA.value})
EVASION_KINDS = PAYMENT_KINDS | MEDIA_KINDS
"""What an account must take up from a suspected racket to raise a ban-evasion alert: its payment
handles, or its media (the same file or a near-duplicate)."""

KIND_WEIGHTS: Mapping[str, float] = {
    **dict.fromkeys(PAYMENT_KINDS, 1.0),
    "phone": 0.8,
    "email": 0.8,
    "telegram": 0.8,
    "whatsapp": 0.8,
    "signal": 0.8,
    "url": 0.5,
    KeyKind.MEDIA.value: 1.0,
    KeyKind.NEAR_MEDIA.value: 0.7,
    KeyKind.DEVICE.value: 0.6,
    KeyKind.IP.value: 0.25,
}
"""How much one shared key of each kind says that two accounts are run together, before the hub factor.
An upload address alone (0.25) is never a trustworthy edge at the default ``min_edge_weight`` (0.5):
it needs another shared key beside it."""

DEFAULT_WEIGHT = 0.5
"""The weight of a key kind missing from ``KIND_WEIGHTS`` (an identifier kind added later)."""


_QUALITY = {"cpm": "CPM", "modularity": "modularity"}
_RNG_LOCK = threading.Lock()


def _graph(n: int, src: I64, dst: I64, chunk: int = 1_000_000) -> igraph.Graph:
    """An igraph graph from edge arrays. ``add_edges`` in chunks: 2.5 times faster than the
    constructor given the same array (0.21 s against 0.54 s for 700,000 edges), without a Python tuple
    per edge."""
    graph = igraph.Graph(n=n)
    for start in range(0, src.size, chunk):
        graph.add_edges(np.column_stack((src[start : start + chunk], dst[start : start + chunk])))
    return graph


def _leiden(graph: igraph.Graph, weight: F64, options: GraphOptions) -> Any:
    """igraph's own Leiden (its C core: 17 times faster than leidenalg's ``find_partition`` on the
    same 33,000-account component, 0.40 s against 7.1 s, with about as many communities),
    seeded through a private random generator so that the same graph gives the same clusters."""
    with _RNG_LOCK:
        igraph.set_random_number_generator(random.Random(options.seed))  # noqa: S311 - not for secrets
        try:
            return graph.community_leiden(
                objective_function=_QUALITY[options.quality],
                weights=weight.tolist(),
                resolution=options.resolution,
                n_iterations=options.leiden_iterations,
            )
        finally:
            igraph.set_random_number_generator(random)


@dataclass(frozen=True)
class GraphOptions:
    """How the graph is weighted and cut (settings ``network_*``, ``GraphOptions.from_settings``)."""

    hub_accounts: int = 200
    """Keys carried by more accounts than this are cut: not evidence."""
    soft_accounts: int = 20
    """Keys carried by more accounts than this are down-weighted."""
    min_edge_weight: float = 0.5
    """Edges lighter than this are left out of clustering."""
    min_key_weight: float = 0.125
    """Keys lighter than this (after the hub factor) make no pairs: four of them together would not
    reach ``min_edge_weight``, and a 100-account NAT address (0.11) would make 4,950 pairs for nothing."""
    core_share: float = 0.15
    """A member whose edges into its cluster weigh less than this share of the cluster's median member
    is cut from it: an ordinary account that shares one meme with a racket hangs on by a thread."""
    core_min_accounts: int = 10
    """Clusters smaller than this are not cut down (a family on one phone stays whole)."""
    leiden_min_accounts: int = 50
    """Connected components larger than this are split into communities with Leiden."""
    quality: str = "cpm"
    """Leiden's quality function: ``cpm`` (a community must be denser, in edge weight per pair of its
    accounts, than ``resolution``: an ordinary account hanging on to a racket by one edge costs more
    than it brings) or ``modularity`` (RB configuration; ``resolution`` 1 is plain modularity)."""
    resolution: float = 0.1
    """Leiden's resolution: with ``cpm`` the least weight per pair of accounts inside a community."""
    leiden_iterations: int = 1
    """Leiden's passes (a negative number runs it until nothing changes). One, not igraph's default
    two: on benchmarks/network.py's populations the second pass changed no suspected account at 50,000
    and 300,000 accounts and one at 1M (recall 99.2 %, precision 93.4 % against 93.6 %), and cost 45 %
    of the clustering's time (20.6 s against 11.3 s at 1M)."""
    seed: int = 1
    weights: Mapping[str, float] = field(default_factory=lambda: dict(KIND_WEIGHTS))

    def kind_weight(self, kind: str) -> float:
        return self.weights.get(kind, DEFAULT_WEIGHT)

    def hub_factor(self, accounts: int) -> float:
        """1 up to ``soft_accounts``; ``sqrt(soft_accounts / accounts)`` up to ``hub_accounts``; 0 above."""
        if accounts > self.hub_accounts:
            return 0.0
        if accounts <= self.soft_accounts:
            return 1.0
        return math.sqrt(self.soft_accounts / accounts)

    def key_weight(self, kind: str, accounts: int) -> tuple[float, str]:
        """The weight one shared key gives an edge, and what the evidence says about it."""
        factor = self.hub_factor(accounts)
        if factor == 0.0:
            return 0.0, f"cut: a hub shared by {accounts} accounts (more than {self.hub_accounts})"
        weight = self.kind_weight(kind) * factor
        if factor < 1.0:
            return weight, f"down-weighted x{factor:.2f}: shared by {accounts} accounts"
        return weight, ""

    def key_weights(self, kinds: Sequence[str], kind_of_key: I64, accounts_of_key: I64) -> F64:
        """``key_weight`` for every key at once: ``kind_of_key`` indexes ``kinds``."""
        base = np.array([self.kind_weight(k) for k in kinds] or [0.0], dtype=np.float64)[kind_of_key]
        sizes = np.maximum(accounts_of_key.astype(np.float64), 1.0)
        factor = np.where(sizes <= self.soft_accounts, 1.0, np.sqrt(self.soft_accounts / sizes))
        factor[sizes > self.hub_accounts] = 0.0
        return np.asarray(base * factor, dtype=np.float64)


@dataclass(frozen=True)
class Edges:
    """Weighted undirected edges, ``src < dst``, each pair once."""

    src: I64
    dst: I64
    weight: F64

    def __len__(self) -> int:
        return int(self.src.shape[0])


def project(
    account: I64,
    key: I64,
    key_weight: F64,
    *,
    n_accounts: int,
    hub_accounts: int,
    min_key_weight: float = 0.0,
) -> Edges:
    """Account-account edges from links (``account[i]`` carries ``key[i]``; accounts and keys numbered
    from 0; ``key_weight`` per key): each pair of a key's accounts gets its weight, summed over the keys
    the pair shares. Keys lighter than ``min_key_weight`` (or weightless), or with more than
    ``hub_accounts`` accounts, make no pairs.
    Built a key size at a time with numpy (a k-account key makes k(k-1)/2 pairs)."""
    if account.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Edges(empty, empty.copy(), np.zeros(0, dtype=np.float64))
    order = np.lexsort((account, key))
    acc, k = account[order], key[order]
    # one link per (key, account): the stored table guarantees it; arrays from elsewhere may not
    fresh = np.ones(acc.size, dtype=bool)
    fresh[1:] = (k[1:] != k[:-1]) | (acc[1:] != acc[:-1])
    acc, k = acc[fresh], k[fresh]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, acc.size])
    keys = k[starts]
    weights = key_weight[keys]
    usable = (sizes >= 2) & (sizes <= hub_accounts) & (weights > 0) & (weights >= min_key_weight)
    srcs, dsts, ws = [], [], []
    for size in np.unique(sizes[usable]):
        chosen = usable & (sizes == size)
        members = acc[starts[chosen][:, None] + np.arange(size)[None, :]]
        i, j = np.triu_indices(int(size), 1)
        srcs.append(members[:, i].ravel())
        dsts.append(members[:, j].ravel())
        ws.append(np.repeat(weights[chosen], i.size))
    if not srcs:
        empty = np.zeros(0, dtype=np.int64)
        return Edges(empty, empty.copy(), np.zeros(0, dtype=np.float64))
    a, b = np.concatenate(srcs), np.concatenate(dsts)
    w = np.concatenate(ws)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    code = lo * np.int64(n_accounts) + hi
    unique, inverse = np.unique(code, return_inverse=True)
    summed = np.bincount(inverse, weights=w, minlength=unique.size)
    return Edges(unique // n_accounts, unique % n_accounts, summed.astype(np.float64))


@numba.njit(cache=True)
def _components(n: int, src: I64, dst: I64) -> I64:  # pragma: no cover - compiled
    parent = np.arange(n)
    for e in range(src.shape[0]):
        a = src[e]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = dst[e]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            if a < b:
                parent[b] = a
            else:
                parent[a] = b
    for v in range(n):
        r = v
        while parent[r] != r:
            r = parent[r]
        parent[v] = r
    return parent


def components(n: int, src: I64, dst: I64) -> I64:
    """The connected component of each of ``n`` nodes, named by its smallest node."""
    return np.asarray(_components(n, src.astype(np.int64), dst.astype(np.int64)), dtype=np.int64)


@dataclass(frozen=True)
class Clustering:
    """Each node's cluster (``-1``: in no cluster of ``min_accounts`` or more), numbered from 0."""

    labels: I64
    edges: int
    """Trustworthy edges clustered."""
    split_components: int
    """Components split with Leiden."""

    def members(self) -> list[I64]:
        """Each cluster's nodes, cluster by cluster."""
        labelled = np.flatnonzero(self.labels >= 0)
        order = labelled[np.argsort(self.labels[labelled], kind="stable")]
        cuts = np.flatnonzero(np.diff(self.labels[order])) + 1
        return [np.asarray(g, dtype=np.int64) for g in np.split(order, cuts)] if order.size else []


def cluster(
    n: int,
    edges: Edges,
    options: GraphOptions,
    *,
    min_accounts: int = 2,
    progress: Callable[[str], None] | None = None,
) -> Clustering:
    """Clusters of ``n`` nodes over the trustworthy ``edges`` (module docstring)."""
    keep = edges.weight >= options.min_edge_weight
    src, dst, weight = edges.src[keep], edges.dst[keep], edges.weight[keep]
    if progress:
        progress(f"components over {src.size} trustworthy edges")
    labels = components(n, src, dst)
    roots, sizes = np.unique(labels, return_counts=True)
    large = roots[sizes > options.leiden_min_accounts]
    split = 0
    if large.size:
        in_large = np.isin(labels, large)
        nodes = np.flatnonzero(in_large)
        local = np.full(n, -1, dtype=np.int64)
        local[nodes] = np.arange(nodes.size)
        inner = in_large[src]  # an edge's two ends share a component
        if progress:
            progress(f"Leiden over {large.size} large components ({nodes.size} accounts)")
        graph = _graph(int(nodes.size), local[src[inner]], local[dst[inner]])
        partition = _leiden(graph, weight[inner], options)
        membership = np.asarray(partition.membership, dtype=np.int64)
        labels = labels.copy()
        labels[nodes] = n + membership  # apart from every component root (< n)
        split = int(large.size)
    labels = _cut_to_core(labels, src, dst, weight, options)
    roots, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    big = sizes >= min_accounts
    numbering = np.full(roots.size, -1, dtype=np.int64)
    numbering[big] = np.arange(int(big.sum()))
    return Clustering(numbering[inverse], int(src.size), split)


def cluster_links(
    n: int,
    link_node: I64,
    link_key: I64,
    key_weight: F64,
    options: GraphOptions,
    *,
    min_accounts: int = 2,
    progress: Callable[[str], None] | None = None,
) -> tuple[Edges, Clustering]:
    """The whole run from links (``project`` then ``cluster``): what ``services.recluster`` and the
    benchmark both call."""
    if progress:
        progress(f"projecting {link_node.size} links of {n} accounts")
    edges = project(
        link_node,
        link_key,
        key_weight,
        n_accounts=max(n, 1),
        hub_accounts=options.hub_accounts,
        min_key_weight=options.min_key_weight,
    )
    return edges, cluster(n, edges, options, min_accounts=min_accounts, progress=progress)


def _cut_to_core(labels: I64, src: I64, dst: I64, weight: F64, options: GraphOptions) -> I64:
    """Members of clusters of ``core_min_accounts`` or more whose edges inside their cluster weigh
    less than ``core_share`` of the cluster's median member are put in clusters of their own."""
    n = labels.size
    if options.core_share <= 0 or n == 0:
        return labels
    inside = labels[src] == labels[dst]
    strength = np.bincount(src[inside], weights=weight[inside], minlength=n) + np.bincount(
        dst[inside], weights=weight[inside], minlength=n
    )
    _roots, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    checked = sizes[inverse] >= options.core_min_accounts
    if not checked.any():
        return labels
    order = np.lexsort((strength, inverse))
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    median = strength[order[starts + sizes // 2]]
    weak = checked & (strength < options.core_share * median[inverse])
    if not weak.any():
        return labels
    labels = labels.copy()
    weak_nodes = np.flatnonzero(weak)
    labels[weak_nodes] = labels.max() + 1 + np.arange(weak_nodes.size)  # each alone
    return labels


def carry_ids(
    new_members: Sequence[Sequence[int]], old_cluster_of: Mapping[int, int], old_sizes: Mapping[int, int]
) -> list[int | None]:
    """For each new cluster (its account ids), the id of the previous cluster it continues, or None.

    A new cluster continues the previous cluster most of its accounts came from when their overlap is
    at least half their union (Jaccard >= 0.5); each previous id goes to one new cluster at most (the
    one with the larger overlap)."""
    proposals: list[tuple[int, int, int]] = []  # (overlap, new index, old id)
    for index, members in enumerate(new_members):
        counts: dict[int, int] = {}
        for account in members:
            old = old_cluster_of.get(int(account))
            if old is not None:
                counts[old] = counts.get(old, 0) + 1
        if not counts:
            continue
        old, overlap = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
        union = len(members) + old_sizes.get(old, 0) - overlap
        if union and overlap / union >= 0.5:
            proposals.append((overlap, index, old))
    result: list[int | None] = [None] * len(new_members)
    taken: set[int] = set()
    for _overlap, index, old in sorted(proposals, key=lambda p: (-p[0], p[1])):
        if old not in taken:
            taken.add(old)
            result[index] = old
    return result
