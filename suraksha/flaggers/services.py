"""Notices: receive a flagger's notice, resolve what it names, put it in review, settle it when the
reviewers have decided, and show it (the registry itself: ``suraksha.flaggers.registry``).

Business rules:
- A suspended flagger's notices are refused (403); it still reads those it sent before.
- A notice is received once per flagger reference: the same reference with the same content answers
  the notice already received; with other content it is a conflict (409).
- Each thing named resolves by platform id or post URL (``platform_item_url``; never by our own ids,
  which a flagger has no business knowing), or for an upload by the exact file (SHA-256 or MD5 of a
  media file here; the newest item carrying it). What is not held is asked of the platform
  (``flaggers.fetch``); what neither has is "not found".
- A thing found is put in review at the flagger's priority: the item's open case when there is one
  (duplicate notices, and notices about what a detection already queued, join it; its priority only
  rises), else a new case. Its decision is the reviewer's (``review.case_decided``).
- The acknowledgement is the answer to the POST and a ``notice.acknowledged`` webhook; when every thing
  is decided or not found the notice is settled (confirmed when a violation was found in any of them)
  and a ``notice.decided`` webhook is owed. Clocks come from the jurisdiction file: ``grievance``
  (IT Rules r.3(2)(a)(i)), or ``grievance_intimate_imagery`` for a depicted person's complaint
  (r.3(2)(b)).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.content.lookup import UrlPatterns
from suraksha.content.models import Item, ItemMedia
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.flaggers.models import (
    Flagger,
    FlaggerAudit,
    FlaggerMessage,
    FlaggerState,
    MessageState,
    Notice,
    NoticeOutcome,
    NoticeState,
    NoticeTarget,
    TargetKind,
    TargetState,
)
from suraksha.flaggers.schemas import NoticeIn
from suraksha.legal.clocks import JurisdictionRules, RequestKind, Step
from suraksha.outbound.webhooks import WebhookDelivery
from suraksha.review.cases import open_case
from suraksha.review.models import CaseSource, ReviewCase, ReviewDecision, ViolationCategory
from suraksha.worker.queue import enqueue

log = logging.getLogger(__name__)

FETCH = "flaggers.fetch"
NOTIFY = "flaggers.notify"
ACKNOWLEDGED = "notice.acknowledged"
DECIDED = "notice.decided"
_UPLOAD_MATCHES_SHOWN = 20


# -- notices ----------------------------------------------------------------------------------------


def notice_digest(body: NoticeIn) -> str:
    shown = body.model_dump(mode="json")
    for target, given in zip(shown["targets"], body.targets, strict=True):
        data = given.uploaded()
        if data is not None:
            target["upload"] = "sha256:" + hashlib.sha256(data).hexdigest()
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def submit_notice(
    session: Session,
    flagger: Flagger,
    body: NoticeIn,
    rules: JurisdictionRules,
    *,
    patterns: UrlPatterns,
    max_upload_bytes: int,
    actor: str | None = None,
    now: datetime | None = None,
) -> tuple[Notice, bool]:
    """Receive a notice (business rules in the module docstring); returns (notice, created). ``actor``
    is who sent it, for the audit row: the flagger's API key (the default) or one of its console users."""
    now = now or utcnow()
    if flagger.state != FlaggerState.ACTIVE:
        raise Forbidden(f"flagger {flagger.name!r} is suspended: its notices are not received")
    for position, target in enumerate(body.targets):
        data = target.uploaded()
        if data is not None and len(data) > max_upload_bytes:
            raise InvalidInput(f"upload {position} is {len(data):,} bytes; the limit is {max_upload_bytes:,}")
    digest = notice_digest(body)
    existing = session.scalar(
        select(Notice).where(Notice.flagger_id == flagger.id, Notice.reference == body.reference)
    )
    if existing is not None:
        if existing.digest != digest:
            raise Conflict(
                f"notice {body.reference!r} was received before with other content: send a new reference"
            )
        return existing, False
    kind = RequestKind.GRIEVANCE_INTIMATE_IMAGERY if body.depicted_person_complaint else RequestKind.GRIEVANCE
    notice = Notice(
        flagger_id=flagger.id,
        reference=body.reference,
        digest=digest,
        category=str(body.category),
        explanation=body.explanation,
        clock_kind=kind.value,
        jurisdiction=flagger.jurisdiction,
        state=NoticeState.RECEIVED,
        received_at=now,
        acknowledged_at=now,
    )
    session.add(notice)
    session.flush()
    for position, given in enumerate(body.targets):
        _resolve(session, flagger, notice, position, given.url, given.platform_id, given.uploaded(), patterns)
    audit.record(
        session,
        actor or f"api:flagger-{flagger.name}",
        FlaggerAudit.NOTICE,
        f"notice:{notice.id}",
        {"reference": notice.reference[:200], "category": notice.category, "targets": len(body.targets)},
    )
    _owe(session, flagger, notice, ACKNOWLEDGED, notice_view(session, notice, rules, now=now))
    settle(session, notice, rules, now=now)
    log.info(
        "event=flaggers.notice notice=%d flagger=%s targets=%d", notice.id, flagger.name, len(body.targets)
    )
    return notice, True


def _resolve(
    session: Session,
    flagger: Flagger,
    notice: Notice,
    position: int,
    url: object | None,
    platform_id: str | None,
    upload: bytes | None,
    patterns: UrlPatterns,
) -> NoticeTarget:
    target = NoticeTarget(notice_id=notice.id, position=position, state=TargetState.NOT_FOUND, detail="")
    session.add(target)
    if upload is not None:
        sha256 = hashlib.sha256(upload).hexdigest()
        md5 = hashlib.md5(upload, usedforsecurity=False).hexdigest()
        target.kind, target.value = TargetKind.UPLOAD, f"sha256:{sha256}"
        items = list(
            session.scalars(
                select(Item)
                .join(ItemMedia, ItemMedia.item_id == Item.id)
                .where(or_(ItemMedia.sha256 == sha256, ItemMedia.md5 == md5))
                .order_by(Item.received_at.desc(), Item.id.desc())
                .limit(_UPLOAD_MATCHES_SHOWN)
            ).unique()
        )
        if not items:
            target.detail = (
                "no item here carries this file: name the post by its URL or platform id so that it can be "
                "asked of the platform"
            )
            session.flush()
            return target
        others = len(items) - 1
        also = f"; {others} older item(s) carry the same file" if others else ""
        return _attach(
            session, flagger, notice, target, items[0], f"held here (the newest item with this file{also})"
        )
    if url is not None:
        target.kind, target.value = TargetKind.URL, str(url)
        parts = patterns.read(patterns.item, str(url))
        if parts is None or "item_id" not in parts:
            target.detail = (
                f"not a post URL of the platform's (posts read {patterns.item or 'unset: platform_item_url'})"
            )
            session.flush()
            return target
        platform_id = parts["item_id"]
    else:
        target.kind, target.value = TargetKind.PLATFORM_ID, str(platform_id)
    assert platform_id is not None
    item = session.scalar(select(Item).where(Item.platform_item_id == platform_id))
    if item is not None:
        return _attach(session, flagger, notice, target, item, "held here")
    target.state, target.detail = TargetState.FETCHING, "not held here: asked of the platform"
    session.flush()
    enqueue(
        session, FETCH, {"target_id": target.id, "platform_item_id": platform_id}, key=f"{FETCH}:{target.id}"
    )
    return target


def _attach(
    session: Session, flagger: Flagger, notice: Notice, target: NoticeTarget, item: Item, found: str
) -> NoticeTarget:
    """Put the item in review at the flagger's priority: its open case (joined), or a new one."""
    open_before = session.scalar(select(ReviewCase.id).where(ReviewCase.open_item_id == item.id))
    case = open_case(
        session, item, source=CaseSource.TRUSTED_FLAGGER, category=notice.category, priority=flagger.priority
    )
    target.item_id, target.case_id, target.joined_existing_case = item.id, case.id, open_before is not None
    target.state, target.detail = TargetState.IN_REVIEW, found
    session.flush()
    return target


def attach_fetched(
    session: Session, target_id: int, item: Item | None, rules: JurisdictionRules, *, detail: str = ""
) -> NoticeTarget:
    """The platform's answer for a target that was being fetched: the item (now submitted here) goes to
    review, or the target is not found. A target no longer fetching is left as it is (a repeated job)."""
    target = session.get(NoticeTarget, target_id, with_for_update=True)
    if target is None:
        raise NotFound(f"notice target {target_id} does not exist")
    if target.state != TargetState.FETCHING:
        return target
    notice = session.get(Notice, target.notice_id)
    assert notice is not None
    flagger = session.get(Flagger, notice.flagger_id)
    assert flagger is not None
    if item is None:
        target.state, target.detail = TargetState.NOT_FOUND, detail or "neither held here nor by the platform"
    else:
        _attach(session, flagger, notice, target, item, "fetched from the platform")
    settle(session, notice, rules)
    return target


def on_case_decided(
    session: Session,
    case_id: int,
    review_decision_id: int,
    rules: JurisdictionRules,
    *,
    now: datetime | None = None,
) -> list[Notice]:
    """A reviewer's decision closed a case: every notice target in review on it takes the decision, and
    each notice whose targets are all done is settled. Idempotent (targets already decided stay)."""
    review_decision = session.get(ReviewDecision, review_decision_id)
    if review_decision is None:
        raise NotFound(f"review decision {review_decision_id} does not exist")
    decided_at = review_decision.approved_at or review_decision.created_at
    targets = list(
        session.scalars(
            select(NoticeTarget).where(
                NoticeTarget.case_id == case_id, NoticeTarget.state == TargetState.IN_REVIEW
            )
        )
    )
    notices: dict[int, Notice] = {}
    for target in targets:
        target.state, target.violation = TargetState.DECIDED, review_decision.violation
        target.actions, target.review_decision_id = review_decision.actions, review_decision.id
        target.decided_at = decided_at
        notice = session.get(Notice, target.notice_id)
        assert notice is not None
        notices[notice.id] = notice
    session.flush()
    for notice in notices.values():
        settle(session, notice, rules, now=now or decided_at)
    return list(notices.values())


def settle(
    session: Session, notice: Notice, rules: JurisdictionRules, *, now: datetime | None = None
) -> Notice:
    """The notice's state from its targets; once every target is decided or not found: its outcome,
    the ``notice.decided`` webhook, and the flagger's accuracy check."""
    if notice.state == NoticeState.DECIDED:
        return notice
    states = [t.state for t in targets_of(session, notice.id)]
    if TargetState.FETCHING in states:
        notice.state = NoticeState.RECEIVED
        return notice
    if TargetState.IN_REVIEW in states:
        notice.state = NoticeState.IN_REVIEW
        return notice
    now = now or utcnow()
    notice.state, notice.decided_at = NoticeState.DECIDED, now
    notice.outcome = outcome_of(session, notice.id)
    session.flush()
    flagger = session.get(Flagger, notice.flagger_id)
    assert flagger is not None
    _owe(session, flagger, notice, DECIDED, notice_view(session, notice, rules, now=now))
    log.info("event=flaggers.notice_decided notice=%d outcome=%s", notice.id, notice.outcome)
    return notice


def outcome_of(session: Session, notice_id: int) -> NoticeOutcome:
    decided = [t for t in targets_of(session, notice_id) if t.state == TargetState.DECIDED]
    if any(t.violation != ViolationCategory.BENIGN for t in decided):
        return NoticeOutcome.CONFIRMED
    return NoticeOutcome.NOT_CONFIRMED if decided else NoticeOutcome.NOT_FOUND


def targets_of(session: Session, notice_id: int) -> list[NoticeTarget]:
    return list(
        session.scalars(
            select(NoticeTarget).where(NoticeTarget.notice_id == notice_id).order_by(NoticeTarget.position)
        )
    )


def get_notice(session: Session, flagger: Flagger, notice_id: int) -> Notice:
    """The flagger's own notice; another flagger's is "not found" (its existence is not theirs to know)."""
    notice = session.get(Notice, notice_id)
    if notice is None or notice.flagger_id != flagger.id:
        raise NotFound(f"you sent no notice {notice_id}")
    return notice


def clocks_of(notice: Notice, rules: JurisdictionRules, *, now: datetime) -> list[dict[str, object]]:
    """The notice's clocks from the jurisdiction file: acknowledge (met by the answer to the POST) and
    the decision (``answer``, or ``act`` for a depicted person's complaint), met when it is settled."""
    shown: list[dict[str, object]] = []
    kind = RequestKind(notice.clock_kind)
    for rule in rules.steps(notice.jurisdiction, kind):
        done = notice.acknowledged_at if rule.step == Step.ACKNOWLEDGE else notice.decided_at
        clock = rules.clock(
            notice.jurisdiction, kind, rule.step, started_at=notice.received_at, now=now, done_at=done
        )
        shown.append(
            {
                "step": rule.step.value,
                "due_at": clock.due_at,
                "state": clock.state.value,
                "remaining_s": int(clock.remaining.total_seconds()),
                "source": rule.source,
            }
        )
    return shown


def notice_view(
    session: Session, notice: Notice, rules: JurisdictionRules, *, now: datetime | None = None
) -> dict[str, object]:
    """What the flagger may read about its notice (``NoticeOut``): never our ids, reviewers or other
    flaggers' notices."""
    now = now or utcnow()
    return {
        "id": notice.id,
        "reference": notice.reference,
        "category": notice.category,
        "state": notice.state,
        "outcome": notice.outcome,
        "jurisdiction": notice.jurisdiction,
        "received_at": notice.received_at,
        "acknowledged_at": notice.acknowledged_at,
        "decided_at": notice.decided_at,
        "clocks": clocks_of(notice, rules, now=now),
        "targets": [
            {
                "position": t.position,
                "kind": t.kind,
                "value": t.value,
                "state": t.state,
                "detail": t.detail,
                "joined_existing_case": t.joined_existing_case,
                "violation": t.violation,
                "actions": t.actions.split(),
                "decided_at": t.decided_at,
            }
            for t in targets_of(session, notice.id)
        ],
    }


def _owe(
    session: Session, flagger: Flagger, notice: Notice, event: str, data: dict[str, object]
) -> FlaggerMessage:
    """The webhook owed for ``event`` (one per notice and event), and its delivery job."""
    existing = session.scalar(
        select(FlaggerMessage).where(FlaggerMessage.notice_id == notice.id, FlaggerMessage.event == event)
    )
    if existing is not None:
        return existing
    suffix = "ack" if event == ACKNOWLEDGED else "outcome"
    delivery = WebhookDelivery.create(
        event, json.loads(json.dumps(data, default=_iso)), delivery_id=f"notice-{notice.id}-{suffix}"
    )
    message = FlaggerMessage(
        flagger_id=flagger.id,
        notice_id=notice.id,
        event=event,
        delivery_id=delivery.delivery_id,
        body=delivery.body.decode(),
        state=MessageState.PENDING if flagger.webhook_url else MessageState.NO_ENDPOINT,
        attempts=0,
        last_error="",
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    if flagger.webhook_url:
        enqueue(session, NOTIFY, {"message_id": message.id}, key=f"{NOTIFY}:{message.id}")
    return message


def _iso(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def messages_of(session: Session, notice_ids: Iterable[int]) -> list[FlaggerMessage]:
    return list(
        session.scalars(
            select(FlaggerMessage)
            .where(FlaggerMessage.notice_id.in_(list(notice_ids)))
            .order_by(FlaggerMessage.id)
        )
    )


def notices_on_case(
    session: Session, case_id: int, rules: JurisdictionRules, *, now: datetime | None = None
) -> list[dict[str, object]]:
    """The notices that named a review case's item, for the reviewer's page: who flagged it (the
    organisation and its footing), their reference, category and explanation, and the notice's decision
    clock (``due``: the jurisdiction file's, which may be shorter than the queue's), oldest first."""
    now = now or utcnow()
    rows = session.execute(
        select(Notice, Flagger)
        .join(NoticeTarget, NoticeTarget.notice_id == Notice.id)
        .join(Flagger, Flagger.id == Notice.flagger_id)
        .where(NoticeTarget.case_id == case_id)
        .order_by(Notice.received_at, Notice.id)
    ).all()
    seen: dict[int, dict[str, object]] = {}
    for notice, flagger in rows:
        if notice.id in seen:
            continue
        decision = [c for c in clocks_of(notice, rules, now=now) if c["step"] != Step.ACKNOWLEDGE.value]
        seen[notice.id] = {
            "flagger": flagger.organisation,
            "designation": flagger.designation,
            "reference": notice.reference,
            "category": notice.category,
            "explanation": notice.explanation,
            "received_at": notice.received_at,
            "due": decision[0] if decision else None,
        }
    return list(seen.values())


def notices_due(
    session: Session,
    rules: JurisdictionRules,
    *,
    within: timedelta | None = None,
    now: datetime | None = None,
    limit: int = 500,
) -> list[dict[str, object]]:
    """Every notice not yet decided whose decision clock is overdue, or due within ``within`` (all, when
    None), overdue first then soonest: what leads look at so that no flagger's notice runs out of time
    (``suraksha flaggers due``, the console's flaggers page)."""
    now = now or utcnow()
    rows = session.execute(
        select(Notice, Flagger)
        .join(Flagger, Flagger.id == Notice.flagger_id)
        .where(Notice.state != NoticeState.DECIDED)
        .order_by(Notice.received_at)
        .limit(max(1, min(limit, 5000)))
    ).all()
    due = []
    for notice, flagger in rows:
        for clock in clocks_of(notice, rules, now=now):
            if clock["step"] == Step.ACKNOWLEDGE.value:
                continue
            at = clock["due_at"]
            assert isinstance(at, datetime)
            if within is not None and at - now > within and clock["state"] != "overdue":
                continue
            due.append(
                {
                    "notice": notice.id,
                    "flagger": flagger.name,
                    "reference": notice.reference,
                    "category": notice.category,
                    "notice_state": notice.state,
                    **clock,
                }
            )
    return sorted(due, key=lambda d: (d["state"] != "overdue", d["due_at"]))
