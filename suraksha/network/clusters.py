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
With the constant Potts model, accounts whose few trustworthy neighbours are all linked to each other
(the members of a group chat or a family who share nothing else) are peeled before Leiden and put back
after it where the model's gain puts them (``_peeled_leiden``): in benchmarks/network.py's population Leiden
then runs on half the accounts of the ordinary giant component.

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


def _graph(n: int, src: I64, dst: I64) -> igraph.Graph:
    """An igraph graph from edge arrays, in one ``add_edges`` call: faster than the constructor given
    the same array (0.21 s against 0.54 s for 700,000 edges) and without a Python tuple per edge. One
    call, not chunks: each call re-indexes every edge so far (12.3M edges in 1M chunks took 90 s at
    10M accounts on the loaded 2-core machine)."""
    graph = igraph.Graph(n=n)
    graph.add_edges(np.column_stack((src, dst)))
    return graph


def _leiden(graph: igraph.Graph, weight: F64, options: GraphOptions, node_weight: F64 | None = None) -> Any:
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
                node_weights=None if node_weight is None else node_weight.tolist(),
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
    peel_max_degree: int = 8
    """Before Leiden (``cpm`` only), accounts with at most this many trustworthy neighbours, all of them
    linked to each other (a family on one phone, a group chat's members who share nothing else), are
    set aside, again and again as more qualify, and put back after it one group at a time where the
    constant Potts model would put them (``_peel``); 0 runs Leiden on every account."""
    peel_rounds: int = 1
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
    order = np.argsort(key * np.int64(n_accounts) + account)  # by key, then account: faster than lexsort
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
    del a, b, lo, hi
    order = np.argsort(code, kind="stable")  # a sort and a sum per run: faster than np.unique
    code, w = code[order], w[order]
    first = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    unique = code[first]
    summed = np.add.reduceat(w, first)
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
        inner = in_large[src]  # an edge's two ends share a component
        if options.quality == "cpm" and options.peel_max_degree > 0:
            membership = _peeled_leiden(n, in_large, src[inner], dst[inner], weight[inner], options, progress)
        else:
            membership = _split(n, in_large, src[inner], dst[inner], weight[inner], options, progress)
        labels = labels.copy()
        labels[in_large] = n + membership[in_large]  # apart from every component root (< n)
        split = int(large.size)
    if progress:
        progress("cutting the members that hang on by a thread")
    labels = _cut_to_core(labels, src, dst, weight, options)
    sizes = np.bincount(labels)  # labels are not negative: counting, not sorting
    big = sizes >= min_accounts
    numbering = np.full(sizes.size, -1, dtype=np.int64)
    numbering[big] = np.arange(int(big.sum()))
    return Clustering(numbering[labels], int(src.size), split)


def _split(
    n: int,
    chosen: npt.NDArray[np.bool_],
    src: I64,
    dst: I64,
    weight: F64,
    options: GraphOptions,
    progress: Callable[[str], None] | None,
    mass: F64 | None = None,
) -> I64:
    """Leiden's community (numbered from 0) of each ``chosen`` node, over ``chosen``'s edges (both ends
    chosen), with ``mass`` as the nodes' weights when given; -1 elsewhere."""
    nodes = np.flatnonzero(chosen)
    local = np.full(n, -1, dtype=np.int64)
    local[nodes] = np.arange(nodes.size)
    if progress:
        progress(f"igraph graph of {nodes.size} accounts, {src.size} edges")
    graph = _graph(int(nodes.size), local[src], local[dst])
    if progress:
        progress(f"Leiden over {nodes.size} accounts")
    partition = _leiden(graph, weight, options, None if mass is None else mass[nodes])
    membership = np.full(n, -1, dtype=np.int64)
    membership[nodes] = np.asarray(partition.membership, dtype=np.int64)
    return membership


def _peeled_leiden(
    n: int,
    chosen: npt.NDArray[np.bool_],
    src: I64,
    dst: I64,
    weight: F64,
    options: GraphOptions,
    progress: Callable[[str], None] | None,
) -> I64:
    """``_split`` with the simplicial accounts peeled first (``GraphOptions.peel_max_degree``).

    An account whose few neighbours are all linked to each other (a clique: the members of a group
    chat, a family) is peeled, with the neighbours peeled beside it (who then have the same clique),
    as one unit; peeling repeats on what is left until nothing more qualifies. What is left is
    split into components again, and Leiden runs on those larger than ``leiden_min_accounts`` (the
    smaller stay whole, as everywhere). The units are then put back, the last peeled first: each
    joins the community it has the most to gain from under the constant Potts model (its edges'
    weight into it less ``resolution`` times its size times the community's) when that gain is
    positive, or stays a group of its own. Racket members have many neighbours and are never peeled.

    Leiden weighs each account left as one plus its share of the units that hang on it by edges of
    at least ``resolution * core_min_accounts`` (units that would follow it into a community of that
    many accounts): without it, two families on their phones and UPI ids, each left with two members
    joined by a group chat, looked light enough to merge into one cluster with two payment handles in
    common (precision 83.9 % against 94.1 % at 300,000 accounts)."""
    if progress:
        progress("each account's neighbours")
    indptr, nbr, wt = _adjacency(n, src, dst, weight)
    if progress:
        progress("peeling the accounts whose few neighbours form one clique")
    peel_round, unit = _peel(indptr, nbr, chosen, options.peel_max_degree, options.peel_rounds)
    kept = chosen & (peel_round == 0)
    keep_edge = kept[src] & kept[dst]
    k_src, k_dst, k_w = src[keep_edge], dst[keep_edge], weight[keep_edge]
    if progress:
        progress(
            f"peeled {int(chosen.sum() - kept.sum())} of {int(chosen.sum())} accounts in "
            f"{int(peel_round.max())} rounds; components over the {int(kept.sum())} left"
        )
    labels = components(n, k_src, k_dst)
    if progress:
        progress("components of what is left")
    roots, sizes = np.unique(labels[kept], return_counts=True)
    large = roots[sizes > options.leiden_min_accounts]
    in_large = kept & np.isin(labels, large)
    inner = in_large[k_src]
    if progress:
        progress("weighing what hangs on the accounts left")
    mass = _mass(indptr, nbr, wt, peel_round, unit, options.resolution * options.core_min_accounts)
    membership = _split(n, in_large, k_src[inner], k_dst[inner], k_w[inner], options, progress, mass)
    if progress:
        progress("putting the peeled accounts back")
    base = np.where(in_large, n + membership, labels)  # Leiden's communities apart from small roots
    base[~kept] = -1
    present = np.zeros(2 * n + 1, dtype=bool)
    present[base[kept]] = True
    numbering = np.cumsum(present) - 1
    compact = np.full(n, -1, dtype=np.int64)
    compact[kept] = numbering[base[kept]]
    return _attach(indptr, nbr, wt, compact, peel_round, unit, options.resolution)


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


@numba.njit(cache=True)
def _adjacency(n: int, src: I64, dst: I64, weight: F64) -> tuple[I64, I64, F64]:  # pragma: no cover
    """Both directions of each edge, grouped by node (CSR), each node's neighbours in order."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(src.shape[0]):
        indptr[src[e] + 1] += 1
        indptr[dst[e] + 1] += 1
    for v in range(n):
        indptr[v + 1] += indptr[v]
    fill = indptr[:-1].copy()
    nbr = np.empty(indptr[n], dtype=np.int64)
    wt = np.empty(indptr[n], dtype=np.float64)
    for e in range(src.shape[0]):
        a, b = src[e], dst[e]
        nbr[fill[a]] = b
        wt[fill[a]] = weight[e]
        fill[a] += 1
        nbr[fill[b]] = a
        wt[fill[b]] = weight[e]
        fill[b] += 1
    for v in range(n):  # already in order when the edges come sorted, as ``project`` makes them
        lo, hi = indptr[v], indptr[v + 1]
        for i in range(lo + 1, hi):
            if nbr[i] < nbr[i - 1]:
                order = np.argsort(nbr[lo:hi], kind="mergesort")
                nbr[lo:hi] = nbr[lo:hi][order]
                wt[lo:hi] = wt[lo:hi][order]
                break
    return indptr, nbr, wt


@numba.njit(cache=True)
def _linked(indptr: I64, nbr: I64, a: int, b: int) -> bool:  # pragma: no cover - compiled
    lo, hi = indptr[a], indptr[a + 1]
    i = lo + np.searchsorted(nbr[lo:hi], b)
    return bool(i < hi and nbr[i] == b)


@numba.njit(cache=True)
def _peel(
    indptr: I64, nbr: I64, chosen: npt.NDArray[np.bool_], max_degree: int, max_rounds: int
) -> tuple[I64, I64]:  # pragma: no cover
    """Each chosen node's peeling round (0: never peeled) and unit (its smallest member): a node is
    peeled when its neighbours not yet peeled are at most ``max_degree`` and all linked to each other;
    neighbours peeled in the same round share its closed neighbourhood, so they are one unit."""
    n = chosen.shape[0]
    peel_round = np.zeros(n, dtype=np.int64)
    unit = np.full(n, -1, dtype=np.int64)
    alive = chosen.copy()
    buf = np.empty(max_degree + 1, dtype=np.int64)
    rnd = 0
    while True:
        rnd += 1
        peeled = 0
        for v in range(n):
            if not alive[v]:
                continue
            count = 0
            for i in range(indptr[v], indptr[v + 1]):
                u = nbr[i]
                if alive[u] or peel_round[u] == rnd:
                    if count > max_degree - 1:
                        count = max_degree + 1
                        break
                    buf[count] = u
                    count += 1
            if count > max_degree:
                continue
            clique = True
            for i in range(count):
                for j in range(i + 1, count):
                    if not _linked(indptr, nbr, buf[i], buf[j]):
                        clique = False
                        break
                if not clique:
                    break
            if not clique:
                continue
            peel_round[v] = rnd
            alive[v] = False
            peeled += 1
            first = v
            for i in range(count):
                if peel_round[buf[i]] == rnd and unit[buf[i]] < first:
                    first = unit[buf[i]]
            unit[v] = first
        if peeled == 0 or rnd >= max_rounds:
            break
    return peel_round, unit


@numba.njit(cache=True)
def _mass(
    indptr: I64, nbr: I64, wt: F64, peel_round: I64, unit: I64, bound: float
) -> F64:  # pragma: no cover - compiled
    """Each node's own weight plus that of the peeled units that hang on it: a unit's accounts (and
    what hangs on them) shared equally among its neighbours left after its round, so that Leiden
    sees a family as heavy as it is even though only its linked members are left."""
    n = peel_round.shape[0]
    mass = np.ones(n, dtype=np.float64)
    by_round = np.argsort(peel_round, kind="mergesort")
    total = np.zeros(n, dtype=np.float64)
    for v in range(n):
        if peel_round[v] > 0:
            total[unit[v]] += 1.0
    for idx in range(n):  # the first round first: a unit has all it carries when its turn comes
        v = by_round[idx]
        r = peel_round[v]
        if r == 0 or unit[v] != v:
            continue
        anchors = 0
        for i in range(indptr[v], indptr[v + 1]):
            y = nbr[i]
            if unit[y] != v and (peel_round[y] == 0 or peel_round[y] > r) and wt[i] >= bound:
                anchors += 1
        if anchors == 0:
            continue
        share = total[v] / anchors
        for i in range(indptr[v], indptr[v + 1]):
            y = nbr[i]
            if unit[y] != v and (peel_round[y] == 0 or peel_round[y] > r) and wt[i] >= bound:
                mass[y] += share
                if peel_round[y] > 0:
                    total[unit[y]] += share
    return mass


@numba.njit(cache=True)
def _attach(
    indptr: I64, nbr: I64, wt: F64, labels: I64, peel_round: I64, unit: I64, resolution: float
) -> I64:  # pragma: no cover - compiled
    """The peeled units put back, the last round first, each into the community (``labels``, from 0)
    with the largest positive constant-Potts gain (its weight into the community less ``resolution``
    times both sizes), or into a new community of its own."""
    n = labels.shape[0]
    labels = labels.copy()
    top = labels.max() + 1
    size = np.zeros(n + top + 1, dtype=np.int64)
    for v in range(n):
        if labels[v] >= 0:
            size[labels[v]] += 1
    by_round = np.argsort(-peel_round, kind="mergesort")  # the last round first, by node in each
    cand = np.empty(64, dtype=np.int64)
    gain = np.empty(64, dtype=np.float64)
    # each unit's members: nodes sorted by unit
    order = np.argsort(unit, kind="mergesort")
    first_of = np.full(n, -1, dtype=np.int64)
    last_of = np.full(n, -1, dtype=np.int64)
    for idx in range(n):
        v = order[idx]
        u = unit[v]
        if u < 0:
            continue
        if first_of[u] < 0:
            first_of[u] = idx
        last_of[u] = idx + 1
    for idx in range(n):
        v = by_round[idx]
        r = peel_round[v]
        if r == 0:
            break
        if unit[v] != v:  # each unit once, from its smallest member
            continue
        m = 0
        p = last_of[v] - first_of[v]
        for k in range(first_of[v], last_of[v]):
            x = order[k]
            for i in range(indptr[x], indptr[x + 1]):
                y = nbr[i]
                if unit[y] == v or labels[y] < 0 or (peel_round[y] != 0 and peel_round[y] < r):
                    continue
                c = labels[y]
                found = -1
                for j in range(m):
                    if cand[j] == c:
                        found = j
                        break
                if found < 0:
                    if m == cand.shape[0]:
                        cand = np.concatenate((cand, np.empty(m, dtype=np.int64)))
                        gain = np.concatenate((gain, np.empty(m, dtype=np.float64)))
                    cand[m] = c
                    gain[m] = 0.0
                    found = m
                    m += 1
                gain[found] += wt[i]
        best = -1
        best_gain = 0.0
        for j in range(m):
            g = gain[j] - resolution * p * size[cand[j]]
            if g > best_gain or (g == best_gain and best >= 0 and cand[j] < best):
                best, best_gain = cand[j], g
        if best < 0:
            best = top
            top += 1
        size[best] += p
        for k in range(first_of[v], last_of[v]):
            labels[order[k]] = best
    return labels


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
    sizes = np.bincount(labels)  # labels are not negative
    checked = sizes[labels] >= options.core_min_accounts
    if not checked.any():
        return labels
    nodes = np.flatnonzero(checked)  # the median only where it is used: few accounts are in large clusters
    order = nodes[np.lexsort((strength[nodes], labels[nodes]))]
    group_sizes = sizes[labels[order[np.r_[True, labels[order][1:] != labels[order][:-1]]]]]
    starts = np.r_[0, np.cumsum(group_sizes)[:-1]]
    median = np.zeros(sizes.size, dtype=np.float64)
    median[labels[order[starts]]] = strength[order[starts + group_sizes // 2]]
    weak = checked & (strength < options.core_share * median[labels])
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
