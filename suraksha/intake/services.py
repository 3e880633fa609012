"""Intake: an item from the platform becomes rows and a processing job, in one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from suraksha.db.base import utcnow
from suraksha.db.inserts import upsert_insert
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.intake.models import Account, Item, ItemMedia, ItemState, MediaState
from suraksha.intake.schemas import AccountIn, ItemIn
from suraksha.intake.store import MediaStore
from suraksha.worker.queue import enqueue

log = logging.getLogger(__name__)

PROCESS_ITEM = "item.process"


@dataclass(frozen=True)
class Submitted:
    item_id: int
    platform_item_id: str
    state: str
    created: bool
    """False when the same item (same platform id, same payload) had been submitted before."""


def payload_digest(item: ItemIn, uploads: list[bytes | None]) -> str:
    """SHA-256 over the canonical JSON of the item, media bytes replaced by their SHA-256."""
    body = item.model_dump(mode="json", exclude={"media"})
    body["media"] = [
        {"url": str(m.url) if m.url else None, "sha256": hashlib.sha256(data).hexdigest() if data else None}
        for m, data in zip(item.media, uploads, strict=True)
    ]
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def upsert_account(session: Session, account: AccountIn) -> int:
    """The account as last described (profile fields replaced, first_seen kept); its id. One
    statement: INSERT ... ON CONFLICT DO UPDATE, safe against a concurrent first post."""
    now = utcnow()
    profile = {
        "handle": account.handle,
        "display_name": account.display_name,
        "bio": account.bio,
        "last_seen_at": now,
    }
    if account.created_at is not None:
        profile["platform_created_at"] = account.created_at
    statement = upsert_insert(session, Account).values(
        platform_account_id=account.platform_id,
        platform_created_at=account.created_at,
        first_seen_at=now,
        **{k: v for k, v in profile.items() if k != "platform_created_at"},
    )
    statement = statement.on_conflict_do_update(index_elements=[Account.platform_account_id], set_=profile)
    return int(session.execute(statement.returning(Account.id)).scalar_one())


@dataclass(frozen=True)
class Prepared:
    """An item checked, digested and its uploads stored: what ``submit_item`` needs, done before the
    write transaction so that the transaction (the one writer on SQLite) stays short."""

    item: ItemIn
    uploads: list[bytes | None]
    stored: list[str | None]
    digest: str


def prepare_item(store: MediaStore, item: ItemIn, *, max_media_bytes: int) -> Prepared:
    """Check sizes, digest the payload, and store the uploaded bytes (content-addressed: storing
    bytes that end up unused, if the submission then fails, leaves a file that is never named)."""
    uploads = []
    for position, media in enumerate(item.media):
        data = media.decoded()
        if data is not None and len(data) > max_media_bytes:
            raise InvalidInput(
                f"media {position} is {len(data):,} bytes; the limit is {max_media_bytes:,} "
                "(setting media_max_bytes)"
            )
        uploads.append(data)
    digest = payload_digest(item, uploads)
    stored = [store.put(data) if data is not None else None for data in uploads]
    return Prepared(item, uploads, stored, digest)


def submit_item(
    session: Session,
    store: MediaStore,
    item: ItemIn | Prepared,
    *,
    max_media_bytes: int,
) -> Submitted:
    """Record an item and queue its processing (same transaction: nothing is lost if the process dies
    after the commit, nothing is queued if it dies before). Idempotent on the platform item id: the same
    payload again returns the existing item; a different payload under the same id is a Conflict.
    Pass a ``Prepared`` item (``prepare_item``, outside the transaction) to keep the transaction short."""
    prepared = (
        item if isinstance(item, Prepared) else prepare_item(store, item, max_media_bytes=max_media_bytes)
    )
    item, uploads, digest = prepared.item, prepared.uploads, prepared.digest
    # Core statements, not the ORM: this transaction is the service's hottest write (on SQLite, the one
    # writer), so it is four statements with no unit-of-work bookkeeping.
    existing = session.execute(
        select(Item.id, Item.payload_digest, Item.state).where(Item.platform_item_id == item.platform_item_id)
    ).first()
    if existing is not None:
        return _resubmitted(item, digest, existing.id, existing.payload_digest, existing.state)
    account_id = upsert_account(session, item.account)
    now = utcnow()
    inserted = upsert_insert(session, Item).values(
        platform_item_id=item.platform_item_id,
        payload_digest=digest,
        kind=item.kind,
        account_id=account_id,
        text=item.text,
        state=ItemState.QUEUED,
        error="",
        posted_at=item.posted_at,
        received_at=now,
        updated_at=now,
        upload_ip=str(item.upload_ip) if item.upload_ip else None,
        upload_port=item.upload_port,
        device_id=item.device_id,
        reporter_kind=item.reporter.kind if item.reporter else None,
        reporter_id=item.reporter.id if item.reporter else None,
        report_reason=item.reporter.reason if item.reporter else "",
    )
    inserted = inserted.on_conflict_do_nothing(index_elements=[Item.platform_item_id])
    item_id = session.execute(inserted.returning(Item.id)).scalar_one_or_none()
    if item_id is None:  # a concurrent submission of the same id committed first
        raced = session.execute(
            select(Item.id, Item.payload_digest, Item.state).where(
                Item.platform_item_id == item.platform_item_id
            )
        ).one()
        return _resubmitted(item, digest, raced.id, raced.payload_digest, raced.state)
    if item.media:
        session.connection().execute(  # Core, not the ORM's bulk insert: plain rows, less work
            insert(cast(Table, ItemMedia.__table__)),
            [
                {
                    "item_id": item_id,
                    "position": position,
                    "url": str(media.url) if media.url else None,
                    "declared_type": media.content_type,
                    "state": MediaState.PENDING,
                    "error": "",
                    "size": len(data) if data is not None else None,
                    "sha256": sha256,
                }
                for position, (media, data, sha256) in enumerate(
                    zip(item.media, uploads, prepared.stored, strict=True)
                )
            ],
        )
    enqueue(session, PROCESS_ITEM, {"item_id": item_id}, key=f"item:{item_id}")
    log.info(
        "event=item.submitted item=%d platform_item=%s media=%d", item_id, item.platform_item_id, len(uploads)
    )
    return Submitted(item_id, item.platform_item_id, ItemState.QUEUED, created=True)


def _resubmitted(item: ItemIn, digest: str, item_id: int, stored_digest: str, state: str) -> Submitted:
    """The same platform item id again: the existing item when the payload is the same, else Conflict."""
    if stored_digest != digest:
        raise Conflict(
            f"item {item.platform_item_id!r} was already submitted with a different payload; "
            "platform item ids must be unique (send an edit as a new id)"
        )
    return Submitted(item_id, item.platform_item_id, state, created=False)


def get_item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"no item with id {item_id}")
    return item


def get_item_by_platform_id(session: Session, platform_item_id: str) -> Item:
    item = session.scalar(select(Item).where(Item.platform_item_id == platform_item_id))
    if item is None:
        raise NotFound(f"no item with platform id {platform_item_id!r}")
    return item
