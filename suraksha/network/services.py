"""The account graph's operations on the database: the incremental update after the pipeline, the
clustering run that scores and stores clusters, and the reads that investigations build on.

Reads answer plain dataclasses (``ClusterSummary``, ``ClusterDetail``, ``AccountNetwork``, ``Edge``,
``SharedKey``): every edge carries its evidence (which key, how many accounts carry it and what that
did to its weight, and each side's first and last item and when).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from suraksha.content.models import Account, Item, ItemMatch, ItemRuleHit
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.errors import NotFound
from suraksha.network import clusters as clustering
from suraksha.network.alerts import check_evasion
from suraksha.network.clusters import PAYMENT_KINDS, GraphOptions
from suraksha.network.graph import KeyOptions, NearDuplicates, NewLink, record_items
from suraksha.network.models import (
    NetworkAlert,
    NetworkCluster,
    NetworkClusterMember,
    NetworkKey,
    NetworkLink,
    NetworkRun,
)
from suraksha.network.scoring import ClusterFacts, Explanation, RacketThresholds, score
from suraksha.review.models import ApprovalState, ReviewDecision, ViolationCategory

log = logging.getLogger(__name__)

SALE_CATEGORY = "sale_solicitation"
"""The rule category of sale solicitation (``suraksha/rules/packs``)."""
_CHUNK = 1000


@dataclass(frozen=True)
class NetworkOptions:
    """Everything the graph and its clusters are built with (settings ``network_*``)."""

    keys: KeyOptions = field(default_factory=KeyOptions)
    graph: GraphOptions = field(default_factory=GraphOptions)
    rackets: RacketThresholds = field(default_factory=RacketThresholds)
    cluster_min_accounts: int = 3
    """Clusters smaller than this are not stored."""

    @classmethod
    def from_settings(cls, settings: Any) -> NetworkOptions:
        return cls(
            keys=KeyOptions(
                window_s=settings.network_window_s,
                pdq_threshold=settings.network_pdq_threshold,
                pdq_quality_floor=settings.pdq_quality_floor,
            ),
            graph=GraphOptions(
                hub_accounts=settings.network_hub_accounts,
                soft_accounts=settings.network_soft_accounts,
                min_edge_weight=settings.network_min_edge_weight,
                leiden_min_accounts=settings.network_leiden_min_accounts,
                resolution=settings.network_leiden_resolution,
            ),
            rackets=RacketThresholds(
                min_accounts=settings.network_racket_min_accounts,
                racket_score=settings.network_racket_score,
            ),
            cluster_min_accounts=settings.network_cluster_min_accounts,
        )


# -- incremental --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemsUpdate:
    new_links: list[NewLink]
    alerts: list[NetworkAlert]


def update_items(
    session: Session, item_ids: Sequence[int], options: NetworkOptions, near: NearDuplicates | None
) -> ItemsUpdate:
    """Link the items' keys to their accounts and raise ban-evasion alerts for the new links, in the
    caller's transaction (the ``network.items`` job)."""
    new_links = record_items(session, item_ids, options.keys, near)
    return ItemsUpdate(new_links, check_evasion(session, new_links))


# -- the graph as arrays -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphArrays:
    """The stored links as arrays, nodes and keys numbered from 0."""

    account_ids: np.ndarray[Any, np.dtype[np.int64]]
    """Database id of each node."""
    link_node: np.ndarray[Any, np.dtype[np.int64]]
    link_key: np.ndarray[Any, np.dtype[np.int64]]
    key_ids: np.ndarray[Any, np.dtype[np.int64]]
    key_kind: np.ndarray[Any, np.dtype[np.int64]]
    """Index into ``kinds``."""
    kinds: list[str]

    @property
    def key_accounts(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.bincount(self.link_key, minlength=self.key_ids.size).astype(np.int64)


def load_arrays(session: Session, *, chunk: int = 200_000) -> GraphArrays:
    """Every link, read in chunks into arrays (no object per link)."""
    keys = session.execute(select(NetworkKey.id, NetworkKey.kind).order_by(NetworkKey.id)).all()
    key_ids = np.fromiter((r.id for r in keys), dtype=np.int64, count=len(keys))
    kinds = sorted({r.kind for r in keys})
    code = {k: i for i, k in enumerate(kinds)}
    key_kind = np.fromiter((code[r.kind] for r in keys), dtype=np.int64, count=len(keys))
    accounts, key_refs = [], []
    result = session.execute(
        select(NetworkLink.account_id, NetworkLink.key_id).execution_options(yield_per=chunk)
    )
    for part in result.partitions():
        pairs = np.asarray(part, dtype=np.int64).reshape(-1, 2)
        accounts.append(pairs[:, 0])
        key_refs.append(pairs[:, 1])
    link_account = np.concatenate(accounts) if accounts else np.zeros(0, np.int64)
    link_key_id = np.concatenate(key_refs) if key_refs else np.zeros(0, np.int64)
    account_ids, link_node = np.unique(link_account, return_inverse=True)
    link_key = np.searchsorted(key_ids, link_key_id)
    return GraphArrays(account_ids, link_node.astype(np.int64), link_key, key_ids, key_kind, kinds)


def payment_handles_per_cluster(
    arrays: GraphArrays, labels: np.ndarray[Any, Any], n_clusters: int, *, share: float = 0.05
) -> Any:
    """For each cluster, the payment handles in common: carried by two or more of its accounts, and by
    at least ``share`` of them (a family's UPI id inside a community of 500 is not the community's)."""
    payment = np.array([k in PAYMENT_KINDS for k in arrays.kinds] or [False], dtype=bool)
    chosen = payment[arrays.key_kind[arrays.link_key]] if arrays.link_key.size else np.zeros(0, bool)
    label = labels[arrays.link_node[chosen]]
    key = arrays.link_key[chosen]
    inside = label >= 0
    width = np.int64(max(arrays.key_ids.size, 1))
    pairs = label[inside] * width + key[inside]
    unique, counts = np.unique(pairs, return_counts=True)
    cluster_of = unique // width
    sizes = np.bincount(labels[labels >= 0], minlength=n_clusters)
    needed = np.maximum(2, np.ceil(share * sizes[cluster_of]))
    return np.bincount(cluster_of[counts >= needed], minlength=n_clusters)


# -- clustering run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    accounts: int
    edges: int
    clusters: int
    suspected: int
    seconds: float


Progress = Callable[[str], None]


def recluster(db: Database, options: NetworkOptions, *, progress: Progress | None = None) -> RunSummary:
    """Cluster the stored graph, score each cluster and store the clusters (ids carried over from the
    previous run where the accounts stayed together); one read, then one write transaction."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    with db.reading() as session:
        say("reading links")
        arrays = load_arrays(session)
    n = int(arrays.account_ids.size)
    weights = options.graph.key_weights(arrays.kinds, arrays.key_kind, arrays.key_accounts)
    edges, found = clustering.cluster_links(
        n,
        arrays.link_node,
        arrays.link_key,
        weights,
        options.graph,
        min_accounts=options.cluster_min_accounts,
        progress=say,
    )
    del edges
    groups = found.members()
    handles = payment_handles_per_cluster(
        arrays, found.labels, len(groups), share=options.rackets.handle_share
    )
    now = utcnow()
    with db.session() as session:
        say(f"scoring {len(groups)} clusters")
        members = [arrays.account_ids[g] for g in groups]
        explanations = score_groups(session, members, handles, options.rackets, now=now)
        run = NetworkRun(kind="cluster", started_at=now, accounts=n, edges=found.edges)
        session.add(run)
        session.flush()
        store_clusters(session, members, explanations, run.id, now=now)
        run.clusters = len(groups)
        run.suspected = sum(e.suspected for e in explanations)
        run.finished_at = utcnow()
        run.seconds = time.perf_counter() - started
        summary = RunSummary(run.id, n, found.edges, len(groups), run.suspected, run.seconds)
    log.info(
        "event=network.cluster run=%d accounts=%d edges=%d clusters=%d suspected=%d seconds=%.2f",
        summary.run_id,
        n,
        found.edges,
        summary.clusters,
        summary.suspected,
        summary.seconds,
    )
    return summary


def _accounts_where(session: Session, statement: Any, ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    values = list(ids)
    for start in range(0, len(values), _CHUNK):
        found.update(session.scalars(statement(values[start : start + _CHUNK])))
    return found


def score_groups(
    session: Session,
    members: Sequence[Any],
    handles: Any,
    thresholds: RacketThresholds,
    *,
    now: datetime,
) -> list[Explanation]:
    """Each cluster's facts from the database (module ``scoring``) and its score. Clusters too small
    to be a racket are scored on their payment handles alone (no reads for them: at millions of
    accounts most clusters are families)."""
    every = [int(a) for group in members if len(group) >= thresholds.min_accounts for a in group]
    banked = _accounts_where(
        session,
        lambda ids: (
            select(Item.account_id)
            .join(ItemMatch, ItemMatch.item_id == Item.id)
            .where(Item.account_id.in_(ids), ItemMatch.suppressed.is_(False))
            .distinct()
        ),
        every,
    )
    confirmed = _accounts_where(
        session,
        lambda ids: (
            select(Item.account_id)
            .join(ReviewDecision, ReviewDecision.item_id == Item.id)
            .where(
                Item.account_id.in_(ids),
                ReviewDecision.violation != ViolationCategory.BENIGN,
                ReviewDecision.approval_state.in_([ApprovalState.NOT_NEEDED, ApprovalState.APPROVED]),
            )
            .distinct()
        ),
        every,
    )
    sale = _accounts_where(
        session,
        lambda ids: (
            select(Item.account_id)
            .join(ItemRuleHit, ItemRuleHit.item_id == Item.id)
            .where(Item.account_id.in_(ids), ItemRuleHit.category == SALE_CATEGORY)
            .distinct()
        ),
        every,
    )
    suspended: set[int] = set()
    ages: dict[int, float] = {}
    for start in range(0, len(every), _CHUNK):
        for account_id, created, first_seen, suspended_at in session.execute(
            select(
                Account.id, Account.platform_created_at, Account.first_seen_at, Account.suspended_at
            ).where(Account.id.in_(every[start : start + _CHUNK]))
        ):
            if suspended_at is not None:
                suspended.add(account_id)
            born = created or first_seen
            if born is not None:
                ages[account_id] = (now - born).total_seconds() / 86_400
    young_after = thresholds.young_days
    explanations = []
    for index, group in enumerate(members):
        ids = [int(a) for a in group]
        group_ages = sorted(ages[a] for a in ids if a in ages)
        facts = ClusterFacts(
            accounts=len(ids),
            payment_handles=int(handles[index]) if index < len(handles) else 0,
            banked=sum(a in banked for a in ids),
            confirmed=sum(a in confirmed for a in ids),
            sale_hits=sum(a in sale for a in ids),
            suspended=sum(a in suspended for a in ids),
            young=sum(age <= young_after for age in group_ages),
            median_age_days=group_ages[len(group_ages) // 2] if group_ages else None,
        )
        explanations.append(score(facts, thresholds))
    return explanations


def store_clusters(
    session: Session,
    members: Sequence[Any],
    explanations: Sequence[Explanation],
    run_id: int,
    *,
    now: datetime,
) -> list[int]:
    """Replace the stored clusters with these, carrying ids over (``clusters.carry_ids``); clusters not
    found again are marked dissolved. Answers each cluster's id."""
    old_of: dict[int, int] = {  # noqa: C416 - rows, not pairs
        account: cluster
        for account, cluster in session.execute(
            select(NetworkClusterMember.account_id, NetworkClusterMember.cluster_id)
        )
    }
    old_sizes: dict[int, int] = {  # noqa: C416 - rows, not pairs
        cluster: size
        for cluster, size in session.execute(
            select(NetworkCluster.id, NetworkCluster.accounts).where(NetworkCluster.dissolved_at.is_(None))
        )
    }
    carried = clustering.carry_ids([[int(a) for a in g] for g in members], old_of, old_sizes)
    session.execute(delete(NetworkClusterMember))
    ids: list[int] = []
    for group, explanation, old in zip(members, explanations, carried, strict=True):
        values = {
            "accounts": len(group),
            "score": round(explanation.score, 4),
            "suspected": explanation.suspected,
            "explanation": json.dumps(explanation.as_dict(), sort_keys=True),
            "updated_at": now,
            "run_id": run_id,
            "dissolved_at": None,
        }
        if old is not None:
            session.execute(update(NetworkCluster).where(NetworkCluster.id == old).values(**values))
            ids.append(old)
        else:
            row = NetworkCluster(first_found_at=now, **values)
            session.add(row)
            session.flush()
            ids.append(row.id)
    gone = set(old_sizes) - set(ids)
    if gone:
        session.execute(
            update(NetworkCluster)
            .where(NetworkCluster.id.in_(sorted(gone)))
            .values(dissolved_at=now, updated_at=now)
        )
    rows = [
        {"account_id": int(a), "cluster_id": cid}
        for group, cid in zip(members, ids, strict=True)
        for a in group
    ]
    for start in range(0, len(rows), 10_000):
        session.execute(insert(NetworkClusterMember), rows[start : start + 10_000])
    return ids


# -- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterSummary:
    id: int
    accounts: int
    score: float
    suspected: bool
    explanation: dict[str, Any]
    first_found_at: datetime
    updated_at: datetime
    dissolved_at: datetime | None

    @classmethod
    def of(cls, row: NetworkCluster) -> ClusterSummary:
        return cls(
            row.id,
            row.accounts,
            row.score,
            row.suspected,
            json.loads(row.explanation or "{}"),
            row.first_found_at,
            row.updated_at,
            row.dissolved_at,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "accounts": self.accounts,
            "score": self.score,
            "suspected": self.suspected,
            "explanation": self.explanation,
            "first_found_at": self.first_found_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "dissolved_at": self.dissolved_at.isoformat() if self.dissolved_at else None,
        }


@dataclass(frozen=True)
class LinkEvidence:
    """One account's side of a shared key: the items that carry it and when."""

    account_id: int
    first_item_id: int
    last_item_id: int
    items: int
    first_seen_at: datetime
    last_seen_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "first_item_id": self.first_item_id,
            "last_item_id": self.last_item_id,
            "items": self.items,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
        }


@dataclass(frozen=True)
class SharedKey:
    """One key two accounts share: what it is, how many accounts carry it, its weight and why."""

    key_id: int
    kind: str
    value: str
    accounts: int
    weight: float
    note: str
    """Empty, or why the weight is lower or zero (a hub)."""
    a: LinkEvidence
    b: LinkEvidence

    def as_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "kind": self.kind,
            "value": self.value,
            "accounts": self.accounts,
            "weight": round(self.weight, 4),
            "note": self.note,
            "a": self.a.as_dict(),
            "b": self.b.as_dict(),
        }


@dataclass(frozen=True)
class Edge:
    """Two accounts (``a < b``) and every key they share: the weight is the sum of the keys' weights;
    ``trustworthy`` when it reaches ``min_edge_weight`` (what clustering uses)."""

    a: int
    b: int
    weight: float
    trustworthy: bool
    keys: tuple[SharedKey, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "weight": round(self.weight, 4),
            "trustworthy": self.trustworthy,
            "keys": [k.as_dict() for k in self.keys],
        }


@dataclass(frozen=True)
class AccountNode:
    id: int
    platform_account_id: str
    handle: str
    platform_created_at: datetime | None
    first_seen_at: datetime
    suspended_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform_account_id": self.platform_account_id,
            "handle": self.handle,
            "platform_created_at": self.platform_created_at.isoformat() if self.platform_created_at else None,
            "first_seen_at": self.first_seen_at.isoformat(),
            "suspended_at": self.suspended_at.isoformat() if self.suspended_at else None,
        }


@dataclass(frozen=True)
class ClusterDetail:
    cluster: ClusterSummary
    accounts: list[AccountNode]
    edges: list[Edge]
    """Edges among the cluster's accounts, heaviest first (at most ``limit``)."""
    alerts: list[NetworkAlert]

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster.as_dict(),
            "accounts": [a.as_dict() for a in self.accounts],
            "edges": [e.as_dict() for e in self.edges],
            "alerts": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "account_id": a.account_id,
                    "item_id": a.item_id,
                    "key_id": a.key_id,
                    "case_id": a.case_id,
                    "created_at": a.created_at.isoformat(),
                }
                for a in self.alerts
            ],
        }


@dataclass(frozen=True)
class AccountNetwork:
    account: AccountNode
    cluster: ClusterSummary | None
    edges: list[Edge]
    """Edges to other accounts, heaviest first (at most ``limit``)."""
    cut_keys: list[tuple[str, str, int]]
    """The account's keys that are hubs (kind, value, accounts): not evidence, listed so it is seen."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account.as_dict(),
            "cluster": self.cluster.as_dict() if self.cluster else None,
            "edges": [e.as_dict() for e in self.edges],
            "cut_keys": [{"kind": k, "value": v, "accounts": n} for k, v, n in self.cut_keys],
        }


def list_clusters(
    session: Session, *, suspected_only: bool = True, limit: int = 50, include_dissolved: bool = False
) -> list[ClusterSummary]:
    """Clusters ranked by score, highest first (suspected rackets only, by default)."""
    statement = select(NetworkCluster)
    if suspected_only:
        statement = statement.where(NetworkCluster.suspected.is_(True))
    if not include_dissolved:
        statement = statement.where(NetworkCluster.dissolved_at.is_(None))
    rows = session.scalars(
        statement.order_by(
            NetworkCluster.score.desc(), NetworkCluster.accounts.desc(), NetworkCluster.id
        ).limit(limit)
    )
    return [ClusterSummary.of(r) for r in rows]


def account_nodes(session: Session, ids: Sequence[int]) -> list[AccountNode]:
    """The accounts as graph nodes, by id (what an investigation draws)."""
    return _nodes(session, list(ids))


def _nodes(session: Session, ids: Sequence[int]) -> list[AccountNode]:
    nodes = []
    for start in range(0, len(ids), _CHUNK):
        for a in session.scalars(select(Account).where(Account.id.in_(ids[start : start + _CHUNK]))):
            nodes.append(
                AccountNode(
                    a.id,
                    a.platform_account_id,
                    a.handle,
                    a.platform_created_at,
                    a.first_seen_at,
                    a.suspended_at,
                )
            )
    return sorted(nodes, key=lambda n: n.id)


def _edges(
    links: Iterable[NetworkLink],
    keys: dict[int, NetworkKey],
    options: GraphOptions,
    *,
    only: int | None = None,
) -> list[Edge]:
    """Edges from the links of shared keys: every pair of links on one key (with ``only``: the pairs
    that include that account)."""
    by_key: dict[int, list[NetworkLink]] = {}
    for link in links:
        by_key.setdefault(link.key_id, []).append(link)
    pairs: dict[tuple[int, int], list[SharedKey]] = {}
    for key_id, holders in by_key.items():
        key = keys[key_id]
        weight, note = options.key_weight(key.kind, key.accounts)
        if weight <= 0:
            continue
        holders.sort(key=lambda link: link.account_id)
        for i, first in enumerate(holders):
            for second in holders[i + 1 :]:
                if only is not None and only not in (first.account_id, second.account_id):
                    continue
                pairs.setdefault((first.account_id, second.account_id), []).append(
                    SharedKey(
                        key.id, key.kind, key.value, key.accounts, weight, note, _side(first), _side(second)
                    )
                )
    edges = [
        Edge(a, b, total, total >= options.min_edge_weight, tuple(shared))
        for (a, b), shared in pairs.items()
        for total in [sum(s.weight for s in shared)]
    ]
    return sorted(edges, key=lambda e: (-e.weight, e.a, e.b))


def _side(link: NetworkLink) -> LinkEvidence:
    return LinkEvidence(
        link.account_id,
        link.first_item_id,
        link.last_item_id,
        link.items,
        link.first_seen_at,
        link.last_seen_at,
    )


def edges_among(
    session: Session, account_ids: Sequence[int], options: GraphOptions, *, limit: int = 5000
) -> list[Edge]:
    """Every edge between two of ``account_ids`` with its evidence, heaviest first, at most ``limit``
    (what an investigation's graph and export draw)."""
    links: list[NetworkLink] = []
    ids = sorted({int(a) for a in account_ids})
    for start in range(0, len(ids), _CHUNK):
        links.extend(
            session.scalars(
                select(NetworkLink).where(NetworkLink.account_id.in_(ids[start : start + _CHUNK]))
            )
        )
    counts: dict[int, int] = {}
    for link in links:
        counts[link.key_id] = counts.get(link.key_id, 0) + 1
    shared = [link for link in links if counts[link.key_id] >= 2]
    keys = _keys(session, {link.key_id for link in shared})
    return _edges(shared, keys, options)[:limit]


def _keys(session: Session, key_ids: Iterable[int]) -> dict[int, NetworkKey]:
    ids = sorted(key_ids)
    found: dict[int, NetworkKey] = {}
    for start in range(0, len(ids), _CHUNK):
        for key in session.scalars(select(NetworkKey).where(NetworkKey.id.in_(ids[start : start + _CHUNK]))):
            found[key.id] = key
    return found


def cluster_detail(
    session: Session, cluster_id: int, options: GraphOptions, *, limit: int = 5000
) -> ClusterDetail:
    """A cluster with its accounts, the edges among them and its alerts; NotFound for an unknown id."""
    row = session.get(NetworkCluster, cluster_id)
    if row is None:
        raise NotFound(f"network cluster {cluster_id} does not exist; `suraksha network clusters` lists them")
    ids = list(
        session.scalars(
            select(NetworkClusterMember.account_id)
            .where(NetworkClusterMember.cluster_id == cluster_id)
            .order_by(NetworkClusterMember.account_id)
        )
    )
    alerts = list(
        session.scalars(
            select(NetworkAlert).where(NetworkAlert.cluster_id == cluster_id).order_by(NetworkAlert.id)
        )
    )
    return ClusterDetail(
        ClusterSummary.of(row), _nodes(session, ids), edges_among(session, ids, options, limit=limit), alerts
    )


def account_network(
    session: Session, account_id: int, options: GraphOptions, *, limit: int = 200
) -> AccountNetwork:
    """An account's edges (one hop) with their evidence, its cluster, and its keys cut as hubs;
    NotFound for an unknown account. Bounded: a key's other holders are read only when the key is not a
    hub (at most ``hub_accounts`` each)."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    mine = list(session.scalars(select(NetworkLink).where(NetworkLink.account_id == account_id)))
    keys = _keys(session, {link.key_id for link in mine})
    usable = [k for k in keys.values() if 2 <= k.accounts <= options.hub_accounts]
    cut = sorted(
        ((k.kind, k.value, k.accounts) for k in keys.values() if k.accounts > options.hub_accounts),
        key=lambda t: -t[2],
    )
    others: list[NetworkLink] = []
    for key in usable:
        others.extend(
            session.scalars(
                select(NetworkLink).where(NetworkLink.key_id == key.id).limit(options.hub_accounts + 1)
            )
        )
    edges = _edges(others, keys, options, only=account_id)[:limit]
    member = session.scalar(
        select(NetworkCluster)
        .join(NetworkClusterMember, NetworkClusterMember.cluster_id == NetworkCluster.id)
        .where(NetworkClusterMember.account_id == account_id)
    )
    node = AccountNode(
        account.id,
        account.platform_account_id,
        account.handle,
        account.platform_created_at,
        account.first_seen_at,
        account.suspended_at,
    )
    return AccountNetwork(node, ClusterSummary.of(member) if member else None, edges, cut)


def cluster_accounts(session: Session, cluster_id: int) -> list[int]:
    """The account ids of a cluster (as of the last run)."""
    return list(
        session.scalars(
            select(NetworkClusterMember.account_id).where(NetworkClusterMember.cluster_id == cluster_id)
        )
    )


def alerts(session: Session, *, since: datetime | None = None, limit: int = 100) -> list[NetworkAlert]:
    """Ban-evasion alerts, newest first."""
    statement = select(NetworkAlert).order_by(NetworkAlert.id.desc()).limit(limit)
    if since is not None:
        statement = statement.where(NetworkAlert.created_at >= since)
    return list(session.scalars(statement))


def graph_counts(session: Session) -> dict[str, int]:
    """How big the stored graph is."""
    return {
        "keys": session.scalar(select(func.count()).select_from(NetworkKey)) or 0,
        "links": session.scalar(select(func.count()).select_from(NetworkLink)) or 0,
        "clusters": session.scalar(
            select(func.count()).select_from(NetworkCluster).where(NetworkCluster.dissolved_at.is_(None))
        )
        or 0,
        "suspected": session.scalar(
            select(func.count())
            .select_from(NetworkCluster)
            .where(NetworkCluster.dissolved_at.is_(None), NetworkCluster.suspected.is_(True))
        )
        or 0,
    }
