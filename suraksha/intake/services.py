"""Intake: an item from the platform becomes rows and a processing job, in one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from suraksha.content.models import Account, Item, ItemMedia, ItemState, MediaState
from suraksha.db.base import utcnow
from suraksha.db.inserts import upsert_insert
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.intake.schemas import AccountIn, ItemIn
from suraksha.intake.store import MediaStore
from suraksha.worker.queue import enqueue_many

log = logging.getLogger(__name__)

PROCESS_ITEM = "item.process"
_ACCOUNTS = cast(Table, Account.__table__)
_ITEMS = cast(Table, Item.__table__)
_MEDIA = cast(Table, ItemMedia.__table__)


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


def upsert_accounts(session: Session, accounts: Sequence[AccountIn]) -> dict[str, int]:
    """Accounts as last described (profile fields replaced, first_seen kept): their ids by platform
    id. One statement, INSERT ... ON CONFLICT DO UPDATE, safe against a concurrent first post; an
    account given twice is written as last described."""
    now = utcnow()
    rows = {
        account.platform_id: {
            "platform_account_id": account.platform_id,
            "platform_created_at": account.created_at,
            "handle": account.handle,
            "display_name": account.display_name,
            "bio": account.bio,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for account in accounts
    }
    upsert = upsert_insert(session, Account)
    statement = upsert.on_conflict_do_update(
        index_elements=[_ACCOUNTS.c.platform_account_id],
        set_={
            "handle": upsert.excluded.handle,
            "display_name": upsert.excluded.display_name,
            "bio": upsert.excluded.bio,
            "last_seen_at": upsert.excluded.last_seen_at,
            # A creation time is kept unless the platform now gives one.
            "platform_created_at": func.coalesce(
                upsert.excluded.platform_created_at, _ACCOUNTS.c.platform_created_at
            ),
        },
    ).returning(_ACCOUNTS.c.platform_account_id, _ACCOUNTS.c.id)
    returned = session.connection().execute(statement, list(rows.values()))
    return {platform_id: int(account_id) for platform_id, account_id in returned}


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
    outcome = submit_items(session, [prepared])[0]
    if isinstance(outcome, Conflict):
        raise outcome
    return outcome


def submit_items(session: Session, batch: Sequence[Prepared]) -> list[Submitted | Conflict]:
    """``submit_item`` for several prepared items in one transaction, with one statement per table
    for all of them (Core statements, not the ORM: this is the service's hottest write and, on SQLite,
    holds the one write lock). Answers per item in order: what was submitted, or the Conflict of a
    platform item id already used for a different payload (which writes nothing for that item). An
    id given twice in ``batch`` is written once; the repeat answers as a resubmission of the first."""
    first: dict[str, int] = {}
    for position, prepared in enumerate(batch):
        first.setdefault(prepared.item.platform_item_id, position)
    known = _items_by_platform_id(session, list(first))
    created: dict[str, int] = {}
    new = [position for platform_id, position in first.items() if platform_id not in known]
    if new:
        accounts = upsert_accounts(session, [batch[position].item.account for position in new])
        now = utcnow()
        rows = [
            _item_row(batch[position], accounts[batch[position].item.account.platform_id], now)
            for position in new
        ]
        statement = (
            upsert_insert(session, Item)
            .on_conflict_do_nothing(index_elements=[_ITEMS.c.platform_item_id])
            .returning(_ITEMS.c.platform_item_id, _ITEMS.c.id)
        )
        connection = session.connection()
        created = {platform_id: int(item_id) for platform_id, item_id in connection.execute(statement, rows)}
        if len(created) < len(new):  # a concurrent submission of the same id committed first
            known |= _items_by_platform_id(
                session,
                [
                    batch[p].item.platform_item_id
                    for p in new
                    if batch[p].item.platform_item_id not in created
                ],
            )
        media = [
            row
            for position in new
            if (item_id := created.get(batch[position].item.platform_item_id)) is not None
            for row in _media_rows(batch[position], item_id)
        ]
        if media:
            connection.execute(insert(_MEDIA), media)
        enqueue_many(session, PROCESS_ITEM, [({"item_id": i}, f"item:{i}") for i in created.values()])
        if created:
            log.info("event=item.submitted items=%s", ",".join(map(str, created.values())))
    outcomes: list[Submitted | Conflict] = []
    for position, prepared in enumerate(batch):
        platform_id = prepared.item.platform_item_id
        if platform_id in created:
            if first[platform_id] == position:
                outcomes.append(Submitted(created[platform_id], platform_id, ItemState.QUEUED, created=True))
                continue
            stored = (created[platform_id], batch[first[platform_id]].digest, str(ItemState.QUEUED))
        else:
            stored = known[platform_id]
        try:
            outcomes.append(_resubmitted(prepared.item, prepared.digest, *stored))
        except Conflict as exc:
            outcomes.append(exc)
    return outcomes


def _items_by_platform_id(session: Session, platform_ids: list[str]) -> dict[str, tuple[int, str, str]]:
    """Items already recorded under these platform ids: (id, payload digest, state) by platform id."""
    if not platform_ids:
        return {}
    rows = session.connection().execute(
        select(_ITEMS.c.platform_item_id, _ITEMS.c.id, _ITEMS.c.payload_digest, _ITEMS.c.state).where(
            _ITEMS.c.platform_item_id.in_(platform_ids)
        )
    )
    return {row.platform_item_id: (row.id, row.payload_digest, row.state) for row in rows}


def _item_row(prepared: Prepared, account_id: int, now: datetime) -> dict[str, object]:
    item = prepared.item
    return {
        "platform_item_id": item.platform_item_id,
        "payload_digest": prepared.digest,
        "kind": item.kind,
        "account_id": account_id,
        "text": item.text,
        "state": ItemState.QUEUED,
        "error": "",
        "posted_at": item.posted_at,
        "received_at": now,
        "updated_at": now,
        "upload_ip": str(item.upload_ip) if item.upload_ip else None,
        "upload_port": item.upload_port,
        "device_id": item.device_id,
        "reporter_kind": item.reporter.kind if item.reporter else None,
        "reporter_id": item.reporter.id if item.reporter else None,
        "report_reason": item.reporter.reason if item.reporter else "",
    }


def _media_rows(prepared: Prepared, item_id: int) -> list[dict[str, object]]:
    return [
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
            zip(prepared.item.media, prepared.uploads, prepared.stored, strict=True)
        )
    ]


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
