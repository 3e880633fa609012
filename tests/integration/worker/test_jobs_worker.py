"""The worker loop, in process, on real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from jobs_support import count_rows, deliveries, effects, enqueue_items, registry, worker_config
from sqlalchemy import insert

from suraksha.db import Database, utcnow
from suraksha.errors import InvalidInput
from suraksha.worker import (
    HandlerRegistry,
    JobContext,
    JobState,
    PermanentFailure,
    Worker,
    enqueue,
    lease,
    run_worker,
)
from suraksha.worker.listing import get_job, list_jobs
from suraksha.worker.queue import recover_expired


def drain(db: Database, handlers: HandlerRegistry) -> Worker:
    worker = Worker(db.sessions, handlers, worker_id="test-worker", config=worker_config(5.0))
    worker.run(until_drained=True)
    return worker


def test_effects_and_follow_up_jobs(jobs_db: Database) -> None:
    names = [f"item-{n}" for n in range(12)]
    enqueue_items(jobs_db, names)
    counters = run_worker(
        jobs_db,
        registry(jobs_db.engine, "w1"),
        worker_id="w1",
        config=worker_config(5.0),
        until_drained=True,
        install_signal_handlers=False,
    )
    assert counters.processed == 24 and counters.failed == 0
    assert count_rows(jobs_db.engine, effects) == (12, 12)
    assert count_rows(jobs_db.engine, deliveries) == (12, 12)
    with jobs_db.session() as s:
        assert {j.state for j in list_jobs(s, limit=100)} == {JobState.DONE}


def test_failures_retry_then_dead_letter_and_roll_back_the_attempt(jobs_db: Database) -> None:
    handlers = HandlerRegistry()
    calls: list[str] = []

    @handlers.register("flaky")
    def flaky(ctx: JobContext) -> None:
        ctx.session.execute(insert(effects).values(job_key="flaky", job_id=ctx.job_id, worker="w"))
        calls.append("flaky")
        if ctx.attempt < 3:
            raise ConnectionError(f"receiver down (attempt {ctx.attempt})")

    @handlers.register("broken")
    def broken(ctx: JobContext) -> None:
        calls.append("broken")
        raise PermanentFailure(f"account {ctx.payload['account_id']} no longer exists")

    with jobs_db.session() as s:
        flaky_id = enqueue(s, "flaky", {})
        broken_id = enqueue(s, "broken", {"account_id": 5})
    worker = drain(jobs_db, handlers)
    assert calls.count("flaky") == 3 and calls.count("broken") == 1
    assert (worker.counters.processed, worker.counters.failed, worker.counters.dead) == (1, 3, 1)
    assert count_rows(jobs_db.engine, effects) == (1, 1)  # the two failed attempts' writes rolled back
    with jobs_db.session() as s:
        done = get_job(s, flaky_id or 0)
        assert done.state == JobState.DONE and done.attempts == 3
        assert done.last_error == "ConnectionError: receiver down (attempt 2)"
        dead = get_job(s, broken_id or 0)
        assert dead.state == JobState.DEAD
        assert dead.last_error == "not retryable: PermanentFailure: account 5 no longer exists"


@pytest.mark.parametrize("transactional", [False, True])
def test_a_worker_whose_lease_was_taken_over_cannot_complete(jobs_db: Database, transactional: bool) -> None:
    if transactional and jobs_db.dialect == "sqlite":
        pytest.skip("on SQLite a transactional handler holds the only write lock: no one can take over")
    handlers = HandlerRegistry()
    taken: list[int] = []

    @handlers.register("slow", transactional=transactional)
    def slow(ctx: JobContext) -> None:
        if ctx.transaction is not None:
            ctx.session.execute(insert(effects).values(job_key="slow", job_id=ctx.job_id, worker="stale"))
        with jobs_db.session() as other:  # meanwhile the lease runs out and another worker takes over
            after_expiry = utcnow() + timedelta(seconds=10)  # the worker's lease is 5 s
            taken.extend(h.job_id for h in lease(other, "w2", lease_s=60, now=after_expiry))

    with jobs_db.session() as s:
        job_id = enqueue(s, "slow", {})
    worker = Worker(jobs_db.sessions, handlers, worker_id="w1", config=worker_config(5.0))
    assert worker.run_once() == 1
    assert taken == [job_id]
    assert worker.counters.lease_lost == 1 and worker.counters.processed == 0
    assert count_rows(jobs_db.engine, effects) == (0, 0)
    with jobs_db.session() as s:
        job = get_job(s, job_id or 0)
        assert job.state == JobState.LEASED and job.leased_by == "w2"


def test_stop_gives_back_the_jobs_not_started(jobs_db: Database) -> None:
    stop = threading.Event()
    handlers = HandlerRegistry()
    ran: list[int] = []

    @handlers.register("a")
    def handle(ctx: JobContext) -> None:
        ran.append(ctx.job_id)
        stop.set()

    with jobs_db.session() as s:
        for n in range(5):
            enqueue(s, "a", {"n": n})
    worker = Worker(jobs_db.sessions, handlers, worker_id="w", config=worker_config(5.0), stop_event=stop)
    worker.run()
    assert len(ran) == 1 and worker.counters.released == 4
    with jobs_db.session() as s:
        jobs = list_jobs(s)
        assert sorted(j.state for j in jobs) == ["done"] + ["queued"] * 4
        assert all(j.attempts == 0 for j in jobs if j.state == JobState.QUEUED)


def test_heartbeat_keeps_a_long_job(jobs_db: Database) -> None:
    handlers = HandlerRegistry()
    seen: list[int] = []

    @handlers.register("long", transactional=False)
    def long_job(ctx: JobContext) -> None:
        time.sleep(1.3)  # twice the lease
        with jobs_db.session() as s:
            recover_expired(s, policy=worker_config(0.6).retry)
            seen.append(len(lease(s, "w2")))

    with jobs_db.session() as s:
        enqueue(s, "long", {})
    worker = Worker(jobs_db.sessions, handlers, worker_id="w1", config=worker_config(0.6))
    worker.run(until_drained=True)
    assert seen == [0]
    assert worker.counters.processed == 1 and worker.counters.lease_lost == 0


def test_unknown_kinds_are_refused() -> None:
    handlers = HandlerRegistry({"a": lambda ctx: None})
    with pytest.raises(InvalidInput, match="no handler for job kind"):
        Worker(None, handlers, kinds=["a", "b"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="already registered"):
        handlers.register("a", lambda ctx: None)
