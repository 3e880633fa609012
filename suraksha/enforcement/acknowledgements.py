"""The platform's acknowledgements of actions: it says an action was carried out (``done``) or could
not be (``failed``, with its reason), either on the pull feed's ack route or in its answer to the
webhook delivery (docs/webhooks.md). Until then an action is unconfirmed; one unconfirmed for longer
than ``action_ack_overdue_s`` is overdue, and people see it (``suraksha actions unconfirmed``,
``/metrics``, the API's ``overdue`` flag).

Rules, so that retries and races on the platform's side never do harm:

- An acknowledgement is idempotent: the same outcome again changes nothing and answers the same.
- ``failed`` needs a reason (what the platform could not do and why) a person can act on.
- ``failed`` may become ``done`` (the platform retried and succeeded); ``done`` never becomes
  ``failed``: what was done and then undone is a new event, not a correction (Conflict).
- Only actions sent to the platform are acknowledged: not internal ones (preserve, report) nor those
  recorded as already taken (the one in force is acknowledged instead).
- A newly failed action is handed to ``on_failure`` (review's port: it opens the item's case) in the
  same transaction, so a person sees it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha.db.base import utcnow
from suraksha.enforcement.models import UNCONFIRMED_STATES, Action, ActionState
from suraksha.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 2000
MAX_BATCH = 500
OnFailure = Callable[[Session, Action], object]
"""Called with each action that has just failed, in the acknowledging transaction."""


class AckOutcome(StrEnum):
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Acknowledgement:
    action_id: int
    outcome: AckOutcome
    reason: str = ""

    def __post_init__(self) -> None:
        if self.outcome == AckOutcome.FAILED and not self.reason.strip():
            raise InvalidInput(
                f"action {self.action_id}: a failed action needs a reason (what could not be done and why)"
            )
        if len(self.reason) > MAX_REASON_CHARS:
            raise InvalidInput(f"action {self.action_id}: the reason is over {MAX_REASON_CHARS} characters")


def acknowledge(
    session: Session,
    acks: Sequence[Acknowledgement],
    *,
    by: str,
    on_failure: OnFailure | None = None,
    now: datetime | None = None,
) -> list[Action]:
    """Record each acknowledgement (rules in the module docstring), all or none: one bad entry
    changes nothing. Returns the actions in the order given."""
    if not acks:
        raise InvalidInput("name at least one action to acknowledge")
    if len(acks) > MAX_BATCH:
        raise InvalidInput(f"acknowledge at most {MAX_BATCH} actions at once, not {len(acks)}")
    now = now or utcnow()
    done: list[Action] = []
    for ack in acks:
        action = session.get(Action, ack.action_id)
        if action is None:
            raise NotFound(f"no action {ack.action_id}: acknowledge the ids of the feed or the webhook")
        done.append(action)
        if action.state == ActionState.INTERNAL:
            raise InvalidInput(
                f"action {action.id} ({action.kind}) is carried out inside Suraksha, not by you"
            )
        if action.state == ActionState.ALREADY_TAKEN:
            raise Conflict(
                f"action {action.id} was not sent to you ({action.state_reason}): acknowledge that one"
            )
        if action.state == ack.outcome:
            continue  # the same answer again: idempotent
        if action.state == ActionState.DONE:
            raise Conflict(
                f"action {action.id} was acknowledged done at {action.acknowledged_at}: it cannot fail "
                "afterwards; undoing it is a new event for your support team"
            )
        action.state = ack.outcome
        action.state_reason = ack.reason.strip() if ack.outcome == AckOutcome.FAILED else ""
        action.acknowledged_at = now
        if action.delivered_at is None:
            action.delivered_at = now  # acknowledged: it evidently reached the platform
        log.info(
            "event=action.acknowledged action=%d kind=%s outcome=%s by=%s",
            action.id,
            action.kind,
            ack.outcome,
            by,
        )
        if ack.outcome == AckOutcome.FAILED and on_failure is not None:
            on_failure(session, action)
    session.flush()
    return done


def answer_acknowledgement(action_id: int, body: bytes) -> Acknowledgement | None:
    """The acknowledgement in a webhook receiver's 2xx answer (``{"outcome": "done"}`` or
    ``{"outcome": "failed", "reason": "..."}``), or None when the answer says nothing of the kind
    (empty, ``{}``, not JSON): an older receiver that only takes deliveries."""
    try:
        answer = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(answer, dict) or answer.get("outcome") is None:
        return None
    outcome, reason = answer.get("outcome"), answer.get("reason", "")
    if outcome not in set(AckOutcome) or not isinstance(reason, str):
        log.warning("event=action.ack_unreadable action=%d outcome=%r", action_id, str(outcome)[:40])
        return None
    try:
        return Acknowledgement(action_id, AckOutcome(outcome), reason[:MAX_REASON_CHARS])
    except InvalidInput:
        log.warning("event=action.ack_unreadable action=%d detail=failed_without_reason", action_id)
        return None


def is_overdue(action: Action, overdue_after_s: float, now: datetime) -> bool:
    """Sent (or to be sent) and not acknowledged for longer than ``overdue_after_s``."""
    return action.state in UNCONFIRMED_STATES and action.created_at <= now - timedelta(
        seconds=overdue_after_s
    )


def unconfirmed(
    session: Session,
    overdue_after_s: float,
    *,
    now: datetime | None = None,
    include_failed: bool = True,
    limit: int = 500,
) -> list[Action]:
    """Actions the platform has not confirmed for longer than ``overdue_after_s`` (oldest first),
    and, with ``include_failed``, those it said failed: what a person must follow up."""
    now = now or utcnow()
    overdue = (Action.state.in_(sorted(UNCONFIRMED_STATES))) & (
        Action.created_at <= now - timedelta(seconds=overdue_after_s)
    )
    where = overdue | (Action.state == ActionState.FAILED) if include_failed else overdue
    return list(session.scalars(select(Action).where(where).order_by(Action.id).limit(max(1, limit))))


def unconfirmed_counts(
    session: Session, overdue_after_s: float, *, now: datetime | None = None
) -> dict[str, int]:
    """``{"overdue": n, "failed": n}`` for the metrics."""
    now = now or utcnow()
    overdue = session.scalar(
        select(func.count(Action.id)).where(
            Action.state.in_(sorted(UNCONFIRMED_STATES)),
            Action.created_at <= now - timedelta(seconds=overdue_after_s),
        )
    )
    failed = session.scalar(select(func.count(Action.id)).where(Action.state == ActionState.FAILED))
    return {"overdue": int(overdue or 0), "failed": int(failed or 0)}
