"""Statements of reasons (DSA Art. 17), one per restriction, submitted to the Transparency Database
(Art. 24(5)) in its API's format, each submission recorded so nothing is sent twice and failures retry.

Business rules (each tested):
- A restriction is a remove, withhold, restrict or suspend action the platform took (state delivered or
  done). A restore, a preservation, a report, an action still pending, failed, or recorded as already in
  force from an earlier decision owes no statement.
- Only EU-relevant restrictions get one (``dsa_sor_scope``): ``eea_effect`` (the default) takes every
  restriction that takes effect in the EEA, so a withhold only outside it has none; ``eea_only`` takes only
  withholds naming an EEA state and the desk's actions on orders of EEA (or Union) authorities. An action
  considered and left out is recorded as ``not_required`` with why, so it is never looked at again.
- The statement says what the records say: the ground is illegal content for CSAM and for an authority's
  order (naming its legal basis), otherwise incompatibility with the terms (``dsa_sor_terms_ground``);
  detection is automated when a hash list or a rule found the item; the decision is fully automated when
  no person decided, partly when a person decided on an automated finding. No personal data goes into it
  (no handle, no text of the post): the facts name the kind of finding only.
- The ``puid`` is ``<dsa_sor_puid_prefix>-action-<action id>``: unique, and the same on every attempt, so
  an attempt whose answer was lost is recognised when the API says the puid is taken.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.content.models import Item, ItemMatch, ItemMedia, ItemRuleHit
from suraksha.db.engine import Database
from suraksha.enforcement.grounds import ILLEGAL_GROUND
from suraksha.enforcement.models import Action, ActionKind, ActionState, DecidedBy, Decision, Verdict
from suraksha.errors import InvalidInput, NotFound
from suraksha.legal.models import LegalRequest
from suraksha.outbound.webhooks import backoff_delay
from suraksha.settings import Settings
from suraksha.transparency.measures import EEA_STATES
from suraksha.transparency.models import StatementOfReasons, StatementState
from suraksha.transparency.ports import Outcome, StatementsApi

RESTRICTIONS = (
    ActionKind.REMOVE.value,
    ActionKind.WITHHOLD.value,
    ActionKind.RESTRICT.value,
    ActionKind.SUSPEND.value,
)
TAKEN = (ActionState.DELIVERED.value, ActionState.DONE.value)
NOT_REQUIRED = "not_required"
SOR_RETRY = "transparency:sor_retry"
STALE_INTENT = timedelta(minutes=10)
"""A ``submitting`` row older than this lost its worker: it is sent again (the puid makes that safe)."""

_MINORS, _CONSENT = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"
_GROOMING = "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"
_CATEGORY = {
    "csam": (_MINORS, "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"),
    "sale_or_solicitation": (_MINORS, _GROOMING),
    "sale_solicitation": (_MINORS, _GROOMING),
    "payment_request": (_MINORS, _GROOMING),
    "contact_offsite": (_MINORS, _GROOMING),
    "ncii": (_CONSENT, "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"),
    "intimate_imagery": (_CONSENT, "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"),
    "sexual_violence": (_CONSENT, "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE"),
    "terrorism": ("STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "KEYWORD_TERRORIST_CONTENT"),
    "impersonation": ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING"),
}
_ILLEGAL_GROUND = ILLEGAL_GROUND


@dataclass(frozen=True)
class SorOptions:
    enabled: bool = False
    scope: str = "eea_effect"
    since: datetime | None = None
    puid_prefix: str = "suraksha"
    terms_ground: str = "Terms of service"
    terms_url: str = ""
    max_attempts: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> SorOptions:
        since = None
        if settings.dsa_sor_since:
            day = date.fromisoformat(settings.dsa_sor_since)
            since = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return cls(
            enabled=settings.dsa_sor_enabled,
            scope=settings.dsa_sor_scope,
            since=since,
            puid_prefix=settings.dsa_sor_puid_prefix,
            terms_ground=settings.dsa_sor_terms_ground,
            terms_url=settings.dsa_sor_terms_url,
            max_attempts=settings.dsa_sor_max_attempts,
        )


def _countries(action: Action) -> list[str]:
    return [c for c in action.countries.split() if c]


def _order(session: Session, decision: Decision) -> LegalRequest | None:
    if decision.decided_by != DecidedBy.LEGAL or not decision.decided_by_ref.startswith("legal_request:"):
        return None
    try:
        return session.get(LegalRequest, int(decision.decided_by_ref.split(":", 1)[1]))
    except ValueError:
        return None


def not_required(session: Session, action: Action, decision: Decision, options: SorOptions) -> str | None:
    """Why ``action`` owes no statement, or None when it owes one (module docstring)."""
    if action.kind not in RESTRICTIONS:
        return f"{action.kind} is not a restriction"
    eea = [c for c in _countries(action) if c in EEA_STATES]
    if action.kind == ActionKind.WITHHOLD and not eea:
        return f"withheld only outside the EEA ({action.countries or 'no country named'})"
    if options.scope == "eea_only" and not eea:
        order = _order(session, decision)
        if order is None or order.jurisdiction.split("-")[0] not in (*EEA_STATES, "EU"):
            return "not aimed at the EEA (dsa_sor_scope eea_only)"
    return None


def build(session: Session, action: Action, decision: Decision, options: SorOptions) -> dict[str, Any]:
    """The statement of reasons for ``action`` in the Transparency Database API's format."""
    item = session.get(Item, action.item_id)
    if item is None:  # pragma: no cover - foreign key
        raise NotFound(f"action #{action.id} names no item")
    matched = session.scalar(
        select(ItemMatch.id).where(ItemMatch.item_id == item.id, ItemMatch.suppressed.is_(False)).limit(1)
    )
    ruled = session.scalar(select(ItemRuleHit.id).where(ItemRuleHit.item_id == item.id).limit(1))
    automated_detection = matched is not None or ruled is not None or decision.automated
    order = _order(session, decision)
    category = decision.category.strip().lower()
    statement_category, keyword = _CATEGORY.get(
        category, ("STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE", "")
    )
    statement: dict[str, Any] = {}
    if action.kind == ActionKind.SUSPEND:
        statement["decision_account"] = "DECISION_ACCOUNT_SUSPENDED"
    elif action.kind == ActionKind.REMOVE:
        statement["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    elif action.kind == ActionKind.WITHHOLD:
        statement["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    else:
        statement["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"]
    if order is not None or decision.verdict == Verdict.LEGAL_ORDER:
        basis = (
            (order.legal_basis or order.kind.replace("_", " "))
            if order is not None
            else "an authority's order"
        )
        where = f" of {order.jurisdiction}" if order is not None else ""
        statement.update(
            decision_ground="DECISION_GROUND_ILLEGAL_CONTENT",
            illegal_content_legal_ground=basis[:500],
            illegal_content_explanation=f"An order of a competent authority{where} found the content illegal "
            f"under {basis}"[:2000],
        )
    elif category in _ILLEGAL_GROUND:
        statement.update(
            decision_ground="DECISION_GROUND_ILLEGAL_CONTENT",
            illegal_content_legal_ground=_ILLEGAL_GROUND[category],
            illegal_content_explanation="The content is child sexual abuse material, whose dissemination is "
            "a criminal offence in every Member State.",
        )
    else:
        statement.update(
            decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
            incompatible_content_ground=options.terms_ground[:500],
            incompatible_content_explanation=f"The content falls under the terms' rules on "
            f"{(category or 'prohibited content').replace('_', ' ')}.",
            incompatible_content_illegal="Yes" if category in _CATEGORY else "No",
        )
        if options.terms_url:
            statement["decision_ground_reference_url"] = options.terms_url[:500]
    statement["category"] = statement_category
    if keyword:
        statement["category_specification"] = [keyword]
    statement["content_type"] = _content_types(session, item)
    if "CONTENT_TYPE_OTHER" in statement["content_type"]:
        statement["content_type_other"] = item.kind
    eea = [c for c in _countries(action) if c in EEA_STATES]
    if order is not None and order.jurisdiction.split("-")[0] in EEA_STATES and not eea:
        eea = [order.jurisdiction.split("-")[0]]
    statement["territorial_scope"] = sorted(eea) if eea else list(EEA_STATES)
    posted = item.posted_at or item.received_at
    statement["content_date"] = posted.date().isoformat()
    statement["application_date"] = max(action.created_at.date(), posted.date()).isoformat()
    statement["decision_facts"] = _facts(decision, matched is not None, ruled is not None, order)
    statement["source_type"] = _source(item, order)
    statement["automated_detection"] = "Yes" if automated_detection else "No"
    statement["automated_decision"] = (
        "AUTOMATED_DECISION_FULLY"
        if decision.automated
        else "AUTOMATED_DECISION_PARTIALLY"
        if automated_detection
        else "AUTOMATED_DECISION_NOT_AUTOMATED"
    )
    statement["puid"] = puid_of(action, options)
    return statement


def puid_of(action: Action, options: SorOptions) -> str:
    return f"{options.puid_prefix}-action-{action.id}"


def _content_types(session: Session, item: Item) -> list[str]:
    found: set[str] = set()
    for declared, fmt in session.execute(
        select(ItemMedia.declared_type, ItemMedia.media_format).where(ItemMedia.item_id == item.id)
    ).all():
        kind = f"{declared or ''} {fmt or ''}".lower()
        if "video" in kind or any(v in kind for v in ("mp4", "webm", "mov")):
            found.add("CONTENT_TYPE_VIDEO")
        elif "audio" in kind:
            found.add("CONTENT_TYPE_AUDIO")
        else:
            found.add("CONTENT_TYPE_IMAGE")
    if item.text.strip():
        found.add("CONTENT_TYPE_TEXT")
    return sorted(found) or ["CONTENT_TYPE_OTHER"]


def _facts(decision: Decision, matched: bool, ruled: bool, order: LegalRequest | None) -> str:
    if order is not None:
        return f"Acted on an order ({order.kind.replace('_', ' ')}) received from a competent authority."
    found = []
    if matched:
        found.append("matched a list of hashes of known material")
    if ruled:
        found.append("matched a text rule")
    how = " and ".join(found) or "was reported or flagged"
    who = "by automated policy" if decision.automated else "by a trained reviewer"
    category = decision.category or "unspecified"
    return f"The content {how}; the decision was taken {who} under category {category}."


def _source(item: Item, order: LegalRequest | None) -> str:
    if order is not None:
        return "SOURCE_TYPE_OTHER_NOTIFICATION"
    if item.reporter_kind == "trusted_flagger":
        return "SOURCE_TRUSTED_FLAGGER"
    if item.reporter_kind == "user":
        return "SOURCE_ARTICLE_16"
    return "SOURCE_VOLUNTARY"


def record_due(session: Session, options: SorOptions, *, limit: int = 500) -> int:
    """Write the statement (or its not-required mark) of each restriction the platform took that has
    none yet, oldest first; returns how many statements were written."""
    query = (
        select(Action, Decision)
        .join(Decision, Decision.id == Action.decision_id)
        .outerjoin(StatementOfReasons, StatementOfReasons.action_id == Action.id)
        .where(StatementOfReasons.id.is_(None), Action.kind.in_(RESTRICTIONS), Action.state.in_(TAKEN))
        .order_by(Action.id)
        .limit(limit)
    )
    if options.since is not None:
        query = query.where(Action.created_at >= options.since)
    written = 0
    for action, decision in session.execute(query).all():
        why = not_required(session, action, decision, options)
        body = {} if why else build(session, action, decision, options)
        session.add(
            StatementOfReasons(
                action_id=action.id,
                decision_id=decision.id,
                puid=puid_of(action, options),
                state=NOT_REQUIRED if why else StatementState.PENDING,
                body=json.dumps(body, sort_keys=True, ensure_ascii=False),
                error=why or "",
            )
        )
        written += not why
    session.flush()
    return written


@dataclass(frozen=True)
class SubmitCounts:
    submitted: int = 0
    refused: int = 0
    retrying: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "submitted": self.submitted,
            "refused": self.refused,
            "retrying": self.retrying,
            "failed": self.failed,
        }


def submit_due(
    db: Database,
    api: StatementsApi,
    options: SorOptions,
    *,
    now: datetime,
    limit: int = 100,
    ids: Sequence[int] = (),
) -> SubmitCounts:
    """Submit each due statement (pending and due, or an intent left by a worker that died): the intent
    is committed before the call, the outcome after it (module docstring of ``models``)."""
    with db.session() as session:
        query = select(StatementOfReasons.id).where(
            (
                (StatementOfReasons.state == StatementState.PENDING)
                & (StatementOfReasons.next_attempt_at.is_(None) | (StatementOfReasons.next_attempt_at <= now))
            )
            | (
                (StatementOfReasons.state == StatementState.SUBMITTING)
                & (StatementOfReasons.last_attempt_at < now - STALE_INTENT)
            )
        )
        if ids:
            query = query.where(StatementOfReasons.id.in_(list(ids)))
        due = list(session.scalars(query.order_by(StatementOfReasons.id).limit(limit)))
    counts = {"submitted": 0, "refused": 0, "retrying": 0, "failed": 0}
    for statement_id in due:
        with db.session() as session:
            claimed = session.execute(
                update(StatementOfReasons)
                .where(
                    StatementOfReasons.id == statement_id,
                    StatementOfReasons.state.in_((StatementState.PENDING, StatementState.SUBMITTING)),
                )
                .values(
                    state=StatementState.SUBMITTING,
                    attempts=StatementOfReasons.attempts + 1,
                    last_attempt_at=now,
                )
            ).rowcount  # type: ignore[attr-defined]
            row = session.get(StatementOfReasons, statement_id)
            if not claimed or row is None:
                continue
            body, attempts = json.loads(row.body), row.attempts
        result = api.submit(body)
        with db.session() as session:
            row = session.get(StatementOfReasons, statement_id)
            assert row is not None
            if result.outcome in (Outcome.CREATED, Outcome.ALREADY_STORED):
                row.state, row.uuid, row.submitted_at = StatementState.SUBMITTED, result.uuid, now
                row.error, row.next_attempt_at = "", None
                counts["submitted"] += 1
            elif result.outcome is Outcome.REFUSED:
                row.state = StatementState.REFUSED
                row.error = json.dumps({"message": result.detail, "errors": result.errors})[:20_000]
                counts["refused"] += 1
            elif attempts >= options.max_attempts:
                row.state, row.error = StatementState.FAILED, result.detail
                counts["failed"] += 1
            else:
                wait = result.retry_after_s or backoff_delay(attempts, base_s=30.0, cap_s=6 * 3600.0)
                row.state, row.error = StatementState.PENDING, result.detail
                row.next_attempt_at = now + timedelta(seconds=wait)
                counts["retrying"] += 1
    return SubmitCounts(**counts)


def retry(
    session: Session, statement_id: int, options: SorOptions, *, actor: str, reason: str, now: datetime
) -> StatementOfReasons:
    """Queue a refused or failed statement again once its cause is fixed: its body is built afresh from
    the records (the same puid), and the retry is audited with who asked and why."""
    row = session.get(StatementOfReasons, statement_id)
    if row is None:
        raise NotFound(f"no statement of reasons #{statement_id} (`suraksha sor list`)")
    if row.state not in (StatementState.REFUSED, StatementState.FAILED):
        raise InvalidInput(
            f"statement #{statement_id} is {row.state}: only a refused or failed one is retried"
        )
    if not reason.strip():
        raise InvalidInput("say what was fixed (--reason)")
    action, decision = session.get(Action, row.action_id), session.get(Decision, row.decision_id)
    if action is None or decision is None:  # pragma: no cover - foreign keys
        raise NotFound(f"statement #{statement_id} names no action")
    previous = row.state
    row.body = json.dumps(build(session, action, decision, options), sort_keys=True, ensure_ascii=False)
    row.state, row.next_attempt_at, row.attempts, row.error = StatementState.PENDING, now, 0, ""
    session.flush()
    audit.record(
        session,
        actor,
        SOR_RETRY,
        f"statement_of_reasons:{row.id}",
        {"puid": row.puid, "was": previous, "reason": reason.strip()[:1000]},
    )
    return row


def statement_dict(row: StatementOfReasons) -> dict[str, object]:
    return {
        "id": row.id,
        "action_id": row.action_id,
        "decision_id": row.decision_id,
        "puid": row.puid,
        "state": row.state,
        "uuid": row.uuid,
        "attempts": row.attempts,
        "error": row.error,
        "created_at": row.created_at.isoformat(),
        "last_attempt_at": row.last_attempt_at.isoformat() if row.last_attempt_at else None,
        "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None,
        "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
    }


def list_statements(
    session: Session, *, state: str | None = None, limit: int = 100
) -> list[StatementOfReasons]:
    query = (
        select(StatementOfReasons).order_by(StatementOfReasons.id.desc()).limit(max(1, min(limit, 10_000)))
    )
    if state:
        if state not in {*StatementState, NOT_REQUIRED}:
            raise InvalidInput(
                f"state {state[:30]!r} is not one of {', '.join([*StatementState, NOT_REQUIRED])}"
            )
        query = query.where(StatementOfReasons.state == state)
    return list(session.scalars(query))
