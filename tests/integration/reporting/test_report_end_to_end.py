"""End to end with real parts (the review steps stand in as an explicit recorded view and two
approvers until the review area lands): a banked picture posted by an account is removed and the
account suspended automatically, its evidence preserved; the report goes to the simulator and
finishes; the one-year hold is placed; a referral package is built around a signed evidence export
that verifies offline."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from suraksha.content.models import ItemMedia
from suraksha.enforcement.models import Action, Decision
from suraksha.reporting import tasks as reporting_tasks
from suraksha.reporting.holds import VaultHolds
from suraksha.reporting.models import CyberTiplineReport, ReferralState, ReportState
from suraksha.reporting.referrals import create_referral, mark_acknowledged, mark_sent
from suraksha.reporting.services import RecordedView, ReportRequest, prepare_report
from suraksha.reporting.submission import ReportSubmitter
from suraksha.settings import Settings
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.vault import crypto as vault_crypto
from suraksha.vault import models as vault_models
from suraksha.vault import packages as vault_packages
from suraksha.vault import services as vault_services
from suraksha.worker.handlers import HandlerRegistry
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import Worker
from tests.integration.reporting.conftest import OPTIONS, Sim, World, known_bad

KNOWN = synthetic_jpeg(101)
REPOST = synthetic_jpeg(101, 500, 375, quality=70)


def test_banked_picture_to_finished_report_hold_and_referral(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter], tmp_path: Path
) -> None:
    db = world.db
    setup = known_bad(world, tmp_path, KNOWN)
    vault, signing_key = setup.vault, setup.signing_key

    started = time.perf_counter()
    item_id = setup.post("post-e2e", "acct-e2e", REPOST, ip="203.0.113.7", port=51234, device="device-abc")
    with db.reading() as session:
        decision = session.scalars(select(Decision).where(Decision.item_id == item_id)).one()
        kinds = {a.kind for a in session.scalars(select(Action).where(Action.decision_id == decision.id))}
        assert {"remove", "suspend", "preserve", "report"} <= kinds
        media_id = session.scalars(select(ItemMedia.id).where(ItemMedia.item_id == item_id)).one()
        decision_id = decision.id
    assert vault_services.preserve(db, vault, decision_id) is not None
    automated_s = time.perf_counter() - started

    # The human steps (review area): a reviewer revealed the file and confirmed; a second approved.
    view = RecordedView(media_id, "rev-7f3a", decision.created_at + timedelta(minutes=3), ref="human_view:1")
    with db.session() as session:
        (report,) = prepare_report(
            session,
            ReportRequest((decision_id,), views=(view,), approved_by=("rev-7f3a", "lead-19c2")),
            actor="t",
        )
        report_id = report.id

    started = time.perf_counter()
    registry = HandlerRegistry()
    reporting_tasks.register(registry, db, make_submitter, OPTIONS, VaultHolds(Settings.load()))
    config = WorkerConfig(poll_interval_s=0.05, idle_sleep_min_s=0.01, keep_done_s=None)
    worker = Worker(db.sessions, registry, kinds=["report.submit", "report.hold"], config=config)
    worker.run(until_drained=True)
    reporting_s = time.perf_counter() - started
    print(
        f"automated path {automated_s * 1e3:.0f} ms, approved to finished + hold {reporting_s * 1e3:.0f} ms"
    )

    with db.reading() as session:
        report = session.get(CyberTiplineReport, report_id)
        assert report is not None and report.state == ReportState.FINISHED
        ncmec_id = report.ncmec_report_id
        sha256, account_id = report.files[0].sha256, report.account_id
        holds = session.scalars(
            select(vault_models.PreservationHold).where(
                vault_models.PreservationHold.basis == "cybertipline_report"
            )
        ).all()
        assert [h.reference for h in holds] == [f"ncmec:{ncmec_id}"]
        assert holds[0].expires_at - holds[0].starts_at == timedelta(days=365)
        preservation_ids = [h.preservation_id for h in holds]
    finished = sim.simulator.finished[ncmec_id]  # type: ignore[index]
    details = etree.fromstring(next(iter(finished.files.values())).details_xml)
    assert details.findtext("fileViewedByEsp") == "true"
    assert details.findtext("originalFileHash[@hashType='SHA256']") == sha256
    document = etree.fromstring(finished.xml)
    assert document.findtext("personOrUserReported/ipCaptureEvent/port") == "51234"
    assert document.find("personOrUserReported/accountTemporarilyDisabled") is not None  # suspended

    package = tmp_path / "evidence.zip"
    with db.session() as session:
        built = vault_packages.build_package(
            session,
            vault,
            preservation_ids,
            package,
            actor=vault_services.EvidenceActor.system("reporting"),
            reason="police referral for acct-e2e",
        )
        referral = create_referral(
            session,
            account_id,
            jurisdiction="IN",
            agency="Cyber Crime Police Station",
            actor="user:legal1",
            out_dir=tmp_path / "referrals",
            organisation="Demo Co",
            evidence_package=package,
        )
        referral_id, folder = referral.id, Path(referral.package_path)
        assert referral.evidence_manifest_sha256 == built.manifest_sha256
        assert referral.ncmec_report_ids == str(ncmec_id)
    public_key = vault_crypto.signing_key_from_text(signing_key).public_key()
    assert vault_packages.verify_package(folder / "evidence.zip", public_key).ok
    with db.session() as session:
        mark_sent(session, referral_id, via="cybercrime portal", actor="user:legal1")
    with db.session() as session:
        assert mark_acknowledged(
            session, referral_id, case_number="FIR 7/2026", actor="user:legal1"
        ).state == (ReferralState.ACKNOWLEDGED)
