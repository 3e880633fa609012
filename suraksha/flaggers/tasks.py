"""The flaggers' jobs.

- ``flaggers.fetch {"target_id", "platform_item_id"}``: ask the platform for an item a notice names
  that is not held here (``PlatformItems``, outside any transaction), submit it through intake (so the
  pipeline checks it like any other), and put it in review; "no such item" makes the target not found,
  and so does a platform that could not be asked by the job's last attempt (the detail says why).
- ``review.case_decided {"case_id", "review_decision_id"}`` (queued by review when a reviewer's decision
  closes a case): the notice targets on that case take the decision, settled notices owe their
  outcome, and the flagger's accuracy is checked. This is how a decision gets from review, below this
  area, to the flagger.
- ``flaggers.notify {"message_id"}``: send one webhook owed to a flagger (its acknowledgement or
  outcome), signed with the flagger's own secret, the same bytes and delivery id on every attempt;
  retryable failures back off through the queue, refusals dead-letter it. The kill switch "pause
  delivery" holds these too.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass

from sqlalchemy import select

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.content.models import Item, ReporterKind
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.errors import Conflict, ExternalServiceError, InvalidInput
from suraksha.flaggers import registry, services
from suraksha.flaggers.accuracy import AccuracyOptions, check_status
from suraksha.flaggers.models import Flagger, FlaggerMessage, MessageState, Notice, NoticeTarget, TargetState
from suraksha.flaggers.ports import PlatformItems
from suraksha.intake.schemas import ReporterIn
from suraksha.intake.services import prepare_item, submit_item
from suraksha.intake.store import MediaStore
from suraksha.legal.clocks import JurisdictionRules
from suraksha.outbound.webhooks import DeliveryOutcome, WebhookDelivery, WebhookEndpoint, WebhookSender
from suraksha.review.decisions import CASE_DECIDED
from suraksha.settings import Secret
from suraksha.vault.crypto import EnvelopeCipher
from suraksha.worker.handlers import Deferred, HandlerRegistry, JobContext, PermanentFailure

log = logging.getLogger(__name__)

PAUSED_RECHECK_S = 30.0


@dataclass(frozen=True)
class FlaggerJobs:
    db: Database
    rules: JurisdictionRules
    items: PlatformItems
    store: MediaStore
    sender: WebhookSender
    cipher: EnvelopeCipher
    accuracy: AccuracyOptions
    max_media_bytes: int
    webhook_timeout_s: float = 10.0
    max_attempts: int = 10
    """The queue's default attempts per job (``job_max_attempts``)."""

    def register(self, registry: HandlerRegistry) -> None:
        registry.register(services.FETCH, self.fetch, transactional=False)
        registry.register(CASE_DECIDED, self.case_decided)
        registry.register(services.NOTIFY, self.notify, transactional=False)

    def fetch(self, ctx: JobContext) -> None:
        target_id, platform_id = ctx.payload.get("target_id"), ctx.payload.get("platform_item_id")
        if not isinstance(target_id, int) or not isinstance(platform_id, str):
            raise PermanentFailure(f"job {ctx.job_id} needs an integer target_id and a platform_item_id")
        with self.db.reading() as session:
            target = session.get(NoticeTarget, target_id)
            if target is None:
                raise PermanentFailure(f"notice target {target_id} does not exist")
            if target.state != TargetState.FETCHING:
                return
            notice = session.get(Notice, target.notice_id)
            assert notice is not None
            flagger = session.get(Flagger, notice.flagger_id)
            assert flagger is not None
            reporter = ReporterIn(
                kind=ReporterKind.TRUSTED_FLAGGER, id=flagger.name, reason=notice.explanation[:4000]
            )
        try:
            fetched = self.items.fetch(platform_id, target_id=target_id)
        except ExternalServiceError as exc:
            if ctx.attempt < (ctx.lease.max_attempts or self.max_attempts):
                raise  # retried with backoff
            # The last attempt: the target is settled as not found, saying why, so that the notice
            # is not left waiting for ever (`suraksha jobs retry` cannot reopen a settled target).
            with self.db.session() as session:
                services.attach_fetched(
                    session,
                    target_id,
                    None,
                    self.rules,
                    detail=f"the platform could not be asked ({ctx.attempt} attempts): {str(exc)[:300]}",
                )
            return
        if fetched is not None and fetched.platform_item_id != platform_id:
            fetched, detail = None, "the platform answered with another item"
        else:
            detail = "neither held here nor by the platform"
        prepared = None
        if fetched is not None:
            if fetched.reporter is None:
                fetched = fetched.model_copy(update={"reporter": reporter})
            try:
                prepared = prepare_item(self.store, fetched, max_media_bytes=self.max_media_bytes)
            except InvalidInput as exc:  # e.g. a file over media_max_bytes: retrying cannot help
                detail = f"the platform's item could not be taken in: {str(exc)[:300]}"
        with self.db.session() as session:
            item = None
            if prepared is not None:
                # a Conflict: the platform submitted it meanwhile, as it was then; that one goes to review
                with contextlib.suppress(Conflict):
                    submit_item(session, self.store, prepared, max_media_bytes=self.max_media_bytes)
                item = session.scalar(select(Item).where(Item.platform_item_id == platform_id))
            services.attach_fetched(session, target_id, item, self.rules, detail=detail)

    def case_decided(self, ctx: JobContext) -> None:
        assert ctx.transaction is not None  # registered transactional
        case_id, decision_id = ctx.payload.get("case_id"), ctx.payload.get("review_decision_id")
        if not isinstance(case_id, int) or not isinstance(decision_id, int):
            raise PermanentFailure(f"job {ctx.job_id} needs integer case_id and review_decision_id")
        session = ctx.transaction
        for notice in services.on_case_decided(session, case_id, decision_id, self.rules):
            flagger = session.get(Flagger, notice.flagger_id)
            assert flagger is not None
            check_status(session, flagger, self.accuracy)

    def notify(self, ctx: JobContext) -> None:
        message_id = ctx.payload.get("message_id")
        if not isinstance(message_id, int):
            raise PermanentFailure(f"job {ctx.job_id} has no integer message_id")
        with self.db.reading() as session:
            message = session.get(FlaggerMessage, message_id)
            if message is None:
                raise PermanentFailure(f"flagger message {message_id} does not exist")
            if message.state in (MessageState.DELIVERED, MessageState.NO_ENDPOINT):
                return
            if is_on(session, KillSwitch.PAUSE_DELIVERY):
                raise Deferred("outbound delivery is paused by the kill switch", delay_s=PAUSED_RECHECK_S)
            flagger = session.get(Flagger, message.flagger_id)
            assert flagger is not None
            if not flagger.webhook_url:
                raise PermanentFailure(f"flagger {flagger.name!r} has no webhook_url any more")
            endpoint = WebhookEndpoint(
                flagger.webhook_url,
                (Secret(registry.open_secret(self.cipher, flagger.webhook_secret)),),
                allow_private_network=flagger.webhook_allow_private_network,
                timeout_s=self.webhook_timeout_s,
            )
            delivery = WebhookDelivery(message.delivery_id, message.event, message.body.encode())
        result = self.sender.deliver(endpoint, delivery)
        with self.db.session() as session:
            row = session.get(FlaggerMessage, message_id)
            assert row is not None
            row.attempts += 1
            row.last_status = result.status
            row.last_error = "" if result.outcome == DeliveryOutcome.DELIVERED else result.detail[:2000]
            if result.outcome == DeliveryOutcome.DELIVERED:
                row.state, row.delivered_at = MessageState.DELIVERED, utcnow()
            elif result.outcome == DeliveryOutcome.FAILED:
                row.state = MessageState.FAILED
        if result.outcome == DeliveryOutcome.RETRYABLE:
            raise ExternalServiceError(
                f"flagger webhook {delivery.delivery_id} not delivered yet: {result.detail}"
            )
        if result.outcome == DeliveryOutcome.FAILED:
            raise PermanentFailure(f"the flagger refused webhook {delivery.delivery_id}: {result.detail}")
        log.info("event=flaggers.notified message=%d event=%s", message_id, json.dumps(message.event))
