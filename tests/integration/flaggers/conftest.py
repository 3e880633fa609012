"""Trusted flaggers over real parts: a Platform on a real database (SQLite, and PostgreSQL when
configured), the real review decisions, the real worker, and a real HTTP receiver for the webhooks."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from suraksha.access.models import ConsoleUser
from suraksha.app import Platform
from suraksha.content.models import Account, Item, ItemKind, ItemMedia, ItemState, MediaState
from suraksha.enforcement.models import ActionKind
from suraksha.flaggers.registry import NewFlagger
from suraksha.flaggers.services import FETCH, NOTIFY
from suraksha.outbound.webhooks import WebhookSender
from suraksha.review import services as review
from suraksha.review.decisions import CASE_DECIDED, ReviewChoice, decide
from suraksha.review.models import ViolationCategory
from suraksha.settings import Settings
from suraksha.testing.database import truncate_all
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.unit.outbound.webhooks.conftest import Platform as Receiver
from tests.unit.outbound.webhooks.conftest import Receiver as ReceiverServer
from tests.unit.outbound.webhooks.conftest import ReceiverHandler

POST_URL = "https://social.example/p/{item_id}"
COUNTER = itertools.count(1)


@dataclass
class Registered:
    name: str
    key: str
    secret: str

    @property
    def prefix(self) -> str:
        return self.key.split("_")[1]


@dataclass
class World:
    platform: Platform
    receiver: Receiver
    reviewers: dict[str, ConsoleUser] = field(default_factory=dict)

    def flagger(self, name: str, *, webhook: str | None = "/ok", **fields: Any) -> Registered:
        new = NewFlagger(
            name=name,
            organisation=f"{name} (a child-rights NGO)",
            country="IN",
            designation=fields.pop("designation", "statutory"),
            expertise=("csam", "intimate_imagery"),
            webhook_url=self.receiver.url(webhook) if webhook else None,
            **fields,
        )
        shown = self.platform.flagger_add(new, actor="cli:admin")
        return Registered(name, str(shown["api_key"]), str(shown["webhook_secret"]))

    def item(self, platform_id: str, data: bytes | None = None) -> int:
        n = next(COUNTER)
        data = data or f"benign flagger test picture {n}".encode()
        with self.platform.db.session() as session:
            account = Account(platform_account_id=f"acct-{n}-{platform_id}", handle=f"user{n}")
            session.add(account)
            session.flush()
            item = Item(
                platform_item_id=platform_id,
                payload_digest="0" * 64,
                kind=ItemKind.POST,
                account_id=account.id,
                text="benign words",
                state=ItemState.SCANNED,
            )
            session.add(item)
            session.flush()
            session.add(
                ItemMedia(
                    item_id=item.id,
                    position=0,
                    state=MediaState.HASHED,
                    size=len(data),
                    md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
            )
            return item.id

    def reviewer(self, name: str = "rev") -> ConsoleUser:
        if name not in self.reviewers:
            with self.platform.db.session() as session:
                user = ConsoleUser(
                    email=f"{name}@example.org",
                    pseudonym=f"r-{name[:14]}",
                    roles="child_safety_reviewer",
                    password_hash="not-a-password-hash (these tests never sign in)",
                    failed_logins=0,
                )
                session.add(user)
            self.reviewers[name] = user
        return self.reviewers[name]

    def decide(self, case_id: int, violation: ViolationCategory) -> None:
        user = self.reviewer()
        options = self.platform.review_options
        actions = () if violation == ViolationCategory.BENIGN else (ActionKind.REMOVE,)
        with self.platform.db.session() as session:
            reviewer = session.get(ConsoleUser, user.id)
            assert reviewer is not None
            review.claim(session, case_id, reviewer, options)
            decide(session, case_id, reviewer, ReviewChoice(violation=violation, actions=actions), options)

    def work(self) -> None:
        """Run the flaggers' jobs until none is left, webhooks going to the local receiver."""
        index = self.platform.bank_index()
        sender = WebhookSender(allow_loopback_ports_for_testing={self.receiver.port})
        run_worker(
            self.platform.db,
            self.platform.job_handlers(index, sender=sender),
            kinds=[FETCH, CASE_DECIDED, NOTIFY],
            config=WorkerConfig.from_settings(self.platform.settings),
            until_drained=True,
            install_signal_handlers=False,
        )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ReceiverServer(("127.0.0.1", 0), ReceiverHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Receiver(server.server_address[1], server)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def world(database_url: str, tmp_path: Path, receiver: Receiver) -> Iterator[World]:
    settings = Settings.load(
        {
            "database_url": database_url,
            "data_dir": str(tmp_path / "data"),
            "index_dir": str(tmp_path / "index"),
            "platform_item_url": POST_URL,
            "flagger_accuracy_min_notices": 3,
            "flagger_min_accuracy": 0.5,
            "job_backoff_base_s": 0,
        }
    )
    platform = Platform(settings)
    try:
        yield World(platform, receiver)
    finally:
        if platform.db.dialect == "postgresql":
            truncate_all(platform.db)
        platform.close()
