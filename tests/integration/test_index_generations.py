"""Published index generations: a process starts from the mapped generation and the change feed, not
from every entry in the database; a compacted generation is adopted by running processes; a
generation that cannot be trusted is ignored, never half-used."""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from datetime import timedelta
from pathlib import Path

import pytest

from suraksha.banks import index_store, services
from suraksha.banks.index import BankIndex
from suraksha.banks.models import BankChangeKind
from suraksha.db import Database, open_database, utcnow
from suraksha.signals.file_signals import FileSignals
from suraksha.signals.pdq import PdqHash
from suraksha.signals.types import SignalKind
from suraksha.testing.hashes import pdq_like
from tests.integration.test_bank_index import key, oracle, queries, seeded

APPROVED = "review_decision:0"  # these tests are about indexes, not the csam four-eyes guard

__all__ = ["seeded"]  # the fixture, shared with the bank index tests


def assert_equals_oracle(index: BankIndex, db: Database, centres: list[str], testdata: Path) -> int:
    brute = oracle(db)
    found = 0
    for signals in queries(centres, testdata):
        expected = brute.match(signals)
        assert key(index.match(signals)) == key(expected)
        found += len(expected.hits)
    return found


def test_starts_from_the_generation_then_follows_the_feed(
    seeded: tuple[Database, list[str]], testdata: Path, tmp_path: Path
) -> None:
    db, centres = seeded
    folder = tmp_path / "index"
    publisher = BankIndex(db, index_dir=folder).load()
    assert publisher.generation is None  # nothing published yet: built from the database
    generation = publisher.publish()
    assert generation is not None and generation.entries == publisher.entry_count

    rng = random.Random(21)
    with db.session() as s:  # changes after the generation
        entries = [e for _, e in services.active_entries(s)]
        for entry in entries[:6]:
            services.set_entry_enabled(s, entry.id, False, four_eyes=APPROVED)
        # Long enough for the first comparison below to finish before it runs out, on a busy CI machine
        # too (at 1 s the oracle, reading later, sometimes saw it back while the index did not).
        back_at = utcnow() + timedelta(seconds=4)
        services.set_entry_enabled(s, entries[8].id, False, until=back_at, four_eyes=APPROVED)
        bank = services.get_bank(s, "strict")
        for _ in range(5):
            services.add_entry(s, bank, SignalKind.PDQ, pdq_like(rng))

    worker = BankIndex(db, index_dir=folder).load()
    assert worker.generation == generation.name
    assert worker.position == worker.feed_head() > generation.position
    assert assert_equals_oracle(worker, db, centres, testdata) > 50
    time.sleep(max(0.0, (back_at - utcnow()).total_seconds()) + 0.1)  # the timed disable runs out:
    worker.refresh()  # the entry comes back through the feed check
    assert_equals_oracle(worker, db, centres, testdata)


def test_running_index_adopts_a_newer_generation(
    seeded: tuple[Database, list[str]], testdata: Path, tmp_path: Path
) -> None:
    db, centres = seeded
    folder = tmp_path / "index"
    running = BankIndex(db, index_dir=folder).load()
    assert not running.adopt_current()  # nothing published
    rng = random.Random(22)
    with db.session() as s:
        bank = services.get_bank(s, "loose")
        for _ in range(20):
            services.add_entry(s, bank, SignalKind.PDQ, pdq_like(rng))
    other = BankIndex(db, index_dir=folder).load()
    generation = other.publish()
    assert generation is not None
    with db.session() as s:  # and a change after it, which the swap must not lose
        services.set_bank_enabled(s, "loose", False)  # ("strict" is a csam bank: not switched off alone)
    assert running.adopt_current()
    assert running.generation == generation.name
    assert running.position == running.feed_head()
    assert_equals_oracle(running, db, centres, testdata)
    assert not running.adopt_current()  # already on it


def test_one_publisher_at_a_time(seeded: tuple[Database, list[str]], tmp_path: Path) -> None:
    db, _ = seeded
    folder = tmp_path / "index"
    index = BankIndex(db, index_dir=folder).load()
    with index_store.publisher_lock(folder, wait=False) as locked:
        assert locked
        assert index.publish(wait=False) is None
    assert index.publish(wait=False) is not None
    for _ in range(3):
        index.publish()
    assert len(list(folder.glob("gen-*"))) == index_store.KEEP_GENERATIONS


@pytest.mark.parametrize("problem", ["ahead_of_feed", "quality_floor", "damaged", "pointer"])
def test_an_untrusted_generation_is_ignored(
    seeded: tuple[Database, list[str]],
    testdata: Path,
    tmp_path: Path,
    problem: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db, centres = seeded
    folder = tmp_path / "index"
    generation = BankIndex(db, index_dir=folder).load().publish()
    assert generation is not None
    quality_floor = 50
    if problem == "ahead_of_feed":  # e.g. the database was restored from an older backup
        (generation.path / "manifest.json").write_text(
            (generation.path / "manifest.json")
            .read_text()
            .replace(f'"position": {generation.position}', f'"position": {generation.position + 1000}')
        )
    elif problem == "quality_floor":
        quality_floor = 60
    elif problem == "damaged":
        snap = generation.path / "pdq.snap"
        data = bytearray(snap.read_bytes())
        data[-100] ^= 0xFF
        snap.write_bytes(bytes(data))
    else:
        (folder / "CURRENT").write_text("{not json")
    with caplog.at_level(logging.WARNING):
        index = BankIndex(db, index_dir=folder, quality_floor=quality_floor).load()
    assert index.generation is None  # built from the database instead
    assert "generation_unusable" in caplog.text
    if quality_floor == 50:
        assert_equals_oracle(index, db, centres, testdata)


def _follow_from_generation(
    url: str,
    folder: str,
    target: str,
    ready: multiprocessing.synchronize.Event,
    out: multiprocessing.Queue[object],
) -> None:
    db = open_database(url, migrate=False)
    index = BankIndex(db, stale_after_s=5, index_dir=folder).load()
    out.put(index.generation)
    index.follow(interval_s=0.5, generation_check_s=0.5)
    query = FileSignals(path=None, size=0, pdq=PdqHash.from_hex(target, 90))
    assert index.match(query).hits
    ready.set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and index.match(query).hits:
        time.sleep(0.05)
    out.put(time.time())
    started_from = index.generation
    deadline = time.monotonic() + 30  # then wait for the generation published after the change
    while time.monotonic() < deadline and index.generation == started_from:
        time.sleep(0.1)
    out.put(index.generation)
    index.close()
    db.dispose()


def test_worker_started_from_a_generation_follows_another_process(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(23)
    target = pdq_like(rng)
    folder = tmp_path / "index"
    with db.session() as s:
        bank = services.create_bank(s, "b")
        entry, _ = services.add_entry(s, bank, SignalKind.PDQ, target)
        entry_id = entry.id
        services.record_changes(s, bank.id, BankChangeKind.BANK_CHANGED)
    first = BankIndex(db, index_dir=folder).load().publish()
    assert first is not None
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    out: multiprocessing.Queue[object] = context.Queue()
    worker = context.Process(
        target=_follow_from_generation, args=(database_url, str(folder), target, ready, out)
    )
    worker.start()
    try:
        assert out.get(timeout=60) == first.name  # started from the mapped generation
        assert ready.wait(60)
        with db.session() as s:
            services.set_entry_enabled(s, entry_id, False)
        disabled_at = time.time()
        seen_at = out.get(timeout=30)
        assert isinstance(seen_at, float) and seen_at - disabled_at < 10
        second = BankIndex(db, index_dir=folder).load().publish()
        assert second is not None
        assert out.get(timeout=40) == second.name  # swapped to the new generation by itself
    finally:
        worker.join(timeout=30)
        if worker.is_alive():
            worker.kill()
