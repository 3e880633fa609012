"""Preservation holds: how long each legal basis keeps evidence, placing, extending and releasing holds,
and which blobs no active hold covers any more.

Periods are configuration (setting ``vault_hold_periods``) because they differ by country and change by
amendment. Built in:

- ``cybertipline_report``: 365 days from the report (18 USC 2258A(h) as amended by the REPORT Act,
  2024, which raised the provider's preservation period from 90 days to one year).
- ``india_it_rules_3_1_g``: 180 days from removal (IT (Intermediary Guidelines and Digital Media
  Ethics Code) Rules 2021, r. 3(1)(g)).
- ``law_enforcement_request``: 90 days from the request, extendable by further periods (the usual
  term of a preservation request, e.g. 18 USC 2703(f)).
- ``network_investigation``: 180 days from the hold, extendable: a lead's investigation of a network
  of accounts, kept until it is handed to the police (``suraksha.network.investigations``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Exists

from suraksha import audit
from suraksha.db.base import utcnow
from suraksha.enforcement.models import Decision
from suraksha.errors import ConfigError, Conflict, InvalidInput, NotFound
from suraksha.permissions import Permission
from suraksha.vault.models import (
    EvidenceBlob,
    HoldBasis,
    Preservation,
    PreservationHold,
    PreservedFile,
    VaultAudit,
)
from suraksha.vault.requests import request_preservation

BUILTIN_PERIOD_DAYS: Mapping[str, int] = {
    HoldBasis.CYBERTIPLINE_REPORT: 365,
    HoldBasis.INDIA_IT_RULES_3_1_G: 180,
    HoldBasis.LAW_ENFORCEMENT_REQUEST: 90,
    HoldBasis.NETWORK_INVESTIGATION: 180,
}
MAX_PERIOD_DAYS = 36500
STATUTORY_BASES = frozenset({HoldBasis.CYBERTIPLINE_REPORT.value})
"""Holds the law sets (not a request's): released early only with counsel's override."""
_ENTRY = re.compile(r"^([a-z0-9_]{1,60})(?:@([A-Z]{2}))?=(\d{1,5})$")


@dataclass(frozen=True)
class HoldPeriods:
    """Days per (basis, jurisdiction); a jurisdiction's own entry wins over the basis's general one."""

    days: Mapping[tuple[str, str], int] = field(
        default_factory=lambda: {(basis, ""): d for basis, d in BUILTIN_PERIOD_DAYS.items()}
    )

    @classmethod
    def parse(cls, text: str | None) -> HoldPeriods:
        """The built-in periods overridden by ``basis[@JURISDICTION]=DAYS, ...`` entries."""
        days = {(basis, ""): d for basis, d in BUILTIN_PERIOD_DAYS.items()}
        for raw in (text or "").split(","):
            entry = raw.strip()
            if not entry:
                continue
            match = _ENTRY.fullmatch(entry)
            if match is None or not 0 < int(match.group(3)) <= MAX_PERIOD_DAYS:
                raise ConfigError(
                    f"vault_hold_periods entry {entry[:80]!r} is not basis[@JURISDICTION]=DAYS "
                    f"(e.g. law_enforcement_request@IN=90; 1-{MAX_PERIOD_DAYS} days)"
                )
            days[(match.group(1), match.group(2) or "")] = int(match.group(3))
        return cls(days)

    def period(self, basis: str, jurisdiction: str = "") -> timedelta:
        found = self.days.get((basis, jurisdiction)) or self.days.get((basis, ""))
        if found is None:
            known = sorted({b for b, _ in self.days})
            raise InvalidInput(
                f"no hold period is configured for basis {basis!r}"
                f"{' in ' + jurisdiction if jurisdiction else ''}; known bases: {', '.join(known)} "
                "(add others with the vault_hold_periods setting)"
            )
        return timedelta(days=found)


def _check_text(name: str, value: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{name} is {len(value)} characters, over {limit}")
    return value


def preservations_for_items(session: Session, item_ids: Sequence[int]) -> list[Preservation]:
    """The preservations of these items; an item preserved for no decision yet gets one for its
    latest decision (a pending preservation whose job is queued now). An unknown item, or one with no
    decision, is InvalidInput: there is nothing to preserve it for."""
    found: list[Preservation] = []
    for item_id in dict.fromkeys(item_ids):
        rows = list(session.scalars(select(Preservation).where(Preservation.item_id == item_id)))
        if rows:
            found.extend(rows)
            continue
        decision = session.scalar(
            select(Decision).where(Decision.item_id == item_id).order_by(Decision.id.desc()).limit(1)
        )
        if decision is None:
            raise InvalidInput(f"item {item_id} has no decision, so there is nothing to hold for it")
        found.append(request_preservation(session, decision))
    return found


def place_hold(
    session: Session,
    *,
    basis: str,
    reference: str,
    actor: str,
    periods: HoldPeriods,
    item_ids: Sequence[int] | None = None,
    preservation_id: int | None = None,
    jurisdiction: str = "",
    starts_at: datetime | None = None,
) -> list[PreservationHold]:
    """Hold the evidence of the given items (every preservation of each) or of one preservation, from
    ``starts_at`` (default now) for the configured period of ``basis`` in ``jurisdiction``.

    Idempotent: one hold per (preservation, basis, reference); placing it again returns the existing
    hold unchanged. Items with no preservation are preserved now (for their latest decision). Each new
    hold is audited (``vault:hold_place``) in the caller's transaction."""
    if (item_ids is None) == (preservation_id is None):
        raise InvalidInput("place a hold on item_ids or on a preservation_id (exactly one of them)")
    reference = _check_text("hold reference", reference, 200)
    jurisdiction = _check_text("jurisdiction", jurisdiction, 10).upper()
    when = starts_at or utcnow()
    if when.tzinfo is None:
        raise InvalidInput("starts_at must be timezone-aware (UTC)")
    expires = when + periods.period(basis, jurisdiction)
    if preservation_id is not None:
        preservation = session.get(Preservation, preservation_id)
        if preservation is None:
            raise NotFound(f"preservation {preservation_id} does not exist (`suraksha vault list`)")
        targets = [preservation]
    else:
        targets = preservations_for_items(session, item_ids or [])
    holds: list[PreservationHold] = []
    new: list[PreservationHold] = []
    for preservation in targets:
        existing = session.scalar(
            select(PreservationHold).where(
                PreservationHold.preservation_id == preservation.id,
                PreservationHold.basis == basis,
                PreservationHold.reference == reference,
            )
        )
        if existing is not None:
            holds.append(existing)
            continue
        hold = PreservationHold(
            preservation_id=preservation.id,
            basis=basis,
            jurisdiction=jurisdiction,
            reference=reference,
            starts_at=when,
            expires_at=expires,
            placed_by=actor,
        )
        session.add(hold)
        session.flush()
        holds.append(hold)
        new.append(hold)
    for hold in new:
        audit.record(
            session,
            actor,
            VaultAudit.HOLD_PLACE,
            f"preservation:{hold.preservation_id}",
            {
                "hold": hold.id,
                "basis": basis,
                "jurisdiction": jurisdiction,
                "reference": reference,
                "starts_at": when.isoformat(),
                "expires_at": expires.isoformat(),
            },
        )
    return holds


def extend_hold(
    session: Session,
    hold_id: int,
    *,
    actor: str,
    periods: HoldPeriods,
    reason: str,
    until: datetime | None = None,
) -> PreservationHold:
    """Extend an active hold to ``until``, or by one more period of its basis from its current expiry.
    A hold is never shortened here (release it instead); a released hold cannot be extended."""
    hold = session.get(PreservationHold, hold_id, with_for_update=True)
    if hold is None:
        raise NotFound(f"hold {hold_id} does not exist (`suraksha vault hold list`)")
    if hold.released_at is not None:
        raise Conflict(f"hold {hold_id} was released at {hold.released_at.isoformat()}; place a new hold")
    reason = _check_text("reason", reason, 1000)
    if not reason:
        raise InvalidInput("say why the hold is extended (--reason)")
    new_expiry = until or hold.expires_at + periods.period(hold.basis, hold.jurisdiction)
    if new_expiry.tzinfo is None:
        raise InvalidInput("until must be timezone-aware (UTC)")
    if new_expiry <= hold.expires_at:
        raise InvalidInput(
            f"hold {hold_id} already runs to {hold.expires_at.isoformat()}; {new_expiry.isoformat()} would "
            "shorten it (release the hold instead)"
        )
    old = hold.expires_at
    hold.expires_at, hold.extensions = new_expiry, hold.extensions + 1
    audit.record(
        session,
        actor,
        VaultAudit.HOLD_EXTEND,
        f"preservation:{hold.preservation_id}",
        {"hold": hold.id, "from": old.isoformat(), "to": new_expiry.isoformat(), "reason": reason},
    )
    return hold


class HoldActor(Protocol):
    """Who ends a hold (``suraksha.vault.services.EvidenceActor``): the audit name and the role check."""

    @property
    def name(self) -> str: ...

    def require(self, permission: Permission, what: str) -> None: ...


def release_hold(
    session: Session, hold_id: int, *, actor: HoldActor, reason: str, override_statutory: bool = False
) -> PreservationHold:
    """Release a hold before its expiry (the matter is closed, or a deletion request). This is the one
    way a hold ends early (``extend_hold`` never shortens one; expiry is its configured period).

    Business rules: only the legal role (``evidence:open``: an identified person, or a part of
    Suraksha acting for legal), always with a reason; a statutory hold (``STATUTORY_BASES``: a
    CyberTipline report's year under 18 USC 2258A(h)) only with ``override_statutory``, which says
    counsel confirmed it may be lifted. Audited (``vault:hold_release``, naming the override)."""
    actor.require(Permission.EVIDENCE_OPEN, f"release hold {hold_id}")
    hold = session.get(PreservationHold, hold_id, with_for_update=True)
    if hold is None:
        raise NotFound(f"hold {hold_id} does not exist (`suraksha vault hold list`)")
    reason = _check_text("reason", reason, 1000)
    if not reason:
        raise InvalidInput("say why the hold is released (--reason)")
    statutory = hold.basis in STATUTORY_BASES
    if hold.released_at is None and statutory and not override_statutory:
        raise Conflict(
            f"hold {hold_id} is statutory ({hold.basis}, to {hold.expires_at.date()}): it is not released "
            "early unless counsel confirms it may be; then pass --override-statutory"
        )
    if hold.released_at is None:
        hold.released_at, hold.release_reason = utcnow(), reason
        audit.record(
            session,
            actor.name,
            VaultAudit.HOLD_RELEASE,
            f"preservation:{hold.preservation_id}",
            {
                "hold": hold.id,
                "basis": hold.basis,
                "reason": reason,
                **({"override_statutory": True} if statutory else {}),
            },
        )
    return hold


def active_hold_clause(now: datetime) -> Exists:
    """SQL: some active hold covers the blob in ``EvidenceBlob`` (through any preservation naming it).

    A hold is active from the moment it is placed until its expiry, unless released: a hold whose
    ``starts_at`` lies in the future (a report clock started later) already protects the evidence."""
    return exists(
        select(PreservationHold.id)
        .join(PreservedFile, PreservedFile.preservation_id == PreservationHold.preservation_id)
        .where(
            and_(
                PreservedFile.blob_id == EvidenceBlob.id,
                PreservationHold.released_at.is_(None),
                PreservationHold.expires_at > now,
            )
        )
    )


def hold_dict(hold: PreservationHold, now: datetime | None = None) -> dict[str, object]:
    now = now or utcnow()
    active = hold.released_at is None and hold.expires_at > now
    return {
        "id": hold.id,
        "preservation_id": hold.preservation_id,
        "basis": hold.basis,
        "jurisdiction": hold.jurisdiction,
        "reference": hold.reference,
        "starts_at": hold.starts_at.isoformat(),
        "expires_at": hold.expires_at.isoformat(),
        "days_left": max(0, (hold.expires_at - now).days) if active else 0,
        "extensions": hold.extensions,
        "placed_by": hold.placed_by,
        "released_at": hold.released_at.isoformat() if hold.released_at else None,
        "active": active,
    }
