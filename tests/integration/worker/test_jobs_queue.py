"""The queue's lifecycle on real SQLite and PostgreSQL: enqueue, lease, complete, fail, recover, retry."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from suraksha.db import Database, utcnow
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.worker import (
    Job,
    JobState,
    LeaseLost,
    RetryPolicy,
    complete,
    enqueue,
    extend,
    fail,
    lease,
    purge_done,
    release,
    retry,
    retry_dead,
)
from suraksha.worker.listing import get_job, list_jobs, queue_stats

POLICY = RetryPolicy(max_attempts=3, backoff_base_s=10.0, backoff_max_s=100.0)


def job_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Job)) or 0


def test_enqueue_in_a_rolled_back_transaction_leaves_no_job(db: Database) -> None:
    class Boom(Exception):
        pass

    def enqueue_then_fail() -> None:
        with db.session() as s:
            assert enqueue(s, "report.send", {"report_id": 7}) is not None
            raise Boom

    with pytest.raises(Boom):
        enqueue_then_fail()
    assert job_count(db) == 0
    with db.session() as s:
        job_id = enqueue(s, "report.send", {"report_id": 7})
    with db.session() as s:
        job = get_job(s, job_id or 0)
        assert (job.kind, job.payload, job.state) == ("report.send", {"report_id": 7}, "queued")
        assert job.attempts == 0


def test_a_duplicate_key_is_a_no_op(db: Database) -> None:
    with db.session() as s:
        first = enqueue(s, "webhook.deliver", {"action_id": 1}, key="webhook:action:1")
        assert first is not None
        assert enqueue(s, "webhook.deliver", {"action_id": 1}, key="webhook:action:1") is None
    with db.session() as s:
        assert enqueue(s, "webhook.deliver", {"action_id": 99}, key="webhook:action:1") is None
        assert enqueue(s, "webhook.deliver", {"action_id": 2}, key="webhook:action:2") is not None
        assert enqueue(s, "webhook.deliver", {"action_id": 3}) is not None  # no key: never a duplicate
    with db.session() as s:
        assert get_job(s, first).payload == {"action_id": 1}
    assert job_count(db) == 3


def test_lease_then_complete(db: Database) -> None:
    with db.session() as s:
        job_id = enqueue(s, "scan.item", {"item_id": 1}, key="scan:1")
    with db.session() as s:
        [held] = lease(s, "w1", limit=5, lease_s=30)
        assert (held.job_id, held.attempt, held.key, held.payload) == (job_id, 1, "scan:1", {"item_id": 1})
    with db.session() as s:
        assert lease(s, "w2", limit=5) == []  # held by w1
        job = get_job(s, held.job_id)
        assert job.state == JobState.LEASED and job.leased_by == "w1"
    with db.session() as s:
        complete(s, held)
    with db.session() as s:
        job = get_job(s, held.job_id)
        assert job.state == JobState.DONE and job.finished_at is not None and job.lease_token is None
    with db.session() as s, pytest.raises(LeaseLost, match="no longer leased to w1"):
        complete(s, held)


def test_order_schedule_and_kinds(db: Database) -> None:
    now = utcnow()
    with db.session() as s:
        later = enqueue(s, "a", {}, run_after=now + timedelta(hours=1))
        normal = enqueue(s, "a", {})
        urgent = enqueue(s, "a", {}, priority=-5)
        other = enqueue(s, "b", {})
    with db.session() as s:
        first = lease(s, "w", limit=10, kinds=["a"])
        assert [h.job_id for h in first] == [urgent, normal]
    with db.session() as s:
        second = lease(s, "w", limit=10)
        assert [h.job_id for h in second] == [other]
        assert lease(s, "w", limit=10) == []
        for held in first + second:
            complete(s, held)
        assert [h.job_id for h in lease(s, "w", limit=10, now=now + timedelta(hours=2))] == [later]


def test_expired_lease_is_taken_over_and_the_stale_worker_cannot_finish(db: Database) -> None:
    with db.session() as s:
        enqueue(s, "slow", {"n": 1})
    t0 = utcnow()
    with db.session() as s:
        [stale] = lease(s, "w1", lease_s=10, now=t0)
    with db.session() as s:
        assert lease(s, "w2", lease_s=10, now=t0 + timedelta(seconds=5)) == []
    with db.session() as s:
        [fresh] = lease(s, "w2", lease_s=10, policy=POLICY, now=t0 + timedelta(seconds=11))
        assert fresh.job_id == stale.job_id and fresh.attempt == 2 and fresh.token != stale.token
    with db.session() as s:
        job = get_job(s, fresh.job_id)
        assert job.leased_by == "w2" and "lease held by w1 expired" in (job.last_error or "")
    with db.session() as s:
        assert extend(s, [stale], lease_s=10) == set()
        assert extend(s, [fresh], lease_s=10) == {fresh.job_id}
    with db.session() as s, pytest.raises(LeaseLost):
        complete(s, stale)
    with db.session() as s, pytest.raises(LeaseLost):
        fail(s, stale, "late")
    with db.session() as s:
        assert release(s, [stale]) == 0
        complete(s, fresh)
    with db.session() as s:
        assert get_job(s, fresh.job_id).state == JobState.DONE


def test_heartbeat_keeps_the_lease(db: Database) -> None:
    with db.session() as s:
        enqueue(s, "long", {})
    t0 = utcnow()
    with db.session() as s:
        [held] = lease(s, "w1", lease_s=10, now=t0)
    with db.session() as s:
        assert extend(s, [held], lease_s=10, now=t0 + timedelta(seconds=8)) == {held.job_id}
    with db.session() as s:
        assert lease(s, "w2", now=t0 + timedelta(seconds=15)) == []
        assert len(lease(s, "w2", now=t0 + timedelta(seconds=19))) == 1


def test_backoff_then_dead_letter_with_the_reason(db: Database) -> None:
    with db.session() as s:
        job_id = enqueue(s, "flaky", {"x": 1})
    now = utcnow()
    for attempt in (1, 2, 3):
        with db.session() as s:
            [held] = lease(s, "w", now=now, policy=POLICY)
            assert held.attempt == attempt
        with db.session() as s:
            state = fail(s, held, f"receiver said 503 (try {attempt})", policy=POLICY, now=now)
        with db.session() as s:
            job = get_job(s, held.job_id)
            if attempt < 3:
                assert state is JobState.QUEUED and job.last_error == f"receiver said 503 (try {attempt})"
                delay = (job.run_after - now).total_seconds()
                ceiling = 10.0 * 2 ** (attempt - 1)
                assert ceiling / 2 <= delay <= ceiling
                assert lease(s, "w", now=now, policy=POLICY) == []  # backing off
                now += timedelta(seconds=delay)
    assert state is JobState.DEAD
    with db.session() as s:
        job = get_job(s, job_id or 0)
        assert job.state == JobState.DEAD and job.finished_at is not None
        assert job.last_error == "gave up after 3 attempts: receiver said 503 (try 3)"
        assert lease(s, "w", now=now + timedelta(days=1)) == []


def test_non_retryable_dead_letters_at_once(db: Database) -> None:
    with db.session() as s:
        enqueue(s, "report.send", {"report_id": 404}, max_attempts=10)
    with db.session() as s:
        [held] = lease(s, "w")
        assert fail(s, held, "report 404 does not exist", retryable=False) is JobState.DEAD
    with db.session() as s:
        assert get_job(s, held.job_id).last_error == "not retryable: report 404 does not exist"


def test_a_job_that_kills_every_worker_ends_dead(db: Database) -> None:
    with db.session() as s:
        job_id = enqueue(s, "poison", {}, max_attempts=2)
    now = utcnow()
    for _ in range(2):
        with db.session() as s:
            assert len(lease(s, "w", lease_s=1, now=now, policy=POLICY)) == 1
        now += timedelta(seconds=2)  # the worker died holding it
    with db.session() as s:
        assert lease(s, "w", now=now, policy=POLICY) == []
        job = get_job(s, job_id or 0)
        assert job.state == JobState.DEAD and (job.last_error or "").startswith("gave up after 2 attempts")


def test_retry_dead_jobs(db: Database) -> None:
    with db.session() as s:
        ids = [enqueue(s, kind, {"n": n}) for n, kind in enumerate(["a", "a", "b", "done"])]
    with db.session() as s:
        leases = lease(s, "w", limit=10)
    with db.session() as s:
        for held in leases[:3]:
            fail(s, held, "broken", retryable=False)
        complete(s, leases[3])
    with db.session() as s:
        assert retry(s, ids[0] or 0).state == JobState.QUEUED
    with db.session() as s:
        assert retry_dead(s, kind="b") == 1
        assert retry_dead(s) == 1
        assert retry_dead(s) == 0
    with db.session() as s:
        states = {j.id: (j.state, j.attempts) for j in list_jobs(s)}
        assert [states[i or 0] for i in ids] == [("queued", 0)] * 3 + [("done", 1)]
    with db.session() as s, pytest.raises(Conflict, match="is done"):
        retry(s, ids[3] or 0)
    with db.session() as s, pytest.raises(NotFound, match="no job with id 12345"):
        retry(s, 12345)
    with db.session() as s:
        [held] = lease(s, "w", kinds=["b"])
    with db.session() as s, pytest.raises(Conflict, match="is running"):
        retry(s, held.job_id)


def test_release_gives_the_attempt_back(db: Database) -> None:
    with db.session() as s:
        enqueue(s, "a", {})
    with db.session() as s:
        leases = lease(s, "w")
    with db.session() as s:
        assert release(s, leases) == 1
    with db.session() as s:
        [again] = lease(s, "w2")
        assert again.attempt == 1


def test_purge_done(db: Database) -> None:
    with db.session() as s:
        enqueue(s, "a", {}, key="k1")
        enqueue(s, "a", {}, key="k2")
    with db.session() as s:
        first, _second = lease(s, "w", limit=2)
        complete(s, first)
    with db.session() as s:
        assert purge_done(s, timedelta(hours=1)) == 0
        assert purge_done(s, timedelta(0), now=utcnow() + timedelta(seconds=1)) == 1
        with pytest.raises(InvalidInput, match="must not be negative"):
            purge_done(s, timedelta(seconds=-1))
    assert job_count(db) == 1


def test_stats(db: Database) -> None:
    with db.session() as s:
        enqueue(s, "a", {})
        enqueue(s, "a", {})
        enqueue(s, "b", {}, run_after=utcnow() + timedelta(hours=1))
    now = utcnow()
    with db.session() as s:
        lease(s, "w", kinds=["a"], lease_s=5, now=now)
    with db.session() as s:
        stats = queue_stats(s, now=now + timedelta(seconds=10))
    assert stats.counts == {"a": {"leased": 1, "queued": 1}, "b": {"queued": 1}}
    assert stats.due == 1 and stats.expired_leases == 1
    assert stats.oldest_due_age_s is not None and stats.oldest_due_age_s >= 10


@pytest.mark.parametrize(
    ("kind", "payload", "options", "message"),
    [
        ("Bad Kind", {}, {}, "job kind 'Bad Kind'"),
        ("a", {"blob": object()}, {}, "not JSON"),
        ("a", {"media": "x" * 9000}, {}, "over 8192"),
        ("a", {1: "x"}, {}, "string keys"),
        ("a", {}, {"key": ""}, "job key"),
        ("a", {}, {"max_attempts": 0}, "at least 1"),
        ("a", {}, {"run_after": utcnow().replace(tzinfo=None)}, "naive"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    db: Database, kind: str, payload: dict[object, object], options: dict[str, object], message: str
) -> None:
    with db.session() as s, pytest.raises(InvalidInput, match=message):
        enqueue(s, kind, payload, **options)  # type: ignore[arg-type]
    assert job_count(db) == 0


def test_backoff_delays_grow_and_cap() -> None:
    rng = random.Random(3)
    policy = RetryPolicy(max_attempts=20, backoff_base_s=2.0, backoff_max_s=60.0)
    for attempts in range(1, 20):
        ceiling = min(60.0, 2.0 * 2 ** (attempts - 1))
        assert ceiling / 2 <= policy.delay(attempts, rng).total_seconds() <= ceiling
    with pytest.raises(InvalidInput):
        RetryPolicy(max_attempts=0)
