"""Scheduled kinds (``HandlerRegistry.schedule``): one job per period, however many workers try."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from suraksha.db import Database
from suraksha.errors import InvalidInput
from suraksha.worker.handlers import HandlerRegistry, JobContext
from suraksha.worker.models import Job
from suraksha.worker.runner import Worker


def registry(every_s: float = 60.0) -> HandlerRegistry:
    handlers = HandlerRegistry()

    @handlers.register("tick")
    def tick(_ctx: JobContext) -> None:
        pass

    handlers.schedule("tick", every_s)
    return handlers


def test_workers_queue_one_job_per_period_between_them(db: Database) -> None:
    workers = [Worker(db.sessions, registry(), worker_id=f"w{n}") for n in range(3)]
    queued = [worker.queue_scheduled(now=600.0) for worker in workers]
    assert queued == [1, 0, 0]
    assert [w.queue_scheduled(now=659.0) for w in workers] == [0, 0, 0]  # the same period
    assert sum(w.queue_scheduled(now=661.0) for w in workers) == 1  # the next one
    with db.reading() as session:
        jobs = session.execute(select(Job.kind, Job.dedupe_key).order_by(Job.id)).all()
    assert jobs == [("tick", "schedule:tick:10"), ("tick", "schedule:tick:11")]


def test_a_schedule_needs_a_registered_kind_and_a_period() -> None:
    handlers = HandlerRegistry()
    with pytest.raises(InvalidInput, match="no handler"):
        handlers.schedule("tick", 60)
    with pytest.raises(InvalidInput, match="must be positive"):
        registry(every_s=0)


def test_a_worker_not_running_the_kind_does_not_queue_it(db: Database) -> None:
    handlers = registry()
    handlers.register("other", lambda _ctx: None)
    assert Worker(db.sessions, handlers, kinds=["other"]).queue_scheduled(now=600.0) == 0


def test_a_failing_scheduled_job_does_not_keep_a_drain_from_ending(db: Database) -> None:
    """Housekeeping recurs by design: one failing and waiting for its retry must not hold up
    ``worker --drain`` (nor the demo), which waits for the real work only."""
    import threading

    from suraksha.worker.policy import WorkerConfig
    from suraksha.worker.queue import enqueue
    from suraksha.worker.runner import run_worker

    handlers = HandlerRegistry()
    done: list[int] = []

    @handlers.register("tick")
    def tick(_ctx: JobContext) -> None:
        raise RuntimeError("the checkpoint file is not writable")

    @handlers.register("work")
    def work(ctx: JobContext) -> None:
        done.append(ctx.job_id)

    handlers.schedule("tick", 60.0)
    with db.session() as session:
        enqueue(session, "work", {})
    stop = threading.Event()
    timer = threading.Timer(20, stop.set)
    timer.start()
    try:
        run_worker(db, handlers, config=WorkerConfig(poll_interval_s=0.05), until_drained=True,
                   install_signal_handlers=False, stop_event=stop)  # fmt: skip
    finally:
        timer.cancel()
    assert done and not stop.is_set()  # drained by itself, not stopped by the timer
    with db.reading() as session:
        tick_job = session.scalar(select(Job).where(Job.kind == "tick"))
    assert tick_job is not None and tick_job.state == "queued"  # waiting for its retry
