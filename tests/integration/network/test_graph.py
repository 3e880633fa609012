"""Building the account graph: edges with their evidence, hubs cut and down-weighted, addresses within a
time window, near-duplicate files, and a rebuild that finds what the increments found."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from suraksha.network import graph
from suraksha.network.models import NetworkKey, NetworkLink
from suraksha.network.services import account_network
from tests.integration.network.conftest import T0, NetworkWorld, sha


def _edges_of(world: NetworkWorld, name: str) -> dict[int, list[tuple[str, str, str]]]:
    with world.db.reading() as session:
        found = account_network(session, world.accounts[name], world.options.graph)
    return {
        (e.b if e.a == world.accounts[name] else e.a): [(k.kind, k.value, k.note) for k in e.keys]
        for e in found.edges
    }


def test_a_shared_payment_handle_is_an_edge_with_its_evidence(world: NetworkWorld) -> None:
    first, _ = world.item("seller-1", ids=(("upi_id", "till@okaxis"),))
    second, update = world.item("seller-2", ids=(("upi_id", "till@okaxis"),), at=T0 + timedelta(days=3))
    assert update is not None and [link.kind for link in update.new_links] == ["upi_id"]
    with world.db.reading() as session:
        found = account_network(session, world.accounts["seller-1"], world.options.graph)
    [edge] = found.edges
    assert {edge.a, edge.b} == {world.accounts["seller-1"], world.accounts["seller-2"]}
    assert edge.trustworthy and edge.weight == 1.0
    [key] = edge.keys
    assert (key.kind, key.value, key.accounts, key.note) == ("upi_id", "till@okaxis", 2, "")
    sides = {key.a.account_id: key.a, key.b.account_id: key.b}
    assert sides[world.accounts["seller-1"]].first_item_id == first
    assert sides[world.accounts["seller-2"]].first_item_id == second
    assert sides[world.accounts["seller-2"]].first_seen_at == T0 + timedelta(days=3)


def test_the_same_file_links_accounts_and_weights_add_up(world: NetworkWorld) -> None:
    world.item("a", files=("poster.jpg",), ids=(("telegram", "t.me/shop"),))
    world.item("b", files=("poster.jpg",), ids=(("telegram", "t.me/shop"),))
    edges = _edges_of(world, "a")
    assert sorted(kind for kind, _v, _n in edges[world.accounts["b"]]) == ["media", "telegram"]
    with world.db.reading() as session:
        [edge] = account_network(session, world.accounts["a"], world.options.graph).edges
    assert edge.weight == 1.8


def test_a_hub_links_nobody_and_the_evidence_says_so(world: NetworkWorld) -> None:
    """Thirty-one accounts behind one NAT address (hub limit 30): the address is cut, listed as a hub;
    five on another is down-weighted (soft limit 4), and says so."""
    for n in range(31):
        world.item(f"nat-{n}", ip="100.64.0.1")
    for n in range(5):
        world.item(f"cafe-{n}", ip="198.51.100.7")
    with world.db.reading() as session:
        hub = account_network(session, world.accounts["nat-0"], world.options.graph)
        cafe = account_network(session, world.accounts["cafe-0"], world.options.graph)
    assert hub.edges == []
    [(kind, value, accounts)] = hub.cut_keys
    assert kind == "ip" and value.startswith("100.64.0.1@") and accounts == 31
    assert len(cafe.edges) == 4
    [key] = cafe.edges[0].keys
    assert key.note == "down-weighted x0.89: shared by 5 accounts"
    assert not cafe.edges[0].trustworthy  # an address alone is never enough


def test_addresses_and_devices_link_only_within_the_window(world: NetworkWorld) -> None:
    world.item("x", ip="203.0.113.5", device="dev-1")
    world.item("y", ip="203.0.113.5", device="dev-1", at=T0 + timedelta(minutes=10))
    world.item("z", ip="203.0.113.5", device="dev-1", at=T0 + timedelta(days=2))
    edges = _edges_of(world, "x")
    assert sorted(kind for kind, _v, _n in edges[world.accounts["y"]]) == ["device", "ip"]
    assert world.accounts["z"] not in edges


def test_near_duplicate_files_link_their_accounts(world: NetworkWorld) -> None:
    original = "f" * 64
    altered = "0" + "f" * 63  # 4 bits away
    far = "0" * 64
    world.item("p", pdqs=(original,))
    world.item("q", pdqs=(altered,))
    world.item("r", pdqs=(far,))
    edges = _edges_of(world, "p")
    assert [kind for kind, _v, _n in edges[world.accounts["q"]]] == ["near_media"]
    assert world.accounts["r"] not in edges


def test_an_item_linked_twice_counts_its_account_once(world: NetworkWorld) -> None:
    item_id, _ = world.item("twice", ids=(("phone", "+919800000001"),))
    world.item("other", ids=(("phone", "+919800000001"),))
    with world.db.session() as session:
        assert graph.record_items(session, [item_id], world.options.keys, world.near) == []
    with world.db.reading() as session:
        key = session.scalar(select(NetworkKey).where(NetworkKey.value == "+919800000001"))
        assert key is not None and key.accounts == 2


def test_a_rebuild_finds_what_the_increments_found(world: NetworkWorld) -> None:
    world.item("m", files=("a.jpg",), ids=(("upi_id", "m@upi"),), ip="192.0.2.1", pdqs=("f" * 64,))
    world.item("n", files=("a.jpg",), ids=(("upi_id", "m@upi"),), ip="192.0.2.1", pdqs=("e" * 64,))
    world.item("o", link=False, files=("b.jpg",), ids=(("email", "o@example.org"),))

    def snapshot() -> set[tuple[str, str, int, int]]:
        with world.db.reading() as session:
            return {
                (k.kind, k.value, link.account_id, k.accounts)
                for link, k in session.execute(
                    select(NetworkLink, NetworkKey).join(NetworkKey, NetworkKey.id == NetworkLink.key_id)
                )
            }

    before = snapshot()
    assert graph.rebuild(world.db, world.options.keys) == 3
    after = snapshot()
    assert before < after  # the item never linked joined
    assert {(k, v) for k, v, _a, _n in after - before} == {
        ("media", sha("b.jpg")),
        ("email", "o@example.org"),
    }
    with world.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(NetworkLink)) == len(after)


def test_a_worker_that_remembers_groups_a_rebuild_removed_finds_them_again(world: NetworkWorld) -> None:
    """A rebuild elsewhere makes the near-duplicate groups afresh; this process's memory of the old ones
    is dropped on first use, and the next near-duplicate still joins its group."""
    world.item("first", pdqs=("f" * 64,))
    graph.rebuild(world.db, world.options.keys)  # its own groups: ``world.near`` now names a removed key
    world.item("second", pdqs=("0" + "f" * 63,))
    assert [kind for kind, _v, _n in _edges_of(world, "first")[world.accounts["second"]]] == ["near_media"]
