"""Reading and flipping kill switches. Reads are one indexed row; the switch takes effect at the next
decision or delivery in every process, with no deploy."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.admin.models import KillSwitch, SwitchState
from suraksha.audit import AuditAction, record
from suraksha.db.base import utcnow

log = logging.getLogger(__name__)


def is_on(session: Session, switch: KillSwitch) -> bool:
    return bool(session.scalar(select(SwitchState.enabled).where(SwitchState.name == switch.value)))


def set_switch(
    session: Session, switch: KillSwitch, enabled: bool, *, by: str, reason: str = ""
) -> SwitchState:
    """Flip a switch; ``by`` is the audit actor (``cli:<os user>``, ``user:<pseudonym>``...). The audit
    row commits with the change."""
    row = session.get(SwitchState, switch.value)
    if row is None:
        row = SwitchState(name=switch.value)
        session.add(row)
    was = bool(row.enabled)
    row.enabled, row.changed_by, row.reason, row.changed_at = enabled, by, reason, utcnow()
    details = {"enabled": enabled, "was": was, "reason": reason[:1000]}
    record(session, by, AuditAction.SWITCH_SET, f"switch:{switch.value}", details)
    log.warning("event=switch.set switch=%s enabled=%s by=%s", switch.value, enabled, by)
    return row


def all_switches(session: Session) -> dict[KillSwitch, SwitchState | None]:
    rows = {row.name: row for row in session.scalars(select(SwitchState))}
    return {switch: rows.get(switch.value) for switch in KillSwitch}
