"""A police referral for an account: the package (PDF, summary.json, the evidence package), tracked
from drafted to sent to acknowledged with the FIR, every step audited."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from suraksha.audit import AuditEvent
from suraksha.errors import Conflict, InvalidInput
from suraksha.reporting.models import CyberTiplineReport, ReferralState, ReportState
from suraksha.reporting.referrals import create_referral, mark_acknowledged, mark_sent
from tests.integration.reporting.conftest import World


def _evidence_package(path: Path) -> str:
    manifest = json.dumps({"format": "suraksha-evidence-package/1", "files": []}).encode()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", manifest)
        archive.writestr("manifest.sig", b"\0" * 64)
    return hashlib.sha256(manifest).hexdigest()


def test_referral_package_and_tracking(world: World, tmp_path: Path) -> None:
    world.add_account("ref", items=2)
    account_id = world.accounts["ref"]
    with world.db.session() as session:
        session.add(
            CyberTiplineReport(account_id=account_id, state=ReportState.FINISHED, ncmec_report_id=424242)
        )
    package = tmp_path / "evidence.zip"
    manifest = _evidence_package(package)
    with world.db.session() as session:
        referral = create_referral(
            session,
            account_id,
            jurisdiction="in",
            agency="Cyber Crime Police Station, Bengaluru",
            actor="user:legal1",
            out_dir=tmp_path / "referrals",
            organisation="Demo Co",
            evidence_package=package,
        )
        referral_id = referral.id
        folder = Path(referral.package_path)
        assert referral.jurisdiction == "IN" and referral.ncmec_report_ids == "424242"
        assert referral.evidence_manifest_sha256 == manifest
    pdf = (folder / f"referral-{referral_id}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and (folder / "evidence.zip").read_bytes() == package.read_bytes()
    summary = json.loads((folder / "summary.json").read_text())
    assert [i["item_id"] for i in summary["items"]] == ["ref-item-0", "ref-item-1"]
    assert summary["items"][0]["upload_ip"] == "203.0.113.1"
    assert summary["cybertipline_reports"][0].startswith("424242")

    with world.db.session() as session, pytest.raises(Conflict, match="sent first"):
        mark_acknowledged(session, referral_id, case_number="FIR 12/2026", actor="user:legal1")
    with world.db.session() as session:
        mark_sent(session, referral_id, via="cybercrime.gov.in portal", actor="user:legal1")
    with world.db.session() as session:
        referral = mark_acknowledged(session, referral_id, case_number="FIR 12/2026", actor="user:legal1")
        assert referral.state == ReferralState.ACKNOWLEDGED and referral.case_number == "FIR 12/2026"
    with world.db.reading() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject == f"referral:{referral_id}")
        ).all()
        assert actions == ["referral:created", "referral:sent", "referral:acknowledged"]


def test_referral_refuses_bad_input(world: World, tmp_path: Path) -> None:
    world.add_account("bad", items=1)
    not_a_package = tmp_path / "x.zip"
    not_a_package.write_bytes(b"not a zip")
    with world.db.session() as session:
        with pytest.raises(InvalidInput, match="two-letter"):
            create_referral(
                session, world.accounts["bad"], jurisdiction="India", agency="P", actor="a", out_dir=tmp_path
            )
        with pytest.raises(InvalidInput, match="not an evidence package"):
            create_referral(
                session,
                world.accounts["bad"],
                jurisdiction="IN",
                agency="P",
                actor="a",
                out_dir=tmp_path,
                evidence_package=not_a_package,
            )
