"""Preserving evidence for a decision, and opening it again (legal role only, with a reason, audited).

The arrow from enforcement to the vault: when a ``preserve`` action is written,
``suraksha.vault.requests.request_preservation`` writes a pending ``Preservation`` row and a
``vault.preserve`` job in the same transaction. The job's handler (``preserve``) copies the media
bytes and a snapshot of the item, account and decision into the vault and places the first hold. It
is idempotent, keyed by the decision: a second run finds the preservation no longer pending and does
nothing; a run killed half way left only encrypted objects no row names, which it deletes, and the
retry starts over.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.access.models import ConsoleUser
from suraksha.access.users import user_roles
from suraksha.content.models import Account, Item, ItemMedia
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.enforcement.models import Decision
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.intake.store import MediaStore
from suraksha.permissions import Permission, Role, has_permission
from suraksha.settings import Secret, Settings
from suraksha.vault import crypto
from suraksha.vault.holds import HoldPeriods, hold_dict, place_hold, preservations_for_items
from suraksha.vault.models import (
    EvidenceBlob,
    FileRole,
    Preservation,
    PreservationHold,
    PreservationState,
    PreservedFile,
    VaultAudit,
)
from suraksha.vault.ports import BlobStorage, FilesystemBlobStorage, object_name
from suraksha.vault.snapshot import build_snapshot, encode, media_name
from suraksha.worker.queue import enqueue

log = logging.getLogger(__name__)

ENRICH = "vault.enrich"
PURGE = "vault.purge"
SYSTEM = "system"
MAX_REASON_CHARS = 1000


@dataclass(frozen=True)
class EvidenceActor:
    """Who asks for evidence: the audit name and the roles that decide whether they may."""

    name: str
    roles: frozenset[str] = frozenset()

    @classmethod
    def for_user(cls, user: ConsoleUser) -> EvidenceActor:
        """A console user's roles; none at all for a disabled user."""
        roles = frozenset() if user.disabled_at is not None else frozenset(r.value for r in user_roles(user))
        return cls(f"user:{user.pseudonym}", roles)

    @classmethod
    def system(cls, component: str) -> EvidenceActor:
        """An automated part of Suraksha acting for the legal desk (e.g. ``reporting`` building a
        referral package a person approved): named as such in the custody log."""
        return cls(f"system:{component}", frozenset({Role.LEGAL.value}))

    def require(self, permission: Permission, what: str) -> None:
        if not has_permission(self.roles, permission):
            log.warning("event=vault.refused actor=%s permission=%s what=%s", self.name, permission, what)
            raise Forbidden(f"{self.name} may not {what}: it needs the legal role ({permission})")


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the evidence is needed (a reason is recorded in the custody log)")
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(f"the reason is {len(reason)} characters, over {MAX_REASON_CHARS}")
    return reason


@dataclass
class EvidenceVault:
    """The vault's configuration and backends, built from settings by the Platform."""

    storage: BlobStorage
    media_store: MediaStore
    periods: HoldPeriods = field(default_factory=HoldPeriods)
    kek: Secret | str | None = None
    kek_previous: Secret | str | None = None
    signing_key: Secret | str | None = None
    decision_hold_basis: str = "india_it_rules_3_1_g"
    jurisdiction: str = "IN"
    max_blob_bytes: int = 1024 * 1024 * 1024
    package_max_bytes: int = 4 * 1024 * 1024 * 1024
    enrichment_enabled: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, media_store: MediaStore) -> EvidenceVault:
        root = settings.vault_dir or settings.data_path / "vault"
        return cls(
            storage=FilesystemBlobStorage(root, max_bytes=settings.vault_max_blob_bytes + 64),
            media_store=media_store,
            periods=HoldPeriods.parse(settings.vault_hold_periods),
            kek=settings.vault_kek,
            kek_previous=settings.vault_kek_previous,
            signing_key=settings.vault_signing_key,
            decision_hold_basis=settings.vault_decision_hold_basis,
            jurisdiction=settings.vault_jurisdiction,
            max_blob_bytes=settings.vault_max_blob_bytes,
            package_max_bytes=settings.vault_package_max_bytes,
            enrichment_enabled=bool(settings.vault_enrichment_url),
        )

    @cached_property
    def keyring(self) -> crypto.Keyring:
        """The KEKs; a ConfigError that says what to set when the current one is missing."""
        return crypto.keyring_from(self.kek, self.kek_previous)

    def place_hold(
        self,
        session: Session,
        *,
        basis: str,
        reference: str,
        actor: str,
        item_ids: Sequence[int] | None = None,
        preservation_id: int | None = None,
        jurisdiction: str | None = None,
        starts_at: datetime | None = None,
    ) -> list[PreservationHold]:
        """``suraksha.vault.holds.place_hold`` with this deployment's configured periods and default
        jurisdiction: the call other areas make (e.g. reporting, after a finished CyberTipline report:
        ``basis=HoldBasis.CYBERTIPLINE_REPORT, reference=f"ncmec:{report_id}", starts_at=finished_at``)."""
        return place_hold(
            session,
            basis=basis,
            reference=reference,
            actor=actor,
            periods=self.periods,
            item_ids=item_ids,
            preservation_id=preservation_id,
            jurisdiction=self.jurisdiction if jurisdiction is None else jurisdiction,
            starts_at=starts_at,
        )

    def preservations_of_items(self, session: Session, item_ids: Sequence[int]) -> list[int]:
        """Ids of the preservations of these items (preserving any item not preserved yet)."""
        return [p.id for p in preservations_for_items(session, item_ids)]

    def read_blob(self, blob: EvidenceBlob) -> bytes:
        """Decrypt one blob (no permission check: callers check and audit)."""
        if blob.purged_at is not None or not blob.object_name:
            raise Conflict(f"blob {blob.sha256} was purged at {blob.purged_at} ({blob.purge_reason})")
        ciphertext = self.storage.get(blob.object_name)
        if ciphertext is None:
            raise NotFound(
                f"blob {blob.sha256}'s object {blob.object_name} is missing from the vault storage "
                f"({self.storage!r}): restore it from backup"
            )
        return crypto.unseal(ciphertext, blob.wrapped_key, self.keyring.get(blob.key_id), blob.sha256)


@dataclass
class PreparedFile:
    """One file to preserve, in plaintext (in memory, bounded by vault_max_blob_bytes)."""

    role: FileRole
    name: str
    media_id: int | None
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _gather(
    db: Database, vault: EvidenceVault, decision_id: int
) -> tuple[int, list[PreparedFile], list[str]] | None:
    """Read what to preserve (outside the write transaction); None when already done."""
    with db.reading() as session:
        preservation = session.scalar(select(Preservation).where(Preservation.decision_id == decision_id))
        if preservation is None:
            raise NotFound(f"decision {decision_id} has no preservation requested")
        if preservation.state != PreservationState.PENDING:
            return None
        decision = session.get(Decision, decision_id)
        item = session.get(Item, preservation.item_id)
        account = session.get(Account, preservation.account_id)
        assert decision is not None
        assert item is not None
        assert account is not None
        snapshot = build_snapshot(session, decision, item, account)
        media = [
            (m.id, m.position, m.sha256, m.state, m.error, media_name(m))
            for m in session.scalars(select(ItemMedia).where(ItemMedia.item_id == item.id))
        ]
        preservation_id = preservation.id
    prepared: list[PreparedFile] = []
    missing: list[str] = []
    for media_id, position, sha256, state, error, name in sorted(media, key=lambda m: m[1]):
        data = vault.media_store.get(sha256) if sha256 else None
        if data is None:
            why = (
                f"state {state}" + (f": {error}" if error else "") if not sha256 else "bytes no longer stored"
            )
            missing.append(f"media {position}: not preserved ({why})")
        elif len(data) > vault.max_blob_bytes:
            missing.append(f"media {position}: {len(data)} bytes, over vault_max_blob_bytes")
        elif hashlib.sha256(data).hexdigest() != sha256:
            missing.append(f"media {position}: stored bytes do not match their recorded SHA-256")
        else:
            prepared.append(PreparedFile(FileRole.MEDIA, name, media_id, data))
    snapshot["preservation"] = {"id": preservation_id, "missing": missing}
    prepared.append(PreparedFile(FileRole.SNAPSHOT, "snapshot.json", None, encode(snapshot)))
    return preservation_id, prepared, missing


def seal_new(
    db: Database, vault: EvidenceVault, files: Iterable[PreparedFile]
) -> dict[str, tuple[crypto.SealedBlob, str]]:
    """Seal and store the files whose blob the vault does not hold (or holds purged): digest ->
    (sealed blob, object name). Run before the unit of work that attaches them (``attach``, which
    settles a race with another worker sealing the same file), outside any write transaction."""
    files = list(files)
    with db.reading() as session:
        live = set(
            session.scalars(
                select(EvidenceBlob.sha256).where(
                    EvidenceBlob.sha256.in_({f.sha256 for f in files}), EvidenceBlob.purged_at.is_(None)
                )
            )
        )
    sealed: dict[str, tuple[crypto.SealedBlob, str]] = {}
    for f in files:
        if f.sha256 not in live and f.sha256 not in sealed:
            blob = crypto.seal(f.data, vault.keyring.current)
            name = object_name(blob.sha256)
            vault.storage.put(name, blob.ciphertext)
            sealed[blob.sha256] = (blob, name)
    return sealed


def attach(
    session: Session,
    preservation_id: int,
    files: Iterable[PreparedFile],
    sealed: dict[str, tuple[crypto.SealedBlob, str]],
) -> list[str]:
    """Name the files in the preservation, content-addressed: a blob the vault already holds is named
    again, not stored twice. Returns the objects sealed that no row ended up naming (another worker
    stored the same blob first): delete them after commit."""
    unused = {name for _, name in sealed.values()}
    for f in files:
        blob_row = session.scalar(
            select(EvidenceBlob).where(EvidenceBlob.sha256 == f.sha256).with_for_update()
        )
        ours = sealed.get(f.sha256)
        if blob_row is None or blob_row.purged_at is not None:
            if ours is None:
                # Purged between our look and the row lock: the job's retry seals it afresh.
                raise Conflict(f"blob {f.sha256} was purged while being preserved again; retry")
            sealed_blob, name = ours
            if blob_row is None:
                blob_row = EvidenceBlob(sha256=f.sha256, size=sealed_blob.size)
                session.add(blob_row)
            blob_row.object_name, blob_row.key_id = name, sealed_blob.key_id
            blob_row.wrapped_key, blob_row.purged_at, blob_row.purge_reason = (
                sealed_blob.wrapped_key,
                None,
                "",
            )
            blob_row.created_at = utcnow()
            session.flush()
            unused.discard(name)
        named = session.scalar(
            select(PreservedFile.id).where(
                PreservedFile.preservation_id == preservation_id, PreservedFile.name == f.name
            )
        )
        if named is None:
            session.add(
                PreservedFile(
                    preservation_id=preservation_id,
                    blob_id=blob_row.id,
                    role=f.role,
                    name=f.name,
                    media_id=f.media_id,
                )
            )
    session.flush()
    return sorted(unused)


def preserve(db: Database, vault: EvidenceVault, decision_id: int) -> int | None:
    """Preserve the evidence of one decision (the ``vault.preserve`` job); returns the preservation id,
    or None when it was already preserved.

    Business rules: media whose bytes are not available (a URL that could not be fetched, bytes
    already forgotten) is listed in the preservation's ``missing`` and in the snapshot, and the
    preservation is ``incomplete`` rather than failing: what exists is kept. The first hold is placed
    under setting ``vault_decision_hold_basis`` (default India IT Rules 3(1)(g): 180 days from the
    removal, i.e. the decision), referenced ``decision:<id>``.

    Files are sealed and stored before the write transaction (encryption and fsyncs would otherwise
    hold SQLite's one write lock); ``attach`` then names them under row locks, and an object that
    another worker's blob beat, or that a transaction which then failed wrote, is deleted, so a retry
    starts clean."""
    gathered = _gather(db, vault, decision_id)
    if gathered is None:
        return None
    preservation_id, files, missing = gathered
    written: list[str] = []
    unused: list[str] = []
    committed = False
    try:
        sealed = seal_new(db, vault, files)
        written = [name for _, name in sealed.values()]
        with db.session() as session:
            preservation = session.get(Preservation, preservation_id, with_for_update=True)
            assert preservation is not None
            if preservation.state != PreservationState.PENDING:
                return None
            unused = attach(session, preservation_id, files, sealed)
            preservation.state = PreservationState.INCOMPLETE if missing else PreservationState.PRESERVED
            preservation.missing = "\n".join(missing)
            preservation.preserved_at = utcnow()
            decision = session.get(Decision, decision_id)
            assert decision is not None
            place_hold(
                session,
                preservation_id=preservation_id,
                basis=vault.decision_hold_basis,
                reference=f"decision:{decision_id}",
                actor=SYSTEM,
                periods=vault.periods,
                jurisdiction=vault.jurisdiction,
                starts_at=decision.created_at,
            )
            if vault.enrichment_enabled:
                enqueue(session, ENRICH, {"preservation": preservation_id}, key=f"{ENRICH}:{preservation_id}")
            audit.record(
                session,
                SYSTEM,
                VaultAudit.PRESERVE,
                f"preservation:{preservation_id}",
                {
                    "decision": decision_id,
                    "item": preservation.item_id,
                    "files": {f.name: f.sha256 for f in files},
                    "missing": len(missing),
                },
            )
        committed = True
    finally:
        for name in unused if committed else written:
            vault.storage.delete(name)
    log.info(
        "event=vault.preserved decision=%d preservation=%d files=%d missing=%d",
        decision_id,
        preservation_id,
        len(files),
        len(missing),
    )
    return preservation_id


# -- opening evidence -----------------------------------------------------------------------------------


def _preservation_ids_of(session: Session, blob_id: int) -> list[int]:
    return list(
        session.scalars(
            select(PreservedFile.preservation_id).where(PreservedFile.blob_id == blob_id).distinct()
        )
    )


def open_blob(
    session: Session, vault: EvidenceVault, *, sha256: str, actor: EvidenceActor, reason: str
) -> bytes:
    """The plaintext of one preserved file. Only the legal role (``evidence:open``), with a reason;
    every opening is a row in the audit log (``evidence:access``), committed with the caller's unit
    of work."""
    actor.require(Permission.EVIDENCE_OPEN, f"open evidence blob {sha256[:64]}")
    reason = check_reason(reason)
    blob = session.scalar(select(EvidenceBlob).where(EvidenceBlob.sha256 == sha256.lower().strip()))
    if blob is None:
        raise NotFound(f"the vault holds no blob {sha256[:64]!r} (`suraksha vault show ID` lists files)")
    data = vault.read_blob(blob)
    audit.record(
        session,
        actor.name,
        VaultAudit.ACCESS,
        f"vault_blob:{blob.sha256}",
        {"reason": reason, "size": blob.size, "preservations": _preservation_ids_of(session, blob.id)},
    )
    log.info("event=vault.opened actor=%s blob=%s", actor.name, blob.sha256)
    return data


@dataclass(frozen=True)
class PreservationContents:
    preservation: dict[str, Any]
    snapshot: dict[str, Any] | None
    enrichment: dict[str, Any] | None


def read_preservation(
    session: Session, vault: EvidenceVault, preservation_id: int, *, actor: EvidenceActor, reason: str
) -> PreservationContents:
    """A preservation's metadata with its decrypted snapshot (and enrichment, when there is one):
    legal role only, with a reason, audited (``evidence:access``). Media bytes: ``open_blob``."""
    actor.require(Permission.EVIDENCE_OPEN, f"read preservation {preservation_id}")
    reason = check_reason(reason)
    preservation = session.get(Preservation, preservation_id)
    if preservation is None:
        raise NotFound(f"preservation {preservation_id} does not exist (`suraksha vault list`)")
    documents: dict[str, dict[str, Any] | None] = {FileRole.SNAPSHOT: None, FileRole.ENRICHMENT: None}
    for f in preservation.files:
        if f.role in documents and f.blob.purged_at is None:
            documents[f.role] = json.loads(vault.read_blob(f.blob))
    audit.record(
        session,
        actor.name,
        VaultAudit.ACCESS,
        f"preservation:{preservation_id}",
        {"reason": reason, "read": sorted(str(k) for k, v in documents.items() if v is not None)},
    )
    return PreservationContents(
        preservation_dict(preservation), documents[FileRole.SNAPSHOT], documents[FileRole.ENRICHMENT]
    )


def preservation_dict(p: Preservation) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": p.id,
        "decision_id": p.decision_id,
        "item_id": p.item_id,
        "account_id": p.account_id,
        "state": p.state,
        "missing": [line for line in p.missing.splitlines() if line],
        "requested_at": p.requested_at.isoformat(),
        "preserved_at": p.preserved_at.isoformat() if p.preserved_at else None,
        "files": [
            {
                "name": f.name,
                "role": f.role,
                "sha256": f.blob.sha256,
                "size": f.blob.size,
                "purged_at": f.blob.purged_at.isoformat() if f.blob.purged_at else None,
            }
            for f in p.files
        ],
        "holds": [hold_dict(h, now) for h in p.holds],
    }


def list_preservations(
    session: Session, *, item_id: int | None = None, after: int = 0, limit: int = 100
) -> list[Preservation]:
    query = select(Preservation).where(Preservation.id > after).order_by(Preservation.id)
    if item_id is not None:
        query = query.where(Preservation.item_id == item_id)
    return list(session.scalars(query.limit(max(1, min(limit, 1000)))))
