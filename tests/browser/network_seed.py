"""A racket for the browser tier: accounts sharing two UPI tills, a Telegram channel and a stock of
files (benign stand-ins), every item decided, clustered; and a lead's investigation of it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from suraksha.content.models import Item
from suraksha.enforcement.models import DecidedBy, Decision, Verdict
from suraksha.network.models import NetworkCluster, NetworkClusterMember
from suraksha.network.services import NetworkOptions, recluster
from tests.browser.conftest import Console
from tests.integration.network.conftest import T0, NetworkWorld


def seed_racket(console: Console, prefix: str, *, accounts: int = 12, lead: str) -> int:
    """The racket's accounts (``prefix``-n), clustered; answers the id of an investigation ``lead``
    (an email) opened from its cluster."""
    platform = console.platform
    world = NetworkWorld(platform.db, options=NetworkOptions.from_settings(platform.settings))
    for n in range(accounts):
        world.item(
            f"{prefix}-{n}",
            ids=(("upi_id", f"{prefix}-till{n % 2}@okaxis"), ("telegram", f"t.me/{prefix}shop")),
            files=(f"{prefix}-stock-{n % 4}.jpg", f"{prefix}-stock-{(n + 1) % 4}.jpg"),
            ip=f"100.64.{n % 3}.9",
            at=T0 + timedelta(days=n),
        )
    ids = sorted(world.accounts.values())
    with platform.db.session() as session:
        for item in session.scalars(select(Item).where(Item.account_id.in_(ids))):
            session.add(
                Decision(
                    item_id=item.id,
                    verdict=Verdict.VIOLATION,
                    category="csam",
                    automated=True,
                    decided_by=DecidedBy.POLICY,
                )
            )
    recluster(platform.db, world.options)
    with platform.db.reading() as session:
        cluster = session.scalar(
            select(NetworkCluster.id)
            .join(NetworkClusterMember, NetworkClusterMember.cluster_id == NetworkCluster.id)
            .where(NetworkClusterMember.account_id == ids[0])
        )
        from suraksha.access.models import ConsoleUser

        user = session.scalars(select(ConsoleUser).where(ConsoleUser.email == lead)).one()
    assert cluster is not None
    opened = platform.investigation_open(
        user_id=user.id, title=f"{prefix}: two UPI tills", cluster_id=cluster
    )
    return int(opened["id"])
