"""The ``jobs`` table: the outbox and work queue in one, in the same database as everything else.

A job row is written in the same transaction as the state change that caused it, so a job exists if
and only if its cause committed (no second datastore, nothing lost between two systems).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, UTCDateTime, utcnow

KIND_MAX = 100
KEY_MAX = 200
WORKER_ID_MAX = 200


class JobState(StrEnum):
    QUEUED = "queued"
    """Waiting to run at or after ``run_after`` (new, backing off after a failure, or released)."""
    LEASED = "leased"
    """A worker holds it until ``lease_expires_at``; past that any worker may take it over."""
    DONE = "done"
    DEAD = "dead"
    """Out of attempts, or failed with an error that retrying cannot fix: ``last_error`` says why.
    Nothing runs it again until an operator retries it (``suraksha jobs retry``)."""


class Job(Base):
    """One unit of work. ``payload`` carries ids, never content: the handler reads current state.

    ``priority``: lower runs first (0 is the default; use negative numbers for urgent work), so the
    dequeue index is a plain ascending one on every backend.
    ``max_attempts``: None means the worker's configured default, so the setting applies to jobs
    already queued.
    ``dedupe_key``: unique when set; enqueueing a job whose key exists is a no-op for as long as the
    row exists (done jobs are kept until ``purge_done``).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        # The dequeue query: state = 'queued' AND run_after <= now ORDER BY priority, run_after, id.
        Index("ix_jobs_dequeue", "state", "priority", "run_after", "id"),
        # Crash recovery: state = 'leased' AND lease_expires_at <= now.
        Index("ix_jobs_lease_expiry", "state", "lease_expires_at"),
        # Operators: list and count by kind.
        Index("ix_jobs_kind_state", "kind", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Leases taken so far: a worker that dies mid-job has used an attempt too."""
    max_attempts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    leased_by: Mapped[str | None] = mapped_column(String(WORKER_ID_MAX), nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(KEY_MAX), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
