"""Per-flagger accuracy: the share of its decided notices that reviewers confirmed (a violation found in
at least one thing named) and the median time from receipt to decision. Notices where nothing named
could be found are not counted either way: they say nothing about the flagger's judgement.

``flagger_accuracy`` is what leads see (CLI, console) and, with ``overall_accuracy`` (every flagger's
notices together), what the statistics read (``suraksha.transparency.notices_appeals``, above this
area). ``check_status`` marks a flagger for a review of its
status when, over at least ``min_notices`` decided notices, its accuracy is below ``min_accuracy``
(settings ``flagger_accuracy_min_notices`` and ``flagger_min_accuracy``): an audit row and the mark on
the flagger, which a lead clears after the review (``suraksha flaggers clear-review``). DSA Art. 22(6):
a significant number of insufficiently precise or inadequately substantiated notices is a ground to
investigate the status.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.db.base import utcnow
from suraksha.flaggers.models import Flagger, FlaggerAudit, Notice, NoticeOutcome, NoticeState

SYSTEM = "system:flaggers"


@dataclass(frozen=True)
class AccuracyOptions:
    min_accuracy: float = 0.5
    min_notices: int = 20


@dataclass(frozen=True)
class FlaggerAccuracy:
    flagger: str
    organisation: str
    notices: int
    """Every notice received in the period."""
    decided: int
    """Settled with a reviewer's decision on at least one thing named (the denominator)."""
    confirmed: int
    not_found: int
    median_decision_s: float | None
    status_review: bool

    @property
    def accuracy(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None

    def as_dict(self) -> dict[str, object]:
        return {
            "flagger": self.flagger,
            "organisation": self.organisation,
            "notices": self.notices,
            "decided": self.decided,
            "confirmed": self.confirmed,
            "not_found": self.not_found,
            "accuracy": self.accuracy,
            "median_decision_s": self.median_decision_s,
            "status_review": self.status_review,
        }


def flagger_accuracy(
    session: Session,
    *,
    flagger_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[FlaggerAccuracy]:
    """Each flagger's figures over the notices received in [start, end) (all time by default)."""
    query = select(Flagger).order_by(Flagger.name)
    if flagger_id is not None:
        query = query.where(Flagger.id == flagger_id)
    return [
        _figures(
            flagger.name,
            flagger.organisation,
            _notices(session, start, end, flagger_id=flagger.id),
            status_review=flagger.status_review_at is not None,
        )
        for flagger in session.scalars(query)
    ]


_NoticeRow = Row[str, str | None, datetime, datetime | None]
"""A notice's state, outcome, receipt and decision."""

ALL_FLAGGERS = "all"
"""The ``flagger`` of ``overall_accuracy``'s figures."""


def overall_accuracy(
    session: Session, *, start: datetime | None = None, end: datetime | None = None
) -> FlaggerAccuracy:
    """The same figures over every flagger's notices received in [start, end) together (the median is
    over all their decided notices, not a median of the flaggers' medians)."""
    rows = _notices(session, start, end)
    return _figures(ALL_FLAGGERS, "", rows, status_review=False)


def _notices(
    session: Session, start: datetime | None, end: datetime | None, *, flagger_id: int | None = None
) -> Sequence[_NoticeRow]:
    query = select(Notice.state, Notice.outcome, Notice.received_at, Notice.decided_at)
    if flagger_id is not None:
        query = query.where(Notice.flagger_id == flagger_id)
    if start is not None:
        query = query.where(Notice.received_at >= start)
    if end is not None:
        query = query.where(Notice.received_at < end)
    return session.execute(query).all()


def _figures(
    name: str, organisation: str, rows: Sequence[_NoticeRow], *, status_review: bool
) -> FlaggerAccuracy:
    """The module docstring's rule: notices not found are neither confirmed nor not."""
    judged = [r for r in rows if r.state == NoticeState.DECIDED and r.outcome != NoticeOutcome.NOT_FOUND]
    waits = [(r.decided_at - r.received_at).total_seconds() for r in judged if r.decided_at is not None]
    return FlaggerAccuracy(
        flagger=name,
        organisation=organisation,
        notices=len(rows),
        decided=len(judged),
        confirmed=sum(1 for r in judged if r.outcome == NoticeOutcome.CONFIRMED),
        not_found=sum(1 for r in rows if r.outcome == NoticeOutcome.NOT_FOUND),
        median_decision_s=statistics.median(waits) if waits else None,
        status_review=status_review,
    )


def check_status(
    session: Session, flagger: Flagger, options: AccuracyOptions, *, now: datetime | None = None
) -> bool:
    """Mark ``flagger`` for a review of its status when its accuracy is below the level over enough
    decided notices (audited once per mark). Returns whether it was marked now."""
    if flagger.status_review_at is not None or options.min_accuracy <= 0:
        return False
    (figures,) = flagger_accuracy(session, flagger_id=flagger.id)
    accuracy = figures.accuracy
    if figures.decided < options.min_notices or accuracy is None or accuracy >= options.min_accuracy:
        return False
    flagger.status_review_at = now or utcnow()
    flagger.status_review_reason = (
        f"{figures.confirmed} of {figures.decided} decided notices confirmed ({accuracy:.0%}), below "
        f"{options.min_accuracy:.0%} (flagger_min_accuracy)"
    )
    audit.record(
        session,
        SYSTEM,
        FlaggerAudit.STATUS_REVIEW,
        f"flagger:{flagger.name}",
        {"decided": figures.decided, "confirmed": figures.confirmed, "min_accuracy": options.min_accuracy},
    )
    return True
