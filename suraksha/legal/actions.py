"""What a request makes happen: preservation holds on everything in scope, and withholding or removal
under a blocking order or removal notice, each recorded as the legal desk's decision naming the request.

Business rules (each tested):
- Everything in scope is acted on: the items named, and every item of each account named (within the
  request's date range, when it gives one). A scope in which nothing was found is an error, not a
  silent success.
- A preservation places vault holds (basis ``law_enforcement_request``, reference ``legal_request:ID``)
  for the period the jurisdiction file gives preservation (IT Rules r.3(1)(g): 180 days; 18 U.S.C.
  2703(f): 90 days, renewable once); the evidence is copied into the vault by the preservation job. The
  holds end only with the request (closing or withdrawing it releases them) or when renewed, within
  the renewals the rule allows. Preserving is allowed from receipt: it only keeps data.
- Withholding and removal need a verified request (an unverified order removes nothing), and each
  action records the order as its basis. When the authority revokes the order (``withdraw``), what was
  withheld or removed under it is restored.
- The step's clock stops when the desk acts (``acted_at``), so receipt-to-action is recorded per
  request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.content.models import Item
from suraksha.enforcement.follow_ups import DecisionFollowUps
from suraksha.enforcement.models import Action, ActionKind, ActionTarget, DecidedBy, Decision, Verdict
from suraksha.enforcement.services import add_action
from suraksha.errors import Conflict, InvalidInput
from suraksha.legal.clocks import JurisdictionRules, RequestKind, Step
from suraksha.legal.models import LegalRequest, RequestState
from suraksha.legal.services import get_request, record_event
from suraksha.vault.holds import HoldActor, HoldPeriods, extend_hold, place_hold, release_hold
from suraksha.vault.models import PreservationHold

HOLD_BASIS = "law_enforcement_request"
ACTING_STATES = frozenset({RequestState.VERIFIED, RequestState.IN_PROGRESS, RequestState.PARTLY_ANSWERED})
MAX_SCOPE_ITEMS = 100_000


def reference(request: LegalRequest) -> str:
    return f"legal_request:{request.id}"


def items_in_scope(session: Session, request: LegalRequest) -> list[Item]:
    """The items the request names, and every item of each account it names (within its date range)."""
    ids: dict[int, None] = {}
    for entry in request.scope:
        if entry.item_id is not None:
            ids[entry.item_id] = None
        elif entry.account_id is not None:
            query = select(Item.id).where(Item.account_id == entry.account_id)
            if entry.from_at is not None:
                query = query.where(Item.received_at >= entry.from_at)
            if entry.to_at is not None:
                query = query.where(Item.received_at < entry.to_at)
            ids.update(dict.fromkeys(session.scalars(query.order_by(Item.id).limit(MAX_SCOPE_ITEMS + 1))))
        if len(ids) > MAX_SCOPE_ITEMS:
            raise InvalidInput(
                f"the request's scope holds over {MAX_SCOPE_ITEMS} items: narrow it by date range"
            )
    if not ids:
        raise InvalidInput(
            f"nothing in request #{request.id}'s scope was found here: no item or account to act on "
            "(its scope entries say why)"
        )
    return list(session.scalars(select(Item).where(Item.id.in_(list(ids))).order_by(Item.id)))


def _decision(session: Session, request: LegalRequest, item: Item, actor: str) -> Decision:
    """The legal desk's decision on ``item`` for ``request`` (one per item and request)."""
    ref = reference(request)
    existing = session.scalar(
        select(Decision).where(
            Decision.item_id == item.id,
            Decision.decided_by == DecidedBy.LEGAL,
            Decision.decided_by_ref == ref,
        )
    )
    if existing is not None:
        return existing
    decision = Decision(
        item_id=item.id,
        verdict=Verdict.LEGAL_ORDER,
        category="",
        automated=False,
        decided_by=DecidedBy.LEGAL,
        decided_by_ref=ref,
        basis=json.dumps(
            [
                {
                    "legal_request": request.id,
                    "kind": request.kind,
                    "jurisdiction": request.jurisdiction,
                    "reference": request.reference,
                    "legal_basis": request.legal_basis,
                    "by": actor,
                }
            ]
        ),
        reason=f"{request.kind} {request.reference}".strip()
        + (f" ({request.legal_basis})" if request.legal_basis else ""),
    )
    session.add(decision)
    session.flush()
    return decision


def _hold_periods(rules: JurisdictionRules, request: LegalRequest) -> tuple[HoldPeriods, int]:
    rule = rules.rule(request.jurisdiction, RequestKind.PRESERVATION, Step.HOLD)
    days = max(1, rule.within // timedelta(days=1))
    code = request.jurisdiction.upper()
    return HoldPeriods({(HOLD_BASIS, code): days, (HOLD_BASIS, ""): days}), rule.renewals


def preserve(
    session: Session,
    rules: JurisdictionRules,
    request_id: int,
    *,
    actor: str,
    now: datetime,
    follow_ups: DecisionFollowUps,
) -> list[PreservationHold]:
    """Preserve everything in the request's scope and hold it for the jurisdiction's period."""
    request = get_request(session, request_id)
    if RequestState(request.state) in (RequestState.REJECTED, RequestState.CLOSED):
        raise Conflict(f"request #{request.id} is {request.state}: nothing is preserved for it")
    items = items_in_scope(session, request)
    for item in items:
        add_action(
            session,
            _decision(session, request, item, actor),
            item,
            ActionKind.PRESERVE,
            automated=False,
            follow_ups=follow_ups,
        )
    periods, _ = _hold_periods(rules, request)
    holds = place_hold(
        session,
        basis=HOLD_BASIS,
        reference=reference(request),
        actor=actor,
        periods=periods,
        item_ids=[i.id for i in items],
        jurisdiction=request.jurisdiction,
        starts_at=now,
    )
    if RequestKind(request.kind) is RequestKind.PRESERVATION and request.acted_at is None:
        request.acted_at = now
    until = max(h.expires_at for h in holds)
    record_event(
        session,
        request,
        now,
        actor,
        "preserved",
        f"{len(items)} items, {len(holds)} holds to {until:%Y-%m-%d}",
    )
    return holds


def holds_of(session: Session, request: LegalRequest) -> list[PreservationHold]:
    return list(
        session.scalars(
            select(PreservationHold)
            .where(PreservationHold.reference == reference(request))
            .order_by(PreservationHold.id)
        )
    )


def renew(
    session: Session, rules: JurisdictionRules, request_id: int, *, actor: str, now: datetime, reason: str
) -> list[PreservationHold]:
    """The authority renewed its preservation request: every active hold runs one more period, within the
    renewals the jurisdiction allows (18 U.S.C. 2703(f)(2): once)."""
    request = get_request(session, request_id)
    periods, allowed = _hold_periods(rules, request)
    active = [h for h in holds_of(session, request) if h.released_at is None and h.expires_at > now]
    if not active:
        raise Conflict(f"request #{request.id} has no active hold to renew: preserve its scope first")
    if max(h.extensions for h in active) >= allowed:
        raise Conflict(
            f"the preservation under request #{request.id} was renewed {allowed} time(s), all that "
            f"{request.jurisdiction} allows: a new request is needed"
        )
    for hold in active:
        extend_hold(
            session, hold.id, actor=actor, periods=periods, reason=reason or "renewed by the authority"
        )
    record_event(session, request, now, actor, "renewed", reason)
    return active


def release_holds(
    session: Session, request: LegalRequest, *, actor: HoldActor, now: datetime, reason: str
) -> int:
    """The request ended: its holds are released (other holds on the same evidence stay)."""
    released = 0
    for hold in holds_of(session, request):
        if hold.released_at is None and hold.expires_at > now:
            release_hold(session, hold.id, actor=actor, reason=f"{reference(request)} ended: {reason}"[:1000])
            released += 1
    return released


def act(
    session: Session,
    request_id: int,
    kind: ActionKind,
    *,
    actor: str,
    now: datetime,
    countries: Sequence[str] = (),
    follow_ups: DecisionFollowUps,
) -> list[Action]:
    """Withhold (in ``countries``; default the request's country) or remove everything in scope under a
    verified order, the order recorded as each action's basis; stops the request's act clock."""
    if kind not in (ActionKind.WITHHOLD, ActionKind.REMOVE):
        raise InvalidInput("an order is carried out by withholding (in named countries) or removing")
    request = get_request(session, request_id)
    if RequestState(request.state) not in ACTING_STATES:
        raise Conflict(
            f"request #{request.id} is {request.state}: verify it before acting on it (an unverified order "
            "removes nothing)"
        )
    if kind is ActionKind.WITHHOLD:
        countries = [c.strip().upper() for c in countries if c.strip()] or [request.jurisdiction[:2].upper()]
        bad = [c for c in countries if len(c) != 2 or not c.isalpha()]
        if bad:
            raise InvalidInput(f"countries are two-letter codes (IN, US): not {', '.join(bad)}")
    actions = [
        add_action(
            session,
            _decision(session, request, item, actor),
            item,
            kind,
            automated=False,
            countries=countries,
            follow_ups=follow_ups,
        )
        for item in items_in_scope(session, request)
    ]
    if request.acted_at is None:
        request.acted_at = now
    where = f" in {' '.join(countries)}" if kind is ActionKind.WITHHOLD else ""
    record_event(session, request, now, actor, "acted", f"{kind.value}{where}: {len(actions)} items")
    return actions


def lift(
    session: Session, request: LegalRequest, *, actor: str, now: datetime, follow_ups: DecisionFollowUps
) -> int:
    """The order was revoked: restore every item withheld or removed under it."""
    ref = reference(request)
    taken = session.scalars(
        select(Action)
        .join(Decision, Decision.id == Action.decision_id)
        .where(
            Decision.decided_by == DecidedBy.LEGAL,
            Decision.decided_by_ref == ref,
            Action.kind.in_([ActionKind.WITHHOLD, ActionKind.REMOVE]),
        )
    ).all()
    restored = 0
    for action in taken:
        decision = session.get(Decision, action.decision_id)
        item = session.get(Item, action.item_id)
        if decision is None or item is None:  # pragma: no cover - foreign keys
            continue
        add_action(
            session,
            decision,
            item,
            ActionKind.RESTORE,
            automated=False,
            target=ActionTarget.ITEM,
            follow_ups=follow_ups,
        )
        restored += 1
    if restored:
        record_event(
            session, request, now, actor, "lifted", f"{restored} items restored: the order was revoked"
        )
    return restored
