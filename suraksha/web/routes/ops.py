"""Operations: ``/healthz`` (the process is up), ``/readyz`` (it may take traffic), ``/metrics``.

``/healthz`` and ``/readyz`` need no key: load balancers and orchestrators probe them, and they say
nothing but up/ready. ``/metrics`` needs a key with the read role, unless the setting
``metrics_public`` opens it for a scraper on a private port or network.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from suraksha.access.models import ApiScope
from suraksha.banks.flood import count_active
from suraksha.enforcement.acknowledgements import unconfirmed_counts
from suraksha.web.auth import require
from suraksha.web.metrics import CONTENT_TYPE_LATEST
from suraksha.web.problems import PROBLEM_RESPONSES, problem
from suraksha.web.state import WebState, get_state
from suraksha.worker.listing import queue_stats

router = APIRouter(tags=["operations"])

DATABASE_CHECK_TIMEOUT_S = 2.0


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Ready to take traffic: match index loaded and current, database answering",
    responses={503: PROBLEM_RESPONSES[503]},
)
async def readyz(state: WebState = Depends(get_state)) -> Any:
    try:
        database_error = await asyncio.wait_for(
            run_in_threadpool(state.check_database), DATABASE_CHECK_TIMEOUT_S
        )
    except TimeoutError:
        database_error = f"no answer within {DATABASE_CHECK_TIMEOUT_S:g} s"
    readiness = state.readiness(database_error)
    state.metrics.ready.set(1 if readiness.ready else 0)
    if readiness.ready:
        return {"status": "ready", **readiness.as_dict()}
    reasons = []
    if not readiness.index_loaded:
        reasons.append("the match index is loading")
    elif not readiness.index_current:
        reasons.append("the match index is stale (not refreshed from the bank change feed)")
    if not readiness.database:
        reasons.append(f"the database does not answer ({database_error})")
    return problem(503, "not ready: " + "; ".join(reasons), extra=readiness.as_dict())


def collect(state: WebState) -> bytes:
    """Set the index gauges from the live index, then render every metric."""
    metrics, index = state.metrics, state.index
    for kind, count in index.entry_counts().items():
        metrics.index_entries.labels(kind).set(count)
    metrics.index_ready.set(1 if index.ready else 0)
    lag = -1
    if index.loaded:
        try:
            lag = max(0, index.feed_head() - index.position)
        except Exception:  # the database is down: the lag is unknown, and readiness says why
            lag = -1
    metrics.index_lag.set(lag)
    try:
        with state.platform.db.reading() as session:
            stats = queue_stats(session)
            actions = unconfirmed_counts(session, state.platform.settings.action_ack_overdue_s)
            quarantined = count_active(session)
    except Exception:  # the database is down: readiness says so; keep the last values
        stats = None
    if stats is not None:
        metrics.actions_overdue.set(actions["overdue"])
        metrics.actions_failed.set(actions["failed"])
        metrics.bank_quarantines.set(quarantined)
    if stats is not None:
        for kind, states in stats.counts.items():
            for job_state, count in states.items():
                metrics.jobs.labels(kind, job_state).set(count)
        metrics.jobs_due.set(stats.due)
        metrics.jobs_oldest_due_seconds.set(stats.oldest_due_age_s or 0)
        metrics.jobs_expired_leases.set(stats.expired_leases)
    return metrics.render()


def metrics_router(public: bool) -> APIRouter:
    """``/metrics``: open when ``public``, else behind the read role."""
    metrics = APIRouter(tags=["operations"])

    @metrics.get(
        "/metrics",
        summary="Prometheus metrics",
        dependencies=[] if public else [require(ApiScope.READ)],
        responses={} if public else PROBLEM_RESPONSES,
        response_class=Response,
    )
    def prometheus(state: WebState = Depends(get_state)) -> Response:
        return Response(collect(state), media_type=CONTENT_TYPE_LATEST)

    return metrics
