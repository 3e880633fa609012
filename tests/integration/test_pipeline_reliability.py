"""Kill -9 a worker at random points while it processes a stream of items: after restarts every item
is processed and no effect happens twice (one decision per item, no duplicate action). On PostgreSQL
two workers run at once."""

from __future__ import annotations

import ipaddress
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory
from suraksha.content.models import Item, ItemState
from suraksha.db import Database
from suraksha.enforcement.models import Action, ActionState, Decision, Delivery
from suraksha.intake.services import submit_item
from suraksha.intake.store import MediaStore
from suraksha.signals.file_signals import HashOptions, hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.vault.crypto import EnvelopeCipher
from tests.integration.test_pipeline import Receiver, item

N_ITEMS = 120
PRIVATE_NETWORKS = [
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
]


def private_address() -> str | None:
    """An address of this machine in a private network: the worker processes may deliver webhooks
    there (webhook_allow_private_network), never to loopback."""
    for family, probe in ((socket.AF_INET6, "fd00::1"), (socket.AF_INET, "10.255.255.255")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe_socket:
                probe_socket.connect((probe, 1))
                address = ipaddress.ip_address(probe_socket.getsockname()[0])
        except OSError:
            continue
        if any(address in network for network in PRIVATE_NETWORKS):
            return str(address)
    return None


def start_worker(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "suraksha", "worker", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_killed_workers_lose_nothing_and_repeat_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    known = synthetic_jpeg(7, 320, 240)
    signals = hash_bytes(known, HashOptions())
    assert signals.pdq is not None
    kek = os.environ["SURAKSHA_VAULT_KEK"]  # the workers' key: they open what is stored here
    store = MediaStore(tmp_path / "media", EnvelopeCipher(kek))
    with db.session() as s:
        bank = banks.create_bank(s, "known-bad", category=BankCategory.CSAM)
        banks.add_entry(s, bank, SignalKind.PDQ, signals.pdq.hex, quality=signals.pdq.quality)
    for i in range(N_ITEMS):
        media = known if i % 3 == 0 else synthetic_jpeg(1000 + i, 320, 240)
        with db.session() as s:
            submit_item(s, store, item(f"stream-{i}", f"acct-{i % 17}", media), max_media_bytes=10**7)
    env = dict(
        os.environ,
        SURAKSHA_DATABASE_URL=database_url,
        SURAKSHA_DATA_DIR=str(tmp_path),
        SURAKSHA_JOB_LEASE_S="3",
        SURAKSHA_JOB_BACKOFF_BASE_S="0.2",
        SURAKSHA_WORKER_POLL_INTERVAL_S="0.2",
    )
    host = private_address()
    receiver = Receiver(host=host) if host else None
    if receiver is not None:
        shown = f"[{host}]" if ":" in str(host) else str(host)
        env.update(
            SURAKSHA_WEBHOOK_URL=f"http://{shown}:{receiver.port}/hook",
            SURAKSHA_WEBHOOK_SECRETS="reliability-secret",
            SURAKSHA_WEBHOOK_ALLOW_PRIVATE_NETWORK="true",
        )
    parallel = 2 if db.dialect == "postgresql" else 1
    rng = random.Random(5)
    for _ in range(3):
        workers = [start_worker(env) for _ in range(parallel)]
        time.sleep(rng.uniform(2.5, 5.0))
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
    time.sleep(3.2)  # the killed workers' leases run out
    finishers = [start_worker(env, "--drain") for _ in range(parallel)]
    for finisher in finishers:
        _, stderr = finisher.communicate(timeout=240)
        assert finisher.returncode == 0, stderr.decode()[-2000:]
    with db.session() as s:
        states = dict(s.execute(select(Item.state, func.count()).group_by(Item.state)).all())
        assert sum(states.values()) == N_ITEMS
        assert ItemState.QUEUED not in states, states
        per_item = s.execute(select(Decision.item_id, func.count()).group_by(Decision.item_id)).all()
        assert len(per_item) == N_ITEMS and {count for _, count in per_item} == {1}
        banked = len(range(0, N_ITEMS, 3))
        actions = s.scalar(select(func.count()).select_from(Action))
        assert actions == 4 * banked  # remove, suspend, preserve, report
        deliveries = {d.delivery_id: d.state for d in s.scalars(select(Delivery))}
    if receiver is None:
        return  # no private address on this machine to deliver to (loopback is refused by design)
    receiver.close()
    # one removal per banked item, one suspension per account (never sent twice while in force); one
    # endpoint: one delivery id each
    suspended = len({i % 17 for i in range(0, N_ITEMS, 3)})
    assert len(deliveries) == banked + suspended
    received = {headers["Suraksha-Delivery-Id"] for headers, _ in receiver.received}
    assert received == set(deliveries)  # every delivery arrived; at-least-once, under one id each
    assert set(deliveries.values()) == {ActionState.DELIVERED}
