"""Real worker processes: killed with SIGKILL at random points, stopped with SIGTERM, and several at
once on PostgreSQL. Every item is processed, and no effect happens twice (no duplicate row, no second
webhook delivery id for an item)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from jobs_support import count_rows, deliveries, effects, enqueue_items
from sqlalchemy import Engine, create_engine, select

from suraksha.db import Database
from suraksha.worker import Job, JobState

SCRIPT = Path(__file__).with_name("jobs_support.py")


class Workers:
    """Starts worker processes, logs each to a file, and never leaves one running."""

    def __init__(self, url: str, logs: Path) -> None:
        self.url, self.logs, self.procs = url, logs, list[subprocess.Popen[bytes]]()

    def start(self, worker_id: str, *options: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{worker_id}.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, str(SCRIPT), self.url, worker_id, *options], stdout=log, stderr=log
            )
        self.procs.append(proc)
        return proc

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()}" for p in sorted(self.logs.glob("*.log")))

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Workers]:
    running = Workers(database_url, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{workers.output()}")
        time.sleep(0.02)


@pytest.fixture
def reader(database_url: str) -> Iterator[Engine]:
    """Reads without the application's BEGIN IMMEDIATE, so on SQLite it never waits for the worker's
    write lock (WAL readers see the last commit) and sees progress while the worker runs."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def more_effects_than(reader: Engine, count: int) -> Callable[[], bool]:
    return lambda: count_rows(reader, effects)[0] > count


def assert_exactly_once(db: Database, names: list[str]) -> list[Job]:
    with db.session() as s:
        jobs = list(s.scalars(select(Job)))
        rows = s.execute(select(deliveries.c.item, deliveries.c.delivery_id))
        seen = {(r.item, r.delivery_id) for r in rows}
    assert sorted((j.kind, j.state) for j in jobs) == sorted(
        [("test.effect", JobState.DONE)] * len(names) + [("test.webhook", JobState.DONE)] * len(names)
    )
    assert count_rows(db.engine, effects) == (len(names), len(names))  # every item's effect, none twice
    # A webhook may be re-sent after a crash, but only ever under the item's one delivery id.
    assert seen == {(name, f"webhook:{name}") for name in names}
    return jobs


def test_kill_9_at_random_points_then_restart(jobs_db: Database, workers: Workers, reader: Engine) -> None:
    rng = random.Random(20261124)
    names = [f"item-{n:03d}" for n in range(125)]
    for cycle, start in enumerate(range(0, len(names), 25)):
        enqueue_items(jobs_db, names[start : start + 25])  # the stream goes on while workers die
        progressed = more_effects_than(reader, count_rows(reader, effects)[0])
        proc = workers.start(f"killed-{cycle}", "--lease-s", "1", "--pause-s", "0.02")
        wait_for(progressed, 30, "the worker to make progress", workers)
        time.sleep(rng.uniform(0, 0.2))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    survivor = workers.start("survivor", "--lease-s", "1", "--until-drained")
    assert survivor.wait(timeout=60) == 0, workers.output()
    jobs = assert_exactly_once(jobs_db, names)
    assert any(j.attempts > 1 for j in jobs), "no kill interrupted a job: the test proved nothing"


def test_sigterm_finishes_the_job_in_hand_and_gives_back_the_rest(
    jobs_db: Database, workers: Workers, reader: Engine
) -> None:
    names = [f"item-{n:03d}" for n in range(30)]
    enqueue_items(jobs_db, names)
    proc = workers.start("graceful", "--lease-s", "30", "--pause-s", "0.05")
    wait_for(more_effects_than(reader, 0), 30, "the worker to make progress", workers)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0, workers.output()
    with jobs_db.session() as s:
        jobs = list(s.scalars(select(Job)))
    assert not [j for j in jobs if j.state == JobState.LEASED]  # nothing waits 30 s for a lease to expire
    assert all(j.attempts == 0 for j in jobs if j.state == JobState.QUEUED)
    assert count_rows(jobs_db.engine, effects)[0] == sum(
        1 for j in jobs if j.kind == "test.effect" and j.state == JobState.DONE
    )


def test_several_workers_on_postgresql(jobs_db: Database, workers: Workers) -> None:
    if jobs_db.dialect != "postgresql":
        pytest.skip("several worker processes at once is the PostgreSQL deployment")
    names = [f"item-{n:03d}" for n in range(300)]
    enqueue_items(jobs_db, names)
    procs = [workers.start(f"pg-{n}", "--lease-s", "2", "--until-drained") for n in range(3)]
    for proc in procs:
        assert proc.wait(timeout=60) == 0, workers.output()
    assert_exactly_once(jobs_db, names)
    with jobs_db.session() as s:
        shared_by = set(s.scalars(select(effects.c.worker).distinct()))
    assert len(shared_by) >= 2, f"one worker did everything ({shared_by}): no concurrency was tested"
