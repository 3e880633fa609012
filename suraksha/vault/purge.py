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
from suraksha.content.models import Item, ItemMedia, ItemState
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
    media_deleted: int = 0
    """Copies the media store kept for reviewers, deleted with the evidence."""
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "purged": len(self.purged),
            "blobs": self.purged,
            "objects_deleted": self.objects_deleted,
            "media_deleted": self.media_deleted,
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


def media_still_needed(session: Session, sha256: str) -> bool:
    """Whether the media store's copy of a purged file must stay for now: an item naming the same
    bytes has not been through the pipeline yet, or waits for its own preservation (which seals it
    from that copy and so keeps it under a hold of its own)."""
    waiting = session.scalar(
        select(ItemMedia.id)
        .join(Item, Item.id == ItemMedia.item_id)
        .where(ItemMedia.sha256 == sha256, Item.state.in_([ItemState.QUEUED, ItemState.SCANNED]))
        .limit(1)
    )
    if waiting is not None:
        return True
    preserving = session.scalar(
        select(Preservation.id)
        .join(ItemMedia, ItemMedia.item_id == Preservation.item_id)
        .where(ItemMedia.sha256 == sha256, Preservation.state == PreservationState.PENDING)
        .limit(1)
    )
    return preserving is not None


def forget_media(db: Database, vault: EvidenceVault, digests: list[str], *, every_copy: bool) -> int:
    """Delete the media store's copies of purged files: the evidence is gone from the vault, so the
    copy kept for reviewers goes too. A purge because no hold covers the file any more keeps a copy
    that another item still needs (``media_still_needed``); a deletion request (``every_copy``)
    removes it regardless. Returns how many copies were deleted."""
    deleted = 0
    for sha256 in digests:
        if not vault.media_store.exists(sha256):
            continue
        if not every_copy:
            with db.reading() as session:
                if media_still_needed(session, sha256):
                    continue
        vault.media_store.delete(sha256)
        deleted += 1
    if deleted:
        log.info("event=vault.media_forgotten copies=%d every_copy=%s", deleted, every_copy)
    return deleted


def _delete_objects(
    db: Database, vault: EvidenceVault, result: PurgeResult, *, every_copy: bool = False
) -> None:
    """Delete the stored objects of purged rows and the media store's copies of the same files (after
    the purge committed), then forget the objects' names: a run killed half way leaves names, and the
    next run finishes the job."""
    while True:
        with db.reading() as session:
            rows = session.execute(
                select(EvidenceBlob.id, EvidenceBlob.object_name, EvidenceBlob.sha256)
                .where(EvidenceBlob.purged_at.is_not(None), EvidenceBlob.object_name != "")
                .limit(BATCH)
            ).all()
        if not rows:
            return
        for _, name, _ in rows:
            vault.storage.delete(name)
        digests = [sha256 for _, _, sha256 in rows]
        result.media_deleted += forget_media(db, vault, digests, every_copy=every_copy)
        with db.session() as session:
            for blob_id, name, _ in rows:
                blob = session.get(EvidenceBlob, blob_id)
                if blob is not None and blob.object_name == name and blob.purged_at is not None:
                    blob.object_name = ""
        result.objects_deleted += len(rows)


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
        _delete_objects(db, vault, result)
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
    _delete_objects(db, vault, result, every_copy=True)
    # Blobs an earlier purge left a reviewer's copy of (another item needed it then) lose it now too.
    with db.reading() as session:
        gone = session.scalars(
            select(EvidenceBlob.sha256).where(
                EvidenceBlob.id.in_(blob_ids), EvidenceBlob.purged_at.is_not(None)
            )
        ).all()
    result.media_deleted += forget_media(db, vault, list(gone), every_copy=True)
    return result


def destruction_of_media(session: Session, media_id: int) -> str | None:
    """Why a media file's evidence is gone ("destroyed on DATE under REASON"), or None when the vault
    did not destroy it: the file was preserved and its blob purged (holds ran out, or a deletion
    request). What serves media (the console's reveal and content routes) answers this instead."""
    row = session.execute(
        select(EvidenceBlob.purged_at, EvidenceBlob.purge_reason)
        .join(PreservedFile, PreservedFile.blob_id == EvidenceBlob.id)
        .where(PreservedFile.media_id == media_id, EvidenceBlob.purged_at.is_not(None))
        .limit(1)
    ).first()
    if row is None:
        return None
    purged_at, reason = row
    return f"destroyed on {purged_at:%Y-%m-%d} under {reason or 'a vault purge'}"
