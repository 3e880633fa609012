"""Feedback to the exchanges: a reviewer's verdict on an item that matched an exchange's entry goes
back to that exchange, once, through the job queue.

- ``queue_for_decision`` (called by review in the transaction that makes a decision take effect: one
  that needs no second person, or its approval), ``queue_for_reversal`` (called by appeals when an
  appeal reverses a decision) and ``queue_seen`` (called by intake when it records an item's matches)
  queue one ``exchanges.feedback`` job per live record of an exchange whose API takes that verdict
  (``FEEDBACK_VERDICTS``) that holds a bank entry the item matched. The job's key is the record and
  the verdict, so a record gets each verdict once, however many items match it or decisions name it.
- ``FeedbackJobs.send_one`` sends it through the client the Platform wires
  (``Platform.exchange_send_feedback``: python-threatexchange's client for that API), and writes an
  audit row (``exchange:feedback``) in the job's transaction. A failure the service may get over
  (unreachable, HTTP 5xx) fails the job, which the queue retries with backoff; an exchange deleted or
  disabled since is skipped (audited).

Light on purpose: review imports it; python-threatexchange is loaded only by the sender.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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
    SEEN = "seen"
    """An item matched the record (ThreatExchange: ``SAW_THIS_TOO``; StopNCII: ``PendingReview``)."""
    TRUE_POSITIVE = "true_positive"
    """A reviewer confirmed the match (NCMEC: an upvote; StopNCII: ``Blocked``; ThreatExchange:
    ``HELPFUL``)."""
    FALSE_POSITIVE = "false_positive"
    """A reviewer found the item benign, or an appeal reversed the decision (NCMEC: a downvote;
    StopNCII: ``NotBlocked``; ThreatExchange: ``NOT_HELPFUL``)."""


FEEDBACK_VERDICTS: dict[ExchangeApi, frozenset[FeedbackVerdict]] = {
    ExchangeApi.NCMEC: frozenset({FeedbackVerdict.TRUE_POSITIVE, FeedbackVerdict.FALSE_POSITIVE}),
    ExchangeApi.STOPNCII: frozenset(FeedbackVerdict),
    ExchangeApi.THREATEXCHANGE: frozenset(FeedbackVerdict),
}
"""What each API's client takes (python-threatexchange: ``NCMECHashAPI.submit_feedback``, which has
votes but no "seen"; ``StopNCIIAPI.submit_feedback``; ``ThreatExchangeAPI.react_to_threat_descriptor``).
Tech Against Terrorism's client, and file and URL lists, take none."""
FEEDBACK_APIS = frozenset(FEEDBACK_VERDICTS)


def feedback_key(exchange_entry_id: int, verdict: FeedbackVerdict) -> str:
    return f"{FEEDBACK}:{exchange_entry_id}:{verdict.value}"


def queue_feedback(
    session: Session, entry_ids: Iterable[int], verdict: FeedbackVerdict, because: Mapping[str, int]
) -> int:
    """Queue ``verdict`` for every live record of an exchange taking it that holds one of the bank
    entries ``entry_ids`` (module docstring); the number of jobs queued (a record already given this
    verdict queues nothing). ``because``: what gave the verdict (a review decision, an appeal, an
    item), kept on the job and in its audit row."""
    ids = sorted(set(entry_ids))
    if not ids:
        return 0
    apis = sorted(api.value for api, verdicts in FEEDBACK_VERDICTS.items() if verdict in verdicts)
    queued = 0
    for start in range(0, len(ids), 500):
        records = session.scalars(
            select(ExchangeEntry.id)
            .join(Exchange, Exchange.id == ExchangeEntry.exchange_id)
            .where(
                ExchangeEntry.bank_entry_id.in_(ids[start : start + 500]),
                ExchangeEntry.removed.is_(False),
                Exchange.api.in_(apis),
            )
            .order_by(ExchangeEntry.id)
        )
        for record_id in records:
            job = enqueue(
                session,
                FEEDBACK,
                {"exchange_entry_id": record_id, "verdict": verdict.value, **because},
                key=feedback_key(record_id, verdict),
            )
            queued += job is not None
    return queued


def _matched_entries(session: Session, item_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ItemMatch.entry_id).where(ItemMatch.item_id == item_id, ItemMatch.suppressed.is_(False))
        )
    )


def queue_for_decision(session: Session, item_id: int, *, benign: bool, review_decision_id: int) -> int:
    """A reviewer's decision on ``item_id``: a true or false positive for the records it matched."""
    verdict = FeedbackVerdict.FALSE_POSITIVE if benign else FeedbackVerdict.TRUE_POSITIVE
    entries = _matched_entries(session, item_id)
    return queue_feedback(session, entries, verdict, {"review_decision_id": review_decision_id})


def queue_for_reversal(session: Session, item_id: int, *, appeal_id: int) -> int:
    """An appeal reversed the decision on ``item_id``: a false positive for the records it matched
    (sent even where a reviewer's true positive went before: the exchange hears the last word)."""
    entries = _matched_entries(session, item_id)
    return queue_feedback(session, entries, FeedbackVerdict.FALSE_POSITIVE, {"appeal_id": appeal_id})


def queue_seen(session: Session, matched: Mapping[int, Iterable[int]]) -> int:
    """Items just matched (item id -> bank entry ids, not suppressed): "seen" for the records they
    matched, once a record, in the transaction that records the matches."""
    queued = 0
    for item_id, entries in sorted(matched.items()):
        queued += queue_feedback(session, entries, FeedbackVerdict.SEEN, {"item_id": item_id})
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
        detail: dict[str, object] = {"verdict": verdict.value}
        for field, name in (
            ("review_decision_id", "review_decision"),
            ("appeal_id", "appeal"),
            ("item_id", "item"),
        ):
            if field in ctx.payload:
                detail[name] = ctx.payload[field]
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
