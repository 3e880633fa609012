"""Why a report is not moving: what it waits for, in words a person can act on.

A report's state says where it is (``approved``); what holds it there lives on its submission job
(deferred for missing credentials or schema, backing off after NCMEC's errors, dead, or missing).
``waiting_for`` reads both, so every place a report is shown (``suraksha report list/show``, the
console's report pages, --json) says the same thing as ``suraksha jobs list``, and what to do next.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.db.base import utcnow
from suraksha.reporting.models import DONE_STATES, CyberTiplineReport, ReportState
from suraksha.worker.models import Job, JobState

SUBMIT = "report.submit"
"""The job kind that sends a report (``suraksha.reporting.services.SUBMIT``)."""


def _submission_job(session: Session, report_id: int) -> Job | None:
    """The report's latest submission job (keyed ``report.submit:<id>:...``)."""
    return session.scalar(
        select(Job)
        .where(Job.kind == SUBMIT, Job.dedupe_key.like(f"{SUBMIT}:{report_id}:%"))
        .order_by(Job.id.desc())
        .limit(1)
    )


def waiting_for(session: Session, report: CyberTiplineReport, *, now: datetime | None = None) -> str:
    """Why ``report`` is not moving, and what to do; empty when it is finished, or being worked on
    with nothing in its way."""
    now = now or utcnow()
    if report.state == ReportState.DRAFT:
        return f"a second person's approval (`suraksha report approve {report.id} --user EMAIL`)"
    if report.state == ReportState.FAILED:
        failure = report.failure or "NCMEC refused it"
        return f"a person: {failure}; fix it, then `suraksha report retry {report.id} --reason ...`"
    if report.state in DONE_STATES:
        return ""
    job = _submission_job(session, report.id)
    if job is None or job.state == JobState.DONE:
        return "a submission job: none is queued (`suraksha report resume` queues it; a worker sends it)"
    error = (job.last_error or "").strip()
    if job.state == JobState.DEAD:
        stopped = error or "no error recorded"
        return f"a person: its job {job.id} stopped ({stopped}); fix it, then `suraksha jobs retry {job.id}`"
    if error.startswith("deferred:"):
        return (
            f"{error.removeprefix('deferred:').strip()} (job {job.id} checks again at {_at(job.run_after)})"
        )
    if job.state == JobState.QUEUED and job.run_after > now:
        if error:
            return f"a retry at {_at(job.run_after)} after: {error} (job {job.id})"
        return f"the bundling window: it is sent at {_at(job.run_after)} (job {job.id})"
    if job.state == JobState.QUEUED:
        return f"a worker: job {job.id} is due (is `suraksha worker` or `suraksha serve` running?)"
    return ""


def _at(when: datetime) -> str:
    return when.isoformat(timespec="seconds")
