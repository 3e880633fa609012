"""Batch handlers: several jobs of a kind run at once; the finished ones complete together, each
failure and deferral is recorded on its own job."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jobs_support import worker_config

from suraksha.db import Database
from suraksha.worker import HandlerRegistry, JobContext, JobState, PermanentFailure, Worker, enqueue
from suraksha.worker.handlers import Deferred
from suraksha.worker.listing import list_jobs


def test_batch_outcomes_are_recorded_per_job(jobs_db: Database) -> None:
    handlers = HandlerRegistry()
    batches: list[int] = []

    def single(ctx: JobContext) -> None:
        raise AssertionError("the batch form should have run")

    def batch(contexts: Sequence[JobContext]) -> Mapping[int, Exception | None]:
        batches.append(len(contexts))
        outcomes: dict[int, Exception | None] = {}
        for ctx in contexts:
            n = int(ctx.payload["n"])
            outcomes[ctx.job_id] = (
                PermanentFailure("bad input")
                if n == 3
                else Deferred("held", delay_s=3600)
                if n == 4
                else None
            )
        return outcomes

    handlers.register("thing", single, transactional=False)
    handlers.register_batch("thing", batch)
    with jobs_db.session() as s:
        for n in range(8):
            enqueue(s, "thing", {"n": n})
    worker = Worker(jobs_db.sessions, handlers, worker_id="w", config=worker_config(5.0))
    while worker.run_once():
        pass
    assert sum(batches) == 8 and len(batches) < 8
    assert worker.counters.processed == 6 and worker.counters.dead == 1 and worker.counters.deferred == 1
    with jobs_db.session() as s:
        states = {int(j.payload["n"]): (j.state, j.attempts) for j in list_jobs(s, limit=100)}
    assert states[3][0] == JobState.DEAD
    assert states[4] == (JobState.QUEUED, 0)  # deferred: no attempt spent
    assert {states[n][0] for n in (0, 1, 2, 5, 6, 7)} == {JobState.DONE}


def test_a_batch_that_raises_fails_every_job_in_it(jobs_db: Database) -> None:
    handlers = HandlerRegistry()
    handlers.register("thing", lambda ctx: None, transactional=False)

    def broken(contexts: Sequence[JobContext]) -> Mapping[int, Exception | None]:
        raise Deferred("index not ready", delay_s=3600)

    handlers.register_batch("thing", broken)
    with jobs_db.session() as s:
        for n in range(3):
            enqueue(s, "thing", {"n": n})
    worker = Worker(jobs_db.sessions, handlers, worker_id="w", config=worker_config(5.0))
    worker.run_once()
    assert worker.counters.deferred == 3 and worker.counters.processed == 0
    with jobs_db.session() as s:
        assert {(j.state, j.attempts) for j in list_jobs(s, limit=100)} == {(JobState.QUEUED, 0)}


def test_maintenance_purges_old_finished_jobs_only(jobs_db: Database) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from suraksha.db import utcnow
    from suraksha.worker.models import Job
    from suraksha.worker.policy import WorkerConfig

    handlers = HandlerRegistry()
    handlers.register("thing", lambda ctx: None, transactional=False)
    with jobs_db.session() as s:
        for n in range(4):
            enqueue(s, "thing", {"n": n}, key=f"thing:{n}")
    worker = Worker(jobs_db.sessions, handlers, worker_id="w", config=WorkerConfig(keep_done_s=3600.0))
    worker.run(until_drained=True)
    with jobs_db.session() as s:  # two of them finished long ago
        s.execute(
            update(Job)
            .where(Job.dedupe_key.in_(["thing:0", "thing:1"]))
            .values(finished_at=utcnow() - timedelta(days=2))
        )
    assert worker.maintain() == 2
    with jobs_db.session() as s:
        assert sorted(j.dedupe_key for j in list_jobs(s, limit=100)) == ["thing:2", "thing:3"]
    assert (
        Worker(jobs_db.sessions, handlers, worker_id="w2", config=WorkerConfig(keep_done_s=None)).maintain()
        == 0
    )
