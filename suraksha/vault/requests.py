"""Asking the vault to preserve a decision's evidence: the arrow from a decision into the vault.

``request_preservation`` writes a pending ``Preservation`` row and a ``vault.preserve`` job in the
caller's transaction (the outbox); the job's handler (``suraksha.vault.services.preserve``) does the
work after commit. Enforcement reaches it through its port (``suraksha.enforcement.follow_ups``), holds
through ``preservations_for_items``. This module imports no other vault module but the models, so
both can use it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.content.models import Item
from suraksha.enforcement.models import Decision
from suraksha.errors import NotFound
from suraksha.vault.models import Preservation
from suraksha.worker.queue import enqueue

log = logging.getLogger(__name__)

PRESERVE = "vault.preserve"


def request_preservation(session: Session, decision: Decision) -> Preservation:
    """A pending preservation for ``decision`` and its ``vault.preserve`` job, in the caller's
    transaction; the existing one when the decision already has one."""
    existing = session.scalar(select(Preservation).where(Preservation.decision_id == decision.id))
    if existing is not None:
        return existing
    item = session.get(Item, decision.item_id)
    if item is None:  # pragma: no cover - a decision's item exists (foreign key)
        raise NotFound(f"item {decision.item_id} of decision {decision.id} does not exist")
    preservation = Preservation(decision_id=decision.id, item_id=item.id, account_id=item.account_id)
    session.add(preservation)
    session.flush()
    enqueue(session, PRESERVE, {"decision": decision.id}, key=f"{PRESERVE}:{decision.id}", priority=-10)
    log.info("event=vault.requested decision=%d preservation=%d", decision.id, preservation.id)
    return preservation
