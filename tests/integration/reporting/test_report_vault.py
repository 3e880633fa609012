"""With the evidence vault: a file whose bytes the intake store has forgotten is uploaded from the
vault (decrypted, checked against its SHA-256), and that read is audited as an access to evidence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from suraksha.audit import AuditEvent
from suraksha.enforcement.models import Decision
from suraksha.reporting.evidence import VaultEvidence
from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.reporting.services import ReportRequest, prepare_report
from suraksha.reporting.submission import EvidenceSource, ReportSubmitter
from suraksha.vault import crypto as vault_crypto
from suraksha.vault import ports as vault_ports
from suraksha.vault import services as vault_services
from suraksha.vault.requests import request_preservation
from tests.integration.reporting.conftest import Sim, World


def test_upload_from_the_vault_is_audited(
    world: World, sim: Sim, make_submitter: Callable[..., ReportSubmitter], tmp_path: Path
) -> None:
    vault = vault_services.EvidenceVault(
        storage=vault_ports.FilesystemBlobStorage(tmp_path / "vault"),
        media_store=world.store,
        kek=vault_crypto.KeyEncryptionKey.generate().to_text(),
        signing_key=vault_crypto.generate_signing_key_text(),
    )
    world.add_account("sealed", items=1)
    decision_id = world.decisions["sealed"][0]
    with world.db.session() as session:
        decision = session.get(Decision, decision_id)
        assert decision is not None
        request_preservation(session, decision)
    assert vault_services.preserve(world.db, vault, decision_id) is not None
    with world.db.session() as session:
        (report,) = prepare_report(session, ReportRequest((decision_id,), approved_by=("a", "b")), actor="t")
        report_id = report.id
        sha256 = report.files[0].sha256
    world.store.delete(sha256)  # intake forgot the bytes; only the vault has them now
    submitter = make_submitter()
    submitter.evidence = EvidenceSource(world.store, VaultEvidence(world.db, vault))
    assert submitter.run(report_id) == ReportState.FINISHED
    with world.db.reading() as session:
        row = session.get(CyberTiplineReport, report_id)
        assert row is not None and row.ncmec_report_id is not None
        accesses = session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence:access")).all()
        assert [a.subject for a in accesses] == [f"vault_blob:{sha256}"]
    uploaded = next(iter(sim.simulator.finished[row.ncmec_report_id].files.values()))
    assert uploaded.size > 0
