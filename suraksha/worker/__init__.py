"""Database-backed job queue and worker: jobs are rows written in the same transaction as the state
that caused them (outbox), leased with a timeout, retried with backoff, dead-lettered with the reason.
PostgreSQL: ``FOR UPDATE SKIP LOCKED`` across many workers; SQLite: one writer at a time. No second
datastore."""

from suraksha.worker.handlers import HandlerRegistry, JobContext, PermanentFailure
from suraksha.worker.models import Job, JobState
from suraksha.worker.policy import RetryPolicy, WorkerConfig
from suraksha.worker.queue import (
    Lease,
    LeaseLost,
    complete,
    complete_batch,
    enqueue,
    extend,
    fail,
    lease,
    purge_done,
    release,
    retry,
    retry_dead,
)
from suraksha.worker.runner import Worker, WorkerCounters, run_worker

__all__ = [
    "HandlerRegistry",
    "Job",
    "JobContext",
    "JobState",
    "Lease",
    "LeaseLost",
    "PermanentFailure",
    "RetryPolicy",
    "Worker",
    "WorkerConfig",
    "WorkerCounters",
    "complete",
    "complete_batch",
    "enqueue",
    "extend",
    "fail",
    "lease",
    "purge_done",
    "release",
    "retry",
    "retry_dead",
    "run_worker",
]
