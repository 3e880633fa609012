"""The pure parts of the account graph: key weights and hubs, pairs from links, components, Leiden on
a large component, the core cut, ids carried across runs, and scoring."""

from __future__ import annotations

import numpy as np
import pytest

from suraksha.network.clusters import (
    Edges,
    GraphOptions,
    carry_ids,
    cluster,
    cluster_links,
    components,
    project,
)
from suraksha.network.scoring import ClusterFacts, RacketThresholds, score


def arr(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_a_keys_weight_falls_with_its_accounts_and_a_hub_weighs_nothing() -> None:
    options = GraphOptions(hub_accounts=100, soft_accounts=25)
    assert options.key_weight("upi_id", 2) == (1.0, "")
    weight, note = options.key_weight("upi_id", 100)
    assert weight == pytest.approx(0.5) and note == "down-weighted x0.50: shared by 100 accounts"
    assert options.key_weight("ip", 101) == (0.0, "cut: a hub shared by 101 accounts (more than 100)")
    assert options.key_weight("some_new_kind", 2)[0] == 0.5
    vector = options.key_weights(["ip", "upi_id"], arr(1, 1, 0), arr(2, 100, 500))
    assert vector.tolist() == pytest.approx([1.0, 0.5, 0.0])


def test_pairs_from_links_sum_over_shared_keys_and_skip_hubs_and_light_keys() -> None:
    # key 0 (w 1): accounts 0,1,2; key 1 (w 0.5): accounts 1,2; key 2: a hub of 4 (limit 3); key 3: light
    account = arr(0, 1, 2, 1, 2, 0, 1, 2, 3, 3, 4)
    key = arr(0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3)
    weights = np.array([1.0, 0.5, 1.0, 0.1])
    edges = project(account, key, weights, n_accounts=5, hub_accounts=3, min_key_weight=0.125)
    found = {(int(a), int(b)): float(w) for a, b, w in zip(edges.src, edges.dst, edges.weight, strict=True)}
    assert found == {(0, 1): 1.0, (0, 2): 1.0, (1, 2): 1.5}


def test_a_link_given_twice_counts_once() -> None:
    edges = project(arr(0, 1, 1), arr(0, 0, 0), np.array([1.0]), n_accounts=2, hub_accounts=10)
    assert edges.weight.tolist() == [1.0]


def test_components_are_named_by_their_smallest_node() -> None:
    assert components(6, arr(4, 1, 2), arr(5, 2, 0)).tolist() == [0, 0, 0, 3, 4, 4]


def _clique(nodes: range) -> list[tuple[int, int]]:
    members = list(nodes)
    return [(a, b) for i, a in enumerate(members) for b in members[i + 1 :]]


def test_leiden_splits_a_large_component_along_its_bridge() -> None:
    """Two dense groups of 30 joined by one edge: one component, two communities."""
    pairs = _clique(range(30)) + _clique(range(30, 60)) + [(0, 30)]
    src, dst = (arr(*(p[i] for p in pairs)) for i in (0, 1))
    edges = Edges(src, dst, np.ones(src.size))
    found = cluster(60, edges, GraphOptions(leiden_min_accounts=40), min_accounts=3)
    assert found.split_components == 1
    groups = sorted(sorted(int(x) for x in g) for g in found.members())
    assert groups == [list(range(30)), list(range(30, 60))]
    whole = cluster(60, edges, GraphOptions(leiden_min_accounts=100), min_accounts=3)
    assert len(whole.members()) == 1  # not large enough to split


def test_accounts_whose_few_neighbours_are_one_clique_are_peeled_and_put_back() -> None:
    """Two dense groups of 30 joined by one edge; a family of three on one phone with account 0 (a
    clique of four, light edges) and a pair hanging on account 45 by a heavy edge each. The family and
    the pair are peeled before Leiden; the family is put back as a group of its own (joining a
    30-account community would cost more than its edges bring), the pair joins 45's community:
    what Leiden gives on the whole component."""
    pairs = _clique(range(30)) + _clique(range(30, 60)) + [(0, 30)]
    family = [*_clique(range(60, 63)), (0, 60), (0, 61), (0, 62)]
    pair = [(63, 64), (45, 63), (45, 64)]
    every = pairs + family + pair
    src, dst = (arr(*(p[i] for p in every)) for i in (0, 1))
    weight = np.r_[np.ones(len(pairs)), np.full(len(family), 0.8), np.full(len(pair), 5.0)]
    order = np.lexsort((dst, src))
    edges = Edges(src[order], dst[order], weight[order])
    said: list[str] = []
    found = cluster(65, edges, GraphOptions(leiden_min_accounts=40), min_accounts=3, progress=said.append)
    assert any(line.startswith("peeled 5 of 65 accounts") for line in said)
    groups = sorted(sorted(int(x) for x in g) for g in found.members())
    assert groups == [list(range(30)), [*range(30, 60), 63, 64], [60, 61, 62]]
    whole = cluster(65, edges, GraphOptions(leiden_min_accounts=40, peel_max_degree=0), min_accounts=3)
    assert sorted(sorted(int(x) for x in g) for g in whole.members()) == groups


def test_light_edges_are_left_out_and_small_clusters_unlabelled() -> None:
    edges = Edges(arr(0, 1, 3), arr(1, 2, 4), np.array([1.0, 0.3, 1.0]))
    found = cluster(5, edges, GraphOptions(), min_accounts=2)
    assert found.labels.tolist()[2] == -1
    assert found.labels[0] == found.labels[1] != found.labels[3] == found.labels[4]


def test_a_member_hanging_on_by_a_thread_is_cut_from_its_cluster() -> None:
    """Twenty accounts that share everything, and an ordinary account that shares one meme with one of
    them: the ordinary one is cut; a family of three on one phone is too small to cut."""
    pairs = _clique(range(20))
    src = arr(*(a for a, _ in pairs), 0, 30, 30)
    dst = arr(*(b for _, b in pairs), 25, 31, 32)
    weight = np.r_[np.full(len(pairs), 3.0), 0.8, 0.8, 0.8]
    found = cluster(40, Edges(src, dst, weight), GraphOptions(), min_accounts=3)
    groups = sorted(sorted(int(x) for x in g) for g in found.members())
    assert groups == [list(range(20)), [30, 31, 32]]


def test_cluster_links_runs_the_whole_way_from_links() -> None:
    account = arr(0, 1, 2, 3)
    key = arr(0, 0, 1, 1)
    edges, found = cluster_links(4, account, key, np.array([1.0, 1.0]), GraphOptions())
    assert len(edges) == 2 and len(found.members()) == 2


def test_ids_carry_over_to_the_cluster_most_accounts_stayed_in() -> None:
    old = {1: 10, 2: 10, 3: 10, 4: 10, 5: 20, 6: 20}
    sizes = {10: 4, 20: 2}
    # the first keeps 10 (3 of 4 stayed, one joined: Jaccard 3/5); the second is new (1 of 2: 1/3)
    assert carry_ids([[1, 2, 3, 7], [5, 8]], old, sizes) == [10, None]
    assert carry_ids([[1, 2, 3], [4]], {1: 10, 2: 10, 3: 10, 4: 10}, {10: 4}) == [10, None]


def test_the_score_adds_capped_factors_and_explains_each() -> None:
    thresholds = RacketThresholds(min_accounts=5, racket_score=4.0)
    family = score(ClusterFacts(accounts=3, payment_handles=1), thresholds)
    assert family.score == 2.0 and not family.suspected
    racket = score(
        ClusterFacts(
            accounts=40, payment_handles=7, banked=10, confirmed=4, sale_hits=40, suspended=8, young=20
        ),
        thresholds,
    )
    points = {f.name: f.points for f in racket.factors}
    assert points == {
        "payment_handles": 10.0,
        "banked_matches": 2.5,
        "confirmed_violations": 1.0,
        "sale_solicitation": 5.0,
        "suspensions": 0.6,
        "young_accounts": 1.0,
    }
    assert racket.suspected and racket.as_dict()["score"] == 20.1
    small = score(ClusterFacts(accounts=4, payment_handles=5), thresholds)
    assert small.score == 10.0 and not small.suspected  # too few accounts to be a racket


def test_the_same_graph_gives_the_same_clusters() -> None:
    rng = np.random.default_rng(3)
    src = rng.integers(0, 400, 3000)
    dst = rng.integers(0, 400, 3000)
    keep = src != dst
    edges = Edges(
        np.minimum(src, dst)[keep], np.maximum(src, dst)[keep], rng.uniform(0.5, 3.0, int(keep.sum()))
    )
    options = GraphOptions(leiden_min_accounts=10)
    first = cluster(400, edges, options).labels
    assert cluster(400, edges, options).labels.tolist() == first.tolist()
