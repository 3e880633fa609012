"""Clusters against planted ground truth: a racket of accounts sharing payment handles, a contact link
and files, hidden among families on one phone, a popular meme and a shared NAT address; scored and
explained, stored with ids that survive a new run, and a new account taking up the racket's till raises
a ban-evasion alert that puts its item in review with the racket named."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from suraksha.content.models import Account
from suraksha.network.models import NetworkAlert, NetworkCluster, NetworkRun
from suraksha.network.scoring import ClusterFacts, score
from suraksha.network.services import (
    cluster_accounts,
    cluster_detail,
    list_clusters,
    recluster,
    store_clusters,
)
from suraksha.review.models import CaseSource, ReviewCase
from tests.integration.network.conftest import T0, NetworkWorld

RACKET = 24
CROWD = 35


def _plant(world: NetworkWorld) -> set[int]:
    """The racket: each account carries one of two UPI ids and the group's Telegram link, and posts
    files from the racket's stock (each file by a few accounts); some accounts are young or suspended."""
    for n in range(RACKET):
        name = f"racket-{n}"
        world.account(name, created_days_ago=10 if n % 2 else 400)
        world.item(
            name,
            ids=(("upi_id", f"till{n % 2}@okaxis"), ("telegram", "t.me/racketshop")),
            files=(f"stock-{n % 6}.jpg", f"stock-{(n + 1) % 6}.jpg"),
            at=T0 + timedelta(hours=n),
        )
    with world.db.session() as session:
        for n in range(0, RACKET, 4):
            account = session.get(Account, world.accounts[f"racket-{n}"])
            assert account is not None
            account.suspended_at = T0
    for family in range(6):  # families on one phone (3 accounts each)
        for member in range(3):
            world.item(f"family-{family}-{member}", ids=(("phone", f"+9198000000{family:02d}"),))
    for n in range(CROWD):  # a meme everyone posts (a hub above 30) and a NAT address
        world.item(f"crowd-{n}", files=("meme.jpg",), ip="100.64.0.9")
    world.item("racket-0", files=("meme.jpg",))  # a racket account posts the meme too
    return {world.accounts[f"racket-{n}"] for n in range(RACKET)}


def test_the_planted_racket_is_found_explained_and_keeps_its_id(world: NetworkWorld) -> None:
    planted = _plant(world)
    first = recluster(world.db, world.options)
    assert first.suspected == 1
    with world.db.reading() as session:
        [racket] = list_clusters(session)
        assert set(cluster_accounts(session, racket.id)) == planted
        everyone = list_clusters(session, suspected_only=False)
    assert racket.accounts == RACKET
    factors = {f["name"]: f for f in racket.explanation["factors"]}
    assert factors["payment_handles"]["points"] == 4.0  # two tills
    assert factors["suspensions"]["detail"] == f"6 of {RACKET} accounts are suspended"
    assert factors["young_accounts"]["detail"].startswith(f"12 of {RACKET} accounts are young")
    families = [c for c in everyone if c.accounts == 3]
    assert len(families) == 6 and not any(c.suspected for c in families)
    assert all(c.accounts < CROWD for c in everyone)  # the crowd shares only hubs and an address

    # a new run over a grown graph keeps the racket's id
    world.item("racket-late", ids=(("telegram", "t.me/racketshop"), ("upi_id", "till0@okaxis")))
    second = recluster(world.db, world.options)
    with world.db.reading() as session:
        [again] = list_clusters(session)
        assert again.id == racket.id and again.accounts == RACKET + 1
        assert second.run_id != first.run_id
        detail = cluster_detail(session, racket.id, world.options.graph)
    assert len(detail.accounts) == RACKET + 1
    kinds = {k.kind for e in detail.edges for k in e.keys}
    assert kinds == {"upi_id", "telegram", "media"}
    assert all(e.trustworthy for e in detail.edges[:10])


def test_a_new_account_taking_up_the_racket_till_enters_review(world: NetworkWorld) -> None:
    _plant(world)
    recluster(world.db, world.options)
    with world.db.reading() as session:
        [racket] = list_clusters(session)
    item_id, update = world.item("fresh-start", ids=(("upi_id", "till1@okaxis"),))
    assert update is not None
    [alert] = update.alerts
    assert alert.cluster_id == racket.id and alert.item_id == item_id
    with world.db.reading() as session:
        case = session.scalar(select(ReviewCase).where(ReviewCase.item_id == item_id))
        assert case is not None and case.source == CaseSource.BAN_EVASION and case.priority == 80
        assert f"suspected racket {racket.id}" in case.escalation_note
        assert "upi_id 'till1@okaxis'" in case.escalation_note
        stored = session.scalar(select(NetworkAlert))
        assert stored is not None and stored.case_id == case.id
    # the same account again: no second alert; a re-upload of the racket's file by another: an alert
    _again, second = world.item("fresh-start", files=("stock-3.jpg",))
    assert second is not None and second.alerts == []
    _other, third = world.item("reuploader", files=("stock-3.jpg",))
    assert third is not None and [a.cluster_id for a in third.alerts] == [racket.id]
    # an account that is already in the racket raises nothing
    _member, fourth = world.item("racket-5", ids=(("upi_id", "till0@okaxis"),))
    assert fourth is not None and fourth.alerts == []


def test_clusters_are_stored_with_their_explanation(world: NetworkWorld) -> None:
    _plant(world)
    recluster(world.db, world.options)
    with world.db.reading() as session:
        row = session.scalar(select(NetworkCluster).where(NetworkCluster.suspected.is_(True)))
        assert row is not None
        explained = json.loads(row.explanation)
    assert explained["suspected"] is True and explained["facts"]["accounts"] == RACKET


def test_a_cluster_not_found_again_is_dissolved_and_a_new_one_gets_a_new_id(world: NetworkWorld) -> None:
    ids = [world.account(f"acct-{n}") for n in range(10)]
    explained = score(ClusterFacts(accounts=4, payment_handles=2), world.options.rackets)
    with world.db.session() as session:
        run = NetworkRun(kind="cluster")
        session.add(run)
        session.flush()
        [first, second] = store_clusters(session, [ids[:4], ids[4:8]], [explained] * 2, run.id, now=T0)
    with world.db.session() as session:
        # the first group stays together (plus one: Jaccard 4/5); the second breaks up, one of it joins
        # two newcomers (Jaccard 1/6): a new cluster
        [kept, fresh] = store_clusters(
            session, [[*ids[:4], ids[4]], ids[7:]], [explained] * 2, run.id, now=T0 + timedelta(days=1)
        )
    assert kept == first and fresh not in (first, second)
    with world.db.reading() as session:
        gone = session.get(NetworkCluster, second)
        assert gone is not None and gone.dissolved_at == T0 + timedelta(days=1)
        assert sorted(cluster_accounts(session, first)) == sorted([*ids[:4], ids[4]])
