"""Vault fixtures: a real database (SQLite and PostgreSQL), a vault on a temporary folder with fresh
keys, and a pipeline whose "known bad" bank holds a benign synthetic picture."""

from __future__ import annotations

from pathlib import Path

import pytest

from suraksha.app import DECISION_FOLLOW_UPS
from suraksha.banks import services as banks
from suraksha.banks.index import BankIndex
from suraksha.banks.models import BankCategory
from suraksha.db import Database
from suraksha.enforcement.policy import BUILTIN
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.store import MediaStore
from suraksha.signals.file_signals import HashOptions, hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.vault import crypto
from suraksha.vault.ports import FilesystemBlobStorage
from suraksha.vault.services import EvidenceVault
from tests.integration.vault.support import KNOWN


@pytest.fixture
def vault(tmp_path: Path) -> EvidenceVault:
    kek = crypto.KeyEncryptionKey.generate()
    return EvidenceVault(
        storage=FilesystemBlobStorage(tmp_path / "vault"),
        media_store=MediaStore(tmp_path / "media", crypto.EnvelopeCipher(kek)),
        kek=kek.to_text(),
        signing_key=crypto.generate_signing_key_text(),
    )


@pytest.fixture
def pipeline(db: Database, vault: EvidenceVault) -> Pipeline:
    signals = hash_bytes(KNOWN, HashOptions())
    assert signals.pdq is not None
    with db.session() as s:
        bank = banks.create_bank(s, "known-bad", category=BankCategory.CSAM)
        banks.add_entry(s, bank, SignalKind.PDQ, signals.pdq.hex, quality=signals.pdq.quality)
    return Pipeline(
        db=db,
        index=BankIndex(db).load(),
        store=vault.media_store,
        options=HashOptions(),
        policy=BUILTIN,
        follow_ups=DECISION_FOLLOW_UPS,
    )
