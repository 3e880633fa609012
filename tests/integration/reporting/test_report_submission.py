"""A report goes from approved to finished at the simulator over real HTTP, exactly once, whatever
fails on the way: a crash at any step, lost answers, server errors (retried), validation errors (not
retried), and NCMEC deleting an unfinished report."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from lxml import etree
from sqlalchemy import select

from suraksha.audit import AuditEvent
from suraksha.reporting.models import (
    CyberTiplineReport,
    CyberTiplineReportFile,
    ReportState,
)
from suraksha.reporting.services import RecordedView, ReportRequest, prepare_report, report_ids_for_decision
from suraksha.reporting.submission import ReportFailed, ReportSubmitter, RetryLater
from suraksha.review.models import IndustryClassification
from suraksha.worker.models import Job
from tests.integration.reporting.conftest import Crash, MovableClock, Sim, World

CHECKPOINTS = [
    f"{step}.{when}" for step in ("submit", "upload", "fileinfo", "finish") for when in ("before", "after")
]


def _prepare(world: World, name: str, **kwargs: object) -> int:
    request = ReportRequest(
        decision_ids=tuple(world.decisions[name]), approved_by=("lead-a", "lead-b"), **kwargs
    )  # type: ignore[arg-type]
    with world.db.session() as session:
        (report,) = prepare_report(session, request, actor="user:test")
        return report.id


def _run_until_done(submitter: ReportSubmitter, report_id: int, *, limit: int = 30) -> str:
    for _ in range(limit):
        try:
            return submitter.run(report_id)
        except RetryLater:
            continue
    raise AssertionError("the report did not finish")


def _report(world: World, report_id: int) -> CyberTiplineReport:
    with world.db.reading() as session:
        report = session.get(CyberTiplineReport, report_id)
        assert report is not None
        _ = list(report.files)
        session.expunge_all()
        return report


def test_a_bundled_report_finishes_with_every_file(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("alpha", items=2, files_per_item=2)
    world.add_account("beta", items=1)
    viewed = world.media["alpha"][0]
    at = datetime(2026, 11, 24, 11, tzinfo=UTC)
    report_id = _prepare(
        world,
        "alpha",
        views=(RecordedView(viewed, "rev-1", at, exif=True, ref="human_view:1"),),
        classifications={viewed: IndustryClassification.B2},
        publicly_available=False,
    )
    assert _run_until_done(make_submitter(), report_id) == ReportState.FINISHED

    report = _report(world, report_id)
    assert report.ncmec_report_id is not None and report.finished_at is not None
    finished = sim.simulator.finished[report.ncmec_report_id]
    assert len(finished.files) == 4  # one report for the account, all four of its files
    details = {}
    for file in finished.files.values():
        assert file.details_xml is not None
        root = etree.fromstring(file.details_xml)
        details[root.findtext("originalFileHash[@hashType='MD5']")] = root
    rows = {f.md5: f for f in report.files}
    assert set(details) == set(rows)
    for md5, root in details.items():
        was_viewed = rows[md5].media_id == viewed
        # Viewed and classified only where a recorded human view and a reviewer say so (US v. Wilson).
        assert root.findtext("fileViewedByEsp") == ("true" if was_viewed else "false")
        assert root.findtext("exifViewedByEsp") == ("true" if was_viewed else "false")
        assert root.findtext("industryClassification") == ("B2" if was_viewed else None)
        assert root.findtext("publiclyAvailable") == "false"
    document = etree.fromstring(finished.xml)
    user = document.find("personOrUserReported")
    assert user.findtext("espIdentifier") == "acct-alpha"
    assert user.findtext("profileUrl") == "https://demo.example/u/alpha"
    assert [e.findtext("port") for e in user.findall("ipCaptureEvent")] == ["40000", "40001"]
    assert user.find("accountTemporarilyDisabled").get("disabledDate") == "2026-11-24T09:00:00+00:00"
    assert document.find("incidentSummary/escalateToHighPriority") is None
    assert (
        document.findall("internetDetails/webPageIncident/url")[0].text
        == "https://demo.example/p/alpha-item-0"
    )

    with world.db.reading() as session:
        filed = session.scalars(select(AuditEvent).where(AuditEvent.action == "report:filed")).all()
        assert {e.subject for e in filed} == {f"decision:{d}" for d in world.decisions["alpha"]}
        assert all(json.loads(e.details)["ncmec_report_id"] == report.ncmec_report_id for e in filed)
        holds = session.scalars(select(Job).where(Job.kind == "report.hold")).all()
        assert [h.payload for h in holds] == [{"report": report_id}]

    # A later report about the same account names the earlier one (priorCTReports).
    world.add_account("alpha2", items=1)
    with world.db.session() as session:
        later = session.get(CyberTiplineReport, _prepare(world, "alpha2"))
        assert later is not None
        later.account_id = world.accounts["alpha"]
        for file in later.files:
            file.item_id = file.item_id
        later_id = later.id
    assert _run_until_done(make_submitter(), later_id) == ReportState.FINISHED
    later_report = _report(world, later_id)
    assert later_report.ncmec_report_id is not None
    later_xml = etree.fromstring(sim.simulator.finished[later_report.ncmec_report_id].xml)
    assert later_xml.findtext("personOrUserReported/priorCTReports") == str(report.ncmec_report_id)


def test_escalation_only_with_the_reviewer_flag(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("gamma", items=1)
    report_id = _prepare(world, "gamma", escalate_reason="Reviewer: the child is at immediate risk")
    _run_until_done(make_submitter(), report_id)
    ncmec_id = _report(world, report_id).ncmec_report_id
    assert ncmec_id is not None
    document = etree.fromstring(sim.simulator.finished[ncmec_id].xml)
    assert (
        document.findtext("incidentSummary/escalateToHighPriority")
        == "Reviewer: the child is at immediate risk"
    )


@pytest.mark.parametrize("point", CHECKPOINTS)
def test_a_crash_at_any_step_still_finishes_exactly_once(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter], point: str
) -> None:
    world.add_account("delta", items=2)
    report_id = _prepare(world, "delta")

    def crash_at(name: str) -> None:
        if name == point:
            raise Crash(name)

    with pytest.raises(Crash):
        make_submitter(checkpoint=crash_at).run(report_id)
    # A new process picks the report up where the row says it is.
    assert _run_until_done(make_submitter(), report_id) == ReportState.FINISHED
    report = _report(world, report_id)
    assert list(sim.simulator.finished) == [report.ncmec_report_id]
    assert sim.simulator.counters.finishes == 1
    assert len(sim.simulator.finished[report.ncmec_report_id].files) == 2  # type: ignore[index]
    # At most one stray opened report (a submit whose answer was lost), never finished; NCMEC deletes it.
    assert len(sim.simulator.open) <= 1


def test_lost_answers_are_resolved_without_a_second_finished_report(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("eps", items=2)
    report_id = _prepare(world, "eps")
    sim.simulator.fail("submit", lost=True)
    sim.simulator.fail("upload", lost=True)
    sim.simulator.fail("finish", lost=True)
    assert _run_until_done(make_submitter(), report_id) == ReportState.FINISHED
    report = _report(world, report_id)
    assert list(sim.simulator.finished) == [report.ncmec_report_id]
    assert report.unknown_outcomes == 1  # the lost submit, resubmitted once
    assert report.restarts == 1  # the lost upload: retracted and started afresh
    assert sim.simulator.counters.retracts == 1
    with world.db.reading() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "report:outcome_unknown" in actions and "report:restarted" in actions


def test_server_errors_are_retried_validation_errors_are_not(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("zeta", items=1)
    report_id = _prepare(world, "zeta")
    sim.simulator.fail("submit", 1000, times=2)
    sim.simulator.fail("upload", 1001)
    submitter = make_submitter()
    retries = 0
    while True:
        try:
            state = submitter.run(report_id)
            break
        except RetryLater:
            retries += 1
    assert (state, retries) == (ReportState.FINISHED, 3)

    world.add_account("eta", items=1)
    refused = _prepare(world, "eta")
    sim.simulator.fail("fileinfo", 4100)
    with pytest.raises(ReportFailed, match="NCMEC refused fileinfo"):
        submitter.run(refused)
    report = _report(world, refused)
    assert (report.state, report.response_code) == (ReportState.FAILED, 4100)
    assert submitter.run(refused) == ReportState.FAILED  # nothing is sent again
    assert report.ncmec_report_id not in sim.simulator.open  # retracted, not left half-made


def test_bad_credentials_fail_the_report_for_a_person(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("theta", items=1)
    report_id = _prepare(world, "theta")
    with pytest.raises(ReportFailed, match="authentication"):
        make_submitter(api=sim.api(password="wrong")).run(report_id)
    assert _report(world, report_id).response_code == 2000


def test_a_stale_or_deleted_open_report_is_submitted_afresh(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("iota", items=2)
    report_id = _prepare(world, "iota")
    clock = MovableClock()

    def stall_after_first_upload(name: str) -> None:
        if name == "upload.after":
            raise Crash(name)

    with pytest.raises(Crash):
        make_submitter(checkpoint=stall_after_first_upload, clock=clock).run(report_id)
    first = _report(world, report_id).ncmec_report_id
    # 31 minutes later (our window is 30): retract and start again rather than race NCMEC's 1 h.
    clock.advance(31 * 60)
    assert _run_until_done(make_submitter(clock=clock), report_id) == ReportState.FINISHED
    report = _report(world, report_id)
    assert report.ncmec_report_id != first and report.restarts == 1
    assert sim.simulator.counters.retracts == 1 and list(sim.simulator.finished) == [report.ncmec_report_id]

    # NCMEC deleted it (2 h without change at NCMEC's clock): 5001, then afresh.
    world.add_account("kappa", items=1)
    deleted = _prepare(world, "kappa")

    def stop_before_finish(name: str) -> None:
        if name == "finish.before":
            raise Crash(name)

    with pytest.raises(Crash):
        make_submitter(checkpoint=stop_before_finish).run(deleted)
    sim.clock.advance(25 * 3600)
    assert _run_until_done(make_submitter(), deleted) == ReportState.FINISHED
    assert sim.simulator.counters.expired >= 1 and _report(world, deleted).restarts == 1


def test_an_invalid_report_never_leaves(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("lam", items=1)
    report_id = _prepare(world, "lam")
    with world.db.session() as session:
        report = session.get(CyberTiplineReport, report_id)
        assert report is not None
        report.incident_type = "Not an incident type NCMEC knows"
    with pytest.raises(ReportFailed):
        make_submitter().run(report_id)
    assert sim.simulator.counters.submits == 0


def test_files_are_bundled_into_the_open_report(world: World) -> None:
    world.add_account("mu", items=3)
    first = ReportRequest(decision_ids=(world.decisions["mu"][0],))
    second = ReportRequest(decision_ids=tuple(world.decisions["mu"][1:]), approved_by=("a", "b"))
    with world.db.session() as session:
        (a,) = prepare_report(session, first, actor="t")
        (b,) = prepare_report(session, second, actor="t")
        (c,) = prepare_report(session, second, actor="t")  # again: nothing is added twice
        assert a.id == b.id == c.id and b.state == ReportState.APPROVED
        count = len(
            session.scalars(
                select(CyberTiplineReportFile).where(CyberTiplineReportFile.report_id == a.id)
            ).all()
        )
        assert count == 3
        jobs = session.scalars(select(Job).where(Job.kind == "report.submit")).all()
        assert len(jobs) == 1


def test_giving_up_on_an_unknown_finish_asks_ncmec_first(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter]
) -> None:
    world.add_account("nu", items=1)
    report_id = _prepare(world, "nu")
    sim.simulator.fail("finish", lost=True)
    submitter = make_submitter()
    with pytest.raises(RetryLater):
        submitter.run(report_id)
    assert _report(world, report_id).state == ReportState.FINISHING
    # Retries ran out, but the lost finish had gone through: recorded as finished, not failed.
    assert submitter.give_up(report_id, "gave up") is None
    report = _report(world, report_id)
    assert report.state == ReportState.FINISHED and list(sim.simulator.finished) == [report.ncmec_report_id]
    with world.db.reading() as session:
        assert report_ids_for_decision(session, world.decisions["nu"][0]) == [report.ncmec_report_id]
