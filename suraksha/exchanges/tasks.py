"""The exchanges' jobs.

- ``exchanges.due`` (scheduled every ``CHECK_EVERY_S`` when ``exchange_fetch_every_s`` > 0): queue a
  fetch for each enabled exchange that is due, and move its next fetch on, so that it is queued once.
- ``exchanges.fetch {"exchange_id", "by"?}``: fetch one exchange from its checkpoint, within the time budget
  (``suraksha.exchanges.sync.fetch``: a transaction per page). Not transactional: the fetch owns
  its transactions. A failed fetch is recorded on its run and the exchange backs off
  (``exchange_backoff_base_s``, doubling); the job itself ends, so the queue does not retry on top.
  ``by``: who asked (a person's "fetch now", ``request_fetch``); the run records it. Default: system.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.errors import Conflict
from suraksha.exchanges import services
from suraksha.exchanges.models import Exchange
from suraksha.exchanges.sync import FetchResult, due_exchanges
from suraksha.worker.handlers import HandlerRegistry, JobContext, PermanentFailure
from suraksha.worker.queue import enqueue

DUE = "exchanges.due"
FETCH = "exchanges.fetch"
CHECK_EVERY_S = 30.0
QUEUED_HOLD_S = 3600.0
"""A queued fetch moves the exchange's next fetch this far on; the fetch sets it when it ends."""


@dataclass(frozen=True)
class ExchangeJobs:
    db: Database
    fetch: Callable[[str, str], FetchResult]
    """Fetch the named exchange as the named actor (``Platform.exchange_fetch``)."""
    every_s: float

    def register(self, registry: HandlerRegistry) -> None:
        registry.register(DUE, self.due)
        registry.register(FETCH, self.fetch_one, transactional=False)
        if self.every_s > 0:
            registry.schedule(DUE, CHECK_EVERY_S)

    def due(self, ctx: JobContext) -> None:
        session = ctx.session
        now = utcnow()
        for exchange in due_exchanges(session, now):
            exchange.next_fetch_at = now + timedelta(seconds=QUEUED_HOLD_S)
            enqueue(session, FETCH, {"exchange_id": exchange.id}, key=f"{FETCH}:{exchange.id}:{ctx.job_id}")

    def fetch_one(self, ctx: JobContext) -> None:
        exchange_id = ctx.payload.get("exchange_id")
        if not isinstance(exchange_id, int):
            raise PermanentFailure(f"job {ctx.job_id} has no integer exchange_id")
        with self.db.reading() as session:
            exchange = session.get(Exchange, exchange_id)
            name = exchange.name if exchange is not None and exchange.enabled else None
        by = ctx.payload.get("by")
        if name is not None:  # else deleted or disabled since it was queued
            self.fetch(name, by if isinstance(by, str) and by else "system")


def request_fetch(session: Session, name: str, *, by: str) -> int | None:
    """A person asks for a fetch now (the console): audited, and a fetch queued for the worker in the
    same transaction, keyed by the audit row (one request, one job); the run records who asked. A
    disabled exchange is not fetched: enable it first (409)."""
    exchange = services.get_exchange(session, name)
    if not exchange.enabled:
        raise Conflict(f"exchange {name!r} is disabled: enable it to fetch it")
    row = audit.record(
        session, by, audit.AuditAction.EXCHANGE_CHANGE, f"exchange:{name}", {"change": "fetch_now"}
    )
    return enqueue(
        session, FETCH, {"exchange_id": exchange.id, "by": by}, key=f"{FETCH}:{exchange.id}:request:{row.id}"
    )
