"""The account graph: racket recall and precision, full clustering time and memory, incremental update
per item; a networkx baseline on the same edges in the same run.

    .venv/bin/python benchmarks/network.py [--accounts 1000000] [--racket-share 0.01] [--seed 7]
        [--social 1.0] [--peel-max-degree 8] [--no-baseline] [--items 2000] [--db-accounts 20000]
        [--database-url URL] [--json]

The population is generated here, as links from accounts to keys (what ``network_links`` stores),
with numpy (no object per link):

- ordinary sharing, by every account: memes (a few hundred files, Zipf-popular: most are hubs, the
  tail is down-weighted), a file of its own, a carrier-grade NAT address (about 100 accounts each) or
  a home one; families of 2-5 on one phone, a third of them with one family UPI id; friends sharing a
  small link; second-hand phones (a device id on two accounts); small shops (3-12 staff on two UPI ids
  and a phone: rackets by structure alone, the honest false positives of a benchmark without reviews);
- the social fabric (``--social``, 1 by default): each account in about that many small groups of 2-6
  that share a link, so ordinary accounts form a giant component that Leiden has to split;
- planted rackets of 20-150 accounts (``--racket-share`` of all accounts in all): 2-5 payment handles
  (each account carries one, some two), 1-2 Telegram links (each carried by 60 %), a stock of 10-40
  files (each account posts 2-6 of them), a few shared devices; with noise: sparse members that
  carry only one handle, loners that share only one file with the racket, and two ordinary bystanders
  per racket who repost one of its files.

Measured:

- **racket recall and precision**: accounts in suspected clusters (``scoring.score`` on the cluster's
  payment handles in common: the only fact the synthetic data has; reviews, banks and rule hits add
  to it in the product) against the planted accounts;
- **full clustering**: ``clusters.project`` (pairs from links, hubs cut, weights summed) +
  ``clusters.cluster`` (components, Leiden on components over ``leiden_min_accounts``) + scoring, from
  the arrays; time and peak resident memory of the step (VmHWM reset before it, Linux);
- **baseline**: networkx on the same trustworthy edges: ``Graph.add_weighted_edges_from``,
  ``connected_components``, ``louvain_communities`` (modularity, resolution 1, seeded: networkx has no
  Leiden or constant Potts model of its own) on components of the same size, same scoring;
- **incremental update per item** (``services.update_items`` in its own transaction, as the
  ``network.items`` job runs it): p50 and p99 with the commit, and of the update's own work before
  it (the commit is the job's, which it shares with completing the job), over ``--items`` new items
  of 4 keys each, half of which hit keys already carried (a racket's handle, a meme), in a store
  seeded with
  the links of ``--db-accounts`` accounts of the population (SQLite in a temporary folder, or
  ``--database-url``: a throwaway database is made on that PostgreSQL server and dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suraksha.network import clusters  # noqa: E402
from suraksha.network.clusters import GraphOptions  # noqa: E402
from suraksha.network.scoring import ClusterFacts, RacketThresholds, score  # noqa: E402
from suraksha.network.services import GraphArrays, payment_handles_per_cluster  # noqa: E402

KINDS = ["media", "ip", "phone", "upi_id", "url", "telegram", "device"]
K = {kind: i for i, kind in enumerate(KINDS)}


@dataclass
class Population:
    n: int
    link_account: np.ndarray[Any, Any]
    link_key: np.ndarray[Any, Any]
    key_kind: np.ndarray[Any, Any]
    planted: np.ndarray[Any, Any]
    """Racket number of each account, -1 for ordinary ones."""

    @property
    def arrays(self) -> GraphArrays:
        return GraphArrays(
            account_ids=np.arange(self.n, dtype=np.int64),
            link_node=self.link_account,
            link_key=self.link_key,
            key_ids=np.arange(self.key_kind.size, dtype=np.int64),
            key_kind=self.key_kind,
            kinds=KINDS,
        )


class Builder:
    def __init__(self) -> None:
        self.accounts: list[np.ndarray[Any, Any]] = []
        self.keys: list[np.ndarray[Any, Any]] = []
        self.kinds: list[np.ndarray[Any, Any]] = []
        self.next_key = 0

    def new_keys(self, count: int, kind: str) -> np.ndarray[Any, Any]:
        """``count`` fresh keys of ``kind``; their numbers."""
        numbers = np.arange(self.next_key, self.next_key + count, dtype=np.int64)
        self.kinds.append(np.full(count, K[kind], dtype=np.int64))
        self.next_key += count
        return numbers

    def link(self, accounts: np.ndarray[Any, Any], keys: np.ndarray[Any, Any]) -> None:
        self.accounts.append(np.asarray(accounts, dtype=np.int64))
        self.keys.append(np.asarray(keys, dtype=np.int64))

    def groups(
        self, members: np.ndarray[Any, Any], sizes: np.ndarray[Any, Any], kind: str
    ) -> np.ndarray[Any, Any]:
        """Members split into consecutive groups of ``sizes``, each group on one new key; the keys."""
        keys = self.new_keys(sizes.size, kind)
        self.link(members[: sizes.sum()], np.repeat(keys, sizes))
        return keys


def generate(n: int, racket_share: float, seed: int, social: float = 0.0) -> Population:
    rng = np.random.default_rng(seed)
    b = Builder()
    everyone = np.arange(n, dtype=np.int64)
    planted = np.full(n, -1, dtype=np.int64)

    # memes: Zipf-popular files; 60 % of accounts post 1-3 of them
    n_memes = max(100, n // 2000)
    memes = b.new_keys(n_memes, "media")
    popularity = 1.0 / np.arange(1, n_memes + 1) ** 1.1
    posters = everyone[rng.random(n) < 0.6]
    counts = rng.integers(1, 4, posters.size)
    b.link(
        np.repeat(posters, counts), memes[rng.choice(n_memes, counts.sum(), p=popularity / popularity.sum())]
    )
    # a file of one's own
    b.link(everyone, b.new_keys(n, "media"))
    # addresses: 70 % behind carrier-grade NAT (about 100 accounts an address), 30 % at home
    nat = rng.random(n) < 0.7
    n_nat = max(1, int(nat.sum()) // 100)
    b.link(everyone[nat], b.new_keys(n_nat, "ip")[rng.integers(0, n_nat, int(nat.sum()))])
    b.link(everyone[~nat], b.new_keys(int((~nat).sum()), "ip"))
    # families of 2-5 on one phone (8 % of accounts), a third with a family UPI id
    shuffled = rng.permutation(n)
    families = shuffled[: int(n * 0.08)]
    sizes = rng.integers(2, 6, families.size // 2)
    sizes = sizes[np.cumsum(sizes) <= families.size]
    b.groups(families, sizes, "phone")
    with_upi = rng.random(sizes.size) < 1 / 3
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    upi_members = np.concatenate(
        [families[s : s + z] for s, z in zip(starts[with_upi], sizes[with_upi], strict=True)]
        or [np.zeros(0, np.int64)]
    )
    b.groups(upi_members, sizes[with_upi], "upi_id")
    # friends sharing a small link (5 %), second-hand phones (1 %)
    friends = shuffled[int(n * 0.08) : int(n * 0.13)]
    b.groups(friends, np.full(friends.size // 3, 3), "url")
    # the social fabric: each account in about ``social`` small groups (2-6) that share a link (a
    # group chat's invite, a club's page): trustworthy edges among ordinary accounts, and a giant
    # component once ``social`` is about 1 or more
    if social > 0:
        memberships = rng.integers(0, n, int(n * social))
        circle = rng.integers(2, 7, memberships.size // 2)
        circle = circle[np.cumsum(circle) <= memberships.size]
        b.groups(memberships, circle, "url")
    used = shuffled[int(n * 0.13) : int(n * 0.14)]
    b.groups(used, np.full(used.size // 2, 2), "device")
    # small shops: 3-12 staff on two UPI ids and a phone (0.05 %)
    shops = shuffled[int(n * 0.14) : int(n * 0.1405)]
    shop_sizes = rng.integers(3, 13, max(1, shops.size // 7))
    shop_sizes = shop_sizes[np.cumsum(shop_sizes) <= shops.size]
    for kind in ("upi_id", "upi_id", "phone"):
        b.groups(shops, shop_sizes, kind)

    # planted rackets among the rest
    pool = shuffled[int(n * 0.1405) :]
    target = int(n * racket_share)
    taken = 0
    racket = 0
    bystanders = shuffled[: int(n * 0.1405)]
    while taken + 20 <= min(target, pool.size):
        size = int(min(rng.integers(20, 151), pool.size - taken))
        members = pool[taken : taken + size]
        taken += size
        planted[members] = racket
        handles = b.new_keys(int(rng.integers(2, 6)), "upi_id")
        b.link(members, handles[rng.integers(0, handles.size, size)])
        second = members[rng.random(size) < 0.3]
        b.link(second, handles[rng.integers(0, handles.size, second.size)])
        loners = members[rng.random(size) < 0.05]
        regular = np.setdiff1d(members, loners)
        sparse = regular[rng.random(regular.size) < 0.1]
        full = np.setdiff1d(regular, sparse)
        for link in b.new_keys(int(rng.integers(1, 3)), "telegram"):
            carriers = full[rng.random(full.size) < 0.6]
            b.link(carriers, np.full(carriers.size, link))
        stock = b.new_keys(int(rng.integers(10, 41)), "media")
        posts = rng.integers(2, 7, full.size)
        b.link(np.repeat(full, posts), stock[rng.integers(0, stock.size, posts.sum())])
        b.link(loners, stock[rng.integers(0, stock.size, loners.size)])
        devices = b.new_keys(max(1, size // 8), "device")
        phones = full[rng.random(full.size) < 0.5]
        b.link(phones, devices[rng.integers(0, devices.size, phones.size)])
        # two ordinary bystanders repost one of its files
        b.link(rng.choice(bystanders, 2, replace=False), stock[rng.integers(0, stock.size, 2)])
        racket += 1
    return Population(
        n,
        np.concatenate(b.accounts),
        np.concatenate(b.keys),
        np.concatenate(b.kinds),
        planted,
    )


# -- memory ---------------------------------------------------------------------------------------


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measured(step: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """``step()``, its seconds, the peak resident memory it added (MiB) and its CPU seconds (this
    process's: on a shared machine wall time grows with the other work, CPU time much less)."""
    _reset_peak()
    before = _rss_kib("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    result = step()
    seconds = time.perf_counter() - started
    return result, seconds, max(0, _rss_kib("VmHWM") - before) / 1024, time.process_time() - cpu


# -- clustering -------------------------------------------------------------------------------------


def accuracy(population: Population, suspected_accounts: np.ndarray[Any, Any]) -> dict[str, float]:
    truth = population.planted >= 0
    chosen = np.zeros(population.n, dtype=bool)
    chosen[suspected_accounts] = True
    hit = int((truth & chosen).sum())
    return {
        "planted_accounts": int(truth.sum()),
        "suspected_accounts": int(chosen.sum()),
        "recall": hit / max(1, int(truth.sum())),
        "precision": hit / max(1, int(chosen.sum())),
    }


def suspects(
    labels: np.ndarray[Any, Any], arrays: GraphArrays, thresholds: RacketThresholds
) -> np.ndarray[Any, Any]:
    """Accounts in clusters that score as suspected rackets (on payment handles in common)."""
    n_clusters = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    handles = payment_handles_per_cluster(arrays, labels, n_clusters, share=thresholds.handle_share)
    sizes = np.bincount(labels[labels >= 0], minlength=n_clusters)
    suspected = np.array(
        [
            score(ClusterFacts(int(sizes[c]), int(handles[c])), thresholds).suspected
            for c in range(n_clusters)
        ],
        dtype=bool,
    )
    return np.flatnonzero((labels >= 0) & suspected[np.maximum(labels, 0)])


def ours(population: Population, options: GraphOptions, thresholds: RacketThresholds) -> dict[str, Any]:
    arrays = population.arrays

    stages: list[tuple[str, float]] = []

    def mark(stage: str) -> None:
        stages.append((stage, time.perf_counter()))

    def run() -> tuple[clusters.Edges, clusters.Clustering, np.ndarray[Any, Any]]:
        mark("weighing keys")
        weights = options.key_weights(arrays.kinds, arrays.key_kind, arrays.key_accounts)
        edges, found = clusters.cluster_links(
            population.n, arrays.link_node, arrays.link_key, weights, options, min_accounts=3, progress=mark
        )
        mark("scoring")
        chosen = suspects(found.labels, arrays, thresholds)
        mark("done")
        return edges, found, chosen

    (edges, found, chosen), seconds, peak, cpu = measured(run)
    return {
        "edges": len(edges),
        "trustworthy_edges": found.edges,
        "split_components": found.split_components,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mib": peak,
        "stages": [
            {"stage": stage, "seconds": round(stages[i + 1][1] - at, 3)}
            for i, (stage, at) in enumerate(stages[:-1])
        ],
        **accuracy(population, chosen),
        "_edges": edges,
    }


def baseline(
    population: Population, edges: clusters.Edges, options: GraphOptions, thresholds: RacketThresholds
) -> dict[str, Any]:
    """networkx on the same trustworthy edges."""
    import networkx as nx

    keep = edges.weight >= options.min_edge_weight
    src, dst, weight = edges.src[keep].tolist(), edges.dst[keep].tolist(), edges.weight[keep].tolist()
    del keep

    def run() -> np.ndarray[Any, Any]:
        graph = nx.Graph()
        graph.add_weighted_edges_from(zip(src, dst, weight, strict=True))
        labels = np.full(population.n, -1, dtype=np.int64)
        label = 0
        for component in nx.connected_components(graph):
            if len(component) > options.leiden_min_accounts:
                parts = nx.community.louvain_communities(
                    graph.subgraph(component),
                    weight="weight",
                    resolution=1.0,
                    seed=options.seed,
                )
            else:
                parts = [component]
            for part in parts:
                if len(part) >= 3:
                    labels[list(part)] = label
                    label += 1
        return suspects(labels, population.arrays, thresholds)

    chosen, seconds, peak, cpu = measured(run)
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak, **accuracy(population, chosen)}


# -- incremental ------------------------------------------------------------------------------------


def incremental(
    population: Population, db_accounts: int, items: int, database_url: str | None, seed: int
) -> dict[str, Any]:
    """p50/p99 of ``update_items`` for one new item, in a store seeded with part of the population."""
    from sqlalchemy import insert

    from suraksha.content.models import Account, Item, ItemMedia, ItemState, MediaState
    from suraksha.content.services import record_entities
    from suraksha.db.engine import open_database
    from suraksha.network.graph import ItemKey, NearDuplicates, record_keys
    from suraksha.network.services import NetworkOptions, update_items

    rng = np.random.default_rng(seed + 1)
    with tempfile.TemporaryDirectory() as tmp:
        url, throwaway = _store(database_url, Path(tmp))
        db = open_database(url)
        try:
            chosen = population.link_account < db_accounts
            accounts, keys = population.link_account[chosen], population.link_key[chosen]
            at = datetime(2026, 11, 1, tzinfo=UTC)
            with db.session() as session:
                session.execute(
                    insert(Account),
                    [{"id": int(a) + 1, "platform_account_id": f"bench-{a}"} for a in range(db_accounts)],
                )
                record_keys(
                    session,
                    (
                        ItemKey(0, int(a) + 1, KINDS[int(population.key_kind[k])], f"k{k}", at)
                        for a, k in zip(accounts.tolist(), keys.tolist(), strict=True)
                    ),
                )
            # the new items: 4 keys each (a file, an address, two identifiers), half of them known keys
            known = np.unique(keys)
            known_of = {
                kind: known[population.key_kind[known] == K[kind]] for kind in ("media", "upi_id", "telegram")
            }
            new_ids = []
            with db.session() as session:
                for n in range(items):
                    account = Account(id=db_accounts + n + 1, platform_account_id=f"bench-new-{n}")
                    session.add(account)
                    session.flush()
                    reuse = rng.random() < 0.5

                    def pick(kind: str, n: int = n, reuse: bool = reuse) -> str:
                        pool = known_of[kind]
                        return f"k{int(rng.choice(pool))}" if reuse and pool.size else f"new-{kind}-{n}"

                    item = Item(
                        platform_item_id=f"bench-item-{n}",
                        payload_digest="0" * 64,
                        kind="post",
                        account_id=account.id,
                        state=ItemState.DECIDED,
                        upload_ip=f"10.{n % 250}.{n // 250 % 250}.1",
                        posted_at=at,
                        received_at=at,
                    )
                    session.add(item)
                    session.flush()
                    session.add(
                        ItemMedia(item_id=item.id, position=0, state=MediaState.HASHED, sha256=pick("media"))
                    )
                    found = [_Found("upi_id", pick("upi_id")), _Found("telegram", pick("telegram"))]
                    record_entities(session, item, found)
                    new_ids.append(item.id)
            options = NetworkOptions()
            near = NearDuplicates(options.keys.pdq_threshold)
            times, work = [], []
            for item_id in new_ids:
                started = time.perf_counter()
                with db.session() as session:
                    update_items(session, [item_id], options, near)
                    work.append(time.perf_counter() - started)
                times.append(time.perf_counter() - started)
        finally:
            db.dispose()
            if throwaway:
                _drop(database_url or "", throwaway)
    ms = np.array(times) * 1000
    inside = np.array(work) * 1000
    return {
        "store": url.split(":", 1)[0],
        "items": items,
        "seeded_accounts": db_accounts,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "work_p50_ms": float(np.percentile(inside, 50)),
        "work_p99_ms": float(np.percentile(inside, 99)),
    }


def _store(database_url: str | None, folder: Path) -> tuple[str, str | None]:
    """SQLite in ``folder``, or a throwaway database on the PostgreSQL server of ``database_url``."""
    if not database_url:
        return f"sqlite:///{folder / 'network.sqlite3'}", None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"suraksha_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(database_url).set(database=name).render_as_string(hide_password=False), name


def _drop(database_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass(frozen=True)
class _Found:
    kind: str
    value: str
    field: str = "text"
    start: int = 0
    end: int = 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--racket-share", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--social",
        type=float,
        default=1.0,
        help="Small link-sharing groups per account (the ordinary social fabric; 0: none).",
    )
    parser.add_argument(
        "--peel-max-degree",
        type=int,
        default=GraphOptions.peel_max_degree,
        help="GraphOptions.peel_max_degree (0: Leiden on every account of the large components).",
    )
    parser.add_argument("--no-baseline", action="store_true", help="Skip networkx (slow at 10M).")
    parser.add_argument("--items", type=int, default=2000, help="New items timed for the incremental update.")
    parser.add_argument("--db-accounts", type=int, default=20_000)
    parser.add_argument("--database-url", default=os.environ.get("SURAKSHA_BENCH_DATABASE_URL"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    options = GraphOptions(peel_max_degree=args.peel_max_degree)
    thresholds = RacketThresholds()
    # load the compiled union-find once, outside the timing (numba's cache, or its first compile)
    clusters.components(2, np.array([0]), np.array([1]))
    started = time.perf_counter()
    population = generate(args.accounts, args.racket_share, args.seed, args.social)
    say(
        f"population: {population.n} accounts, {population.link_key.size} links to "
        f"{population.key_kind.size} keys, {int((population.planted >= 0).sum())} planted in "
        f"{int(population.planted.max()) + 1} rackets "
        f"(generated in {time.perf_counter() - started:.1f}s)"
    )
    mine = ours(population, options, thresholds)
    edges = mine.pop("_edges")
    say(
        f"suraksha: {mine['edges']} edges ({mine['trustworthy_edges']} trustworthy), clustered in "
        f"{mine['seconds']:.2f}s ({mine['cpu_seconds']:.2f}s CPU), peak +{mine['peak_mib']:.0f} MiB; "
        f"racket recall {mine['recall']:.1%} at "
        f"precision {mine['precision']:.1%}"
    )
    for stage in mine["stages"]:
        say(f"  {stage['seconds']:8.2f}s  {stage['stage']}")
    result: dict[str, Any] = {
        "accounts": population.n,
        "links": int(population.link_key.size),
        "keys": int(population.key_kind.size),
        "planted_accounts": int((population.planted >= 0).sum()),
        "rackets": int(population.planted.max()) + 1,
        "suraksha": mine,
    }
    if not args.no_baseline:
        theirs = baseline(population, edges, options, thresholds)
        result["networkx"] = theirs
        say(
            f"networkx: clustered in {theirs['seconds']:.2f}s ({theirs['cpu_seconds']:.2f}s CPU), "
            f"peak +{theirs['peak_mib']:.0f} MiB; "
            f"racket recall "
            f"{theirs['recall']:.1%} at precision {theirs['precision']:.1%}; suraksha is "
            f"{theirs['seconds'] / max(mine['seconds'], 1e-9):.1f}x faster"
        )
    del edges
    if args.items > 0:
        inc = incremental(
            population, min(args.db_accounts, population.n), args.items, args.database_url, args.seed
        )
        result["incremental"] = inc
        say(
            f"incremental ({inc['store']}, {inc['seeded_accounts']} accounts seeded): per item p50 "
            f"{inc['p50_ms']:.2f} ms, p99 {inc['p99_ms']:.2f} ms, max {inc['max_ms']:.2f} ms with its "
            "commit; "
            f"the update's own work p50 {inc['work_p50_ms']:.2f} ms, p99 {inc['work_p99_ms']:.2f} ms"
        )
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
