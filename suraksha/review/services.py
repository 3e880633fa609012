"""Review queues and claims: what waits for whom, and who holds which case.

Business rules:
- A case is served to (listed for, claimable by) a reviewer only when they may reveal its media (a
  ``csam`` case needs ``media:reveal_csam``), their exposure budget for its category is not spent
  today, and it is open or its claim has expired. Escalated cases are served only to people holding
  ``decision:approve`` (leads).
- A claim lasts ``review_claim_minutes``; it is taken with one guarded UPDATE, so of two reviewers
  claiming the same case at once exactly one wins, on SQLite and PostgreSQL alike.
- Only the holder of an unexpired claim decides (``suraksha.review.decisions``); the holder or a lead
  releases; a lead reassigns; the holder escalates to a lead.
- A case (its page, the reveal of its media) is opened under the same rules (``check_may_open``): only
  by someone who may reveal its media (csam by its category or by any match of its item in a csam
  bank); an escalated case only by leads; a case another reviewer holds an unexpired claim on only by
  that reviewer and leads; a decided case (or one awaiting approval) only by its decider and leads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.access.models import ConsoleUser
from suraksha.banks.models import BankCategory
from suraksha.content.models import ItemMatch
from suraksha.db.base import utcnow
from suraksha.errors import ConfigError, Conflict, Forbidden, InvalidInput, NotFound
from suraksha.permissions import Permission, has_permission
from suraksha.review.models import OPEN_STATES, CaseState, HumanView, ReviewCase, ReviewDecision
from suraksha.settings import Settings

log = logging.getLogger(__name__)

ANY = "*"
DEFAULT_SLA_HOURS = 24
MAX_REVEAL_S = 3600
"""A reveal never ended (``end_reveal``) counts for the time since, at most this long."""
MAX_PAGE = 500


class ReviewAudit:
    """Audit actions of this area (``area:action``) besides the shared ``media:reveal`` and
    ``decision:record``."""

    CLAIM = "review:claim"
    RELEASE = "review:release"
    REASSIGN = "review:reassign"
    ESCALATE = "review:escalate"
    REVEAL_REFUSED = "media:reveal_refused"
    APPROVE = "decision:approve"
    REJECT = "decision:reject"


class ExposureBudgetSpent(Forbidden):
    """The reviewer has revealed as much media of this category today as the budget allows: take a
    break; the category is not served to them again until the next UTC day."""


@dataclass(frozen=True)
class ReviewOptions:
    """What review takes from settings."""

    claim_minutes: int = 15
    exposure_budget: Mapping[str, int] | None = None
    """Reveals per reviewer per UTC day, per category (``*`` for the rest); None: unlimited."""
    exposure_minutes: Mapping[str, int] | None = None
    """Minutes of revealed media per reviewer per UTC day, per category; None: unlimited."""
    four_eyes: frozenset[str] = frozenset({ANY})
    allow_list_bank: str = "false-positives"
    blur_default: bool = True
    greyscale_default: bool = True
    sla_hours: Mapping[str, int] | None = None
    """Hours from detection to decide a case in, per category (``*`` for the rest); None: 24."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ReviewOptions:
        return cls(
            claim_minutes=int(settings.review_claim_minutes),
            exposure_budget=parse_budget(settings.review_exposure_budget),
            exposure_minutes=parse_budget(settings.review_exposure_minutes, "review_exposure_minutes"),
            four_eyes=frozenset(str(settings.review_four_eyes or "").split()),
            allow_list_bank=str(settings.review_allow_list_bank),
            blur_default=bool(settings.review_blur_default),
            greyscale_default=bool(settings.review_greyscale_default),
            sla_hours=parse_budget(settings.review_sla_hours, "review_sla_hours"),
        )

    def due_at(self, category: str, detected_at: datetime) -> datetime:
        """When a case of ``category`` detected at ``detected_at`` should be decided by (the SLA runs
        from detection: ``review_sla_hours``)."""
        hours = (self.sla_hours or {}).get(category, (self.sla_hours or {}).get(ANY, DEFAULT_SLA_HOURS))
        return detected_at + timedelta(hours=hours)

    def budget_for(self, category: str) -> int | None:
        """Reveals a day allowed in ``category`` (None: no limit)."""
        if self.exposure_budget is None:
            return None
        return self.exposure_budget.get(category, self.exposure_budget.get(ANY))

    def minutes_for(self, category: str) -> int | None:
        """Minutes of revealed media a day allowed in ``category`` (None: no limit)."""
        if self.exposure_minutes is None:
            return None
        return self.exposure_minutes.get(category, self.exposure_minutes.get(ANY))

    def named_categories(self) -> set[str]:
        return (set(self.exposure_budget or {}) | set(self.exposure_minutes or {})) - {ANY}

    def others_closed(self) -> bool:
        """A ``*`` budget of 0: categories without their own budget are never served."""
        return (self.exposure_budget or {}).get(ANY) == 0 or (self.exposure_minutes or {}).get(ANY) == 0

    def needs_second_approval(self, category: str) -> bool:
        return ANY in self.four_eyes or category in self.four_eyes


def parse_budget(raw: str | None, setting: str = "review_exposure_budget") -> dict[str, int] | None:
    """``"csam=40 *=200"`` (spaces or commas between) as ``{"csam": 40, "*": 200}``; empty: None
    (no budget). A malformed value is a ConfigError naming the setting."""
    text = (raw or "").replace(",", " ").strip()
    if not text:
        return None
    budget: dict[str, int] = {}
    for part in text.split():
        category, _, count = part.partition("=")
        if not category or not count.isdigit():
            raise ConfigError(f"{setting}: {part!r} is not 'category=N' (e.g. 'csam=40 *=200')")
        budget[category] = int(count)
    return budget


def actor(user: ConsoleUser) -> str:
    """How the audit log names a person: by pseudonym, never by email."""
    return f"user:{user.pseudonym}"


def roles(user: ConsoleUser) -> list[str]:
    return user.roles.split()


def require(user: ConsoleUser, permission: Permission) -> None:
    if user.disabled_at is not None or not has_permission(roles(user), permission):
        raise Forbidden(f"{user.pseudonym} lacks {permission}")


def reveal_permission(category: str) -> Permission:
    """Media of a ``csam`` case needs ``media:reveal_csam``; any other, ``media:reveal``."""
    return Permission.MEDIA_REVEAL_CSAM if category == BankCategory.CSAM else Permission.MEDIA_REVEAL


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def reveals_today(session: Session, user_id: int, now: datetime) -> dict[str, int]:
    """The reviewer's reveals since the start of the UTC day, per category."""
    rows = session.execute(
        select(HumanView.category, func.count())
        .where(HumanView.user_id == user_id, HumanView.viewed_at >= day_start(now))
        .group_by(HumanView.category)
    ).all()
    return {str(category): int(count) for category, count in rows}


def revealed_seconds(viewed_at: datetime, seconds: int | None, now: datetime) -> int:
    """How long one reveal counts for: as recorded when the media was hidden again, else the time
    since it was revealed, at most ``MAX_REVEAL_S`` (a closed tab never reports the end)."""
    if seconds is not None:
        return max(0, min(seconds, MAX_REVEAL_S))
    return max(0, min(int((now - viewed_at).total_seconds()), MAX_REVEAL_S))


def minutes_today(session: Session, user_id: int, now: datetime) -> dict[str, float]:
    """Minutes of media revealed to the reviewer since the start of the UTC day, per category."""
    totals: dict[str, float] = {}
    rows = session.execute(
        select(HumanView.category, HumanView.viewed_at, HumanView.seconds).where(
            HumanView.user_id == user_id, HumanView.viewed_at >= day_start(now)
        )
    ).all()
    for category, viewed_at, seconds in rows:
        totals[category] = totals.get(category, 0.0) + revealed_seconds(viewed_at, seconds, now) / 60
    return totals


def spent_reason(
    session: Session, user: ConsoleUser, category: str, options: ReviewOptions, now: datetime
) -> str | None:
    """Why ``user`` may see no more ``category`` media today (a spent budget), or None."""
    limit = options.budget_for(category)
    if limit is not None and reveals_today(session, user.id, now).get(category, 0) >= limit:
        return f"{limit} reveals"
    minutes = options.minutes_for(category)
    if minutes is not None and minutes_today(session, user.id, now).get(category, 0.0) >= minutes:
        return f"{minutes} minutes of revealed media"
    return None


def spent_categories(
    session: Session, user: ConsoleUser, options: ReviewOptions, now: datetime
) -> tuple[set[str], bool]:
    """Categories whose budget (reveals or minutes) the reviewer has spent today (each category counts
    against its own budget, or the ``*`` one when it has none), and whether every category without
    its own budget is closed to them (a ``*`` budget of 0)."""
    if options.exposure_budget is None and options.exposure_minutes is None:
        return set(), False
    seen = set(reveals_today(session, user.id, now)) | options.named_categories()
    spent = {c for c in seen if spent_reason(session, user, c, options, now) is not None}
    return spent, options.others_closed()


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        ReviewCase.state.in_((CaseState.OPEN, CaseState.ESCALATED)),
        and_(ReviewCase.state == CaseState.CLAIMED, ReviewCase.claim_expires_at < now),
    )


def _served_to(
    session: Session, user: ConsoleUser, options: ReviewOptions, now: datetime
) -> list[ColumnElement[bool]]:
    granted = roles(user)
    conditions: list[ColumnElement[bool]] = []
    if not has_permission(granted, Permission.MEDIA_REVEAL_CSAM):
        conditions.append(ReviewCase.category != BankCategory.CSAM)
    if not has_permission(granted, Permission.DECISION_APPROVE):
        conditions.append(ReviewCase.state != CaseState.ESCALATED)
    spent, all_spent = spent_categories(session, user, options, now)
    if spent:
        conditions.append(ReviewCase.category.not_in(sorted(spent)))
    if all_spent:
        conditions.append(ReviewCase.category.in_(sorted(options.named_categories() - spent)))
    return conditions


def list_queue(
    session: Session,
    *,
    reviewer: ConsoleUser | None = None,
    options: ReviewOptions | None = None,
    category: str | None = None,
    source: str | None = None,
    states: Sequence[str] | None = None,
    min_priority: int | None = None,
    claimable_only: bool = False,
    now: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ReviewCase]:
    """Cases in queue order (priority, then oldest detection first), filtered. With ``reviewer``, only
    the cases that may be served to them (module docstring) and, with ``claimable_only``, only those
    they could claim now."""
    now = now or utcnow()
    options = options or ReviewOptions()
    query = select(ReviewCase).where(ReviewCase.state.in_(list(states or OPEN_STATES)))
    if category is not None:
        query = query.where(ReviewCase.category == category)
    if source is not None:
        query = query.where(ReviewCase.source == source)
    if min_priority is not None:
        query = query.where(ReviewCase.priority >= min_priority)
    if reviewer is not None:
        query = query.where(*_served_to(session, reviewer, options, now))
    if claimable_only:
        query = query.where(_claimable(now))
    query = query.order_by(ReviewCase.priority.desc(), ReviewCase.detected_at, ReviewCase.id)
    return list(session.scalars(query.offset(max(0, offset)).limit(max(1, min(limit, MAX_PAGE)))))


def held_by(session: Session, user: ConsoleUser, *, now: datetime | None = None) -> list[ReviewCase]:
    """The cases ``user`` holds an unexpired claim on, soonest expiry first ("my cases")."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(ReviewCase)
            .where(
                ReviewCase.state == CaseState.CLAIMED,
                ReviewCase.claimed_by_id == user.id,
                ReviewCase.claim_expires_at > now,
            )
            .order_by(ReviewCase.claim_expires_at)
            .limit(MAX_PAGE)
        )
    )


@dataclass(frozen=True)
class QueueCount:
    category: str
    source: str
    state: str
    count: int
    oldest_detected_at: datetime | None


def queue_summary(session: Session) -> list[QueueCount]:
    """Open cases per (category, source, state) with the oldest detection time: the dashboard's queue
    sizes and SLA clocks."""
    rows = session.execute(
        select(
            ReviewCase.category,
            ReviewCase.source,
            ReviewCase.state,
            func.count(),
            func.min(ReviewCase.detected_at),
        )
        .where(ReviewCase.state.in_(list(OPEN_STATES)))
        .group_by(ReviewCase.category, ReviewCase.source, ReviewCase.state)
        .order_by(ReviewCase.category, ReviewCase.source, ReviewCase.state)
    ).all()
    # min() keeps the column's type, so the oldest time comes back timezone-aware on both stores.
    return [QueueCount(str(c), str(src), str(st), int(n), oldest) for c, src, st, n, oldest in rows]


def get_case(session: Session, case_id: int) -> ReviewCase:
    case = session.get(ReviewCase, case_id)
    if case is None:
        raise NotFound(f"review case {case_id} does not exist")
    return case


def matched_csam_bank(session: Session, item_id: int) -> bool:
    """Whether the item matched an entry of a csam bank (whatever its case's category says)."""
    query = select(ItemMatch.id).where(
        ItemMatch.item_id == item_id, ItemMatch.bank_category == BankCategory.CSAM
    )
    return session.scalar(query.limit(1)) is not None


def case_category(session: Session, case: ReviewCase) -> str:
    """The category opening the case counts as: ``csam`` for a csam case or an item that matched a
    csam bank, else the case's own."""
    if case.category == BankCategory.CSAM or matched_csam_bank(session, case.item_id):
        return str(BankCategory.CSAM)
    return case.category


def check_may_open(
    session: Session, case: ReviewCase, user: ConsoleUser, *, now: datetime | None = None
) -> str:
    """Whether ``user`` may open ``case`` (its page, its media): the queue rules (module docstring).
    Returns the category it counts as (``case_category``); Forbidden says why not and what to do."""
    now = now or utcnow()
    require(user, Permission.QUEUE_VIEW)
    category = case_category(session, case)
    needed = reveal_permission(category)
    if not has_permission(roles(user), needed):
        raise Forbidden(
            f"review case {case.id} is from a {category} bank or queue: opening it needs {needed.value}"
        )
    if has_permission(roles(user), Permission.DECISION_APPROVE):
        return category  # leads open every case their reveal permission allows
    if case.state == CaseState.ESCALATED:
        raise Forbidden(
            f"review case {case.id} was escalated to a lead: only leads (decision:approve) open it now"
        )
    held = case.claim_expires_at is not None and case.claim_expires_at > now
    if case.state == CaseState.CLAIMED and held and case.claimed_by_id != user.id:
        raise Forbidden(
            f"review case {case.id} is claimed by another reviewer: pick another case from the queue"
        )
    if case.state in (CaseState.AWAITING_APPROVAL, CaseState.DECIDED):
        decided = session.scalar(
            select(ReviewDecision.id)
            .where(ReviewDecision.case_id == case.id, ReviewDecision.reviewer_id == user.id)
            .limit(1)
        )
        if decided is None:
            raise Forbidden(f"review case {case.id} is {case.state}: only its decider and leads open it now")
    return category


def check_may_take(
    session: Session, case: ReviewCase, user: ConsoleUser, options: ReviewOptions, now: datetime
) -> None:
    """Whether ``user`` may hold ``case`` (claim it, or be given it): Forbidden, or ExposureBudgetSpent."""
    require(user, Permission.ITEM_CLAIM)
    require(user, reveal_permission(case.category))
    if case.state == CaseState.ESCALATED:
        require(user, Permission.DECISION_APPROVE)
    spent = spent_reason(session, user, case.category, options, now)
    if spent is not None:
        raise ExposureBudgetSpent(
            f"{user.pseudonym} has reached today's exposure budget for {case.category or 'uncategorised'} "
            f"media ({spent}): take a break; these cases go to other reviewers until tomorrow (UTC)"
        )


def claim(
    session: Session, case_id: int, user: ConsoleUser, options: ReviewOptions, *, now: datetime | None = None
) -> ReviewCase:
    """Claim a case for ``options.claim_minutes`` (renewing one's own claim). Conflict when another
    reviewer holds an unexpired claim or the case is decided or awaiting approval."""
    now = now or utcnow()
    case = get_case(session, case_id)
    check_may_take(session, case, user, options, now)
    expires = now + timedelta(minutes=options.claim_minutes)
    moved = session.execute(
        update(ReviewCase)
        .where(
            ReviewCase.id == case_id,
            or_(
                _claimable(now),
                and_(ReviewCase.state == CaseState.CLAIMED, ReviewCase.claimed_by_id == user.id),
            ),
        )
        .values(state=CaseState.CLAIMED, claimed_by_id=user.id, claim_expires_at=expires, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        session.refresh(case)
        raise Conflict(
            f"review case {case_id} is {case.state}"
            + (" by another reviewer" if case.state == CaseState.CLAIMED else "")
            + ": pick another case from the queue"
        )
    session.refresh(case)
    audit.record(
        session, actor(user), ReviewAudit.CLAIM, f"review_case:{case.id}", {"until": expires.isoformat()}
    )
    return case


def held_claim(session: Session, case_id: int, user: ConsoleUser, now: datetime) -> ReviewCase:
    """The case, locked for update, when ``user`` holds an unexpired claim on it; else Conflict."""
    case = session.get(ReviewCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"review case {case_id} does not exist")
    if (
        case.state != CaseState.CLAIMED
        or case.claimed_by_id != user.id
        or case.claim_expires_at is None
        or case.claim_expires_at <= now
    ):
        raise Conflict(f"review case {case_id} is not claimed by {user.pseudonym} (claim it first)")
    return case


def release(session: Session, case_id: int, user: ConsoleUser, *, now: datetime | None = None) -> ReviewCase:
    """Give a claimed case back to the queue: its holder, or a lead (``decision:approve``)."""
    now = now or utcnow()
    case = session.get(ReviewCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"review case {case_id} does not exist")
    if case.state != CaseState.CLAIMED:
        raise Conflict(f"review case {case_id} is {case.state}, not claimed: nothing to release")
    if case.claimed_by_id != user.id:
        require(user, Permission.DECISION_APPROVE)
    case.state, case.claimed_by_id, case.claim_expires_at, case.updated_at = CaseState.OPEN, None, None, now
    session.flush()
    audit.record(session, actor(user), ReviewAudit.RELEASE, f"review_case:{case.id}", {})
    return case


def reassign(
    session: Session,
    case_id: int,
    lead: ConsoleUser,
    to: ConsoleUser,
    options: ReviewOptions,
    *,
    now: datetime | None = None,
) -> ReviewCase:
    """A lead gives an open, claimed or escalated case to ``to`` (who must be allowed to take it) with a
    fresh claim."""
    now = now or utcnow()
    require(lead, Permission.DECISION_APPROVE)
    case = session.get(ReviewCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"review case {case_id} does not exist")
    if case.state not in (CaseState.OPEN, CaseState.CLAIMED, CaseState.ESCALATED):
        raise Conflict(f"review case {case_id} is {case.state}: it can no longer be reassigned")
    check_may_take(session, case, to, options, now)
    holder = session.get(ConsoleUser, case.claimed_by_id) if case.claimed_by_id is not None else None
    previous = holder.pseudonym if holder is not None else None
    case.state, case.claimed_by_id = CaseState.CLAIMED, to.id
    case.claim_expires_at, case.updated_at = now + timedelta(minutes=options.claim_minutes), now
    session.flush()
    audit.record(
        session,
        actor(lead),
        ReviewAudit.REASSIGN,
        f"review_case:{case.id}",
        {"from": previous, "to": to.pseudonym},
    )
    return case


def escalate(
    session: Session, case_id: int, user: ConsoleUser, note: str, *, now: datetime | None = None
) -> ReviewCase:
    """The holder of a claim sends the case to the leads' queue with a note (why)."""
    now = now or utcnow()
    note = note.strip()
    if not note or len(note) > 4000:
        raise InvalidInput("an escalation needs a note (1-4000 characters) saying why a lead should look")
    case = held_claim(session, case_id, user, now)
    case.state, case.claimed_by_id, case.claim_expires_at, case.updated_at = (
        CaseState.ESCALATED,
        None,
        None,
        now,
    )
    case.escalation_note = note
    session.flush()
    audit.record(session, actor(user), ReviewAudit.ESCALATE, f"review_case:{case.id}", {})
    return case
