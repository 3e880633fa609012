"""Delivering actions to the host platform: one job per (action, endpoint), run outside a held
transaction, each attempt sending the same signed bytes with the same delivery id (the platform
drops repeats by that id). Retryable failures (timeouts, 5xx, 429) back off through the job queue;
other 4xx answers and refused addresses fail the delivery for a person to look at. While the kill
switch "pause delivery" is on, deliveries wait (deferred, no attempt spent) and go out once it is
off; `suraksha jobs retry` replays dead-lettered ones."""

from __future__ import annotations

import json
from collections.abc import Mapping

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.enforcement.models import Action, ActionState, Delivery
from suraksha.enforcement.services import DELIVER
from suraksha.errors import ExternalServiceError
from suraksha.outbound.webhooks import DeliveryOutcome, WebhookDelivery, WebhookEndpoint, WebhookSender
from suraksha.worker.handlers import Deferred, HandlerRegistry, JobContext, PermanentFailure

PAUSED_RECHECK_S = 30.0


def register(
    registry: HandlerRegistry, db: Database, endpoints: Mapping[str, WebhookEndpoint], sender: WebhookSender
) -> None:
    def deliver_action(ctx: JobContext) -> None:
        delivery_pk = ctx.payload.get("delivery")
        if not isinstance(delivery_pk, int):
            raise PermanentFailure(f"job {ctx.job_id} has no integer delivery id in its payload")
        with db.session() as session:
            row = session.get(Delivery, delivery_pk)
            if row is None:
                raise PermanentFailure(f"delivery {delivery_pk} does not exist")
            if row.state == ActionState.DELIVERED:
                return
            if is_on(session, KillSwitch.PAUSE_DELIVERY):
                raise Deferred("outbound delivery is paused by the kill switch", delay_s=PAUSED_RECHECK_S)
            endpoint = endpoints.get(row.endpoint)
            if endpoint is None:
                raise PermanentFailure(
                    f"no webhook endpoint named {row.endpoint!r} is configured (setting webhook_url)"
                )
            signed = WebhookDelivery(row.delivery_id, str(json.loads(row.body)["event"]), row.body.encode())
        result = sender.deliver(endpoint, signed)
        with db.session() as session:
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
                return
            if result.outcome == DeliveryOutcome.FAILED:
                row.state = ActionState.FAILED
        if result.outcome == DeliveryOutcome.FAILED:
            raise PermanentFailure(f"the platform refused delivery {row.delivery_id}: {result.detail}")
        raise ExternalServiceError(f"delivery {signed.delivery_id} not delivered yet: {result.detail}")

    registry.register(DELIVER, deliver_action, transactional=False)
