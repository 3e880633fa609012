"""The figures a lead's dashboard shows: queue sizes and SLA clocks, the approval backlog, decisions per
hour (automated against human) and reviewers' exposure today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha.db.base import utcnow
from suraksha.enforcement.models import DecidedBy, Decision
from suraksha.review.models import ApprovalState, ReviewDecision
from suraksha.review.reveals import Exposure, exposure_summary
from suraksha.review.services import QueueCount, ReviewOptions, queue_summary

MAX_HOURS = 24 * 7


@dataclass(frozen=True)
class HourCount:
    hour: datetime
    """Start of the hour (UTC)."""
    automated: int
    human: int


@dataclass(frozen=True)
class Dashboard:
    queues: list[QueueCount]
    awaiting_approval: int
    decisions_per_hour: list[HourCount]
    exposure: list[Exposure]

    @property
    def oldest_detected_at(self) -> datetime | None:
        times = [q.oldest_detected_at for q in self.queues if q.oldest_detected_at is not None]
        return min(times) if times else None


def decisions_per_hour(session: Session, *, hours: int = 24, now: datetime | None = None) -> list[HourCount]:
    """Decisions recorded in each of the last ``hours`` whole hours plus the current one, oldest
    first, split by who decided: the policy (automated, including routing an item to review) or a
    reviewer (human). One indexed count per hour: portable, and bounded whatever the
    volume."""
    now = now or utcnow()
    current = now.replace(minute=0, second=0, microsecond=0)
    hours = max(1, min(hours, MAX_HOURS))
    result = []
    for back in range(hours, -1, -1):
        start = current - timedelta(hours=back)
        rows = session.execute(
            select(Decision.decided_by, func.count())
            .where(Decision.created_at >= start, Decision.created_at < start + timedelta(hours=1))
            .group_by(Decision.decided_by)
        ).all()
        counts = {str(by): int(n) for by, n in rows}
        result.append(HourCount(start, counts.get(DecidedBy.POLICY, 0), counts.get(DecidedBy.REVIEWER, 0)))
    return result


def dashboard(
    session: Session, options: ReviewOptions, *, hours: int = 24, now: datetime | None = None
) -> Dashboard:
    """Every dashboard figure in one read."""
    now = now or utcnow()
    awaiting = session.scalar(
        select(func.count()).where(ReviewDecision.approval_state == ApprovalState.PENDING)
    )
    return Dashboard(
        queues=queue_summary(session),
        awaiting_approval=int(awaiting or 0),
        decisions_per_hour=decisions_per_hour(session, hours=hours, now=now),
        exposure=exposure_summary(session, options, now=now),
    )
