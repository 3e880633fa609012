"""Purging evidence no hold covers any more, and deletion on a law-enforcement request.

A blob is purged only when no active hold covers it through any preservation that names it (one blob
can be evidence in several cases). Each purge is decided under the blob row's lock, re-checking the
holds, and audited (``vault:purge``) in the same transaction that marks the row purged; the stored
object is deleted after that commit. A crash in between leaves a purged row whose object still exists:
the next purge run deletes it (rows keep ``object_name`` until the object is gone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.permissions import Permission
from suraksha.vault.holds import STATUTORY_BASES, active_hold_clause, release_hold
from suraksha.vault.models import (
    EvidenceBlob,
    Preservation,
    PreservationHold,
    PreservationState,
    PreservedFile,
    VaultAudit,
)
from suraksha.vault.services import EvidenceActor, EvidenceVault, check_reason

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class PurgeResult:
    purged: list[str] = field(default_factory=list)
    objects_deleted: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "purged": len(self.purged),
            "blobs": self.purged,
            "objects_deleted": self.objects_deleted,
            "dry_run": self.dry_run,
        }


def _candidates(session: Session, now: datetime, after: int, limit: int) -> list[tuple[int, str]]:
    """Live blobs with no active hold, whose preservations are all written (a pending one has no
    files yet, so it names none)."""
    rows = session.execute(
        select(EvidenceBlob.id, EvidenceBlob.sha256)
        .where(EvidenceBlob.id > after, EvidenceBlob.purged_at.is_(None), ~active_hold_clause(now))
        .order_by(EvidenceBlob.id)
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def purge_blob(
    session: Session, blob_id: int, *, actor: str, reason: str, now: datetime
) -> EvidenceBlob | None:
    """Mark one blob purged, if (under its row lock) no active hold covers it; audited."""
    blob = session.get(EvidenceBlob, blob_id, with_for_update=True)
    if blob is None or blob.purged_at is not None:
        return None
    still_held = session.scalar(
        select(EvidenceBlob.id).where(EvidenceBlob.id == blob_id, active_hold_clause(now))
    )
    if still_held is not None:
        return None
    preservations = list(
        session.scalars(
            select(PreservedFile.preservation_id).where(PreservedFile.blob_id == blob_id).distinct()
        )
    )
    blob.purged_at, blob.purge_reason = now, reason[:200]
    audit.record(
        session,
        actor,
        VaultAudit.PURGE,
        f"vault_blob:{blob.sha256}",
        {"reason": reason[:500], "size": blob.size, "preservations": preservations},
    )
    return blob


def _delete_objects(db: Database, vault: EvidenceVault) -> int:
    """Delete the stored objects of purged rows (after the purge committed), then forget their names."""
    deleted = 0
    while True:
        with db.reading() as session:
            rows = session.execute(
                select(EvidenceBlob.id, EvidenceBlob.object_name)
                .where(EvidenceBlob.purged_at.is_not(None), EvidenceBlob.object_name != "")
                .limit(BATCH)
            ).all()
        if not rows:
            return deleted
        for _, name in rows:
            vault.storage.delete(name)
        with db.session() as session:
            for blob_id, name in rows:
                blob = session.get(EvidenceBlob, blob_id)
                if blob is not None and blob.object_name == name and blob.purged_at is not None:
                    blob.object_name = ""
        deleted += len(rows)


def purge_expired(
    db: Database,
    vault: EvidenceVault,
    *,
    actor: str,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> PurgeResult:
    """Purge every blob that no active hold covers (expired or released holds only). Each blob is
    purged in its own short transaction; the run can be stopped and started again at any point."""
    now = now or utcnow()
    result = PurgeResult(dry_run=dry_run)
    after = 0
    while True:
        with db.reading() as session:
            batch = _candidates(session, now, after, BATCH)
        if not batch:
            break
        after = batch[-1][0]
        for blob_id, sha256 in batch:
            if dry_run:
                result.purged.append(sha256)
                continue
            with db.session() as session:
                purged = purge_blob(session, blob_id, actor=actor, reason="no active hold", now=now)
            if purged is not None:
                result.purged.append(sha256)
            if progress is not None:
                progress(1)
    if not dry_run:
        result.objects_deleted = _delete_objects(db, vault)
    log.info("event=vault.purge purged=%d dry_run=%s", len(result.purged), dry_run)
    return result


def delete_on_request(
    db: Database,
    vault: EvidenceVault,
    preservation_id: int,
    *,
    reference: str,
    actor: EvidenceActor,
    reason: str,
    override_statutory: bool = False,
) -> PurgeResult:
    """Delete one preservation's evidence because law enforcement asked (their request ``reference``).

    Business rules: legal role only, with a reason; every active hold on the preservation is released
    (audited, naming the request), then each of its blobs is purged unless a hold of *another*
    preservation still covers it (the same file is evidence elsewhere). A statutory hold (a
    CyberTipline report's year under 18 USC 2258A(h)) is not lifted by a request unless
    ``override_statutory`` says legal has confirmed it may be (e.g. the requesting agency is the one
    the statute serves). The request itself is audited (``vault:delete_on_request``)."""
    actor.require(Permission.EVIDENCE_OPEN, f"delete preservation {preservation_id}")
    reason = check_reason(reason)
    reference = reference.strip()
    if not reference or len(reference) > 200:
        raise InvalidInput("name the law-enforcement request (--reference, 1-200 characters)")
    now = utcnow()
    with db.session() as session:
        preservation = session.get(Preservation, preservation_id, with_for_update=True)
        if preservation is None:
            raise NotFound(f"preservation {preservation_id} does not exist (`suraksha vault list`)")
        if preservation.state == PreservationState.PENDING:
            raise Conflict(f"preservation {preservation_id} is still being written; try again in a minute")
        holds = list(
            session.scalars(
                select(PreservationHold).where(
                    PreservationHold.preservation_id == preservation_id,
                    PreservationHold.released_at.is_(None),
                    PreservationHold.expires_at > now,
                )
            )
        )
        statutory = [h for h in holds if h.basis in STATUTORY_BASES]
        if statutory and not override_statutory:
            raise Conflict(
                f"preservation {preservation_id} is under statutory hold(s) "
                f"{', '.join(f'{h.id} ({h.basis}, to {h.expires_at.date()})' for h in statutory)}; a request "
                "does not lift them by itself: confirm with counsel, then pass --override-statutory"
            )
        audit.record(
            session,
            actor.name,
            VaultAudit.DELETE_REQUEST,
            f"preservation:{preservation_id}",
            {"reference": reference, "reason": reason, "holds_released": [h.id for h in holds]},
        )
        for hold in holds:
            release_hold(
                session,
                hold.id,
                actor=actor,
                reason=f"deletion request {reference}: {reason}",
                override_statutory=override_statutory,
            )
        blob_ids = [f.blob_id for f in preservation.files]
    result = PurgeResult()
    for blob_id in blob_ids:
        with db.session() as session:
            purged = purge_blob(
                session, blob_id, actor=actor.name, reason=f"deletion request {reference}", now=now
            )
        if purged is not None:
            result.purged.append(purged.sha256)
    result.objects_deleted = _delete_objects(db, vault)
    return result
