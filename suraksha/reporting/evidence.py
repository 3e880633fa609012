"""Reading a reported file's bytes from the evidence vault, for the upload to NCMEC, when the intake
media store no longer has them. Every read is an access to evidence and is audited
(``evidence:access``, actor ``system:reporting``, naming the blob)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from suraksha import audit
from suraksha.db.engine import Database
from suraksha.vault.models import EvidenceBlob
from suraksha.vault.services import EvidenceVault

ACCESS = "evidence:access"


class VaultEvidence:
    """``get(sha256) -> bytes | None`` over the vault (a ``FileStore`` of ``EvidenceSource``)."""

    def __init__(
        self, db: Database, vault: EvidenceVault, *, reason: str = "CyberTipline report upload"
    ) -> None:
        self.db, self.vault, self.reason = db, vault, reason

    def get(self, sha256: str) -> bytes | None:
        with self.db.session() as session:
            blob = session.scalar(
                select(EvidenceBlob).where(EvidenceBlob.sha256 == sha256, EvidenceBlob.purged_at.is_(None))
            )
            if blob is None:
                return None
            data = self.vault.read_blob(blob)
            if hashlib.sha256(data).hexdigest() != sha256:
                return None
            audit.record(session, "system:reporting", ACCESS, f"vault_blob:{sha256}", {"reason": self.reason})
            return data
