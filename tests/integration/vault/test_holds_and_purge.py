"""Holds keep evidence; purge takes only what no active hold covers, audited; deletion on a
law-enforcement request; KEK rotation re-wraps every data key and can be resumed."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from suraksha import audit
from suraksha.audit import AuditEvent
from suraksha.db.base import utcnow
from suraksha.errors import ConfigError, Conflict, Forbidden, InvalidInput
from suraksha.intake.pipeline import Pipeline
from suraksha.vault import crypto
from suraksha.vault.holds import HoldPeriods, extend_hold, place_hold, release_hold
from suraksha.vault.models import EvidenceBlob, HoldBasis, Preservation, PreservationHold
from suraksha.vault.packages import build_package
from suraksha.vault.purge import delete_on_request, purge_expired
from suraksha.vault.rotation import rotate_key
from suraksha.vault.services import EvidenceActor, EvidenceVault, open_blob, preserve
from tests.integration.vault.support import REPOST, legal_actor, matched_item

SHA = hashlib.sha256(REPOST).hexdigest()


def _preserved(pipeline: Pipeline, vault: EvidenceVault, n: str = "1") -> int:
    _, decision_id = matched_item(pipeline, f"p{n}", f"acct-{n}")
    preservation_id = preserve(pipeline.db, vault, decision_id)
    assert preservation_id is not None
    return preservation_id


def test_nothing_held_is_purged_and_expiry_purges_audited(pipeline: Pipeline, vault: EvidenceVault) -> None:
    db = pipeline.db
    pid = _preserved(pipeline, vault)
    assert purge_expired(db, vault, actor="cli:ops").purged == []
    with db.reading() as s:
        names = list(s.scalars(select(EvidenceBlob.object_name)))
    later = utcnow() + timedelta(days=181)
    dry = purge_expired(db, vault, actor="cli:ops", now=later, dry_run=True)
    assert len(dry.purged) == 2
    result = purge_expired(db, vault, actor="cli:ops", now=later)
    assert len(result.purged) == 2 and result.objects_deleted == 2
    with db.reading() as s:
        blobs = s.scalars(select(EvidenceBlob)).all()
        assert all(b.purged_at is not None and b.object_name == "" for b in blobs)
        purges = s.scalars(select(AuditEvent).where(AuditEvent.action == "vault:purge")).all()
        assert {p.subject for p in purges} == {f"vault_blob:{b.sha256}" for b in blobs}
        assert audit.verify(s).ok
        assert s.get(Preservation, pid) is not None  # the record of what was kept stays
    assert names and not any(vault.storage.exists(n) for n in names)
    with db.session() as s, pytest.raises(Conflict, match="purged"):
        open_blob(s, vault, sha256=SHA, actor=legal_actor(), reason="x")


def test_a_cybertipline_hold_outlives_the_removal_hold(pipeline: Pipeline, vault: EvidenceVault) -> None:
    db = pipeline.db
    pid = _preserved(pipeline, vault)
    with db.session() as s:
        item_id = s.get(Preservation, pid).item_id  # type: ignore[union-attr]
        holds = place_hold(
            s,
            item_ids=[item_id],
            basis=HoldBasis.CYBERTIPLINE_REPORT,
            reference="ncmec:123456",
            actor="system:reporting",
            periods=vault.periods,
        )
        again = place_hold(
            s,
            item_ids=[item_id],
            basis=HoldBasis.CYBERTIPLINE_REPORT,
            reference="ncmec:123456",
            actor="system:reporting",
            periods=vault.periods,
        )
        assert [h.id for h in holds] == [h.id for h in again]  # idempotent
        assert (holds[0].expires_at - holds[0].starts_at).days == 365
    assert purge_expired(db, vault, actor="t", now=utcnow() + timedelta(days=200)).purged == []
    assert len(purge_expired(db, vault, actor="t", now=utcnow() + timedelta(days=366)).purged) == 2


def test_a_blob_shared_with_a_held_preservation_is_kept(pipeline: Pipeline, vault: EvidenceVault) -> None:
    db = pipeline.db
    first = _preserved(pipeline, vault, "1")
    second = _preserved(pipeline, vault, "2")
    with db.session() as s:
        place_hold(
            s,
            preservation_id=second,
            basis=HoldBasis.LAW_ENFORCEMENT_REQUEST,
            reference="FIR 42/2026",
            actor="user:legal1",
            periods=vault.periods,
            starts_at=utcnow() + timedelta(days=150),
        )
    result = purge_expired(db, vault, actor="t", now=utcnow() + timedelta(days=200))
    with db.reading() as s:
        media = s.scalar(select(EvidenceBlob).where(EvidenceBlob.sha256 == SHA))
        assert media is not None and media.purged_at is None
    assert len(result.purged) == 1  # the first preservation's snapshot only
    assert first != second


def test_extend_and_release(pipeline: Pipeline, vault: EvidenceVault) -> None:
    db = pipeline.db
    pid = _preserved(pipeline, vault)
    periods = HoldPeriods.parse("law_enforcement_request@IN=30")
    with db.session() as s:
        [hold] = place_hold(
            s,
            preservation_id=pid,
            basis="law_enforcement_request",
            reference="req-1",
            jurisdiction="IN",
            actor="user:legal1",
            periods=periods,
        )
        assert (hold.expires_at - hold.starts_at).days == 30
        before = hold.expires_at
        extend_hold(s, hold.id, actor="user:legal1", periods=periods, reason="agency asked")
        assert (hold.expires_at - before).days == 30 and hold.extensions == 1
        with pytest.raises(InvalidInput, match="shorten"):
            extend_hold(s, hold.id, actor="u", periods=periods, reason="r", until=before)
        with pytest.raises(Forbidden, match="legal role"):
            release_hold(s, hold.id, actor=EvidenceActor("user:lead1"), reason="case closed")
        release_hold(s, hold.id, actor=legal_actor(), reason="case closed")
        with pytest.raises(Conflict, match="released"):
            extend_hold(s, hold.id, actor="u", periods=periods, reason="r")
        with pytest.raises(InvalidInput, match="no hold period"):
            place_hold(
                s, preservation_id=pid, basis="unknown_basis", reference="x", actor="u", periods=periods
            )
        actions = [r.action for r in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions[-3:] == ["vault:hold_place", "vault:hold_extend", "vault:hold_release"]


def test_deletion_on_request_respects_statutory_holds(pipeline: Pipeline, vault: EvidenceVault) -> None:
    db = pipeline.db
    pid = _preserved(pipeline, vault)
    with db.session() as s:
        place_hold(
            s,
            preservation_id=pid,
            basis=HoldBasis.CYBERTIPLINE_REPORT,
            reference="ncmec:1",
            actor="system:reporting",
            periods=vault.periods,
        )
    lead = EvidenceActor("user:lead1", frozenset({"lead"}))
    with pytest.raises(Forbidden):
        delete_on_request(db, vault, pid, reference="LE-9", actor=lead, reason="asked")
    with pytest.raises(Conflict, match="statutory"):
        delete_on_request(db, vault, pid, reference="LE-9", actor=legal_actor(), reason="asked")
    result = delete_on_request(
        db, vault, pid, reference="LE-9", actor=legal_actor(), reason="asked", override_statutory=True
    )
    assert len(result.purged) == 2
    with db.reading() as s:
        assert all(h.released_at for h in s.scalars(select(PreservationHold)))
        actions = [r.action for r in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert "vault:delete_on_request" in actions and actions.count("vault:purge") == 2


def test_key_rotation_rewraps_every_key_and_resumes(pipeline: Pipeline, vault: EvidenceVault) -> None:
    db = pipeline.db
    _preserved(pipeline, vault, "1")
    _preserved(pipeline, vault, "3")
    old = vault.keyring.current
    new = crypto.KeyEncryptionKey.generate()
    first = rotate_key(db, old, new, actor="cli:ops", batch=1)
    assert first.rewrapped == 3 and first.remaining_under_old == 0
    assert rotate_key(db, old, new, actor="cli:ops").rewrapped == 0  # run again: nothing left
    rotated = EvidenceVault(storage=vault.storage, media_store=vault.media_store, kek=new.to_text())
    with db.session() as s:
        assert open_blob(s, rotated, sha256=SHA, actor=legal_actor(), reason="after rotation") == REPOST
    with db.session() as s, pytest.raises(ConfigError, match="vault_kek_previous"):
        open_blob(s, vault, sha256=SHA, actor=legal_actor(), reason="old key only")
    with db.reading() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == "vault:key_rotate")).all()
        assert len(rows) == 4 and new.to_text() not in "".join(r.details for r in rows)


def test_the_calls_reporting_makes(pipeline: Pipeline, vault: EvidenceVault, tmp_path: Path) -> None:
    """After a finished CyberTipline report: a year's hold on every item in it, and a signed package."""
    db = pipeline.db
    item_id, _ = matched_item(pipeline)  # its preservation is still pending: a hold covers it anyway
    finished = utcnow()
    with db.session() as s:
        [hold] = vault.place_hold(
            s,
            item_ids=[item_id],
            basis=HoldBasis.CYBERTIPLINE_REPORT,
            reference="ncmec:555",
            starts_at=finished,
            actor="system:reporting",
        )
        assert hold.expires_at == finished + timedelta(days=365)
        ids = vault.preservations_of_items(s, [item_id])
    assert ids == [hold.preservation_id]
    with db.reading() as s:
        decision_id = s.get(Preservation, ids[0]).decision_id  # type: ignore[union-attr]
    preserve(db, vault, decision_id)
    with db.session() as s:
        built = build_package(
            s,
            vault,
            ids,
            tmp_path / "referral.zip",
            actor=EvidenceActor.system("reporting"),
            reason="referral 1",
        )
    assert built.path.exists() and built.files == 2


def test_a_statutory_hold_is_released_early_only_with_counsels_override(
    pipeline: Pipeline, vault: EvidenceVault
) -> None:
    db = pipeline.db
    pid = _preserved(pipeline, vault)
    with db.session() as s:
        [hold] = place_hold(
            s,
            preservation_id=pid,
            basis=HoldBasis.CYBERTIPLINE_REPORT,
            reference="ncmec:5",
            jurisdiction="US",
            actor="system:reporting",
            periods=vault.periods,
        )
        hold_id = hold.id
    with db.session() as s, pytest.raises(Conflict, match="override-statutory"):
        release_hold(s, hold_id, actor=legal_actor(), reason="case closed")
    with db.session() as s, pytest.raises(InvalidInput, match="why"):
        release_hold(s, hold_id, actor=legal_actor(), reason=" ", override_statutory=True)
    with db.session() as s:
        row = s.get(PreservationHold, hold_id)
        assert row is not None and row.released_at is None
        release_hold(
            s, hold_id, actor=legal_actor(), reason="counsel: agency closed it", override_statutory=True
        )
        assert row.released_at is not None
