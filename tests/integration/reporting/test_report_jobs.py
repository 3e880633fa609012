"""Through the job queue: an approved report is sent by the report.submit job (server errors come
back as deferrals with the report's own backoff, no queue attempt spent), and the report.hold job then
holds everything in it for a year through the evidence vault."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from suraksha.reporting import tasks as reporting_tasks
from suraksha.reporting.holds import VaultHolds
from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.reporting.services import ReportRequest, prepare_report, resume_stalled
from suraksha.reporting.submission import ReportSubmitter
from suraksha.settings import Settings
from suraksha.worker.handlers import HandlerRegistry
from suraksha.worker.models import Job, JobState
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import Worker
from tests.integration.reporting.conftest import OPTIONS, Sim, World


def _worker(world: World, registry: HandlerRegistry, kinds: list[str]) -> Worker:
    config = WorkerConfig(lease_s=30, poll_interval_s=0.05, idle_sleep_min_s=0.01, keep_done_s=None)
    return Worker(world.db.sessions, registry, kinds=kinds, config=config)


def _drain(worker: Worker, world: World, kind: str, *, rounds: int = 200) -> None:
    """Run jobs (waiting out their deferral delays, which the test policy keeps tiny) until none of
    ``kind`` is left queued."""
    for _ in range(rounds):
        worker.run_once()
        with world.db.reading() as session:
            waiting = session.scalars(
                select(Job).where(Job.kind == kind, Job.state.in_([JobState.QUEUED, JobState.LEASED]))
            ).all()
        if not waiting:
            return
        with world.db.session() as session:
            for job in session.scalars(select(Job).where(Job.kind == kind, Job.state == JobState.QUEUED)):
                job.run_after = job.created_at  # due now: the test does not sleep out the backoff
    raise AssertionError(f"{kind} jobs still waiting")


def test_submit_job_retries_server_errors_then_finishes(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("jobs", items=2)
    registry = HandlerRegistry()
    reporting_tasks.register(registry, world.db, make_submitter, OPTIONS, None)
    with world.db.session() as session:
        (report,) = prepare_report(
            session, ReportRequest(tuple(world.decisions["jobs"]), approved_by=("a", "b")), actor="t"
        )
        report_id = report.id
    sim.simulator.fail("upload", 1000, times=3)
    _drain(_worker(world, registry, ["report.submit"]), world, "report.submit")
    with world.db.reading() as session:
        row = session.get(CyberTiplineReport, report_id)
        assert row is not None and row.state == ReportState.FINISHED
        job = session.scalars(select(Job).where(Job.kind == "report.submit")).one()
        assert job.state == JobState.DONE and job.attempts == 1  # deferrals spent no attempt
        hold_job = session.scalars(select(Job).where(Job.kind == "report.hold")).one()
        assert hold_job.state == JobState.QUEUED


def test_refused_report_dead_letters_the_job_with_the_reason(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("refused", items=1)
    registry = HandlerRegistry()
    reporting_tasks.register(registry, world.db, make_submitter, OPTIONS, None)
    with world.db.session() as session:
        prepare_report(
            session, ReportRequest(tuple(world.decisions["refused"]), approved_by=("a",)), actor="t"
        )
    sim.simulator.fail("submit", 4100)
    _worker(world, registry, ["report.submit"]).run_once()
    with world.db.reading() as session:
        job = session.scalars(select(Job).where(Job.kind == "report.submit")).one()
        assert job.state == JobState.DEAD and "NCMEC refused the report" in (job.last_error or "")
        report = session.scalars(select(CyberTiplineReport)).one()
        assert (report.state, report.response_code) == (ReportState.FAILED, 4100)


def test_hold_job_places_a_one_year_vault_hold(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    from suraksha.vault import models as vault_models

    world.add_account("held", items=2)
    registry = HandlerRegistry()
    # The statute is American: a US period for the basis applies to it (and another country's does not).
    periods = Settings.load({"vault_hold_periods": "cybertipline_report@US=400,cybertipline_report@IN=30"})
    reporting_tasks.register(registry, world.db, make_submitter, OPTIONS, VaultHolds(periods))
    with world.db.session() as session:
        (report,) = prepare_report(
            session, ReportRequest(tuple(world.decisions["held"]), approved_by=("a", "b")), actor="t"
        )
        report_id = report.id
    worker = _worker(world, registry, ["report.submit", "report.hold"])
    _drain(worker, world, "report.submit")
    _drain(worker, world, "report.hold")
    with world.db.reading() as session:
        report = session.get(CyberTiplineReport, report_id)
        assert report is not None and report.finished_at is not None
        holds = session.scalars(select(vault_models.PreservationHold)).all()
        assert len(holds) == 2  # one per item's preservation
        for hold in holds:
            assert hold.basis == "cybertipline_report"
            assert hold.reference == f"ncmec:{report.ncmec_report_id}"
            assert hold.jurisdiction == "US"
            assert hold.expires_at - hold.starts_at == timedelta(days=400)
            assert abs((hold.starts_at - report.finished_at).total_seconds()) < 1


def test_missing_configuration_holds_reports_back_without_failing_them(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("unconfigured", items=1)
    registry = HandlerRegistry()
    reporting_tasks.register(
        registry, world.db, lambda: make_submitter(options=replace(OPTIONS, reporter=None)), OPTIONS, None
    )
    with world.db.session() as session:
        prepare_report(
            session, ReportRequest(tuple(world.decisions["unconfigured"]), approved_by=("a",)), actor="t"
        )
    _worker(world, registry, ["report.submit"]).run_once()
    with world.db.reading() as session:
        job = session.scalars(select(Job).where(Job.kind == "report.submit")).one()
        assert job.state == JobState.QUEUED and "reporter_email" in (job.last_error or "")
        assert session.scalars(select(CyberTiplineReport)).one().state == ReportState.APPROVED
    assert sim.simulator.counters.submits == 0


def test_stalled_reports_are_resumed(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("stalled", items=1)
    with world.db.session() as session:
        (report,) = prepare_report(
            session, ReportRequest(tuple(world.decisions["stalled"]), approved_by=("a",)), actor="t"
        )
        report_id = report.id
        for job in session.scalars(select(Job).where(Job.kind == "report.submit")):
            job.state = JobState.DEAD  # its job was dead-lettered and dealt with
    with world.db.session() as session:
        assert resume_stalled(session) == [report_id]
    with world.db.session() as session:
        assert resume_stalled(session) == []  # already queued
    registry = HandlerRegistry()
    reporting_tasks.register(registry, world.db, make_submitter, OPTIONS, None)
    _drain(_worker(world, registry, ["report.submit"]), world, "report.submit")
    with world.db.reading() as session:
        assert session.get(CyberTiplineReport, report_id).state == ReportState.FINISHED  # type: ignore[union-attr]
