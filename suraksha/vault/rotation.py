"""Rotating the key-encryption key: every data key wrapped under the old KEK is re-wrapped under the
new one. Blobs are not rewritten (envelope encryption), so a rotation touches small rows only.

Resumable by construction: each batch commits on its own and only rows still under the old key id
are picked, so an interrupted rotation is finished by running it again with the same two keys. The
start and the end of each run are audited (``vault:key_rotate``), naming key ids, never keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import func, select

from suraksha import audit
from suraksha.db.engine import Database
from suraksha.errors import InvalidInput
from suraksha.vault import crypto
from suraksha.vault.models import EvidenceBlob, VaultAudit

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class RotationResult:
    old_key_id: str
    new_key_id: str
    rewrapped: int = 0
    remaining_under_old: int = 0
    under_other_keys: int = 0
    """Rows wrapped under neither key: made with a KEK older than the old one (rotate from that one)."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def count_by_key(db: Database) -> dict[str, int]:
    with db.reading() as session:
        rows = session.execute(select(EvidenceBlob.key_id, func.count()).group_by(EvidenceBlob.key_id)).all()
    return {str(r[0]): int(r[1]) for r in rows}


def rotate_key(
    db: Database,
    old: crypto.KeyEncryptionKey,
    new: crypto.KeyEncryptionKey,
    *,
    actor: str,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> RotationResult:
    """Re-wrap every data key under ``old`` with ``new``. A wrapped key that does not open under
    ``old`` stops the run (DecryptionFailed) with the rows before it committed: nothing is half done."""
    if old.key_id == new.key_id:
        raise InvalidInput(f"the old and new KEK are the same key ({new.key_id}): nothing to rotate")
    counts = count_by_key(db)
    result = RotationResult(old.key_id, new.key_id)
    with db.session() as session:
        audit.record(
            session,
            actor,
            VaultAudit.KEY_ROTATE,
            f"kek:{new.key_id}",
            {"phase": "start", "from": old.key_id, "to": new.key_id, "pending": counts.get(old.key_id, 0)},
        )
    while True:
        with db.session() as session:
            rows = list(
                session.scalars(
                    select(EvidenceBlob)
                    .where(EvidenceBlob.key_id == old.key_id)
                    .order_by(EvidenceBlob.id)
                    .limit(batch)
                    .with_for_update()
                )
            )
            for blob in rows:
                blob.wrapped_key = crypto.rewrap(blob.wrapped_key, old, new, blob.sha256)
                blob.key_id = new.key_id
        if not rows:
            break
        result.rewrapped += len(rows)
        if progress is not None:
            progress(len(rows))
    counts = count_by_key(db)
    result.remaining_under_old = counts.get(old.key_id, 0)
    result.under_other_keys = sum(n for k, n in counts.items() if k not in {old.key_id, new.key_id})
    with db.session() as session:
        audit.record(
            session,
            actor,
            VaultAudit.KEY_ROTATE,
            f"kek:{new.key_id}",
            {"phase": "done", **result.as_dict()},
        )
    log.info(
        "event=vault.key_rotate from=%s to=%s rewrapped=%d other=%d",
        old.key_id,
        new.key_id,
        result.rewrapped,
        result.under_other_keys,
    )
    return result
