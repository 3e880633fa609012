"""The legal desk's operations: register authorities, receive a request with its scope, move it
through its states, and read its clocks.

Every change writes the request's timeline and an audit row in the caller's transaction. Every time is
given by the caller (``now``), so tests drive every clock with a fake one.

Business rules (each applied here, each tested):
- A request's kind must have a deadline in its jurisdiction's file: a clock we cannot compute is a
  configuration error to fix, never a request left without a deadline.
- Verifying a request whose jurisdiction limits who may issue it (IT Rules r.3(1)(d): Joint Secretary
  or DIG and above) needs an authority of one of those ranks, or the reason it stands anyway.
- Scope is resolved when received: every account and item named is looked up the way people name
  them (``suraksha.content.lookup``); what cannot be found is kept with why, never dropped.
- A request leaves the open states only as the state table allows (``models.TRANSITIONS``); an
  authority may withdraw any open request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import overload

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from suraksha import audit
from suraksha.content.lookup import UrlPatterns, find_account, find_item
from suraksha.enforcement.models import Action, DecidedBy, Decision
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.legal.clocks import Clock, ClockState, JurisdictionRules, RequestKind, Step
from suraksha.legal.models import (
    OPEN_STATES,
    TRANSITIONS,
    Channel,
    LegalAudit,
    LegalAuthority,
    LegalDisclosure,
    LegalRequest,
    LegalRequestEvent,
    LegalRequestScope,
    RejectReason,
    RequestState,
    ScopeKind,
)
from suraksha.vault.models import PreservationHold

MAX_SCOPE_ENTRIES = 10_000
MAX_TEXT = 20_000
STEP_DONE = {Step.ACKNOWLEDGE: "acknowledged_at", Step.ACT: "acted_at", Step.ANSWER: "answered_at"}
STEP_EVENT = {Step.ACKNOWLEDGE: "acknowledged", Step.ACT: "acted", Step.ANSWER: "answered"}


@dataclass(frozen=True)
class ScopeEntry:
    """One thing a request names, as it named it."""

    kind: ScopeKind
    value: str = ""
    from_at: datetime | None = None
    to_at: datetime | None = None


def _text(name: str, value: str, limit: int = MAX_TEXT) -> str:
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{name} is {len(value)} characters, over {limit}")
    return value


@overload
def _utc(when: datetime, name: str) -> datetime: ...
@overload
def _utc(when: None, name: str) -> None: ...
def _utc(when: datetime | None, name: str) -> datetime | None:
    """Times are kept in UTC; a time without its offset is ambiguous and refused."""
    if when is None:
        return None
    if when.tzinfo is None:
        raise InvalidInput(f"{name} has no offset: give it as 2022-09-20T10:00+05:30 (or Z for UTC)")
    return when.astimezone(UTC)


def _jurisdiction(code: str) -> str:
    code = code.strip().upper()
    country, _, sub = code.partition("-")
    if not (len(country) == 2 and country.isalpha() and (not sub or (sub.isalnum() and len(sub) <= 3))):
        raise InvalidInput(f"jurisdiction {code[:20]!r} is not a code such as IN, IN-DL, US or EU")
    return code


def add_authority(
    session: Session,
    *,
    agency: str,
    jurisdiction: str,
    actor: str,
    unit: str = "",
    officer: str = "",
    rank: str = "",
    contact: str = "",
    verified_how: str = "",
) -> LegalAuthority:
    """Register an authority (an agency, and the officer where the rules ask for one)."""
    if not agency.strip():
        raise InvalidInput("an authority needs its agency (e.g. 'Delhi Police, IFSO')")
    authority = LegalAuthority(
        agency=_text("agency", agency, 200),
        unit=_text("unit", unit, 200),
        officer=_text("officer", officer, 200),
        rank=_text("rank", rank, 100),
        jurisdiction=_jurisdiction(jurisdiction),
        contact=_text("contact", contact, 300),
        verified_how=_text("verified_how", verified_how),
        created_by=actor,
    )
    session.add(authority)
    session.flush()
    audit.record(
        session,
        actor,
        LegalAudit.AUTHORITY_ADD,
        f"legal_authority:{authority.id}",
        {"agency": authority.agency, "rank": authority.rank, "jurisdiction": authority.jurisdiction},
    )
    return authority


@dataclass(frozen=True)
class NewRequest:
    """What arrived: the request as the authority sent it."""

    kind: RequestKind
    jurisdiction: str
    received_at: datetime
    channel: Channel = Channel.EMAIL
    authority_id: int | None = None
    reference: str = ""
    legal_basis: str = ""
    summary: str = ""
    stated_due_at: datetime | None = None
    confidential: bool = False
    confidential_until: datetime | None = None
    scope: Sequence[ScopeEntry] = ()
    external_id: str | None = None


def receive(
    session: Session,
    rules: JurisdictionRules,
    new: NewRequest,
    *,
    actor: str,
    now: datetime,
    patterns: UrlPatterns | None = None,
) -> LegalRequest:
    """Record a request as received (its clocks start at ``received_at``) and resolve its scope.

    The same ``external_id`` again returns the request already received (a platform's portal may
    forward twice); with different content it is a Conflict."""
    kind, jurisdiction, received_at, stated_due_at = (
        new.kind,
        new.jurisdiction,
        new.received_at,
        new.stated_due_at,
    )
    scope, external_id, reference, authority_id = new.scope, new.external_id, new.reference, new.authority_id
    code = _jurisdiction(jurisdiction)
    received_at, stated_due_at = _utc(received_at, "received_at"), _utc(stated_due_at, "stated_due_at")
    if kind is RequestKind.APPEAL:
        raise InvalidInput("a user's appeal is lodged through POST /api/v1/appeals, not at the legal desk")
    if not rules.knows(code, kind):
        raise InvalidInput(
            f"no deadlines for {kind.value} in {code}: add them to a jurisdiction file "
            "(legal_jurisdiction_paths) before receiving such requests"
        )
    if received_at > now + timedelta(minutes=5):
        raise InvalidInput("received_at is in the future: give the time the request arrived")
    if stated_due_at is not None and stated_due_at <= received_at:
        raise InvalidInput("the stated deadline is before the request was received")
    if len(scope) > MAX_SCOPE_ENTRIES:
        raise InvalidInput(f"{len(scope)} scope entries, over {MAX_SCOPE_ENTRIES}: split the request")
    if external_id is not None:
        external_id = _text("external_id", external_id, 200)
        existing = session.scalar(select(LegalRequest).where(LegalRequest.external_id == external_id))
        if existing is not None:
            if existing.kind != kind or existing.reference != reference.strip():
                raise Conflict(f"external id {external_id!r} was already received as request #{existing.id}")
            return existing
    authority = None
    if authority_id is not None:
        authority = session.get(LegalAuthority, authority_id)
        if authority is None:
            raise NotFound(f"no authority #{authority_id}: add it first (`suraksha legal authority add`)")
    request = LegalRequest(
        kind=kind.value,
        jurisdiction=code,
        authority=authority,
        reference=_text("reference", reference, 200),
        external_id=external_id,
        legal_basis=_text("legal_basis", new.legal_basis, 300),
        channel=Channel(new.channel).value,
        summary=_text("summary", new.summary),
        received_at=received_at,
        stated_due_at=stated_due_at,
        # blocking orders are confidential by rule (Blocking Rules 2009 r.16), whatever was ticked
        confidential=new.confidential or kind is RequestKind.BLOCKING_ORDER,
        confidential_until=_utc(new.confidential_until, "confidential_until"),
        state=RequestState.RECEIVED.value,
        created_by=actor,
    )
    session.add(request)
    request.scope.extend(_resolve(session, entry, patterns) for entry in scope)
    _event(request, now, actor, "received", "", RequestState.RECEIVED, f"via {request.channel}")
    session.flush()
    audit.record(
        session,
        actor,
        LegalAudit.RECEIVE,
        f"legal_request:{request.id}",
        {
            "kind": request.kind,
            "jurisdiction": code,
            "scope": len(request.scope),
            "reference": request.reference,
        },
    )
    return request


def forward(
    session: Session,
    rules: JurisdictionRules,
    new: NewRequest,
    *,
    authority: dict[str, str] | None,
    actor: str,
    now: datetime,
    patterns: UrlPatterns | None = None,
) -> tuple[LegalRequest, bool]:
    """A request a platform forwards from its own portal: the sender is registered on first sight
    (the same agency, officer, rank and jurisdiction is the same authority; unverified until the desk
    verifies the request). Returns the request and whether it is new (False: the same external id was
    forwarded before)."""
    if new.external_id is None:
        raise InvalidInput("a forwarded request needs its external_id (the portal's own id)")
    before = session.scalar(select(LegalRequest.id).where(LegalRequest.external_id == new.external_id))
    authority_id = None
    if authority is not None:
        same = session.scalar(
            select(LegalAuthority.id).where(
                LegalAuthority.agency == authority.get("agency", "").strip(),
                LegalAuthority.officer == authority.get("officer", "").strip(),
                LegalAuthority.rank == authority.get("rank", "").strip(),
                LegalAuthority.jurisdiction == _jurisdiction(authority.get("jurisdiction", "")),
            )
        )
        authority_id = same or add_authority(session, actor=actor, **authority).id
    request = receive(
        session, rules, replace(new, authority_id=authority_id), actor=actor, now=now, patterns=patterns
    )
    return request, before is None


def _resolve(session: Session, entry: ScopeEntry, patterns: UrlPatterns | None) -> LegalRequestScope:
    row = LegalRequestScope(
        kind=ScopeKind(entry.kind).value,
        value=_text("scope value", entry.value, 2000),
        from_at=entry.from_at,
        to_at=entry.to_at,
    )
    try:
        if entry.kind is ScopeKind.ACCOUNT:
            row.account_id = find_account(session, entry.value, patterns).id
        elif entry.kind in (ScopeKind.ITEM, ScopeKind.URL):
            item = find_item(session, entry.value, patterns)
            row.item_id, row.account_id = item.id, item.account_id
        elif entry.from_at is None or entry.to_at is None or entry.from_at >= entry.to_at:
            raise InvalidInput("a date range needs a start before its end")
    except (NotFound, Conflict) as exc:
        row.not_found = str(exc)
    return row


def record_event(
    session: Session, request: LegalRequest, at: datetime, actor: str, event: str, note: str = ""
) -> None:
    """A line on the request's timeline (besides state changes), and its audit row."""
    _event(request, at, actor, event, request.state, request.state, _text("note", note))
    session.flush()
    audit.record(
        session, actor, LegalAudit.STATE, f"legal_request:{request.id}", {"event": event, "note": note[:500]}
    )


def _event(
    request: LegalRequest,
    at: datetime,
    actor: str,
    event: str,
    from_state: str,
    to_state: str,
    note: str = "",
) -> None:
    request.events.append(
        LegalRequestEvent(
            at=at, actor=actor, event=event, from_state=from_state, to_state=to_state, note=note
        )
    )


def get_request(session: Session, request_id: int) -> LegalRequest:
    found = session.scalar(
        select(LegalRequest)
        .where(LegalRequest.id == request_id)
        .options(selectinload(LegalRequest.scope), selectinload(LegalRequest.events))
    )
    if found is None:
        raise NotFound(f"no legal request #{request_id}")
    return found


def _move(
    session: Session, request: LegalRequest, to: RequestState, *, actor: str, now: datetime, note: str
) -> LegalRequest:
    current = RequestState(request.state)
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(s.value for s in sorted(TRANSITIONS[current])) or "nothing (it is closed)"
        raise Conflict(f"request #{request.id} is {current.value}: it can go to {allowed}, not {to.value}")
    request.state, request.state_reason = to.value, note
    if to in (RequestState.ANSWERED, RequestState.PARTLY_ANSWERED) and request.answered_at is None:
        request.answered_at = now
    if to is RequestState.CLOSED:
        request.closed_at = now
    _event(request, now, actor, "state", current, to, note)
    session.flush()
    audit.record(
        session,
        actor,
        LegalAudit.STATE,
        f"legal_request:{request.id}",
        {"from": current.value, "to": to.value, "note": note[:500]},
    )
    return request


def verify(
    session: Session,
    rules: JurisdictionRules,
    request_id: int,
    *,
    actor: str,
    how: str,
    now: datetime,
    rank_accepted_because: str = "",
) -> LegalRequest:
    """The desk has checked the request is genuine and lawful. Where the jurisdiction limits who may
    issue it, the authority's rank must be one of those, or ``rank_accepted_because`` says why the
    request stands (counsel's view, recorded)."""
    request = get_request(session, request_id)
    if not how.strip():
        raise InvalidInput("say how the request was verified (e.g. 'called back on the published number')")
    issuer = rules.issuer_rule(request.jurisdiction, RequestKind(request.kind))
    note = _text("how", how)
    if issuer is not None:
        rank = request.authority.rank if request.authority is not None else ""
        if not issuer.allows(rank):
            if not rank_accepted_because.strip():
                raise Conflict(
                    f"{request.kind} in {request.jurisdiction} may be issued only by "
                    f"{', '.join(issuer.ranks)} ({issuer.source}); the authority's rank is "
                    f"{rank or 'not recorded'}: reject it (reason wrong_rank), or say why it stands"
                )
            note += (
                f"; rank {rank or 'not recorded'} accepted because: {_text('reason', rank_accepted_because)}"
            )
    return _move(session, request, RequestState.VERIFIED, actor=actor, now=now, note=note)


def reject(
    session: Session, request_id: int, *, reason: RejectReason, detail: str, actor: str, now: datetime
) -> LegalRequest:
    """Not acted on, with the reason (it goes back to the authority in the answer)."""
    request = get_request(session, request_id)
    note = f"{RejectReason(reason).value}: {_text('detail', detail)}".rstrip(": ")
    return _move(session, request, RequestState.REJECTED, actor=actor, now=now, note=note)


def start(session: Session, request_id: int, *, actor: str, now: datetime, note: str = "") -> LegalRequest:
    return _move(
        session, get_request(session, request_id), RequestState.IN_PROGRESS, actor=actor, now=now, note=note
    )


def answer(
    session: Session, request_id: int, *, actor: str, now: datetime, partly_because: str = ""
) -> LegalRequest:
    """Answered; ``partly_because`` says why part of it was not (no such account, out of scope...)."""
    request = get_request(session, request_id)
    if partly_because.strip():
        return _move(
            session,
            request,
            RequestState.PARTLY_ANSWERED,
            actor=actor,
            now=now,
            note=_text("why", partly_because),
        )
    return _move(session, request, RequestState.ANSWERED, actor=actor, now=now, note="")


def close(session: Session, request_id: int, *, actor: str, now: datetime, note: str = "") -> LegalRequest:
    return _move(
        session, get_request(session, request_id), RequestState.CLOSED, actor=actor, now=now, note=note
    )


def withdraw(session: Session, request_id: int, *, actor: str, now: datetime, note: str) -> LegalRequest:
    """The authority took the request back: any open request closes."""
    request = get_request(session, request_id)
    if request.state not in OPEN_STATES:
        raise Conflict(f"request #{request.id} is {request.state}: only an open request can be withdrawn")
    current = request.state
    request.state, request.state_reason, request.closed_at = (
        RequestState.CLOSED.value,
        f"withdrawn: {note}",
        now,
    )
    _event(request, now, actor, "withdrawn", current, RequestState.CLOSED, _text("note", note))
    session.flush()
    audit.record(
        session,
        actor,
        LegalAudit.STATE,
        f"legal_request:{request.id}",
        {"from": current, "to": "closed", "withdrawn": True},
    )
    return request


def mark_done(
    session: Session, request_id: int, step: Step, *, actor: str, now: datetime, note: str = ""
) -> LegalRequest:
    """Stop one clock: acknowledged, acted (removed, withheld, preserved) or answered, at ``now``."""
    if step not in STEP_DONE:
        raise InvalidInput(f"the {step.value} clock is a hold period, not a step to mark done")
    request = get_request(session, request_id)
    if request.state not in OPEN_STATES:
        raise Conflict(f"request #{request.id} is {request.state}: its clocks have stopped")
    column = STEP_DONE[step]
    if getattr(request, column) is not None:
        return request
    setattr(request, column, now)
    _event(
        request,
        now,
        actor,
        STEP_EVENT[step],
        request.state,
        request.state,
        note,
    )
    session.flush()
    audit.record(session, actor, LegalAudit.STATE, f"legal_request:{request.id}", {"step": step.value})
    return request


def clocks(rules: JurisdictionRules, request: LegalRequest, now: datetime) -> list[Clock]:
    """Every clock of the request at ``now`` (a rejected or closed request's unmet clocks stop where
    they were: nothing more is owed on them)."""
    stopped = request.closed_at if request.state in (RequestState.CLOSED, RequestState.REJECTED) else None
    if request.state == RequestState.REJECTED:
        stopped = next((e.at for e in reversed(request.events) if e.to_state == RequestState.REJECTED), now)
    result = []
    for rule in rules.steps(request.jurisdiction, RequestKind(request.kind)):
        if rule.step is Step.HOLD:
            continue  # a hold period is the vault's clock, shown with the hold
        done = getattr(request, STEP_DONE[rule.step])
        result.append(
            rules.clock(
                request.jurisdiction,
                RequestKind(request.kind),
                rule.step,
                started_at=request.received_at,
                now=stopped or now,
                stated_due_at=request.stated_due_at,
                done_at=done,
            )
        )
    return result


def list_requests(session: Session, *, open_only: bool = True, limit: int = 500) -> list[LegalRequest]:
    """Requests, newest first (open ones only by default)."""
    query = select(LegalRequest).options(selectinload(LegalRequest.events), selectinload(LegalRequest.scope))
    if open_only:
        query = query.where(LegalRequest.state.in_([s.value for s in OPEN_STATES]))
    return list(session.scalars(query.order_by(LegalRequest.received_at.desc()).limit(limit)).all())


def list_authorities(session: Session) -> list[LegalAuthority]:
    return list(
        session.scalars(select(LegalAuthority).order_by(LegalAuthority.agency, LegalAuthority.id)).all()
    )


def authority_dict(authority: LegalAuthority) -> dict[str, object]:
    return {
        "id": authority.id,
        "agency": authority.agency,
        "unit": authority.unit,
        "officer": authority.officer,
        "rank": authority.rank,
        "jurisdiction": authority.jurisdiction,
        "contact": authority.contact,
        "verified_how": authority.verified_how,
        "active": authority.active,
    }


@dataclass(frozen=True)
class DueClock:
    request: LegalRequest
    clock: Clock


def due(
    session: Session, rules: JurisdictionRules, *, now: datetime, within: timedelta | None = None
) -> list[DueClock]:
    """The unmet clocks of open requests, soonest first (overdue at the top); with ``within``, only
    those due by ``now + within`` (or already overdue)."""
    requests = session.scalars(
        select(LegalRequest)
        .where(LegalRequest.state.in_([s.value for s in OPEN_STATES]))
        .options(selectinload(LegalRequest.events))
    ).all()
    result = [
        DueClock(request, clock)
        for request in requests
        for clock in clocks(rules, request, now)
        if clock.done_at is None and (within is None or clock.due_at <= now + within)
    ]
    return sorted(result, key=lambda d: (d.clock.state is not ClockState.OVERDUE, d.clock.due_at))


def _outcomes(request: LegalRequest, now: datetime) -> dict[str, object]:
    """What the request made happen: the vault holds placed for it and the actions taken under it."""
    session = object_session(request)
    if session is None or request.id is None:
        return {"holds": [], "actions": [], "disclosures": []}
    ref = f"legal_request:{request.id}"
    holds = session.scalars(
        select(PreservationHold).where(PreservationHold.reference == ref).order_by(PreservationHold.id)
    ).all()
    actions = session.execute(
        select(Action.id, Action.kind, Action.item_id, Action.countries, Action.state, Action.created_at)
        .join(Decision, Decision.id == Action.decision_id)
        .where(Decision.decided_by == DecidedBy.LEGAL, Decision.decided_by_ref == ref)
        .order_by(Action.id)
    ).all()
    disclosures = session.scalars(
        select(LegalDisclosure).where(LegalDisclosure.request_id == request.id).order_by(LegalDisclosure.id)
    ).all()
    return {
        "disclosures": [
            {
                "id": d.id,
                "kind": d.kind,
                "state": d.state,
                "drafted_by": d.drafted_by,
                "approved_by": d.approved_by,
                "sent_via": d.sent_via,
            }
            for d in disclosures
        ],
        "holds": [
            {
                "id": h.id,
                "preservation_id": h.preservation_id,
                "expires_at": h.expires_at.isoformat(),
                "extensions": h.extensions,
                "active": h.released_at is None and h.expires_at > now,
            }
            for h in holds
        ],
        "actions": [
            {
                "id": a.id,
                "kind": a.kind,
                "item_id": a.item_id,
                "countries": a.countries,
                "state": a.state,
                "at": a.created_at.isoformat(),
            }
            for a in actions
        ],
    }


def request_dict(request: LegalRequest, rules: JurisdictionRules, now: datetime) -> dict[str, object]:
    authority = request.authority
    return {
        "id": request.id,
        "kind": request.kind,
        "jurisdiction": request.jurisdiction,
        "state": request.state,
        "state_reason": request.state_reason,
        "reference": request.reference,
        "legal_basis": request.legal_basis,
        "channel": request.channel,
        "received_at": request.received_at.isoformat(),
        "stated_due_at": request.stated_due_at.isoformat() if request.stated_due_at else None,
        "confidential": request.confidential,
        "authority": None
        if authority is None
        else {
            "id": authority.id,
            "agency": authority.agency,
            "officer": authority.officer,
            "rank": authority.rank,
        },
        "scope": [
            {
                "kind": s.kind,
                "value": s.value,
                "account_id": s.account_id,
                "item_id": s.item_id,
                "not_found": s.not_found,
            }
            for s in request.scope
        ],
        "clocks": [c.as_dict() for c in clocks(rules, request, now)],
        **_outcomes(request, now),
        "events": [
            {"at": e.at.isoformat(), "actor": e.actor, "event": e.event, "to": e.to_state, "note": e.note}
            for e in request.events
        ],
    }
