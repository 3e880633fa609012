"""The legal desk's scheduled job: warn about clocks (``legal.clocks``).

Every period a worker looks at every running clock of an open request and sends a warning the first
time a clock passes each of its warning shares (``warn_at`` in the jurisdiction file) and when it goes
overdue. Each warning is recorded (``legal_clock_alerts``) in the same transaction as its sending, so
it is sent once; one that could not be sent is rolled back and tried again next period.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.legal.clocks import ClockState, JurisdictionRules
from suraksha.legal.models import LegalClockAlert
from suraksha.legal.ports import ClockAlert, ClockAlerts
from suraksha.legal.services import due

CLOCKS = "legal.clocks"


def check_clocks(
    session: Session, rules: JurisdictionRules, alerts: ClockAlerts, *, now: datetime
) -> list[ClockAlert]:
    """Send every warning due at ``now`` that was not sent before; returns those sent."""
    sent: list[ClockAlert] = []
    for running in due(session, rules, now=now):
        clock, request = running.clock, running.request
        levels = [f"warn:{share:g}" for share in clock.warnings_passed]
        if clock.state is ClockState.OVERDUE:
            levels.append("overdue")
        for level in levels:
            known = session.scalar(
                select(LegalClockAlert.id).where(
                    LegalClockAlert.request_id == request.id,
                    LegalClockAlert.step == clock.rule.step.value,
                    LegalClockAlert.level == level,
                )
            )
            if known is not None:
                continue
            alert = ClockAlert(
                request_id=request.id,
                kind=request.kind,
                jurisdiction=request.jurisdiction,
                reference=request.reference,
                step=clock.rule.step.value,
                level=level,
                due_at=clock.due_at.isoformat(),
                remaining_s=int(clock.remaining.total_seconds()),
                source=clock.rule.source,
            )
            session.add(LegalClockAlert(request_id=request.id, step=alert.step, level=level, sent_at=now))
            session.flush()
            alerts.send(alert)
            sent.append(alert)
    return sent
