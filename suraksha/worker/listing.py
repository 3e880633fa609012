"""Read-only views of the queue for operators (``suraksha jobs``) and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha.db.base import utcnow
from suraksha.errors import InvalidInput, NotFound
from suraksha.worker.models import Job, JobState


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job with id {job_id}; `suraksha jobs list` shows the jobs")
    return job


def list_jobs(
    session: Session, *, state: JobState | None = None, kind: str | None = None, limit: int = 100
) -> list[Job]:
    """Newest first."""
    if limit < 1:
        raise InvalidInput(f"limit {limit} must be at least 1")
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Job.state == state)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query))


@dataclass(frozen=True)
class QueueStats:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    """kind -> state -> number of jobs."""
    due: int = 0
    """Queued jobs whose time has come, waiting for a worker."""
    oldest_due_job: int | None = None
    oldest_due_age_s: float | None = None
    """How long the longest-waiting due job has waited: the queue's lag."""
    expired_leases: int = 0
    """Leased jobs whose worker stopped heartbeating (died or hung): recovered at the next lease."""

    def as_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts,
            "due": self.due,
            "oldest_due_job": self.oldest_due_job,
            "oldest_due_age_s": self.oldest_due_age_s,
            "expired_leases": self.expired_leases,
        }


def queue_stats(session: Session, *, now: datetime | None = None) -> QueueStats:
    now = now or utcnow()
    counts: dict[str, dict[str, int]] = {}
    for kind, state, count in session.execute(
        select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state).order_by(Job.kind, Job.state)
    ):
        counts.setdefault(kind, {})[state] = count
    due_filter = (Job.state == JobState.QUEUED, Job.run_after <= now)
    due = session.scalar(select(func.count()).select_from(Job).where(*due_filter)) or 0
    oldest = session.execute(
        select(Job.id, Job.run_after).where(*due_filter).order_by(Job.run_after, Job.id).limit(1)
    ).first()
    expired = session.scalar(
        select(func.count()).select_from(Job).where(Job.state == JobState.LEASED, Job.lease_expires_at <= now)
    )
    return QueueStats(
        counts=counts,
        due=due,
        oldest_due_job=oldest.id if oldest else None,
        oldest_due_age_s=round((now - oldest.run_after).total_seconds(), 3) if oldest else None,
        expired_leases=expired or 0,
    )
