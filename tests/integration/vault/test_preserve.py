"""Preserve on decision: the pipeline's preserve action writes a pending preservation and its job in the
decision's transaction; the job copies media and snapshot into the vault, encrypted, once."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from suraksha import audit
from suraksha.audit import AuditEvent
from suraksha.content.models import ItemMedia
from suraksha.errors import Forbidden, InvalidInput
from suraksha.intake.pipeline import Pipeline
from suraksha.permissions import Role
from suraksha.vault import crypto
from suraksha.vault.models import (
    EvidenceBlob,
    HoldBasis,
    Preservation,
    PreservationState,
    PreservedFile,
)
from suraksha.vault.requests import PRESERVE
from suraksha.vault.services import (
    EvidenceActor,
    EvidenceVault,
    open_blob,
    preserve,
    read_preservation,
)
from suraksha.vault.tasks import register
from suraksha.worker.handlers import HandlerRegistry
from suraksha.worker.models import Job, JobState
from suraksha.worker.queue import retry
from suraksha.worker.runner import run_worker
from tests.integration.vault.support import REPOST, legal_actor, matched_item


def test_a_preserve_action_queues_its_job_with_the_decision(pipeline: Pipeline) -> None:
    item_id, decision_id = matched_item(pipeline)
    with pipeline.db.reading() as s:
        [job] = s.scalars(select(Job).where(Job.kind == PRESERVE)).all()
        assert job.dedupe_key == f"{PRESERVE}:{decision_id}"
        [row] = s.scalars(select(Preservation)).all()
        assert row.state == PreservationState.PENDING and row.item_id == item_id


def test_preservation_copies_media_and_snapshot_encrypted_once(
    pipeline: Pipeline, vault: EvidenceVault
) -> None:
    db = pipeline.db
    _item_id, decision_id = matched_item(pipeline)
    preservation_id = preserve(db, vault, decision_id)
    assert preservation_id is not None
    assert preserve(db, vault, decision_id) is None  # a retried job changes nothing
    with db.reading() as s:
        p = s.get(Preservation, preservation_id)
        assert p is not None and p.state == PreservationState.PRESERVED and p.preserved_at
        files = {f.name: f for f in p.files}
        assert set(files) == {"media-0.jpg", "snapshot.json"}
        media_blob = files["media-0.jpg"].blob
        assert media_blob.sha256 == hashlib.sha256(REPOST).hexdigest() and media_blob.size == len(REPOST)
        stored = vault.storage.get(media_blob.object_name)
        assert stored is not None and REPOST[:64] not in stored and len(stored) > len(REPOST)
        [hold] = p.holds
        assert hold.basis == HoldBasis.INDIA_IT_RULES_3_1_G and hold.reference == f"decision:{decision_id}"
        assert (hold.expires_at - hold.starts_at).days == 180
        assert s.scalar(select(func.count()).select_from(EvidenceBlob)) == 2
        actions = [
            r.action
            for r in s.scalars(
                select(AuditEvent).where(AuditEvent.subject == f"preservation:{preservation_id}")
            )
        ]
        assert actions == ["vault:hold_place", "vault:preserve"]
        contents = read_preservation(s, vault, preservation_id, actor=legal_actor(), reason="case 12")
    snapshot = contents.snapshot
    assert snapshot is not None
    assert snapshot["item"]["upload_ip"] == "203.0.113.7" and snapshot["item"]["upload_port"] == 51234
    assert snapshot["item"]["device_id"] == "device-abc" and snapshot["item"]["received_at"]
    assert snapshot["account"]["platform_account_id"] == "acct-1"
    assert snapshot["decision"]["id"] == decision_id and snapshot["matches"][0]["bank"] == "known-bad"
    assert snapshot["media"][0]["sha256"] == media_blob.sha256


def test_the_same_media_twice_is_one_blob(pipeline: Pipeline, vault: EvidenceVault) -> None:
    _, first = matched_item(pipeline, "p1", "acct-1")
    _, second = matched_item(pipeline, "p2", "acct-2")
    assert preserve(pipeline.db, vault, first) and preserve(pipeline.db, vault, second)
    with pipeline.db.reading() as s:
        media = s.scalars(select(PreservedFile).where(PreservedFile.role == "media")).all()
        assert len(media) == 2 and media[0].blob_id == media[1].blob_id
        assert s.scalar(select(func.count()).select_from(EvidenceBlob)) == 3  # one media, two snapshots


def test_missing_bytes_make_an_incomplete_preservation_not_a_lost_one(
    pipeline: Pipeline, vault: EvidenceVault
) -> None:
    item_id, decision_id = matched_item(pipeline)
    with pipeline.db.reading() as s:
        sha = s.scalar(select(ItemMedia.sha256).where(ItemMedia.item_id == item_id))
    vault.media_store.delete(sha or "")
    preservation_id = preserve(pipeline.db, vault, decision_id)
    with pipeline.db.reading() as s:
        p = s.get(Preservation, preservation_id)
        assert p is not None and p.state == PreservationState.INCOMPLETE
        assert "media 0" in p.missing and [f.name for f in p.files] == ["snapshot.json"]


def test_the_worker_runs_preservation_and_a_missing_key_dead_letters_it(
    pipeline: Pipeline, vault: EvidenceVault
) -> None:
    db = pipeline.db
    matched_item(pipeline)
    keyless = type(vault)(storage=vault.storage, media_store=vault.media_store)
    registry = HandlerRegistry()
    register(registry, db, keyless, None)
    run_worker(db, registry, kinds=[PRESERVE], until_drained=True, install_signal_handlers=False)
    with db.reading() as s:
        job = s.scalar(select(Job).where(Job.kind == PRESERVE))
        assert job is not None and job.state == JobState.DEAD
        assert "SURAKSHA_VAULT_KEK" in (job.last_error or "") and "jobs retry" in (job.last_error or "")
        assert s.scalar(select(Preservation.state)) == PreservationState.PENDING  # nothing lost
    register(working := HandlerRegistry(), db, vault, None)
    with db.session() as s:  # the operator set the key and retried the job
        retry(s, job.id)
    run_worker(db, working, kinds=[PRESERVE], until_drained=True, install_signal_handlers=False)
    with db.reading() as s:
        assert s.scalar(select(Preservation.state)) == PreservationState.PRESERVED


def test_only_the_legal_role_opens_evidence_and_every_opening_is_audited(
    pipeline: Pipeline, vault: EvidenceVault
) -> None:
    db = pipeline.db
    _, decision_id = matched_item(pipeline)
    preserve(db, vault, decision_id)
    sha = hashlib.sha256(REPOST).hexdigest()
    lead = EvidenceActor("user:lead1", frozenset({Role.LEAD.value, Role.ADMIN.value}))
    with db.session() as s, pytest.raises(Forbidden, match="legal role"):
        open_blob(s, vault, sha256=sha, actor=lead, reason="curious")
    with db.session() as s, pytest.raises(InvalidInput, match="reason"):
        open_blob(s, vault, sha256=sha, actor=legal_actor(), reason="  ")
    with db.session() as s:
        assert open_blob(s, vault, sha256=sha, actor=legal_actor(), reason="LE request 7") == REPOST
    with db.reading() as s:
        [row] = s.scalars(select(AuditEvent).where(AuditEvent.action == "evidence:access")).all()
        assert row.actor == "user:legal1" and row.subject == f"vault_blob:{sha}"
        assert json.loads(row.details)["reason"] == "LE request 7"
        assert audit.verify(s).ok


def test_a_changed_stored_blob_does_not_open(pipeline: Pipeline, vault: EvidenceVault) -> None:
    db = pipeline.db
    _, decision_id = matched_item(pipeline)
    preserve(db, vault, decision_id)
    sha = hashlib.sha256(REPOST).hexdigest()
    with db.reading() as s:
        blob = s.scalar(select(EvidenceBlob).where(EvidenceBlob.sha256 == sha))
        assert blob is not None
    stored = bytearray(vault.storage.get(blob.object_name) or b"")
    stored[100] ^= 1
    vault.storage.put(blob.object_name, bytes(stored))
    with db.session() as s, pytest.raises(crypto.DecryptionFailed, match="changed"):
        open_blob(s, vault, sha256=sha, actor=legal_actor(), reason="check")
