"""A platform on the test database and the NCMEC hash sharing stand-in over real HTTP (uvicorn on a
free loopback port, in a thread of the test process)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from suraksha.app import Platform
from suraksha.banks.models import BankEntry
from suraksha.exchanges.hashsharing_sim import HashSharingSimulator
from suraksha.settings import Settings
from suraksha.testing.database import truncate_all
from suraksha.web.hashsharing_sim import create_hashsharing_app

USER, PASSWORD = "tester", "sim-only-password-7f3a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Upstream:
    sim: HashSharingSimulator
    url: str


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    sim = HashSharingSimulator(USER, PASSWORD, page_size=10)
    port = free_port()
    config = uvicorn.Config(
        create_hashsharing_app(sim), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="hashsharing-sim", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the stand-in did not start")
        time.sleep(0.02)
    try:
        yield Upstream(sim, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def bank_category() -> str:
    """The category of the exchange's bank: not ``csam`` by default, whose removals upstream never
    un-block (``test_a_csam_bank_keeps_blocking_what_the_list_withdrew``)."""
    return "other"


@pytest.fixture
def platform(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bank_category: str
) -> Iterator[Platform]:
    monkeypatch.setenv("SURAKSHA_EXCHANGE_NC_CREDENTIALS", f"{USER}:{PASSWORD}")
    settings = Settings.load(
        {
            "database_url": database_url,
            "data_dir": str(tmp_path / "data"),
            "index_dir": str(tmp_path / "index"),
            "exchange_backoff_base_s": 60,
            # A transaction a page: these tests crash between the stand-in's small pages. Pages
            # committed together: test_pages_committed_together_lose_and_repeat_nothing.
            "exchange_commit_entries": 1,
        }
    )
    p = Platform(settings)
    p.bank_create("known", actor="test", category=bank_category)
    try:
        yield p
    finally:
        if p.db.dialect == "postgresql":
            truncate_all(p.db)
        p.close()


def bank_values(p: Platform, *, enabled: bool | None = True) -> list[str]:
    with p.db.reading() as session:
        query = select(BankEntry.value).order_by(BankEntry.value)
        if enabled is not None:
            query = query.where(BankEntry.enabled.is_(enabled))
        return list(session.scalars(query))


def pdq(n: int) -> str:
    """A benign, made-up PDQ value (not the hash of any picture)."""
    return f"{n:016x}" * 4


def md5(n: int) -> str:
    return f"{n:032x}"


def image(n: int, **extra: object) -> dict[str, object]:
    return {"member": 42, "id": f"img-{n}", "type": "image", "pdq": pdq(n), "classification": "A1", **extra}
