"""Statements of reasons to users: what the platform is to tell a user about an action on their content
or account, and about their appeal.

Business rules:
- Every ``remove``, ``withhold``, ``restrict`` and ``suspend`` action sent to the platform (not one
  recorded as already in force) writes a notice in the transaction that records the action, and
  queues ``notice.send`` for it (``record_action_notice``).
- The job prepares it once: the statement (what was done, why, on which ground, whether detection
  and decision were automated, how to appeal and by when) is fixed, then the notice is either
  withheld, with the reason recorded, or made ready: added to the pull feed and sent by webhook.
- It is withheld when the law says not to tell the user: a confidentiality order of the legal desk
  covering the item or the account, or an open preservation request (an ongoing investigation) (the
  legal desk's ``FindsNoticeBar`` port, wired by the Platform: enforcement never imports legal), or,
  for an action notice, a decision whose category is listed in ``notice_withhold_categories``
  (telling would tip off the offender, e.g. ``csam``).
- A notice withheld under a gag or a preservation is released when that ends (``release_lifted``,
  run on a schedule); one withheld against a tip-off is released only by a person
  (``release``, audited). A released notice is prepared again: a gag still in force keeps it back.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.content.models import Account, Item
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.enforcement.grounds import AUTOMATED_TOOLS, Tool, basis_of, ground_of, sources_of
from suraksha.enforcement.models import (
    Action,
    ActionKind,
    ActionTarget,
    DecidedBy,
    Decision,
    NoticeKind,
    NoticeState,
    UserNotice,
    UserNoticeFeed,
    WithheldReason,
)
from suraksha.errors import Conflict, ExternalServiceError, InvalidInput, NotFound
from suraksha.outbound.webhooks import DeliveryOutcome, WebhookDelivery, WebhookEndpoint, WebhookSender
from suraksha.worker.handlers import Deferred, HandlerRegistry, JobContext, PermanentFailure
from suraksha.worker.queue import enqueue

log = logging.getLogger(__name__)

SEND = "notice.send"
RELEASE_LIFTED = "notice.release_lifted"
EVENT = "notice.user"
NOTICE_KINDS = frozenset({ActionKind.REMOVE, ActionKind.WITHHOLD, ActionKind.RESTRICT, ActionKind.SUSPEND})
MAX_NOTE = 2000
PAUSED_RECHECK_S = 30.0
AUDIT_RELEASE = "notice:release"
AUDIT_WITHHOLD = "notice:withhold"


class NoticeBar(NamedTuple):
    reason: WithheldReason
    ref: str
    """What withholds the notice: ``legal_request:ID``, ``category:csam``."""


class FindsNoticeBar(Protocol):
    def __call__(self, session: Session, item_id: int, account_id: int, now: datetime, /) -> NoticeBar | None:
        """Why the user may not be told about the item or account now (a confidentiality order or an
        open preservation request covering it), or None."""
        ...


@dataclass(frozen=True)
class NoticeOptions:
    tip_off_categories: frozenset[str] = frozenset({"csam"})
    appeal_within: timedelta | None = timedelta(days=184)
    """How long after the decision the user may appeal (None: no limit is stated)."""
    terms_ground: str = "Terms of service"
    bars: FindsNoticeBar | None = None
    endpoints: Mapping[str, WebhookEndpoint] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    """The time the jobs judge gags by (a fake one in tests)."""


_WHAT = {
    (ActionKind.REMOVE, ActionTarget.ITEM): "Your post was removed.",
    (ActionKind.RESTRICT, ActionTarget.ITEM): "Who can see or interact with your post was restricted.",
    (ActionKind.WITHHOLD, ActionTarget.ITEM): "Your post is withheld in {countries}.",
    (ActionKind.SUSPEND, ActionTarget.ACCOUNT): "Your account was suspended.",
}


def record_action_notice(session: Session, action: Action, decision: Decision) -> UserNotice | None:
    """The notice of ``action`` (one per action), and its ``notice.send`` job; None for an action that
    tells the user nothing new (not a restriction)."""
    if action.kind not in NOTICE_KINDS:
        return None
    return _record(
        session,
        key=f"action:{action.id}",
        kind=NoticeKind.ACTION,
        decision_id=decision.id,
        action_id=action.id,
        item_id=action.item_id,
        account_id=action.account_id,
        body="",
    )


def record_outcome_notice(
    session: Session, *, key: str, decision_id: int, item_id: int, account_id: int, body: Mapping[str, Any]
) -> UserNotice:
    """The notice of an appeal's outcome (``key`` ``appeal:ID``), its statement given."""
    return _record(
        session,
        key=key,
        kind=NoticeKind.APPEAL_OUTCOME,
        decision_id=decision_id,
        action_id=None,
        item_id=item_id,
        account_id=account_id,
        body=json.dumps(dict(body), sort_keys=True),
    )


def _record(session: Session, *, key: str, kind: NoticeKind, **values: Any) -> UserNotice:
    existing = session.scalar(select(UserNotice).where(UserNotice.key == key))
    if existing is not None:
        return existing
    notice = UserNotice(key=key, kind=kind, state=NoticeState.PENDING, **values)
    session.add(notice)
    session.flush()
    enqueue(session, SEND, {"notice": notice.id}, key=f"{SEND}:{notice.id}")
    return notice


def findings_of(session: Session, decision: Decision) -> list[tuple[str, str]]:
    """What the decision rests on; for a reviewer's decision, also what put the item before them."""
    found = sources_of(decision)
    if decision.decided_by == DecidedBy.REVIEWER:
        for entry in basis_of(decision):
            opened_by = entry.get("opened_by_decision")
            if isinstance(opened_by, int):
                earlier = session.get(Decision, opened_by)
                if earlier is not None:
                    found += sources_of(earlier)
    return found


def _why(decision: Decision, tools: set[str]) -> str:
    words = (decision.category or "prohibited content").replace("_", " ")
    if Tool.LEGAL_ORDER in tools:
        return "An authority ordered it under the law it cites."
    if Tool.REVIEWER in tools:
        return f"A reviewer found that it is {words}."
    if Tool.HASH_BANK in tools:
        return f"It matched a list of known {words} material."
    if Tool.TEXT_RULE in tools:
        return f"Its text matched a rule against {words}."
    if Tool.CLASSIFIER in tools:
        return f"An automated classifier found it to be {words}."
    return f"It was found to be {words}."


def action_statement(session: Session, notice: UserNotice, options: NoticeOptions) -> dict[str, Any]:
    """The statement of reasons to the user for the notice's action (module docstring)."""
    action = session.get(Action, notice.action_id) if notice.action_id is not None else None
    decision = session.get(Decision, notice.decision_id)
    if action is None or decision is None:
        raise NotFound(f"user notice {notice.id} names no action or decision")
    tools = {tool for tool, _ in findings_of(session, decision)}
    ground = ground_of(decision, options.terms_ground)
    what = _WHAT.get((ActionKind(action.kind), ActionTarget(action.target)), f"Action taken: {action.kind}.")
    appeal_by = decision.created_at + options.appeal_within if options.appeal_within is not None else None
    return {
        **_who(session, notice),
        "notice_id": notice.id,
        "type": NoticeKind.ACTION.value,
        "action": {
            "action_id": action.id,
            "kind": action.kind,
            "target": action.target,
            "countries": action.countries.split(),
        },
        "decision_id": decision.id,
        "decided_at": decision.created_at.isoformat(timespec="seconds"),
        "what": what.format(countries=", ".join(action.countries.split()) or "some countries"),
        "why": _why(decision, tools),
        "category": decision.category,
        "ground": {"kind": ground.kind, "reference": ground.reference},
        "automated_detection": bool(tools & AUTOMATED_TOOLS),
        "automated_decision": decision.automated,
        "appeal": {
            "allowed": True,
            "by": appeal_by.isoformat(timespec="seconds") if appeal_by is not None else None,
            "how": f"Ask the platform to appeal decision {decision.id}; a person who did not make it "
            "decides the appeal.",
        },
    }


def _who(session: Session, notice: UserNotice) -> dict[str, str]:
    item = session.get(Item, notice.item_id)
    account = session.get(Account, notice.account_id)
    return {
        "item_id": item.platform_item_id if item is not None else "",
        "account_id": account.platform_account_id if account is not None else "",
    }


def prepare(session: Session, notice: UserNotice, options: NoticeOptions, now: datetime) -> None:
    """A pending notice: fix its statement, then withhold it (recording why) or make it ready (the
    feed row and the signed webhook body, fixed now)."""
    if notice.state != NoticeState.PENDING:
        return
    if notice.kind == NoticeKind.ACTION and not notice.body:
        notice.body = json.dumps(action_statement(session, notice, options), sort_keys=True)
    bar = _bar(session, notice, options, now)
    if bar is not None:
        notice.state, notice.withheld_reason, notice.withheld_ref = NoticeState.WITHHELD, bar.reason, bar.ref
        notice.withheld_at = now
        audit.record(
            session,
            "system:notices",
            AUDIT_WITHHOLD,
            f"user_notice:{notice.id}",
            {"reason": bar.reason, "ref": bar.ref, "key": notice.key},
        )
        log.info("event=notice.withheld notice=%d reason=%s ref=%s", notice.id, bar.reason, bar.ref)
        return
    body = json.loads(notice.body)
    signed = WebhookDelivery.create(EVENT, body, delivery_id=uuid.uuid4().hex)
    notice.delivery_id, notice.signed_body = signed.delivery_id, signed.body.decode()
    notice.state, notice.ready_at = NoticeState.READY, now
    session.add(UserNoticeFeed(notice_id=notice.id, created_at=now))
    session.flush()
    log.info("event=notice.ready notice=%d key=%s", notice.id, notice.key)


def _bar(session: Session, notice: UserNotice, options: NoticeOptions, now: datetime) -> NoticeBar | None:
    if options.bars is not None:
        bar = options.bars(session, notice.item_id, notice.account_id, now)
        if bar is not None:
            return bar
    if notice.kind == NoticeKind.ACTION and notice.released_at is None:
        decision = session.get(Decision, notice.decision_id)
        category = decision.category.strip().lower() if decision is not None else ""
        if category and category in options.tip_off_categories:
            return NoticeBar(WithheldReason.TIP_OFF, f"category:{category}")
    return None


def release(
    session: Session, notice_id: int, *, actor: str, note: str, now: datetime | None = None
) -> UserNotice:
    """A person releases a withheld notice (the reason it was withheld has ended): it is prepared
    again and sent, unless a gag or an investigation still covers it. Audited."""
    now = now or utcnow()
    note = note.strip()
    if not note or len(note) > MAX_NOTE:
        raise InvalidInput(
            f"releasing a notice needs a note (1-{MAX_NOTE} characters) saying why it may go now"
        )
    notice = session.get(UserNotice, notice_id, with_for_update=True)
    if notice is None:
        raise NotFound(f"user notice {notice_id} does not exist")
    if notice.state != NoticeState.WITHHELD:
        raise Conflict(f"user notice {notice_id} is {notice.state}, not withheld: nothing to release")
    _reopen(session, notice, now, by=actor, note=note)
    audit.record(
        session,
        actor,
        AUDIT_RELEASE,
        f"user_notice:{notice.id}",
        {"was_withheld_for": notice.withheld_reason, "ref": notice.withheld_ref, "note": note[:500]},
    )
    return notice


def _reopen(session: Session, notice: UserNotice, now: datetime, *, by: str, note: str) -> None:
    notice.state, notice.released_at, notice.released_by, notice.release_note = (
        NoticeState.PENDING,
        now,
        by,
        note,
    )
    session.flush()
    enqueue(session, SEND, {"notice": notice.id}, key=f"{SEND}:{notice.id}:released:{now.timestamp():.6f}")


LIFTABLE = (WithheldReason.CONFIDENTIALITY, WithheldReason.PRESERVATION)


def release_lifted(session: Session, options: NoticeOptions, now: datetime, *, limit: int = 500) -> list[int]:
    """Release the notices withheld under a gag or an investigation that no longer covers them (the
    order's confidentiality ended, the preservation request closed); the ids released."""
    if options.bars is None:
        return []
    released = []
    withheld = session.scalars(
        select(UserNotice)
        .where(
            UserNotice.state == NoticeState.WITHHELD,
            UserNotice.withheld_reason.in_([str(r) for r in LIFTABLE]),
        )
        .order_by(UserNotice.id)
        .limit(limit)
    )
    for notice in list(withheld):
        if options.bars(session, notice.item_id, notice.account_id, now) is None:
            _reopen(session, notice, now, by="system:notices", note=f"{notice.withheld_reason} ended")
            audit.record(
                session,
                "system:notices",
                AUDIT_RELEASE,
                f"user_notice:{notice.id}",
                {"was_withheld_for": notice.withheld_reason, "ref": notice.withheld_ref, "note": "ended"},
            )
            released.append(notice.id)
    return released


def notice_feed(session: Session, *, after: int = 0, limit: int = 100) -> list[tuple[int, UserNotice]]:
    """Notices ready for the user, in the order they became ready: ``(cursor, notice)``; pass the last
    cursor as ``after``."""
    rows = session.execute(
        select(UserNoticeFeed.id, UserNotice)
        .join(UserNotice, UserNotice.id == UserNoticeFeed.notice_id)
        .where(UserNoticeFeed.id > after)
        .order_by(UserNoticeFeed.id)
        .limit(max(1, min(limit, 1000)))
    ).all()
    return [(int(cursor), notice) for cursor, notice in rows]


def notice_dict(notice: UserNotice, *, with_statement: bool = True) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": notice.id,
        "key": notice.key,
        "kind": notice.kind,
        "decision_id": notice.decision_id,
        "action_id": notice.action_id,
        "state": notice.state,
        "withheld_reason": notice.withheld_reason or None,
        "withheld_ref": notice.withheld_ref or None,
        "withheld_at": notice.withheld_at.isoformat() if notice.withheld_at else None,
        "released_at": notice.released_at.isoformat() if notice.released_at else None,
        "released_by": notice.released_by or None,
        "delivered_at": notice.delivered_at.isoformat() if notice.delivered_at else None,
        "created_at": notice.created_at.isoformat(),
    }
    if with_statement:
        shown["statement"] = json.loads(notice.body) if notice.body else None
    return shown


def notices_for(
    session: Session, *, item_id: int | None = None, decision_ids: list[int] | None = None
) -> list[UserNotice]:
    query = select(UserNotice).order_by(UserNotice.id)
    if item_id is not None:
        query = query.where(UserNotice.item_id == item_id)
    if decision_ids is not None:
        query = query.where(UserNotice.decision_id.in_(decision_ids))
    return list(session.scalars(query))


def list_notices(session: Session, *, state: str | None = None, limit: int = 100) -> list[UserNotice]:
    query = select(UserNotice).order_by(UserNotice.id.desc()).limit(max(1, min(limit, 1000)))
    if state is not None:
        query = query.where(UserNotice.state == state)
    return list(session.scalars(query))


def register(registry: HandlerRegistry, db: Database, options: NoticeOptions, sender: WebhookSender) -> None:
    """``notice.send {"notice": id}``: prepare the notice (withhold it, or make it ready) and send a
    ready one to every configured endpoint (the same signed bytes, the same delivery id, on every
    attempt; the platform dedupes by it). Retryable failures back off through the job queue; with no
    endpoint the pull feed alone carries it. ``notice.release_lifted``: ``release_lifted``."""

    def send(ctx: JobContext) -> None:
        notice_id = ctx.payload.get("notice")
        if not isinstance(notice_id, int):
            raise PermanentFailure(f"job {ctx.job_id} has no integer notice id in its payload")
        with db.session() as session:
            notice = session.get(UserNotice, notice_id)
            if notice is None:
                raise PermanentFailure(f"user notice {notice_id} does not exist")
            prepare(session, notice, options, options.clock())  # committed: the feed has it whatever follows
            if notice.state != NoticeState.READY or not options.endpoints:
                return
            signed = WebhookDelivery(notice.delivery_id, EVENT, notice.signed_body.encode())
        with db.reading() as session:
            if is_on(session, KillSwitch.PAUSE_DELIVERY):
                raise Deferred("outbound delivery is paused by the kill switch", delay_s=PAUSED_RECHECK_S)
        results = [sender.deliver(endpoint, signed) for _, endpoint in sorted(options.endpoints.items())]
        with db.session() as session:
            notice = session.get(UserNotice, notice_id)
            assert notice is not None
            notice.attempts += 1
            bad = [r for r in results if r.outcome != DeliveryOutcome.DELIVERED]
            notice.last_error = bad[0].detail[:2000] if bad else ""
            if not bad:
                notice.state, notice.delivered_at = NoticeState.DELIVERED, utcnow()
        if any(r.outcome == DeliveryOutcome.RETRYABLE for r in bad):
            raise ExternalServiceError(f"user notice {notice_id} not delivered yet: {bad[0].detail}")
        if bad:
            raise PermanentFailure(f"the platform refused user notice {notice_id}: {bad[0].detail}")

    def release_job(ctx: JobContext) -> None:
        assert ctx.transaction is not None  # registered transactional
        release_lifted(ctx.transaction, options, options.clock())

    registry.register(SEND, send, transactional=False)
    registry.register(RELEASE_LIFTED, release_job)
