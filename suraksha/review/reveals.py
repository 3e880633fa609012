"""Revealing media to a person, and what those reveals add up to: human views of files (the ground for
"viewed by the provider" in reports), exposure per reviewer, and display preferences.

Business rules applied by ``reveal``:
- Media of an item from a CSAM bank or in a ``csam`` case needs ``media:reveal_csam``; any other
  needs ``media:reveal``. A refusal raises Forbidden and is audited (``media:reveal_refused``).
- Only media of a review case the user may open is revealed (``services.check_may_open``: the claim,
  the escalation level, the decider): media never sent to review is revealed to nobody here. Refused
  and audited the same way.
- Each reviewer has a budget of reveals and of minutes of revealed media per UTC day per category
  (``review_exposure_budget``, ``review_exposure_minutes``); once either is spent, the reveal is
  refused with ExposureBudgetSpent (audited too) and the category is no longer served to them
  (``services.list_queue``). A reveal counts its minutes until ``end_reveal`` (at most an hour).
- Every reveal writes one HumanView (who, which file, when, EXIF or not) and one ``media:reveal``
  audit row, in one transaction.

Refusals are written into the session before the error is raised: commit it even when ``reveal``
raises (``reveal_media`` does), or the refusal goes unaudited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.access.models import ConsoleUser
from suraksha.banks.models import BankCategory
from suraksha.content.models import ItemMedia
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.errors import Forbidden, NotFound
from suraksha.permissions import has_permission
from suraksha.review.models import HumanView, ReviewCase, ReviewerPreference
from suraksha.review.services import (
    ExposureBudgetSpent,
    ReviewAudit,
    ReviewOptions,
    actor,
    check_may_open,
    day_start,
    matched_csam_bank,
    minutes_today,
    reveal_permission,
    revealed_seconds,
    reveals_today,
    roles,
    spent_reason,
)

log = logging.getLogger(__name__)


def media_category(session: Session, media: ItemMedia, case: ReviewCase | None) -> str:
    """The category a reveal counts against: ``csam`` when the item matched a CSAM bank or its case is
    a csam case (either is enough), else the case's category (empty without a case)."""
    if matched_csam_bank(session, media.item_id) or (case is not None and case.category == BankCategory.CSAM):
        return str(BankCategory.CSAM)
    return case.category if case is not None else ""


def _case_of(session: Session, media: ItemMedia, case_id: int | None) -> ReviewCase | None:
    if case_id is not None:
        case = session.get(ReviewCase, case_id)
        if case is None or case.item_id != media.item_id:
            raise NotFound(f"review case {case_id} does not exist or is not about media {media.id}")
        return case
    return session.scalar(
        select(ReviewCase).where(ReviewCase.item_id == media.item_id).order_by(ReviewCase.id.desc()).limit(1)
    )


def reveal(
    session: Session,
    media_id: int,
    user: ConsoleUser,
    options: ReviewOptions,
    *,
    case_id: int | None = None,
    exif: bool = False,
    now: datetime | None = None,
) -> HumanView:
    """Record that ``user`` is shown media ``media_id`` (and its EXIF when ``exif``); the rules are in
    the module docstring. Returns the HumanView; the caller serves the bytes only after this commits."""
    now = now or utcnow()
    media = session.get(ItemMedia, media_id)
    if media is None:
        raise NotFound(f"media {media_id} does not exist")
    case = _case_of(session, media, case_id)
    category = media_category(session, media, case)
    subject = f"media:{media.id}"
    permission = reveal_permission(category)
    if user.disabled_at is not None or not has_permission(roles(user), permission):
        audit.record(
            session,
            actor(user),
            ReviewAudit.REVEAL_REFUSED,
            subject,
            {"reason": "permission", "needs": permission},
        )
        raise Forbidden(f"{user.pseudonym} may not reveal {category or 'this'} media: it needs {permission}")
    if case is None:
        audit.record(session, actor(user), ReviewAudit.REVEAL_REFUSED, subject, {"reason": "no_case"})
        raise Forbidden(
            f"media {media.id} is not part of any review case: only media of a case you may work is revealed"
        )
    try:
        check_may_open(session, case, user, now=now)
    except Forbidden as refused:
        details = {"reason": "case_access", "case": case.id}
        audit.record(session, actor(user), ReviewAudit.REVEAL_REFUSED, subject, details)
        raise refused
    spent = spent_reason(session, user, category, options, now)
    if spent is not None:
        audit.record(
            session,
            actor(user),
            ReviewAudit.REVEAL_REFUSED,
            subject,
            {"reason": "exposure_budget", "limit": spent},
        )
        raise ExposureBudgetSpent(
            f"{user.pseudonym} has reached today's exposure budget for {category or 'uncategorised'} media "
            f"({spent}): take a break; this category is served to other reviewers until tomorrow (UTC)"
        )
    view = HumanView(
        user_id=user.id,
        media_id=media.id,
        item_id=media.item_id,
        case_id=case.id,
        category=category,
        exif_viewed=exif,
        viewed_at=now,
    )
    session.add(view)
    session.flush()
    audit.record(
        session,
        actor(user),
        audit.AuditAction.MEDIA_REVEAL,
        subject,
        {"item": media.item_id, "case": view.case_id, "category": category, "exif": exif, "view": view.id},
    )
    log.info("event=review.reveal view=%d media=%d category=%s", view.id, media.id, category)
    return view


def reveal_media(
    db: Database,
    media_id: int,
    user: ConsoleUser,
    options: ReviewOptions,
    *,
    case_id: int | None = None,
    exif: bool = False,
    now: datetime | None = None,
) -> HumanView:
    """``reveal`` in its own unit of work, committed whether or not the reveal is refused, so refusals
    are audited."""
    refused: Forbidden | None = None
    with db.session() as session:
        try:
            return reveal(session, media_id, user, options, case_id=case_id, exif=exif, now=now)
        except Forbidden as exc:
            refused = exc
    raise refused


def end_reveal(
    session: Session, view_id: int, user: ConsoleUser, *, now: datetime | None = None
) -> HumanView:
    """The media of a reveal was hidden again (blur back on, page left): record how long it was shown,
    for the minutes budget. Only the viewer ends their own reveal; a second call changes nothing."""
    view = session.get(HumanView, view_id)
    if view is None or view.user_id != user.id:
        raise NotFound(f"reveal {view_id} does not exist or is not {user.pseudonym}'s")
    if view.seconds is None:
        view.seconds = revealed_seconds(view.viewed_at, None, now or utcnow())
        session.flush()
    return view


def views_of_media(session: Session, media_id: int) -> list[HumanView]:
    """Every recorded human view of a file, oldest first: what "fileViewedByEsp" may rest on."""
    return list(
        session.scalars(select(HumanView).where(HumanView.media_id == media_id).order_by(HumanView.id))
    )


@dataclass(frozen=True)
class Exposure:
    user_id: int
    pseudonym: str
    category: str
    reveals: int
    budget: int | None
    """Reveals allowed a day; None: no budget for this category."""
    minutes: float = 0.0
    minutes_budget: int | None = None

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.reveals)


def exposure_summary(
    session: Session, options: ReviewOptions, *, user_id: int | None = None, now: datetime | None = None
) -> list[Exposure]:
    """Reveals today (UTC) per reviewer and category with the budget: shown to the reviewer (their own
    rows, ``user_id``) and to leads (everyone)."""
    now = now or utcnow()
    query = (
        select(HumanView.user_id, ConsoleUser.pseudonym, HumanView.category, func.count())
        .join(ConsoleUser, ConsoleUser.id == HumanView.user_id)
        .where(HumanView.viewed_at >= day_start(now))
        .group_by(HumanView.user_id, ConsoleUser.pseudonym, HumanView.category)
        .order_by(ConsoleUser.pseudonym, HumanView.category)
    )
    if user_id is not None:
        query = query.where(HumanView.user_id == user_id)
    result = []
    for uid, pseudonym, category, count in session.execute(query).all():
        minutes = minutes_today(session, int(uid), now).get(str(category), 0.0)
        result.append(
            Exposure(
                int(uid),
                str(pseudonym),
                str(category),
                int(count),
                options.budget_for(str(category)),
                round(minutes, 1),
                options.minutes_for(str(category)),
            )
        )
    return result


def exposure_of(
    session: Session, user: ConsoleUser, category: str, options: ReviewOptions, *, now: datetime | None = None
) -> Exposure:
    """One reviewer's exposure today in one category (zero reveals when none)."""
    now = now or utcnow()
    count = reveals_today(session, user.id, now).get(category, 0)
    minutes = minutes_today(session, user.id, now).get(category, 0.0)
    return Exposure(
        user.id,
        user.pseudonym,
        category,
        count,
        options.budget_for(category),
        round(minutes, 1),
        options.minutes_for(category),
    )


@dataclass(frozen=True)
class Display:
    blur: bool
    greyscale: bool


def display_for(session: Session, user: ConsoleUser, options: ReviewOptions) -> Display:
    """How media is shown to ``user``: their own choice where they made one, else the organisation's."""
    pref = session.get(ReviewerPreference, user.id)
    blur = pref.blur if pref is not None and pref.blur is not None else options.blur_default
    grey = pref.greyscale if pref is not None and pref.greyscale is not None else options.greyscale_default
    return Display(blur=blur, greyscale=grey)


def set_display(session: Session, user: ConsoleUser, *, blur: bool | None, greyscale: bool | None) -> None:
    """Set (or, with None, clear back to the organisation default) the user's display choices."""
    pref = session.get(ReviewerPreference, user.id)
    if pref is None:
        pref = ReviewerPreference(user_id=user.id)
        session.add(pref)
    pref.blur, pref.greyscale, pref.updated_at = blur, greyscale, utcnow()
    session.flush()
