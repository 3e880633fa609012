"""Where reports meet review: turning an approved review decision (with its recorded human views,
industry classifications and the "child at immediate risk" flag) into a ``ReportRequest``.

INTEGRATION POINT: the review area (suraksha/review) is being built alongside; until its
ReviewDecision and HumanView rows exist, ``request_from_review`` answers None (nothing to report) and
reports are prepared from enforcement decisions with explicit views (``prepare_report``, ``suraksha
report prepare``)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from suraksha.reporting.services import ReportRequest

log = logging.getLogger(__name__)


def request_from_review(session: Session, review_decision_id: int) -> ReportRequest | None:
    """The report request of an approved review decision that asks to report to the clearinghouse;
    None when it does not (or review decisions are not available in this build)."""
    log.warning(
        "event=report.prepare_unavailable review_decision=%d reason=review decisions not wired yet",
        review_decision_id,
    )
    return None
