"""Reporting over real parts: a real database (SQLite, and PostgreSQL when configured), the media
store on disk, and the CyberTipline simulator served by uvicorn on a loopback port, reached with the
real httpx client.

``world`` seeds accounts, items with benign media bytes, and decisions; ``make_submitter`` builds the
report state machine over the simulator (with a clock the test can move)."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from suraksha.app import DECISION_FOLLOW_UPS
from suraksha.banks import services as banks
from suraksha.banks.index import BankIndex
from suraksha.banks.models import BankCategory
from suraksha.content.models import Account, Item, ItemKind, ItemMedia, ItemState, MediaState
from suraksha.db import Database
from suraksha.enforcement.models import DecidedBy, Decision, Verdict
from suraksha.enforcement.policy import BUILTIN
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.schemas import ItemIn
from suraksha.intake.services import submit_item
from suraksha.intake.store import MediaStore
from suraksha.reporting.contents import Reporter
from suraksha.reporting.ports import HttpNcmecApi
from suraksha.reporting.services import ReportOptions
from suraksha.reporting.simulator import NcmecSimulator, SimClock, simulator_from_xsd
from suraksha.reporting.submission import EvidenceSource, ReportSubmitter, SubmissionPolicy
from suraksha.reporting.xml import CyberTiplineSchema
from suraksha.signals.file_signals import HashOptions, hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.vault.crypto import EnvelopeCipher, KeyEncryptionKey, generate_signing_key_text
from suraksha.vault.ports import FilesystemBlobStorage
from suraksha.vault.services import EvidenceVault
from suraksha.web.ncmec_sim import create_simulator_app

USER, PASSWORD = "esp-test", "sim-password-for-tests"


class Crash(BaseException):
    """A process killed at a checkpoint (nothing catches it, like SIGKILL)."""


@dataclass
class Sim:
    simulator: NcmecSimulator
    clock: SimClock
    url: str

    def api(self, password: str = PASSWORD) -> HttpNcmecApi:
        return HttpNcmecApi(self.url, USER, password, timeout_s=10)


@pytest.fixture
def xsd_path(testdata: Path) -> Path:
    return testdata / "ncmec" / "cyber_tipline.xsd"


@pytest.fixture
def sim(xsd_path: Path) -> Iterator[Sim]:
    clock = SimClock()
    simulator = simulator_from_xsd(xsd_path, username=USER, password=PASSWORD, clock=clock)
    app = create_simulator_app(simulator, clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "simulator did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Sim(simulator, clock, f"http://127.0.0.1:{port}/ispws")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class World:
    db: Database
    store: MediaStore
    decisions: dict[str, list[int]] = field(default_factory=dict)
    media: dict[str, list[int]] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)

    def add_account(
        self, name: str, *, items: int, files_per_item: int = 1, kind: str = ItemKind.POST
    ) -> None:
        with self.db.session() as session:
            account = Account(
                platform_account_id=f"acct-{name}",
                handle=name,
                display_name=f"Demo {name}",
                suspended_at=datetime(2026, 11, 24, 9, tzinfo=UTC),
            )
            session.add(account)
            session.flush()
            self.accounts[name] = account.id
            for n in range(items):
                item = Item(
                    platform_item_id=f"{name}-item-{n}",
                    payload_digest="0" * 64,
                    kind=kind,
                    account_id=account.id,
                    state=ItemState.ACTIONED,
                    posted_at=datetime(2026, 11, 24, 8, n, tzinfo=UTC),
                    upload_ip=f"203.0.113.{n + 1}",
                    upload_port=40000 + n,
                    device_id=f"device-{name}-{n % 2}",
                )
                session.add(item)
                session.flush()
                for position in range(files_per_item):
                    data = f"benign test media {name} {n} {position}".encode()
                    sha = self.store.put(data)
                    media = ItemMedia(
                        item_id=item.id,
                        position=position,
                        state=MediaState.HASHED,
                        size=len(data),
                        media_format="JPEG",
                        sha256=sha,
                        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                    )
                    session.add(media)
                    session.flush()
                    self.media.setdefault(name, []).append(media.id)
                decision = Decision(
                    item_id=item.id,
                    verdict=Verdict.VIOLATION,
                    category="csam",
                    automated=True,
                    decided_by=DecidedBy.POLICY,
                    decided_by_ref="policy test",
                )
                session.add(decision)
                session.flush()
                self.decisions.setdefault(name, []).append(decision.id)


@pytest.fixture
def world(db: Database, tmp_path: Path) -> World:
    return World(db, MediaStore(tmp_path / "media", EnvelopeCipher(KeyEncryptionKey.generate())))


@dataclass
class MovableClock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


OPTIONS = ReportOptions(
    reporter=Reporter(email="trust-safety@example.org", first_name="Trust", last_name="Safety"),
    platform="Demo Platform",
    profile_url="https://demo.example/u/{handle}",
    item_url="https://demo.example/p/{item_id}",
    bundle_window_s=0,
)


@pytest.fixture
def make_submitter(world: World, sim: Sim, xsd_path: Path) -> Callable[..., ReportSubmitter]:
    schema = CyberTiplineSchema.from_path(xsd_path)

    def make(**kwargs: Any) -> ReportSubmitter:
        api = kwargs.pop("api", None) or sim.api()
        policy = kwargs.pop("policy", SubmissionPolicy(retry_base_s=0.01, retry_max_s=0.05))
        options = kwargs.pop("options", OPTIONS)
        return ReportSubmitter(world.db, api, schema, EvidenceSource(world.store), options, policy, **kwargs)

    return make


@dataclass
class KnownBad:
    """A csam bank holding one (benign) picture, the pipeline over it, and a vault with fresh keys."""

    vault: EvidenceVault
    signing_key: str
    pipeline: Pipeline

    def post(self, platform_id: str, account: str, picture: bytes, *, ip: str, port: int, device: str) -> int:
        """Submit a post with ``picture`` and its upload details, and process it; its item id."""
        item = ItemIn.model_validate(
            {
                "platform_item_id": platform_id,
                "kind": "post",
                "account": {"platform_id": account, "handle": f"@{account.replace('-', '')}"},
                "text": "benign test text",
                "upload_ip": ip,
                "upload_port": port,
                "device_id": device,
                "media": [{"data": base64.b64encode(picture).decode(), "content_type": "image/jpeg"}],
            }
        )
        with self.pipeline.db.session() as session:
            item_id = submit_item(session, self.pipeline.store, item, max_media_bytes=10_000_000).item_id
        assert self.pipeline.process(item_id)
        return item_id


def known_bad(world: World, tmp_path: Path, picture: bytes) -> KnownBad:
    signing_key = generate_signing_key_text()
    vault = EvidenceVault(
        storage=FilesystemBlobStorage(tmp_path / "vault"),
        media_store=world.store,
        kek=KeyEncryptionKey.generate().to_text(),
        signing_key=signing_key,
    )
    known = hash_bytes(picture, HashOptions())
    assert known.pdq is not None
    with world.db.session() as session:
        bank = banks.create_bank(session, "known-bad", category=BankCategory.CSAM)
        banks.add_entry(session, bank, SignalKind.PDQ, known.pdq.hex, quality=known.pdq.quality)
    pipeline = Pipeline(
        db=world.db,
        index=BankIndex(world.db).load(),
        store=world.store,
        options=HashOptions(),
        policy=BUILTIN,
        follow_ups=DECISION_FOLLOW_UPS,
    )
    return KnownBad(vault, signing_key, pipeline)
