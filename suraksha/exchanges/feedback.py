"""Feedback to the exchanges: a reviewer's verdict on an item that matched an exchange's entry goes
back to that exchange, once, through the job queue.

- ``queue_for_decision`` (called by review in the transaction that makes a decision take effect: one
  that needs no second person, or its approval) queues one ``exchanges.feedback`` job per live record
  of an exchange whose API takes feedback (``FEEDBACK_APIS``) that holds a bank entry the item matched.
  The job's key is the record and the verdict, so a record gets each verdict once, however many items
  match it or decisions name it.
- ``FeedbackJobs.send_one`` sends it through the client the Platform wires
  (``Platform.exchange_send_feedback``: python-threatexchange's client for that API), and writes an
  audit row (``exchange:feedback``) in the job's transaction. A failure the service may get over
  (unreachable, HTTP 5xx) fails the job, which the queue retries with backoff; an exchange deleted or
  disabled since is skipped (audited).

Light on purpose: review imports it; python-threatexchange is loaded only by the sender.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.content.models import ItemMatch
from suraksha.exchanges.models import Exchange, ExchangeApi, ExchangeEntry
from suraksha.worker.handlers import HandlerRegistry, JobContext, PermanentFailure
from suraksha.worker.queue import enqueue

FEEDBACK = "exchanges.feedback"
FEEDBACK_ACTOR = "system:exchange-feedback"


class FeedbackVerdict(StrEnum):
    TRUE_POSITIVE = "true_positive"
    """A reviewer confirmed the match (NCMEC: an upvote; StopNCII: ``Blocked``)."""
    FALSE_POSITIVE = "false_positive"
    """A reviewer found the item benign (NCMEC: a downvote; StopNCII: ``NotBlocked``)."""


FEEDBACK_APIS = frozenset({ExchangeApi.NCMEC, ExchangeApi.STOPNCII})
"""The APIs whose clients take feedback (python-threatexchange: ``NCMECHashAPI.submit_feedback``,
``StopNCIIAPI.submit_feedback``). Tech Against Terrorism's client has none."""


def feedback_key(exchange_entry_id: int, verdict: FeedbackVerdict) -> str:
    return f"{FEEDBACK}:{exchange_entry_id}:{verdict.value}"


def queue_for_decision(session: Session, item_id: int, *, benign: bool, review_decision_id: int) -> int:
    """Queue the feedback of a reviewer's decision on ``item_id`` (module docstring); the number of
    jobs queued (a record already given this verdict queues nothing)."""
    verdict = FeedbackVerdict.FALSE_POSITIVE if benign else FeedbackVerdict.TRUE_POSITIVE
    entry_ids = set(
        session.scalars(
            select(ItemMatch.entry_id).where(ItemMatch.item_id == item_id, ItemMatch.suppressed.is_(False))
        )
    )
    if not entry_ids:
        return 0
    records = session.scalars(
        select(ExchangeEntry.id)
        .join(Exchange, Exchange.id == ExchangeEntry.exchange_id)
        .where(
            ExchangeEntry.bank_entry_id.in_(sorted(entry_ids)),
            ExchangeEntry.removed.is_(False),
            Exchange.api.in_(sorted(a.value for a in FEEDBACK_APIS)),
        )
        .order_by(ExchangeEntry.id)
    )
    queued = 0
    for record_id in records:
        job = enqueue(
            session,
            FEEDBACK,
            {
                "exchange_entry_id": record_id,
                "verdict": verdict.value,
                "review_decision_id": review_decision_id,
            },
            key=feedback_key(record_id, verdict),
        )
        queued += job is not None
    return queued


SendFeedback = Callable[[Exchange, ExchangeEntry, FeedbackVerdict], None]
"""Send one verdict on one record to its exchange (``Platform.exchange_send_feedback``); raises on
failure."""


@dataclass(frozen=True)
class FeedbackJobs:
    send: SendFeedback

    def register(self, registry: HandlerRegistry) -> None:
        registry.register(FEEDBACK, self.send_one)

    def send_one(self, ctx: JobContext) -> None:
        session = ctx.session
        record_id = ctx.payload.get("exchange_entry_id")
        try:
            verdict = FeedbackVerdict(str(ctx.payload.get("verdict")))
        except ValueError:
            raise PermanentFailure(f"job {ctx.job_id} has no verdict we know") from None
        if not isinstance(record_id, int):
            raise PermanentFailure(f"job {ctx.job_id} has no integer exchange_entry_id")
        record = session.get(ExchangeEntry, record_id)
        exchange = session.get(Exchange, record.exchange_id) if record is not None else None
        detail: dict[str, object] = {
            "verdict": verdict.value,
            "review_decision": ctx.payload.get("review_decision_id"),
        }
        if record is None or exchange is None or not exchange.enabled:
            audit.record(
                session,
                FEEDBACK_ACTOR,
                audit.AuditAction.EXCHANGE_FEEDBACK,
                f"exchange:{exchange.name}" if exchange is not None else "exchange:(deleted)",
                {**detail, "record": record_id, "sent": False, "why": "exchange deleted or disabled"},
            )
            return
        self.send(exchange, record, verdict)
        audit.record(
            session,
            FEEDBACK_ACTOR,
            audit.AuditAction.EXCHANGE_FEEDBACK,
            f"exchange:{exchange.name}",
            {**detail, "record": record.upstream_key, "signal_type": record.signal_type, "sent": True},
        )
