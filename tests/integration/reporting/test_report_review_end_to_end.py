"""The issue's path end to end, with every part real: a banked picture posted by an account is removed
and the account suspended automatically and its evidence preserved; a reviewer reveals the file and
confirms; a second person approves; report.prepare, report.submit and report.hold run on workers that
are killed between steps (a crash at a step point, then a new worker takes the job over once the dead
one's lease runs out); the report finishes exactly once at the simulator, the one-year hold is placed,
and the referral package is built around a signed evidence export that verifies offline."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from suraksha.access.models import ConsoleUser
from suraksha.content.models import ItemMedia
from suraksha.enforcement.models import ActionKind
from suraksha.reporting import tasks as reporting_tasks
from suraksha.reporting.holds import VaultHolds
from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.reporting.referrals import create_referral
from suraksha.reporting.submission import ReportSubmitter
from suraksha.review import decisions, reveals
from suraksha.review import models as review_models
from suraksha.review import services as review
from suraksha.review.models import IndustryClassification
from suraksha.settings import Settings
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.vault import crypto as vault_crypto
from suraksha.vault import models as vault_models
from suraksha.vault import packages as vault_packages
from suraksha.vault import services as vault_services
from suraksha.worker.handlers import HandlerRegistry
from suraksha.worker.models import Job, JobState
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import Worker
from tests.integration.reporting.conftest import OPTIONS, Crash, Sim, World, known_bad

KNOWN = synthetic_jpeg(101)
REPOST = synthetic_jpeg(101, 500, 375, quality=70)
LEASE_S = 0.4
KILL_POINTS = [None, "submit.before", "submit.after", "upload.after", "fileinfo.before", "finish.after"]
workers = itertools.count()


def _user(world: World, name: str, role: str) -> ConsoleUser:
    with world.db.session() as session:
        user = ConsoleUser(
            email=f"{name}@example.org",
            pseudonym=f"r-{name}",
            roles=role,
            password_hash="not-a-password-hash (these tests never sign in)",
            failed_logins=0,
        )
        session.add(user)
    return user


def _run_jobs(world: World, registry: HandlerRegistry, kinds: list[str]) -> int:
    """Work the jobs of ``kinds`` until none is left; a Crash kills the worker (its lease stays
    held), and a new worker takes over after the lease runs out. Returns the kills."""
    config = WorkerConfig(lease_s=LEASE_S, poll_interval_s=0.05, idle_sleep_min_s=0.01, keep_done_s=None)
    kills = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        worker = Worker(
            world.db.sessions, registry, kinds=kinds, worker_id=f"w{next(workers)}", config=config
        )
        try:
            worker.run_once()
        except Crash:
            kills += 1
            time.sleep(LEASE_S + 0.1)
            continue
        with world.db.reading() as session:
            left = session.scalars(
                select(Job).where(Job.kind.in_(kinds), Job.state.in_([JobState.QUEUED, JobState.LEASED]))
            ).all()
        if not left:
            return kills
        with world.db.session() as session:  # deferrals (retries) are due now: the test does not wait
            for job in session.scalars(select(Job).where(Job.kind.in_(kinds), Job.state == JobState.QUEUED)):
                job.run_after = job.created_at
        time.sleep(0.01)
    raise AssertionError("jobs did not finish")


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_banked_picture_reviewed_approved_reported_held_and_referred(
    world: World,
    sim: Sim,
    make_submitter: Callable[..., ReportSubmitter],
    tmp_path: Path,
    kill_at: str | None,
) -> None:
    db = world.db
    setup = known_bad(world, tmp_path, KNOWN)
    vault, signing_key = setup.vault, setup.signing_key

    # A banked picture posted: removed, account suspended, evidence preserved, a review case opened.
    item_id = setup.post(
        "post-review-e2e", "acct-review-e2e", REPOST, ip="198.51.100.23", port=40404, device="device-e2e"
    )
    with db.reading() as session:
        [automated] = session.scalars(
            select(vault_models.Preservation).where(vault_models.Preservation.item_id == item_id)
        )
        media_id = session.scalars(select(ItemMedia.id).where(ItemMedia.item_id == item_id)).one()
        case = session.scalars(
            select(review_models.ReviewCase).where(review_models.ReviewCase.item_id == item_id)
        ).one()
    assert vault_services.preserve(db, vault, automated.decision_id) is not None

    # A reviewer reveals and confirms; a second person approves (four eyes).
    options = review.ReviewOptions(claim_minutes=15, exposure_budget={"csam": 3, "*": 5})
    reviewer, lead = _user(world, "cas", "child_safety_reviewer"), _user(world, "lee", "lead")
    with db.session() as session:
        review.claim(session, case.id, reviewer, options)
    reveals.reveal_media(db, media_id, reviewer, options, case_id=case.id)
    choice = decisions.ReviewChoice(
        violation=review_models.ViolationCategory.CSAM,
        actions=(ActionKind.REMOVE, ActionKind.SUSPEND),
        industry_classification=IndustryClassification.A2,
        report_to_clearinghouse=True,
        note="confirmed",
    )
    with db.session() as session:
        review_decision_id = decisions.decide(session, case.id, reviewer, choice, options).id
    with db.session() as session:
        decisions.approve(session, review_decision_id, lead, note="agreed")

    killed: set[str] = set()

    def kill_once(point: str) -> None:
        if point == kill_at and point not in killed:
            killed.add(point)
            raise Crash(point)

    registry = HandlerRegistry()
    reporting_tasks.register(
        registry, db, lambda: make_submitter(checkpoint=kill_once), OPTIONS, VaultHolds(Settings.load())
    )
    kills = _run_jobs(world, registry, ["report.prepare", "report.submit", "report.hold"])
    assert kills == (0 if kill_at is None else 1)

    with db.reading() as session:
        report = session.scalars(select(CyberTiplineReport)).one()
        assert report.state == ReportState.FINISHED
        ncmec_id, account_id = report.ncmec_report_id, report.account_id
        holds = session.scalars(
            select(vault_models.PreservationHold).where(
                vault_models.PreservationHold.basis == "cybertipline_report"
            )
        ).all()
        assert [h.reference for h in holds] == [f"ncmec:{ncmec_id}"]
        assert holds[0].expires_at - holds[0].starts_at == timedelta(days=365)
    assert list(sim.simulator.finished) == [ncmec_id] and sim.simulator.counters.finishes == 1
    finished = sim.simulator.finished[ncmec_id]  # type: ignore[index]
    details = etree.fromstring(next(iter(finished.files.values())).details_xml)
    assert details.findtext("fileViewedByEsp") == "true"  # the reviewer's recorded reveal
    assert details.findtext("industryClassification") == "A2"
    document = etree.fromstring(finished.xml)
    assert document.findtext("personOrUserReported/espIdentifier") == "acct-review-e2e"
    assert document.find("incidentSummary/escalateToHighPriority") is None  # no immediate-risk flag
    # The suspension a reviewer chose and a second person approved is permanent, and the report says so
    # (the simulator validated the XML against NCMEC's schema).
    disabled = document.find("personOrUserReported/accountPermanentlyDisabled")
    assert disabled is not None and disabled.get("disabledDate")
    assert document.find("personOrUserReported/accountTemporarilyDisabled") is None

    package = tmp_path / "evidence.zip"
    with db.session() as session:
        vault_packages.build_package(
            session,
            vault,
            [h.preservation_id for h in holds],
            package,
            actor=vault_services.EvidenceActor.system("reporting"),
            reason="police referral",
        )
        referral = create_referral(
            session,
            account_id,
            jurisdiction="IN",
            agency="Cyber Crime Police Station",
            actor="user:legal1",
            out_dir=tmp_path / "referrals",
            evidence_package=package,
        )
        folder = Path(referral.package_path)
        assert referral.ncmec_report_ids == str(ncmec_id)
    public_key = vault_crypto.signing_key_from_text(signing_key).public_key()
    assert vault_packages.verify_package(folder / "evidence.zip", public_key).ok
