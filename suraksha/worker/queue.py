"""The job queue's lifecycle: enqueue, lease, complete, fail, extend, release, and operator retries.

Every function takes a session and leaves committing to the caller's unit of work:

- ``enqueue`` runs in the transaction of the state change that caused the job (outbox): the job
  exists if and only if that change committed.
- ``lease`` claims due jobs for one worker; commit it at once, so other workers see the claim.
  PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``, so workers never wait on each other's rows.
  SQLite: every transaction begins ``IMMEDIATE`` (suraksha.db.engine), one writer at a time.
- ``complete`` and ``fail`` only act while the caller still holds the lease (same token): a worker whose
  lease expired and was taken over cannot finish the job, so its transaction rolls back.

Delivery is at least once; see ``suraksha.worker.runner`` for how handlers make effects exactly once.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from suraksha.db.base import utcnow
from suraksha.db.inserts import upsert_insert
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.worker import bell
from suraksha.worker.models import KEY_MAX, KIND_MAX, WORKER_ID_MAX, Job, JobState
from suraksha.worker.policy import RetryPolicy

log = logging.getLogger(__name__)

PAYLOAD_MAX_BYTES = 8192
"""Payloads carry ids, not content: the handler reads the current state by id."""
ERROR_MAX_CHARS = 4000
KIND_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.:-]*$")
_NO_SYNC = {"synchronize_session": False}
_JOBS = cast(Table, Job.__table__)


class LeaseLost(Conflict):
    """The caller no longer holds the job: its lease expired and another worker took it over, or an
    operator retried it. The caller's transaction must roll back; the job runs under the new lease."""


@dataclass(frozen=True)
class Lease:
    """A claim on one job, handed to a handler; ``token`` proves the claim to complete/fail/extend."""

    job_id: int
    kind: str
    payload: Mapping[str, Any]
    key: str | None
    attempt: int
    max_attempts: int | None
    worker_id: str
    token: str
    expires_at: datetime


def enqueue(
    session: Session,
    kind: str,
    payload: Mapping[str, Any],
    *,
    key: str | None = None,
    priority: int = 0,
    run_after: datetime | None = None,
    max_attempts: int | None = None,
) -> int | None:
    """Add a job in the caller's transaction; return its id, or None when a job with ``key`` exists.

    ``key`` makes enqueueing idempotent: name the job after what caused it (``"webhook:action:42"``).
    ``priority``: lower runs first. ``max_attempts``: None uses the worker's configured default.
    """
    row = _job_row(kind, payload, key, priority=priority, run_after=run_after, max_attempts=max_attempts)
    statement = upsert_insert(session, Job).values(row)
    statement = statement.on_conflict_do_nothing(index_elements=[_JOBS.c.dedupe_key])
    job_id = session.connection().execute(statement.returning(_JOBS.c.id)).scalar_one_or_none()
    if job_id is not None:
        bell.mark_enqueued(session)
    log.debug("event=job.enqueue kind=%s job=%s key=%s duplicate=%s", kind, job_id, key, job_id is None)
    return job_id


def enqueue_many(
    session: Session,
    kind: str,
    jobs: Sequence[tuple[Mapping[str, Any], str]],
    *,
    priority: int = 0,
    run_after: datetime | None = None,
    max_attempts: int | None = None,
) -> list[int | None]:
    """``enqueue`` for several jobs of one kind, ``(payload, key)`` each, in one statement; their ids
    in order (None for a key that exists, or that repeats an earlier key of ``jobs``)."""
    rows = [
        _job_row(kind, payload, key, priority=priority, run_after=run_after, max_attempts=max_attempts)
        for payload, key in jobs
    ]
    if not rows:
        return []
    # INSERT ... ON CONFLICT DO NOTHING: a duplicate key is a no-op, even against a concurrent insert
    # (PostgreSQL waits for the other transaction, then skips), and the transaction stays usable.
    statement = (
        upsert_insert(session, Job)
        .on_conflict_do_nothing(index_elements=[_JOBS.c.dedupe_key])
        .returning(_JOBS.c.dedupe_key, _JOBS.c.id)
    )
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["dedupe_key"], row)
    unique = list(first.values())
    # One statement for all rows (SQLAlchemy's "insertmanyvalues"), not one per row.
    returned = session.connection().execute(statement, unique).all()
    found: dict[str, int] = {str(key): int(job_id) for key, job_id in returned}
    ids = [found.pop(row["dedupe_key"], None) for row in rows]
    if any(job_id is not None for job_id in ids):
        bell.mark_enqueued(session)
    log.debug("event=job.enqueue kind=%s jobs=%d new=%d", kind, len(rows), sum(i is not None for i in ids))
    return ids


def _job_row(
    kind: str,
    payload: Mapping[str, Any],
    key: str | None,
    *,
    priority: int,
    run_after: datetime | None,
    max_attempts: int | None,
) -> dict[str, Any]:
    _check_kind(kind)
    if key is not None and not 0 < len(key) <= KEY_MAX:
        raise InvalidInput(f"job key {key[:40]!r} must be 1-{KEY_MAX} characters")
    if max_attempts is not None and max_attempts < 1:
        raise InvalidInput(f"max_attempts {max_attempts} for a {kind!r} job must be at least 1")
    if run_after is not None and run_after.tzinfo is None:
        raise InvalidInput(f"run_after {run_after} is a naive datetime; give an aware one (UTC)")
    now = utcnow()
    return {
        "kind": kind,
        "payload": _check_payload(kind, payload),
        "state": JobState.QUEUED.value,
        "priority": priority,
        "max_attempts": max_attempts,
        "run_after": run_after or now,
        "dedupe_key": key,
        "created_at": now,
    }


def lease(
    session: Session,
    worker_id: str,
    *,
    limit: int = 1,
    lease_s: float = 60.0,
    kinds: Sequence[str] | None = None,
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
    recover: bool = True,
) -> list[Lease]:
    """Claim up to ``limit`` due jobs (lowest priority value first, then oldest) for ``worker_id``.

    Expired leases are recovered first (unless ``recover`` is False: a worker that looked a moment
    ago): the job is queued again, or dead-lettered when the dead worker had used its last attempt
    (a job that kills every worker that runs it must stop somewhere).
    """
    if not 0 < len(worker_id) <= WORKER_ID_MAX:
        raise InvalidInput(f"worker id {worker_id[:40]!r} must be 1-{WORKER_ID_MAX} characters")
    if limit < 1 or lease_s <= 0:
        raise InvalidInput(f"lease limit {limit} and lease time {lease_s} s must be positive")
    now = now or utcnow()
    if recover:
        recover_expired(session, policy=policy or RetryPolicy(), now=now)
    due = select(Job.id).where(Job.state == JobState.QUEUED, Job.run_after <= now)
    if kinds is not None:
        due = due.where(Job.kind.in_(list(kinds)))
    due = due.order_by(Job.priority, Job.run_after, Job.id).limit(limit).with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    token = uuid.uuid4().hex
    expires = now + timedelta(seconds=lease_s)
    rows = session.execute(
        update(Job)
        .where(Job.id.in_(ids))
        .values(
            state=JobState.LEASED.value,
            leased_by=worker_id,
            lease_token=token,
            lease_expires_at=expires,
            attempts=Job.attempts + 1,
        )
        .returning(Job.id, Job.kind, Job.payload, Job.dedupe_key, Job.attempts, Job.max_attempts)
        .execution_options(**_NO_SYNC)
    ).all()
    leases = [
        Lease(r.id, r.kind, r.payload, r.dedupe_key, r.attempts, r.max_attempts, worker_id, token, expires)
        for r in rows
    ]
    order = {job_id: position for position, job_id in enumerate(ids)}
    return sorted(leases, key=lambda item: order[item.job_id])


def recover_expired(session: Session, *, policy: RetryPolicy, now: datetime | None = None) -> int:
    """Queue again (or dead-letter, out of attempts) every job whose lease has run out."""
    now = now or utcnow()
    expired = session.execute(
        select(Job.id, Job.attempts, Job.max_attempts, Job.leased_by, Job.lease_expires_at)
        .where(Job.state == JobState.LEASED, Job.lease_expires_at <= now)
        .order_by(Job.lease_expires_at)
        .limit(1000)
        .with_for_update(skip_locked=True)
    ).all()
    for row in expired:
        lost = f"lease held by {row.leased_by} expired at {row.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC"
        out_of_attempts = row.attempts >= (row.max_attempts or policy.max_attempts)
        values: dict[str, Any] = {
            "state": JobState.DEAD.value if out_of_attempts else JobState.QUEUED.value,
            "last_error": f"gave up after {row.attempts} attempts: {lost}" if out_of_attempts else lost,
            "lease_token": None,
            "lease_expires_at": None,
            "run_after": now,
        }
        if out_of_attempts:
            values["finished_at"] = now
        session.execute(update(Job).where(Job.id == row.id).values(**values).execution_options(**_NO_SYNC))
        log.warning(
            "event=job.lease_expired job=%s worker=%s dead=%s", row.id, row.leased_by, out_of_attempts
        )
    return len(expired)


def complete(session: Session, held: Lease, *, now: datetime | None = None) -> None:
    """Mark the job done, in the caller's transaction (ideally the one holding the handler's writes)."""
    _guarded_update(
        session,
        held,
        state=JobState.DONE.value,
        finished_at=now or utcnow(),
        lease_token=None,
        lease_expires_at=None,
    )


def complete_batch(session: Session, held: Sequence[Lease], *, now: datetime | None = None) -> set[int]:
    """Mark several jobs done with one statement per lease (a batch leased together shares one), in
    the caller's transaction. Returns the ids completed: a job missing from it is no longer held (its
    lease expired and was taken over, or it was retried) and was left as it is."""
    now = now or utcnow()
    done: set[int] = set()
    for token in {h.token for h in held}:
        ids = [h.job_id for h in held if h.token == token]
        done.update(
            session.scalars(
                update(Job)
                .where(Job.id.in_(ids), Job.lease_token == token, Job.state == JobState.LEASED)
                .values(state=JobState.DONE.value, finished_at=now, lease_token=None, lease_expires_at=None)
                .returning(Job.id)
                .execution_options(**_NO_SYNC)
            )
        )
    return done


def fail(
    session: Session,
    held: Lease,
    error: str,
    *,
    retryable: bool = True,
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
) -> JobState:
    """Record a failed attempt: queued again after a backoff, or dead with the reason when the error is
    not retryable or the attempts are used up. Returns the job's new state."""
    policy = policy or RetryPolicy()
    now = now or utcnow()
    limit = held.max_attempts or policy.max_attempts
    error = error.strip()[:ERROR_MAX_CHARS] or "(no message)"
    if not retryable:
        state, reason, run_after = JobState.DEAD, f"not retryable: {error}", now
    elif held.attempt >= limit:
        state, reason, run_after = JobState.DEAD, f"gave up after {held.attempt} attempts: {error}", now
    else:
        state, reason, run_after = JobState.QUEUED, error, now + policy.delay(held.attempt)
    _guarded_update(
        session,
        held,
        state=state.value,
        last_error=reason,
        run_after=run_after,
        finished_at=now if state is JobState.DEAD else None,
        lease_token=None,
        lease_expires_at=None,
    )
    return state


def extend(
    session: Session, held: Sequence[Lease], *, lease_s: float, now: datetime | None = None
) -> set[int]:
    """Heartbeat: push the leases' expiry ``lease_s`` from now. Returns the ids still held."""
    expires = (now or utcnow()) + timedelta(seconds=lease_s)
    kept: set[int] = set()
    for token in {h.token for h in held}:
        ids = [h.job_id for h in held if h.token == token]
        kept.update(
            session.scalars(
                update(Job)
                .where(Job.id.in_(ids), Job.lease_token == token, Job.state == JobState.LEASED)
                .values(lease_expires_at=expires)
                .returning(Job.id)
                .execution_options(**_NO_SYNC)
            )
        )
    return kept


def release(session: Session, held: Sequence[Lease]) -> int:
    """Give back leased jobs that were never started (a worker stopping): queued again at once, and
    the attempt taken by the lease is given back too."""
    released = 0
    for h in held:
        result = session.execute(
            update(Job)
            .where(Job.id == h.job_id, Job.lease_token == h.token, Job.state == JobState.LEASED)
            .values(
                state=JobState.QUEUED.value,
                attempts=Job.attempts - 1,
                lease_token=None,
                lease_expires_at=None,
            )
            .execution_options(**_NO_SYNC)
        )
        released += result.rowcount  # type: ignore[attr-defined]
    return released


def retry(session: Session, job_id: int, *, now: datetime | None = None) -> Job:
    """Run a dead job again (or a queued one now, skipping its backoff), with its attempts reset."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound(f"no job with id {job_id}; `suraksha jobs list` shows the jobs")
    if job.state == JobState.LEASED:
        raise Conflict(
            f"job {job_id} is running (leased by {job.leased_by} until {job.lease_expires_at}); "
            "retry it if it fails for good"
        )
    if job.state == JobState.DONE:
        raise Conflict(
            f"job {job_id} is done; running it again could repeat its effect, so it is not retried"
        )
    job.state, job.attempts, job.run_after, job.finished_at = JobState.QUEUED.value, 0, now or utcnow(), None
    log.info("event=job.retry job=%s kind=%s", job.id, job.kind)
    return job


def retry_dead(session: Session, kind: str | None = None, *, now: datetime | None = None) -> int:
    """Queue every dead job (of one kind, if given) again with its attempts reset; returns how many."""
    statement = update(Job).where(Job.state == JobState.DEAD)
    if kind is not None:
        statement = statement.where(Job.kind == kind)
    result = session.execute(
        statement.values(
            state=JobState.QUEUED.value, attempts=0, run_after=now or utcnow(), finished_at=None
        ).execution_options(**_NO_SYNC)
    )
    count: int = result.rowcount  # type: ignore[attr-defined]
    log.info("event=job.retry_dead kind=%s count=%d", kind or "*", count)
    return count


def purge_done(session: Session, older_than: timedelta, *, now: datetime | None = None) -> int:
    """Delete done jobs finished more than ``older_than`` ago; returns how many.

    A purged job's key is free again, so keep done jobs longer than anything might re-enqueue them.
    """
    if older_than < timedelta(0):
        raise InvalidInput(f"older_than {older_than} must not be negative")
    cutoff = (now or utcnow()) - older_than
    result = session.execute(
        delete(Job).where(Job.state == JobState.DONE, Job.finished_at < cutoff).execution_options(**_NO_SYNC)
    )
    count: int = result.rowcount  # type: ignore[attr-defined]
    log.info("event=job.purge_done before=%s count=%d", cutoff.isoformat(), count)
    return count


def defer(
    session: Session, held: Lease, reason: str, delay: timedelta, *, now: datetime | None = None
) -> None:
    """Put a job back for later without spending an attempt: it could not run for a reason that is not
    its fault (a kill switch holds it, a dependency is not ready)."""
    now = now or utcnow()
    _guarded_update(
        session,
        held,
        state=JobState.QUEUED.value,
        attempts=Job.attempts - 1,
        last_error=f"deferred: {reason.strip()[:ERROR_MAX_CHARS]}",
        run_after=now + delay,
        lease_token=None,
        lease_expires_at=None,
    )


def _guarded_update(session: Session, held: Lease, **values: Any) -> None:
    result = session.execute(
        update(Job)
        .where(Job.id == held.job_id, Job.lease_token == held.token, Job.state == JobState.LEASED)
        .values(**values)
        .execution_options(**_NO_SYNC)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(
            f"job {held.job_id} ({held.kind}) is no longer leased to {held.worker_id}: the lease expired "
            "and another worker took it over, or it was retried; this attempt's writes must roll back"
        )


def _check_kind(kind: str) -> None:
    if not (0 < len(kind) <= KIND_MAX and KIND_PATTERN.match(kind)):
        raise InvalidInput(
            f"job kind {kind[:40]!r} must be 1-{KIND_MAX} lower-case letters, digits, '_', '.', ':' or '-'"
        )


def _check_payload(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, Mapping) or not all(isinstance(k, str) for k in payload):
        raise InvalidInput(f"the payload of a {kind!r} job must be a mapping with string keys")
    try:
        encoded = json.dumps(dict(payload), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the payload of a {kind!r} job is not JSON ({exc}); pass ids") from None
    if len(encoded.encode()) > PAYLOAD_MAX_BYTES:
        raise InvalidInput(
            f"the payload of a {kind!r} job is {len(encoded.encode())} bytes, over {PAYLOAD_MAX_BYTES}: "
            "pass ids and let the handler read the rows"
        )
    result: dict[str, Any] = json.loads(encoded)
    return result
