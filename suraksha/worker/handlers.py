"""Job handlers: what runs a job of each kind, registered by name, free of any web framework.

The handler contract
--------------------
Delivery is **at least once**: a worker can die after a handler's effect and before the job is marked
done, and then the job runs again. So every effect must be keyed by what caused it (the job's ``key``
or an id in its payload), so that a repeat is a no-op.

The strong pattern, and the default: a *transactional* handler gets ``ctx.session``, an open
transaction in which the worker also marks the job done. Its database writes and the completion
commit together or not at all, and the completion only succeeds while this worker still holds the
lease, so a database-only handler's effect happens **exactly once**, even with many workers and
workers killed at any point.

Outbound side effects (webhooks, reports to a clearinghouse) cannot join a database transaction.
Enqueue them from the transactional handler as jobs of their own, with a dedupe key
(``enqueue(ctx.session, "webhook.deliver", {...}, key=f"webhook:{action_id}")``), and run those with
a non-transactional handler (``transactional=False``: no transaction is held open during the call)
that sends a stable delivery id (``ctx.key``) the receiver uses to drop repeats.

A handler fails by raising. ``PermanentFailure`` (or ``InvalidInput``) dead-letters the job at once
with the message as the reason; anything else is retried with backoff until the attempts run out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

from sqlalchemy.orm import Session

from suraksha.errors import InvalidInput, SurakshaError
from suraksha.worker.queue import Lease


class PermanentFailure(SurakshaError):
    """Raised by a handler when retrying cannot help (the row it names is gone, the input is wrong)."""


class Deferred(SurakshaError):
    """Raised by a handler when the job cannot run now through no fault of its own (a kill switch
    holds it): it is queued again after ``delay_s`` without spending an attempt."""

    def __init__(self, reason: str, delay_s: float = 30.0) -> None:
        super().__init__(reason)
        self.delay_s = delay_s


PERMANENT_ERRORS: tuple[type[BaseException], ...] = (PermanentFailure, InvalidInput)


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: the job (by id, kind, payload, key), and for transactional handlers the
    transaction the job completes in."""

    lease: Lease
    transaction: Session | None = None

    @property
    def job_id(self) -> int:
        return self.lease.job_id

    @property
    def kind(self) -> str:
        return self.lease.kind

    @property
    def payload(self) -> Mapping[str, Any]:
        return self.lease.payload

    @property
    def key(self) -> str | None:
        return self.lease.key

    @property
    def attempt(self) -> int:
        return self.lease.attempt

    @property
    def session(self) -> Session:
        if self.transaction is None:
            raise RuntimeError(
                f"the {self.kind!r} handler is registered with transactional=False and has no session; "
                "open a unit of work of its own, or register it as transactional"
            )
        return self.transaction


Handler = Callable[[JobContext], None]
BatchHandler = Callable[[Sequence[JobContext]], Mapping[int, Exception | None]]
"""Runs several jobs of one kind at once (outside a held transaction) and answers, per job id, None
(done) or the exception that job failed with. Jobs it answers None for are completed together."""


@dataclass(frozen=True)
class Registration:
    kind: str
    handler: Handler
    transactional: bool = True
    batch: BatchHandler | None = None
    """Optional: the same work for several jobs at once (amortises transactions); ``handler`` still
    runs single jobs."""
    completes: bool = False
    """The batch handler marks the jobs it answers None for as done itself, in the transaction that
    writes their effect (``queue.complete_batch``), and answers ``LeaseLost`` for a job it could not
    complete; the worker then only counts them (one write transaction per batch instead of two)."""


class HandlerRegistry:
    """Kind -> handler. ``registry.register("kind", fn)`` or ``@registry.register("kind")``."""

    def __init__(self, handlers: Mapping[str, Handler] | None = None) -> None:
        self._by_kind: dict[str, Registration] = {}
        self._every: dict[str, float] = {}
        for kind, handler in (handlers or {}).items():
            self.register(kind, handler)

    @overload
    def register(self, kind: str, handler: Handler, *, transactional: bool = True) -> Handler: ...

    @overload
    def register(
        self, kind: str, handler: None = None, *, transactional: bool = True
    ) -> Callable[[Handler], Handler]: ...

    def register(
        self, kind: str, handler: Handler | None = None, *, transactional: bool = True
    ) -> Handler | Callable[[Handler], Handler]:
        def add(fn: Handler) -> Handler:
            if kind in self._by_kind:
                raise InvalidInput(f"a handler for job kind {kind!r} is already registered")
            self._by_kind[kind] = Registration(kind, fn, transactional)
            return fn

        return add if handler is None else add(handler)

    def register_batch(self, kind: str, batch: BatchHandler, *, completes: bool = False) -> None:
        """Add a batch form to a kind registered (non-transactional) with ``register``. ``completes``:
        the batch handler completes its jobs itself (see ``Registration.completes``)."""
        registration = self.get(kind)
        if registration.transactional:
            raise InvalidInput(f"job kind {kind!r} is transactional: batches run outside a held transaction")
        self._by_kind[kind] = Registration(kind, registration.handler, False, batch, completes)

    def schedule(self, kind: str, every_s: float) -> None:
        """Run a registered kind once every ``every_s`` seconds: workers queue one job per period
        (its key names the period, so one job however many workers there are), with the period's
        number as its payload ``{"period": N}``. The job runs like any other: retried, dead-lettered."""
        self.get(kind)
        if every_s <= 0:
            raise InvalidInput(f"job kind {kind!r}: the schedule's period must be positive, not {every_s}")
        self._every[kind] = every_s

    @property
    def schedules(self) -> Mapping[str, float]:
        """Scheduled kinds and their periods in seconds."""
        return dict(self._every)

    def get(self, kind: str) -> Registration:
        try:
            return self._by_kind[kind]
        except KeyError:
            raise InvalidInput(
                f"no handler for job kind {kind!r}; registered: {', '.join(sorted(self._by_kind)) or 'none'}"
            ) from None

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_kind))

    def __contains__(self, kind: object) -> bool:
        return kind in self._by_kind

    def __iter__(self) -> Iterator[Registration]:
        return iter(self._by_kind.values())
