"""Reporting's jobs.

- ``report.prepare`` ``{"review_decision_id": id}`` (enqueued by the review area when a decision to
  report is approved): builds or extends the account's draft report, approved at once when the review
  decision carries its four-eyes approvals. Transactional: the report rows and the job's completion
  commit together.
- ``report.submit`` ``{"report": id}``: runs the report's state machine
  (``suraksha.reporting.submission``) outside a held transaction. Server errors come back as a
  deferral after the submitter's own backoff (the report row counts them, so the queue's attempts are
  not spent and its longer backoff does not push us past NCMEC's window); once they run out, or on a
  refusal, the report fails for a person and the job is dead-lettered with the reason.
- ``report.hold`` ``{"report": id}``: the 1-year hold on a finished report's evidence (idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select, update

from suraksha.db.engine import Database
from suraksha.errors import ConfigError
from suraksha.reporting.holds import HoldPlacer
from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.reporting.progress import SUBMIT
from suraksha.reporting.review_link import request_from_review
from suraksha.reporting.services import HOLD, ReportOptions, prepare_report
from suraksha.reporting.submission import ReportBusy, ReportFailed, ReportSubmitter, RetryLater
from suraksha.review.decisions import PREPARE
from suraksha.worker.handlers import Deferred, HandlerRegistry, JobContext, PermanentFailure

log = logging.getLogger(__name__)

BUSY_RECHECK_S = 5.0
CONFIG_RECHECK_S = 300.0


def _id(ctx: JobContext, name: str) -> int:
    value = ctx.payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PermanentFailure(f"job {ctx.job_id} ({ctx.kind}) has no integer {name!r} in its payload")
    return value


def register(
    registry: HandlerRegistry,
    db: Database,
    make_submitter: Callable[[], ReportSubmitter],
    options: ReportOptions,
    holds: HoldPlacer | None,
) -> None:
    """``make_submitter`` is called on first use (and again while it raises ConfigError: a missing
    schema or credentials hold reports back, with the reason on the job, until fixed)."""
    made: list[ReportSubmitter] = []

    def submitter() -> ReportSubmitter:
        if not made:
            try:
                made.append(make_submitter())
            except ConfigError as exc:
                raise Deferred(f"reports wait for configuration: {exc}", delay_s=CONFIG_RECHECK_S) from None
        return made[0]

    def prepare(ctx: JobContext) -> None:
        request = request_from_review(ctx.session, _id(ctx, "review_decision_id"))
        if request is not None:
            prepare_report(
                ctx.session, request, actor="system:reporting", bundle_window_s=options.bundle_window_s
            )

    def submit(ctx: JobContext) -> None:
        report_id = _id(ctx, "report")
        runner = submitter()
        try:
            state = runner.run(report_id)
        except RetryLater as exc:
            with db.session() as session:
                session.execute(
                    update(CyberTiplineReport)
                    .where(CyberTiplineReport.id == report_id)
                    .values(server_retries=CyberTiplineReport.server_retries + 1, failure=str(exc)[:4000])
                )
                retries = session.scalar(
                    select(CyberTiplineReport.server_retries).where(CyberTiplineReport.id == report_id)
                )
            retries = retries or 0
            if retries > runner.policy.max_server_retries:
                failed = runner.give_up(report_id, f"gave up after {retries - 1} retries; last: {exc}")
                if failed is None:
                    return  # it had finished after all
                raise PermanentFailure(str(failed)) from None
            delay = runner.policy.delay(retries)
            log.info(
                "event=report.retry report=%d retries=%d delay_s=%.1f reason=%s",
                report_id,
                retries,
                delay,
                exc,
            )
            raise Deferred(str(exc), delay_s=delay) from None
        except ReportBusy as exc:
            raise Deferred(str(exc), delay_s=BUSY_RECHECK_S) from None
        except ConfigError as exc:
            raise Deferred(f"reports wait for configuration: {exc}", delay_s=CONFIG_RECHECK_S) from None
        except ReportFailed as exc:
            raise PermanentFailure(str(exc)) from None
        log.info("event=report.run report=%d state=%s", report_id, state)

    def hold(ctx: JobContext) -> None:
        report = ctx.session.get(CyberTiplineReport, _id(ctx, "report"))
        if report is None or report.state != ReportState.FINISHED:
            raise PermanentFailure(f"report {ctx.payload.get('report')} is not a finished report")
        if holds is None:
            raise Deferred("no evidence vault is configured to hold the report's evidence", delay_s=600)
        holds.place(ctx.session, report, actor="system:reporting")

    registry.register(PREPARE, prepare)
    registry.register(SUBMIT, submit, transactional=False)
    registry.register(HOLD, hold)
