"""The worker loop: lease a batch, run each job's handler, complete or fail it, sleep when idle.

A transactional handler's writes and the job's completion are one transaction (see
``suraksha.worker.handlers`` for the contract). A heartbeat thread keeps the leases of the batch alive
while long jobs run; a worker that dies stops heartbeating, and another takes its jobs over once the
lease runs out. SIGTERM or SIGINT stops the loop after the job in hand; the jobs of the batch not yet
started are given back at once. A second signal interrupts the job in hand.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import timedelta
from types import FrameType

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from suraksha.db.engine import Database
from suraksha.errors import InvalidInput
from suraksha.worker import bell
from suraksha.worker.handlers import PERMANENT_ERRORS, Deferred, Handler, HandlerRegistry, JobContext
from suraksha.worker.models import Job, JobState
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.queue import (
    Lease,
    LeaseLost,
    complete,
    complete_batch,
    defer,
    enqueue,
    extend,
    fail,
    lease,
    purge_done,
    release,
)

log = logging.getLogger(__name__)

STOP_CHECK_S = 0.05
"""How often an idle worker looks at its stop event."""


@dataclass
class WorkerCounters:
    """Totals since the worker started, for metrics and the stop log line."""

    processed: int = 0
    failed: int = 0
    """Failed attempts, including those that dead-lettered the job."""
    dead: int = 0
    lease_lost: int = 0
    """Jobs this worker ran but could not complete: its lease had been taken over (work rolled back)."""
    released: int = 0
    deferred: int = 0
    """Jobs put back for later without spending an attempt (a kill switch held them)."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """One worker loop over one database. ``run()`` until stopped; ``run_once()`` for one batch."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: HandlerRegistry,
        *,
        worker_id: str | None = None,
        kinds: Collection[str] | None = None,
        config: WorkerConfig | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        unknown = sorted(set(kinds or ()) - set(registry.kinds))
        if unknown:
            raise InvalidInput(
                f"no handler for job kind(s) {', '.join(unknown)}; registered: {', '.join(registry.kinds)}"
            )
        self.sessions = sessions
        self.registry = registry
        self.worker_id = worker_id or default_worker_id()
        self.kinds = tuple(sorted(kinds)) if kinds else registry.kinds
        self.config = config or WorkerConfig()
        self.stop_event = stop_event or threading.Event()
        self.counters = WorkerCounters()
        self._held: dict[int, Lease] = {}
        self._held_lock = threading.Lock()
        self._recovered_at = -float("inf")
        self._queued_periods: dict[str, int] = {}
        """The period of each scheduled kind this worker last queued (see ``queue_scheduled``)."""
        """When this worker last looked for expired leases (time.monotonic)."""
        self._heartbeat_stop = threading.Event()
        self._wake = threading.Event()
        """Set by the job bell (jobs committed in this process) and by ``wake``: ends an idle sleep."""
        bell.listen(self._wake)

    def wake(self) -> None:
        """End an idle sleep now (to look for jobs, or to notice the stop event)."""
        self._wake.set()

    @contextmanager
    def _unit(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def run(self, *, until_drained: bool = False) -> WorkerCounters:
        """Work until the stop event is set (or, with ``until_drained``, until no job of this worker's
        kinds is queued or leased any more)."""
        log.info("event=worker.start worker=%s kinds=%s", self.worker_id, ",".join(self.kinds))
        self._heartbeat_stop.clear()
        heartbeat = threading.Thread(target=self._heartbeat, name=f"heartbeat-{self.worker_id}", daemon=True)
        heartbeat.start()
        sleep = self.config.idle_sleep_min_s
        next_maintenance = time.monotonic() + self.config.maintenance_every_s * random.uniform(0.1, 1.0)  # noqa: S311
        try:
            while not self.stop_event.is_set():
                try:
                    if time.monotonic() >= next_maintenance:
                        next_maintenance = time.monotonic() + self.config.maintenance_every_s
                        self.maintain()
                    self.queue_scheduled()
                    if self.run_once():
                        sleep = self.config.idle_sleep_min_s
                        continue
                    if until_drained and self._drained():
                        break
                except Exception:
                    # The database may be restarting: back off and try again rather than die.
                    log.exception("event=worker.loop_error worker=%s", self.worker_id)
                if self._idle(sleep):  # jobs committed in this process (the job bell)
                    sleep = self.config.idle_sleep_min_s
                sleep = min(sleep * 2, self.config.poll_interval_s)
        finally:
            self._heartbeat_stop.set()
            heartbeat.join()
            log.info(
                "event=worker.stop worker=%s %s",
                self.worker_id,
                " ".join(f"{k}={v}" for k, v in self.counters.as_dict().items()),
            )
        return self.counters

    def _idle(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when woken early (by the job bell, ``wake`` or the stop event,
        which is looked at every ``STOP_CHECK_S``: it is the caller's and cannot wake us itself)."""
        deadline = time.monotonic() + seconds
        while not self.stop_event.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._wake.wait(min(left, STOP_CHECK_S)):
                self._wake.clear()
                return True
        return True

    def maintain(self) -> int:
        """Purge finished jobs older than ``keep_done_s`` (every worker may do it; it is idempotent).
        A purged job's dedupe key is free again: keys name what caused a job, which does not recur
        once its effect is recorded (an item is decided once, a delivery delivered once)."""
        if self.config.keep_done_s is None:
            return 0
        with self._unit() as session:
            return purge_done(session, timedelta(seconds=self.config.keep_done_s))

    def queue_scheduled(self, now: float | None = None) -> int:
        """Queue the current period's job of each scheduled kind this worker runs
        (``HandlerRegistry.schedule``), once per period: the key names the period, so the workers
        that all try queue one job between them. Returns how many this call queued."""
        wall = time.time() if now is None else now
        due = [
            (kind, int(wall // every_s))
            for kind, every_s in self.registry.schedules.items()
            if kind in self.kinds and self._queued_periods.get(kind) != int(wall // every_s)
        ]
        if not due:
            return 0
        with self._unit() as session:
            queued = sum(
                enqueue(session, kind, {"period": period}, key=f"schedule:{kind}:{period}") is not None
                for kind, period in due
            )
        self._queued_periods.update(due)
        return queued

    def run_once(self) -> int:
        """Lease one batch and run it; returns how many jobs were leased."""
        recover = time.monotonic() - self._recovered_at >= self.config.recover_every_s
        with self._unit() as session:
            batch = lease(
                session,
                self.worker_id,
                limit=self.config.batch_size,
                lease_s=self.config.lease_s,
                kinds=self.kinds,
                policy=self.config.retry,
                recover=recover,
            )
        if recover:
            self._recovered_at = time.monotonic()
        with self._held_lock:
            self._held.update((held.job_id, held) for held in batch)
        try:
            groups: dict[str, list[Lease]] = {}
            singles: list[Lease] = []
            for held in batch:
                if self.registry.get(held.kind).batch is not None:
                    groups.setdefault(held.kind, []).append(held)
                else:
                    singles.append(held)
            for kind, helds in groups.items():
                if self.stop_event.is_set():
                    self._give_back(helds)
                    continue
                self._process_batch(kind, helds)
            for position, held in enumerate(singles):
                if self.stop_event.is_set():
                    self._give_back(singles[position:])
                    break
                self._process(held)
                with self._held_lock:
                    self._held.pop(held.job_id, None)
        finally:
            with self._held_lock:
                for held in batch:
                    self._held.pop(held.job_id, None)
        return len(batch)

    def _process(self, held: Lease) -> None:
        registration = self.registry.get(held.kind)
        started = time.monotonic()
        try:
            if registration.transactional:
                with self._unit() as session:
                    registration.handler(JobContext(held, session))
                    complete(session, held)
            else:
                registration.handler(JobContext(held))
                with self._unit() as session:
                    complete(session, held)
        except LeaseLost as exc:
            self.counters.lease_lost += 1
            log.warning("event=job.lease_lost job=%s kind=%s worker=%s", held.job_id, held.kind, exc)
            return
        except Deferred as exc:
            self._defer(held, exc)
            return
        except Exception as exc:
            self._record_failure(held, exc)
            return
        self.counters.processed += 1
        log.info(
            "event=job.done job=%s kind=%s attempt=%d worker=%s ms=%d",
            held.job_id,
            held.kind,
            held.attempt,
            self.worker_id,
            (time.monotonic() - started) * 1000,
        )

    def _process_batch(self, kind: str, helds: list[Lease]) -> None:
        """Run a batch handler, complete the jobs it finished in one transaction, and record each
        failure (or deferral) on its own job."""
        registration = self.registry.get(kind)
        batch = registration.batch
        assert batch is not None
        started = time.monotonic()
        try:
            outcomes: Mapping[int, Exception | None] = batch([JobContext(held) for held in helds])
        except Exception as failure:  # the whole batch failed the same way (e.g. the index is not ready)
            outcomes = dict.fromkeys((held.job_id for held in helds), failure)
        done = [held for held in helds if outcomes.get(held.job_id, KeyError("no outcome")) is None]
        completed = 0
        if registration.completes:  # done in the handler's own transaction, with the jobs' effect
            completed = len(done)
        elif done:
            try:
                with self._unit() as session:
                    completed = len(complete_batch(session, done))
                # A job missing from those completed had its lease taken over; its update changed nothing.
                self.counters.lease_lost += len(done) - completed
            except Exception:
                log.exception("event=job.complete_unrecorded kind=%s jobs=%d", kind, len(done))
                completed = 0
        self.counters.processed += completed
        for held in helds:
            outcome = outcomes.get(held.job_id, KeyError("no outcome"))
            if isinstance(outcome, Deferred):
                self._defer(held, outcome)
            elif isinstance(outcome, LeaseLost):  # taken over: the new holder records what happens
                self.counters.lease_lost += 1
            elif outcome is not None:
                self._record_failure(held, outcome)
        log.info(
            "event=job.batch kind=%s jobs=%d done=%d worker=%s ms=%d",
            kind,
            len(helds),
            completed,
            self.worker_id,
            (time.monotonic() - started) * 1000,
        )

    def _defer(self, held: Lease, exc: Deferred) -> None:
        try:
            with self._unit() as session:
                defer(session, held, str(exc), timedelta(seconds=exc.delay_s))
        except LeaseLost:
            self.counters.lease_lost += 1
            return
        except Exception:
            log.exception("event=job.defer_unrecorded job=%s kind=%s", held.job_id, held.kind)
            return
        self.counters.deferred += 1
        log.info("event=job.deferred job=%s kind=%s reason=%r", held.job_id, held.kind, str(exc)[:200])

    def _record_failure(self, held: Lease, exc: Exception) -> None:
        retryable = not isinstance(exc, PERMANENT_ERRORS)
        error = f"{type(exc).__name__}: {exc}"
        try:
            with self._unit() as session:
                state = fail(session, held, error, retryable=retryable, policy=self.config.retry)
        except LeaseLost:
            self.counters.lease_lost += 1
            return
        except Exception:
            # The failure could not be written (database gone): the lease runs out and the job is retried.
            log.exception("event=job.fail_unrecorded job=%s kind=%s", held.job_id, held.kind)
            return
        self.counters.failed += 1
        if state is JobState.DEAD:
            self.counters.dead += 1
        log.warning(
            "event=job.failed job=%s kind=%s attempt=%d state=%s error=%r",
            held.job_id,
            held.kind,
            held.attempt,
            state,
            error[:500],
            exc_info=state is JobState.DEAD,
        )

    def _give_back(self, unstarted: Sequence[Lease]) -> None:
        with self._unit() as session:
            self.counters.released += release(session, unstarted)

    def _heartbeat(self) -> None:
        # Runs until the loop has ended, not merely been asked to stop: the job in hand keeps its lease.
        while not self._heartbeat_stop.wait(self.config.heartbeat_s):
            with self._held_lock:
                held = list(self._held.values())
            if not held:
                continue
            ids = {h.job_id for h in held}
            try:
                with self._unit() as session:
                    kept = extend(session, held, lease_s=self.config.lease_s)
            except Exception:
                log.exception("event=worker.heartbeat_failed worker=%s jobs=%d", self.worker_id, len(held))
                continue
            with self._held_lock:  # a job finished meanwhile is not lost
                lost = sorted(job_id for job_id in self._held if job_id not in kept and job_id in ids)
            for job_id in lost:
                log.warning("event=job.lease_not_extended job=%s worker=%s", job_id, self.worker_id)

    def _drained(self) -> bool:
        """No job of this worker's kinds is queued or leased, scheduled housekeeping aside: a periodic
        job (an audit checkpoint, a clock check) recurs by design, and one failing and waiting for its
        retry must not keep a drain (``worker --drain``, the demo, tests) from ever ending."""
        kinds = [k for k in self.kinds if k not in self.registry.schedules]
        if not kinds:
            return True
        with self._unit() as session:
            pending = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.state.in_([JobState.QUEUED, JobState.LEASED]), Job.kind.in_(kinds))
            )
        return not pending


def run_worker(
    database: Database | Engine | sessionmaker[Session],
    handlers: HandlerRegistry | Mapping[str, Handler],
    *,
    worker_id: str | None = None,
    kinds: Collection[str] | None = None,
    stop_event: threading.Event | None = None,
    config: WorkerConfig | None = None,
    until_drained: bool = False,
    install_signal_handlers: bool = True,
) -> WorkerCounters:
    """Run a worker until SIGTERM/SIGINT (or ``stop_event``, or drained); the ``suraksha worker``
    command calls this with ``WorkerConfig.from_settings(platform.settings)``."""
    registry = handlers if isinstance(handlers, HandlerRegistry) else HandlerRegistry(handlers)
    stop = stop_event or threading.Event()
    worker = Worker(
        _session_factory(database),
        registry,
        worker_id=worker_id,
        kinds=kinds,
        config=config,
        stop_event=stop,
    )
    previous: dict[signal.Signals, object] = {}
    if install_signal_handlers and threading.current_thread() is threading.main_thread():

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            if stop.is_set():
                raise KeyboardInterrupt  # a second signal: do not wait for the job in hand
            log.info(
                "event=worker.stopping worker=%s signal=%s", worker.worker_id, signal.Signals(signum).name
            )
            stop.set()
            worker.wake()

        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, request_stop)
    try:
        return worker.run(until_drained=until_drained)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]


def _session_factory(database: Database | Engine | sessionmaker[Session]) -> sessionmaker[Session]:
    if isinstance(database, Database):
        return database.sessions
    if isinstance(database, Engine):
        return sessionmaker(database, expire_on_commit=False)
    return database
