"""The account graph over a real database: ``NetworkWorld`` seeds accounts and decided items carrying
files, identifiers, upload addresses and devices, then links them as the ``network.items`` job does."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from suraksha.content.models import Account, Item, ItemMedia, ItemState, MediaState
from suraksha.content.services import record_entities
from suraksha.db import Database
from suraksha.network.clusters import GraphOptions
from suraksha.network.graph import KeyOptions, NearDuplicates
from suraksha.network.scoring import RacketThresholds
from suraksha.network.services import ItemsUpdate, NetworkOptions, update_items

COUNTER = itertools.count(1)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Found:
    kind: str
    value: str
    field: str = "text"
    start: int = 0
    end: int = 1


def sha(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


@dataclass
class NetworkWorld:
    db: Database
    options: NetworkOptions = field(
        default_factory=lambda: NetworkOptions(
            keys=KeyOptions(window_s=3600, pdq_threshold=31, pdq_quality_floor=50),
            graph=GraphOptions(hub_accounts=30, soft_accounts=4, leiden_min_accounts=60),
            rackets=RacketThresholds(min_accounts=5, racket_score=4.0),
        )
    )
    near: NearDuplicates = field(default_factory=lambda: NearDuplicates(31))
    accounts: dict[str, int] = field(default_factory=dict)

    def account(self, name: str, *, created_days_ago: int = 2000) -> int:
        if name not in self.accounts:
            with self.db.session() as session:
                row = Account(
                    platform_account_id=name,
                    handle=name,
                    platform_created_at=T0 - timedelta(days=created_days_ago),
                )
                session.add(row)
                session.flush()
                self.accounts[name] = row.id
        return self.accounts[name]

    def item(
        self,
        owner: str,
        *,
        files: tuple[str, ...] = (),
        pdqs: tuple[str, ...] = (),
        ids: tuple[tuple[str, str], ...] = (),
        ip: str | None = None,
        device: str | None = None,
        at: datetime = T0,
        link: bool = True,
    ) -> tuple[int, ItemsUpdate | None]:
        """A decided item of ``owner`` with files (by name: their SHA-256), PDQ hashes, identifiers
        ``(kind, value)``, an upload address and device; linked into the graph unless ``link`` is False."""
        account_id = self.account(owner)
        number = next(COUNTER)
        with self.db.session() as session:
            item = Item(
                platform_item_id=f"post-{number}",
                payload_digest="0" * 64,
                kind="post",
                account_id=account_id,
                state=ItemState.DECIDED,
                upload_ip=ip,
                device_id=device,
                posted_at=at,
                received_at=at,
            )
            session.add(item)
            session.flush()
            for position, name in enumerate(files):
                session.add(
                    ItemMedia(item_id=item.id, position=position, state=MediaState.HASHED, sha256=sha(name))
                )
            for position, pdq in enumerate(pdqs, start=len(files)):
                session.add(
                    ItemMedia(
                        item_id=item.id, position=position, state=MediaState.HASHED, pdq=pdq, pdq_quality=100
                    )
                )
            session.flush()
            if ids:
                record_entities(session, item, [Found(kind, value) for kind, value in ids])
            item_id = item.id
        if not link:
            return item_id, None
        with self.db.session() as session:
            return item_id, update_items(session, [item_id], self.options, self.near)


@pytest.fixture
def world(db: Database) -> NetworkWorld:
    return NetworkWorld(db)
