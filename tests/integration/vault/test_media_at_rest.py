"""Media kept for reviewers is evidence too: sealed on disk under the vault's KEK, never in plain, private,
and destroyed with the vault's copy (deletion on request, purge once no hold covers it)."""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from suraksha.content.models import ItemMedia
from suraksha.db import Database
from suraksha.db.base import utcnow
from suraksha.errors import NotReady
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.store import MediaStore
from suraksha.vault import crypto
from suraksha.vault.media import seal_media_store
from suraksha.vault.models import EvidenceBlob, Preservation, PreservationState
from suraksha.vault.purge import delete_on_request, destruction_of_media, purge_expired
from suraksha.vault.services import EvidenceVault, preserve
from tests.integration.vault.support import OTHER, REPOST, legal_actor, matched_item, submit

SHA = hashlib.sha256(REPOST).hexdigest()


def _path(store: MediaStore, sha256: str) -> Path:
    return store.root / sha256[:2] / sha256[2:4] / sha256


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _media_id(db: Database, item_id: int) -> int:
    with db.reading() as s:
        return s.scalars(select(ItemMedia.id).where(ItemMedia.item_id == item_id)).one()


def test_media_is_sealed_on_disk_and_private(pipeline: Pipeline, vault: EvidenceVault) -> None:
    previous = os.umask(0o022)
    try:
        submit(pipeline, "p1", "acct-1", REPOST)
    finally:
        os.umask(previous)
    stored = _path(vault.media_store, SHA).read_bytes()
    assert stored.startswith(crypto.ENVELOPE_MAGIC)
    assert REPOST[:32] not in stored and REPOST[-32:] not in stored  # no plain bytes on disk
    assert _mode(_path(vault.media_store, SHA)) == 0o600
    assert vault.media_store.get(SHA) == REPOST
    # The file alone opens with the KEK: another key does not open it.
    other = MediaStore(vault.media_store.root, crypto.EnvelopeCipher(crypto.KeyEncryptionKey.generate()))
    with pytest.raises(Exception, match="neither vault_kek"):
        other.get(SHA)


def test_without_a_kek_media_is_refused_never_stored_in_plain(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media", crypto.EnvelopeCipher(None))
    with pytest.raises(NotReady, match="SURAKSHA_VAULT_KEK") as refused:
        store.put(REPOST)
    assert "vault keygen" in str(refused.value)
    assert not [p for p in (tmp_path / "media").rglob("*") if p.is_file()]


def test_deletion_on_request_destroys_every_copy(
    pipeline: Pipeline, vault: EvidenceVault, db: Database
) -> None:
    item_id, decision_id = matched_item(pipeline)
    preservation_id = preserve(db, vault, decision_id)
    assert preservation_id is not None and vault.media_store.exists(SHA)
    media_id = _media_id(db, item_id)
    with db.reading() as s:
        assert destruction_of_media(s, media_id) is None

    result = delete_on_request(
        db, vault, preservation_id, reference="request 9", actor=legal_actor(), reason="agency asked"
    )
    assert SHA in result.purged and result.media_deleted == 1
    assert not vault.media_store.exists(SHA)
    assert not [p for p in vault.media_store.root.rglob("*") if p.is_file()]  # no copy, no temp file
    with db.reading() as s:
        why = destruction_of_media(s, media_id)
    assert why == f"destroyed on {utcnow():%Y-%m-%d} under deletion request request 9"


def test_purge_forgets_the_copy_once_no_hold_covers_it(
    pipeline: Pipeline, vault: EvidenceVault, db: Database
) -> None:
    item_id, decision_id = matched_item(pipeline)
    assert preserve(db, vault, decision_id) is not None
    purge_expired(db, vault, actor="system", now=utcnow() + timedelta(days=10))
    assert vault.media_store.exists(SHA)  # still held (180 days from the removal)
    result = purge_expired(db, vault, actor="system", now=utcnow() + timedelta(days=400))
    assert SHA in result.purged and not vault.media_store.exists(SHA)
    with db.reading() as s:
        assert "under no active hold" in (destruction_of_media(s, _media_id(db, item_id)) or "")


def test_purge_keeps_a_copy_an_item_on_its_way_still_needs(
    pipeline: Pipeline, vault: EvidenceVault, db: Database
) -> None:
    _, decision_id = matched_item(pipeline)
    assert preserve(db, vault, decision_id) is not None
    again = submit(pipeline, "p2", "acct-2", REPOST)  # the same picture, not processed yet
    purge_expired(db, vault, actor="system", now=utcnow() + timedelta(days=400))
    assert vault.media_store.exists(SHA)
    assert pipeline.process(again)  # matched again: preserved afresh from the kept copy
    with db.reading() as s:
        pending = s.scalars(select(Preservation).where(Preservation.item_id == again)).one()
    assert preserve(db, vault, pending.decision_id) is not None
    with db.reading() as s:
        assert s.get(Preservation, pending.id).state == PreservationState.PRESERVED  # type: ignore[union-attr]
        assert s.scalars(select(EvidenceBlob.purged_at).where(EvidenceBlob.sha256 == SHA)).one() is None


def test_seal_media_seals_plain_files_in_place_and_forgets_purged_copies(
    pipeline: Pipeline, vault: EvidenceVault, db: Database
) -> None:
    store = vault.media_store
    # What an older version left: a picture in plain (0644, in 0755 folders), a temporary file of a
    # write killed half way, and the copy of evidence the vault purged.
    plain_sha = hashlib.sha256(OTHER).hexdigest()
    plain = _path(store, plain_sha)
    plain.parent.mkdir(parents=True, exist_ok=True)
    plain.write_bytes(OTHER)
    os.chmod(plain, 0o644)
    os.chmod(plain.parent, 0o755)
    stray = plain.with_name(f".{plain_sha}.0123.tmp")
    stray.write_bytes(OTHER)
    assert store.get(plain_sha) == OTHER  # still read until sealed: an upgrade loses nothing
    _, decision_id = matched_item(pipeline)
    assert preserve(db, vault, decision_id) is not None
    with db.session() as s:  # purged by an older version, which kept the media store's copy
        s.execute(update(EvidenceBlob).values(purged_at=utcnow(), purge_reason="no active hold"))
    assert store.exists(SHA)

    result = seal_media_store(db, store, actor="cli:test")
    assert (result.sealed, result.destroyed, result.strays, result.rewrapped) == (1, 1, 1, 0)
    sealed = plain.read_bytes()
    assert sealed.startswith(crypto.ENVELOPE_MAGIC) and OTHER[:32] not in sealed
    assert store.get(plain_sha) == OTHER
    assert _mode(plain) == 0o600 and _mode(plain.parent) == 0o700
    assert not stray.exists() and not store.exists(SHA)
    again = seal_media_store(db, store, actor="cli:test")  # safe to run again: nothing left to do
    assert (again.files, again.sealed, again.destroyed, again.strays) == (1, 0, 0, 0)
