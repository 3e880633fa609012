"""Delivering actions to the host platform: one job per action, for every configured endpoint, run
outside a held transaction, each attempt sending the same signed bytes with the same delivery id (the platform
drops repeats by that id). Retryable failures (timeouts, 5xx, 429) back off through the job queue;
other 4xx answers and refused addresses fail the delivery for a person to look at. While the kill
switch "pause delivery" is on, deliveries wait (deferred, no attempt spent) and go out once it is
off; `suraksha jobs retry` replays dead-lettered ones."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from sqlalchemy.orm import Session

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.enforcement.acknowledgements import OnFailure, acknowledge, answer_acknowledgement
from suraksha.enforcement.models import Action, ActionState, Delivery
from suraksha.enforcement.services import DELIVER, deliveries_for
from suraksha.errors import ExternalServiceError, SurakshaError
from suraksha.outbound.webhooks import (
    DeliveryOutcome,
    DeliveryResult,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSender,
)
from suraksha.worker.handlers import Deferred, HandlerRegistry, JobContext, PermanentFailure

log = logging.getLogger(__name__)

PAUSED_RECHECK_S = 30.0


def register(
    registry: HandlerRegistry,
    db: Database,
    endpoints: Mapping[str, WebhookEndpoint],
    sender: WebhookSender,
    on_failure: OnFailure | None = None,
) -> None:
    """``action.deliver {"action": id}``: send the action to every configured endpoint (``endpoints``,
    from settings, resolved now rather than when the action was recorded) that has not had it yet.
    With none configured the platform reads the action from the pull feed alone. A job queued by an
    older version names one delivery (``{"delivery": id}``) and delivers its action the same way.
    A receiver that answers with the action's outcome acknowledges it there and then
    (``suraksha.enforcement.acknowledgements``; ``on_failure`` is review's port for a failed one)."""

    def deliver_action(ctx: JobContext) -> None:
        with db.session() as session:
            action_id = _action_of(session, ctx)
            if not endpoints:
                log.info("event=webhook.none action=%d (no webhook_url: the pull feed carries it)", action_id)
                return
            if is_on(session, KillSwitch.PAUSE_DELIVERY):
                raise Deferred("outbound delivery is paused by the kill switch", delay_s=PAUSED_RECHECK_S)
            action = session.get(Action, action_id)
            assert action is not None
            waiting = [
                (row.id, endpoints[row.endpoint], _signed(row))
                for row in deliveries_for(session, action, sorted(endpoints))
                if row.state != ActionState.DELIVERED
            ]
        outcomes = [(pk, sender.deliver(endpoint, signed)) for pk, endpoint, signed in waiting]
        with db.session() as session:
            for pk, result in outcomes:
                _record(session, pk, result, on_failure)
        retry = [r for _, r in outcomes if r.outcome == DeliveryOutcome.RETRYABLE]
        failed = [r for _, r in outcomes if r.outcome == DeliveryOutcome.FAILED]
        if retry:
            raise ExternalServiceError(
                f"delivery {retry[0].delivery_id} not delivered yet: {retry[0].detail}"
            )
        if failed:
            raise PermanentFailure(
                f"the platform refused delivery {failed[0].delivery_id}: {failed[0].detail}"
            )

    registry.register(DELIVER, deliver_action, transactional=False)


def _action_of(session: Session, ctx: JobContext) -> int:
    action_id, delivery_pk = ctx.payload.get("action"), ctx.payload.get("delivery")
    if isinstance(delivery_pk, int) and not isinstance(action_id, int):
        row = session.get(Delivery, delivery_pk)
        if row is None:
            raise PermanentFailure(f"delivery {delivery_pk} does not exist")
        action_id = row.action_id
    if not isinstance(action_id, int):
        raise PermanentFailure(f"job {ctx.job_id} has no integer action id in its payload")
    if session.get(Action, action_id) is None:
        raise PermanentFailure(f"action {action_id} does not exist")
    return action_id


def _signed(row: Delivery) -> WebhookDelivery:
    return WebhookDelivery(row.delivery_id, str(json.loads(row.body)["event"]), row.body.encode())


def _record(
    session: Session, delivery_pk: int, result: DeliveryResult, on_failure: OnFailure | None = None
) -> None:
    row = session.get(Delivery, delivery_pk)
    assert row is not None
    row.attempts += 1
    row.last_status = result.status
    row.last_error = "" if result.outcome == DeliveryOutcome.DELIVERED else result.detail[:2000]
    if result.outcome == DeliveryOutcome.DELIVERED:
        row.state, row.delivered_at = ActionState.DELIVERED, utcnow()
        action = session.get(Action, row.action_id)
        if action is not None and action.state == ActionState.PENDING:
            action.state, action.delivered_at = ActionState.DELIVERED, row.delivered_at
        ack = answer_acknowledgement(row.action_id, result.answer) if action is not None else None
        if ack is not None:
            try:
                acknowledge(session, [ack], by=f"webhook answer to {row.delivery_id}", on_failure=on_failure)
            except SurakshaError as exc:  # e.g. "failed" after "done": the delivery still happened
                log.warning("event=action.ack_refused action=%d detail=%r", row.action_id, str(exc)[:300])
    elif result.outcome == DeliveryOutcome.FAILED:
        row.state = ActionState.FAILED
