"""Where reports meet review: turning a review decision to report (with its recorded human views,
industry classification and the "child at immediate risk" flag) into a ``ReportRequest``.

The review area (``suraksha.review.decisions``) queues ``report.prepare {"review_decision_id": id}``
when such a decision may be carried out: at once when its category needs no second approval, else
when a second person approves it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.access.models import ConsoleUser
from suraksha.content.models import ItemMedia
from suraksha.reporting.models import IncidentType, ReportAnnotation
from suraksha.reporting.services import RecordedView, ReportRequest
from suraksha.review.models import (
    ApprovalState,
    HumanView,
    IndustryClassification,
    ReviewDecision,
    ViolationCategory,
)

log = logging.getLogger(__name__)

IMMEDIATE_RISK = "A reviewer flagged a child at immediate risk."


def request_from_review(session: Session, review_decision_id: int) -> ReportRequest | None:
    """The report request of a review decision that asks to report to the clearinghouse and may be
    carried out (approved, or needing no approval); None otherwise (logged).

    - ``views``: every recorded human view (reveal) of the item's files, by anyone, named by
      pseudonym: the only ground for "viewed by the provider".
    - ``classifications``: the reviewer's industry classification, for the files that reviewer
      revealed (a classification comes only from someone who saw the file).
    - ``escalate_reason``: only when the reviewer flagged a child at immediate risk.
    - ``approved_by``: the second approver; where the category needs none, the deciding reviewer (the
      review decision is then the approval).
    """
    review_decision = session.get(ReviewDecision, review_decision_id)
    if review_decision is None:
        log.warning("event=report.prepare_skipped review_decision=%d reason=not found", review_decision_id)
        return None
    if not review_decision.report_to_clearinghouse or review_decision.decision_id is None:
        log.info("event=report.prepare_skipped review_decision=%d reason=no report asked", review_decision_id)
        return None
    if review_decision.approval_state == ApprovalState.APPROVED:
        approved_by: tuple[str, ...] = (review_decision.approver_ref,)
    elif review_decision.approval_state == ApprovalState.NOT_NEEDED:
        approved_by = (review_decision.reviewer_ref,)
    else:
        log.info(
            "event=report.prepare_skipped review_decision=%d reason=%s",
            review_decision_id,
            review_decision.approval_state,
        )
        return None
    rows = _human_views(session, [review_decision.item_id])
    views = _recorded(rows)
    classifications: dict[int, IndustryClassification] = {}
    if review_decision.industry_classification:
        classification = IndustryClassification(review_decision.industry_classification)
        for view, _pseudonym in rows:
            if view.user_id == review_decision.reviewer_id:
                classifications[view.media_id] = classification
    annotations = (
        frozenset({ReportAnnotation.CSAM_SOLICITATION})
        if review_decision.violation == ViolationCategory.SALE_OR_SOLICITATION
        else frozenset()
    )
    return ReportRequest(
        decision_ids=(review_decision.decision_id,),
        views=views,
        classifications=classifications,
        incident_type=IncidentType.CHILD_PORNOGRAPHY,
        escalate_reason=IMMEDIATE_RISK if review_decision.child_at_immediate_risk else "",
        annotations=annotations,
        review_decision_id=review_decision.id,
        approved_by=approved_by,
    )


def _human_views(session: Session, item_ids: Sequence[int]) -> list[tuple[HumanView, str]]:
    rows = session.execute(
        select(HumanView, ConsoleUser.pseudonym)
        .join(ConsoleUser, ConsoleUser.id == HumanView.user_id)
        .join(ItemMedia, ItemMedia.id == HumanView.media_id)
        .where(ItemMedia.item_id.in_(list(item_ids)))
        .order_by(HumanView.id)
    ).all()
    return [(view, pseudonym) for view, pseudonym in rows]


def recorded_views(session: Session, item_ids: Sequence[int]) -> tuple[RecordedView, ...]:
    """Every stored human view (a reveal in the review console) of the items' files, named by the
    viewer's pseudonym: the only ground on which a report says a file was viewed."""
    return _recorded(_human_views(session, item_ids))


def _recorded(rows: Sequence[tuple[HumanView, str]]) -> tuple[RecordedView, ...]:
    return tuple(
        RecordedView(
            media_id=view.media_id,
            viewer=pseudonym,
            at=view.viewed_at,
            exif=view.exif_viewed,
            ref=f"human_view:{view.id}",
        )
        for view, pseudonym in rows
    )
