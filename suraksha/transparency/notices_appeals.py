"""Trusted flaggers' notices and users' appeals for a period: the figures the statistics show beside
``Statistics`` (``suraksha stats``, ``GET /api/v1/stats``, the console's statistics page) and the
regulators' templates read (DSA Art. 15(1)(b) and (d), 22, 24(1)).

Like the legal desk's figures in ``suraksha.transparency.measures``, these are counted from the raw
records each time they are asked for (the ``flagger_notices`` and ``appeals`` tables): they are **not
rolled up** (``suraksha.transparency.rollup`` knows nothing of them), and ``Statistics`` keeps its own
meaning. The period is half-open, ``[start, end)`` in UTC. Definitions (docs/transparency.md says them
in words):

- **notices** from trusted flaggers, by the notice's receipt: notices **received** in the period; of
  those, **decided** (settled with a reviewer's decision on at least one thing named: the accuracy's
  denominator), **confirmed** (a violation found in at least one), **not found** (nothing named could
  be found: counted neither way), the **accuracy** (confirmed / decided) and the **median** time from
  receipt to decision over the decided ones (the mean of the middle two for an even count). A notice
  received in the period and decided later counts as decided once it is: a period's notice figures
  grow until its last notice is settled. Overall (every flagger's notices together) and per flagger:
  both are ``suraksha.flaggers.accuracy``'s figures, whose rule this module does not repeat.
- **appeals**, each counted in the period of its own event: **lodged** (``received_at`` in the
  period); **decided** (``decided_at`` in the period: the outcome took effect, after the second
  person's approval where one was needed), of which **upheld** and **reversed**; the **median** time
  from lodging to decision over those decided in the period (the mean of the middle two for an even
  count). An appeal waiting for a second person is not decided.
- **reversal rates** of the appeals decided in the period, by the policy that decided, the tool that
  detected, and each bank, rule and classifier: ``suraksha.appeals.rates.reversal_rates``; ``flagged``
  is the often-wrong mark as it stands now, not as it stood in the period.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from suraksha.appeals.models import DECIDED_STATES, Appeal, AppealState
from suraksha.appeals.rates import ReversalRate, reversal_rates
from suraksha.flaggers.accuracy import ALL_FLAGGERS, FlaggerAccuracy, flagger_accuracy, overall_accuracy
from suraksha.transparency.tally import Period


@dataclass(frozen=True)
class NoticeFigures:
    """Notices from trusted flaggers received in the period (module docstring)."""

    received: int
    decided: int
    confirmed: int
    not_found: int
    median_decision_s: float | None

    @classmethod
    def of(cls, figures: FlaggerAccuracy) -> NoticeFigures:
        return cls(
            figures.notices, figures.decided, figures.confirmed, figures.not_found, figures.median_decision_s
        )

    @property
    def accuracy(self) -> float | None:
        return round(self.confirmed / self.decided, 4) if self.decided else None

    def as_dict(self) -> dict[str, object]:
        return {
            "received": self.received,
            "decided": self.decided,
            "confirmed": self.confirmed,
            "not_found": self.not_found,
            "accuracy": self.accuracy,
            "median_decision_s": self.median_decision_s,
        }


@dataclass(frozen=True)
class AppealFigures:
    """Appeals lodged and decided in the period (module docstring)."""

    lodged: int
    decided: int
    upheld: int
    reversed: int
    median_decision_s: float | None

    @property
    def reversal_rate(self) -> float | None:
        return round(self.reversed / self.decided, 4) if self.decided else None

    def as_dict(self) -> dict[str, object]:
        return {
            "lodged": self.lodged,
            "decided": self.decided,
            "upheld": self.upheld,
            "reversed": self.reversed,
            "reversal_rate": self.reversal_rate,
            "median_decision_s": self.median_decision_s,
        }


@dataclass(frozen=True)
class NoticesAndAppeals:
    """Every figure of the module docstring for one period."""

    period: Period
    notices: NoticeFigures
    by_flagger: list[FlaggerAccuracy]
    """Every registered flagger, with 0 where it sent nothing in the period."""
    appeals: AppealFigures
    reversal_rates: list[ReversalRate]

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """The two keys ``GET /api/v1/stats`` and ``suraksha stats --json`` add: ``notices`` (with
        ``by_flagger``) and ``appeals`` (with ``reversal_rates``)."""
        return {
            "notices": {**self.notices.as_dict(), "by_flagger": [f.as_dict() for f in self.by_flagger]},
            "appeals": {
                **self.appeals.as_dict(),
                "reversal_rates": [r.as_dict() for r in self.reversal_rates],
            },
        }

    def flagger_rows(self) -> list[dict[str, object]]:
        """Flat rows (``suraksha stats --csv --table flaggers``): every flagger's notices together
        (flagger ``all``), then each flagger."""
        head = {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}
        n = self.notices
        rows: list[dict[str, object]] = [
            {**head, "flagger": ALL_FLAGGERS, "organisation": "", "notices": n.received, "decided": n.decided,
             "confirmed": n.confirmed, "not_found": n.not_found, "accuracy": n.accuracy,
             "median_decision_s": n.median_decision_s, "status_review": None}
        ]  # fmt: skip
        for f in self.by_flagger:
            accuracy = None if f.accuracy is None else round(f.accuracy, 4)
            rows.append({**head, **f.as_dict(), "accuracy": accuracy})
        return rows

    def appeal_rows(self) -> list[dict[str, object]]:
        """Flat rows (``suraksha stats --csv --table appeals``): every appeal (dimension ``all``), then
        each reversal rate; a rate's ``decided`` is its appealed decisions decided in the period."""
        head = {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}
        a = self.appeals
        rows: list[dict[str, object]] = [
            {**head, "dimension": "all", "key": "", "lodged": a.lodged, "decided": a.decided,
             "upheld": a.upheld, "reversed": a.reversed, "rate": a.reversal_rate,
             "median_decision_s": a.median_decision_s, "flagged": None}
        ]  # fmt: skip
        for r in self.reversal_rates:
            rows.append(
                {**head, "dimension": r.dimension, "key": r.key, "lodged": None, "decided": r.appealed,
                 "upheld": r.appealed - r.reversed, "reversed": r.reversed, "rate": round(r.rate, 4),
                 "median_decision_s": None, "flagged": r.flagged}
            )  # fmt: skip
        return rows


def notice_figures(session: Session, period: Period) -> NoticeFigures:
    return NoticeFigures.of(overall_accuracy(session, start=period.start, end=period.end))


def appeal_figures(session: Session, period: Period) -> AppealFigures:
    start, end = period.start, period.end
    rows = session.execute(
        select(Appeal.state, Appeal.received_at, Appeal.decided_at).where(
            or_(
                and_(Appeal.received_at >= start, Appeal.received_at < end),
                and_(Appeal.decided_at >= start, Appeal.decided_at < end),
            )
        )
    ).all()
    lodged = sum(1 for r in rows if start <= r.received_at < end)
    decided = [
        r
        for r in rows
        if r.state in DECIDED_STATES and r.decided_at is not None and start <= r.decided_at < end
    ]
    waits = [max(0.0, (r.decided_at - r.received_at).total_seconds()) for r in decided]
    return AppealFigures(
        lodged=lodged,
        decided=len(decided),
        upheld=sum(1 for r in decided if r.state == AppealState.UPHELD),
        reversed=sum(1 for r in decided if r.state == AppealState.REVERSED),
        median_decision_s=statistics.median(waits) if waits else None,
    )


def notices_and_appeals(session: Session, period: Period) -> NoticesAndAppeals:
    """Every figure of the module docstring for ``period``, from the raw records."""
    return NoticesAndAppeals(
        period=period,
        notices=notice_figures(session, period),
        by_flagger=flagger_accuracy(session, start=period.start, end=period.end),
        appeals=appeal_figures(session, period),
        reversal_rates=reversal_rates(session, start=period.start, end=period.end),
    )
