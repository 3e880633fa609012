"""Keeping the media store in line with the vault: ``suraksha vault seal-media``.

Media kept for reviewers is sealed under the vault's KEK when it is written (``suraksha.intake.store``).
This brings what is already on disk in line, and is safe to run again at any time (each file is
replaced atomically, so a run killed half way is finished by the next):

- a file an older version wrote in plain is sealed in place;
- a file sealed under an older KEK has its data key re-wrapped under the current one (after
  ``suraksha vault rotate-key``, which runs this too), so the old KEK can be destroyed;
- a copy of a file whose evidence the vault purged (older versions kept it) is deleted, unless an
  item still on its way needs it (``suraksha.vault.purge.media_still_needed``);
- temporary files of writes killed half way are deleted;
- every file is made 0600 and every folder 0700.

Each run is audited (``vault:media_seal``, counts only).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select

from suraksha import audit
from suraksha.db.engine import Database
from suraksha.files import tighten
from suraksha.intake.store import MediaStore
from suraksha.vault.models import EvidenceBlob, VaultAudit
from suraksha.vault.purge import media_still_needed

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class SealMediaResult:
    files: int = 0
    sealed: int = 0
    """Files found in plain and sealed in place."""
    rewrapped: int = 0
    """Files whose data key was re-wrapped under the current KEK."""
    destroyed: int = 0
    """Copies of evidence the vault had purged, deleted."""
    strays: int = 0
    """Temporary files of interrupted writes, deleted."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def seal_media_store(
    db: Database,
    store: MediaStore,
    *,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> SealMediaResult:
    """Seal, re-wrap, forget and tighten the media store (module docstring). Needs the KEK (and,
    after a rotation, the previous one): ConfigError otherwise, before anything changes."""
    store.cipher.seal(b"", hashlib.sha256(b"").hexdigest())  # the key is there, or a ConfigError says so
    result = SealMediaResult()
    for stray in store.stray_temporary_files():
        stray.unlink(missing_ok=True)
        result.strays += 1
    batch: list[str] = []
    for sha256 in store.digests():
        batch.append(sha256)
        if len(batch) >= BATCH:
            _seal_batch(db, store, batch, result, progress)
            batch = []
    if batch:
        _seal_batch(db, store, batch, result, progress)
    _tighten_folders(store.root)
    with db.session() as session:
        audit.record(session, actor, VaultAudit.MEDIA_SEAL, "media_store", result.as_dict())
    log.info("event=vault.media_seal %s", " ".join(f"{k}={v}" for k, v in result.as_dict().items()))
    return result


def _seal_batch(
    db: Database,
    store: MediaStore,
    digests: list[str],
    result: SealMediaResult,
    progress: Callable[[int], None] | None,
) -> None:
    with db.reading() as session:
        purged = set(
            session.scalars(
                select(EvidenceBlob.sha256).where(
                    EvidenceBlob.sha256.in_(digests), EvidenceBlob.purged_at.is_not(None)
                )
            )
        )
        purged -= {sha256 for sha256 in purged if media_still_needed(session, sha256)}
    for sha256 in digests:
        result.files += 1
        if sha256 in purged:
            store.delete(sha256)
            result.destroyed += 1
        else:
            _seal_one(store, sha256, result)
        if progress is not None:
            progress(1)


def _seal_one(store: MediaStore, sha256: str, result: SealMediaResult) -> None:
    stored = store.read_stored(sha256)
    if stored is None:  # deleted meanwhile (a clean item's bytes, forgotten by the pipeline)
        return
    if not store.cipher.is_sealed(stored):
        plain = store.get(sha256)  # checks that the plain bytes are the file they are named after
        if plain is not None:
            store.replace_stored(sha256, store.cipher.seal(plain, sha256))
            result.sealed += 1
        return
    rewrapped = store.cipher.rewrap(stored, sha256)
    if rewrapped is not None:
        store.replace_stored(sha256, rewrapped)
        result.rewrapped += 1
    else:
        tighten(store.root / sha256[:2] / sha256[2:4] / sha256)


def _tighten_folders(root: Path) -> None:
    if not root.is_dir():
        return
    for folder, _dirs, _names in os.walk(root):
        tighten(folder)
