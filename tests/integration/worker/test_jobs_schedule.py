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
