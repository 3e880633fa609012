"""Building the account graph from what the pipeline recorded: each item's keys (its files, their
near-duplicate group, the identifiers found in it, its upload address and device within a time window)
linked to its account (``models``). ``record_items`` is the incremental step a worker runs for each
batch of newly decided items; ``rebuild`` runs it over every item.

Writes are a handful of statements per batch whatever its size (keys inserted on conflict do nothing,
links inserted on conflict do nothing with RETURNING to learn which are new, the rest updated), so a
batch run twice, or two workers on PostgreSQL, count every link once.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from suraksha.content.entities import Entity, ItemEntity
from suraksha.content.models import Item, ItemMedia, ItemState
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.db.inserts import upsert_insert
from suraksha.network.models import KeyKind, NetworkAlert, NetworkKey, NetworkLink
from suraksha.signals.index import PdqIndex

log = logging.getLogger(__name__)

_KEYS = cast(Table, NetworkKey.__table__)
_LINKS = cast(Table, NetworkLink.__table__)


@dataclass(frozen=True)
class KeyOptions:
    """What makes a key (settings ``network_window_s``, ``network_pdq_threshold``, ``pdq_quality_floor``)."""

    window_s: int = 86_400
    """Upload addresses and device ids are keys within windows this long: two accounts on one address
    a year apart are not linked by it."""
    pdq_threshold: int = 31
    """PDQ distance within which two files are near-duplicates (0 turns near-duplicates off)."""
    pdq_quality_floor: int = 50
    """PDQ hashes of lower quality (flat or tiny images) are not used: they collide."""


@dataclass(frozen=True)
class ItemKey:
    item_id: int
    account_id: int
    kind: str
    value: str
    at: datetime


@dataclass(frozen=True)
class NewLink:
    """An account newly carries a key (what a ban-evasion check looks at)."""

    account_id: int
    key_id: int
    kind: str
    item_id: int


class NearDuplicates:
    """The near-duplicate groups in memory: a PDQ index of each group's first hash, keyed by the
    group's key id, loaded from the stored keys on first use and grown as groups are made. A process
    (worker) holds one; a group made by another process is found after ``reset`` (a full rebuild)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._index: PdqIndex | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._index = None

    def _loaded(self, session: Session) -> PdqIndex:
        if self._index is None:
            rows = session.execute(
                select(NetworkKey.id, NetworkKey.value).where(NetworkKey.kind == KeyKind.NEAR_MEDIA)
            ).all()
            self._index = PdqIndex.build([r.id for r in rows], [r.value for r in rows])
        return self._index

    def group_of(self, session: Session, pdq: str) -> int | None:
        """The key id of the group within the threshold of ``pdq`` (the closest), or None."""
        with self._lock:
            matches = self._loaded(session).query_one(pdq, threshold=self.threshold)
        return matches[0].entry_id if matches else None

    def add(self, session: Session, key_id: int, pdq: str) -> None:
        with self._lock:
            self._loaded(session).add([key_id], [pdq])


_ITEMS = Item.__table__
_MEDIA = ItemMedia.__table__
_ITEM_ENTITIES = ItemEntity.__table__
_ENTITIES = Entity.__table__
# Core statements built once (the per-item update runs in a few milliseconds: building statements
# through the ORM each time took half of it).
_ITEM_ROWS = select(
    _ITEMS.c.id,
    _ITEMS.c.account_id,
    _ITEMS.c.upload_ip,
    _ITEMS.c.device_id,
    _ITEMS.c.posted_at,
    _ITEMS.c.received_at,
).where(_ITEMS.c.id.in_(bindparam("ids", expanding=True)))
_MEDIA_ROWS = (
    select(_MEDIA.c.item_id, _MEDIA.c.sha256, _MEDIA.c.md5, _MEDIA.c.pdq, _MEDIA.c.pdq_quality)
    .where(_MEDIA.c.item_id.in_(bindparam("ids", expanding=True)))
    .order_by(_MEDIA.c.item_id, _MEDIA.c.position)
)
_ENTITY_ROWS = (
    select(_ITEM_ENTITIES.c.item_id, _ENTITIES.c.kind, _ENTITIES.c.value)
    .join(_ENTITIES, _ENTITIES.c.id == _ITEM_ENTITIES.c.entity_id)
    .where(_ITEM_ENTITIES.c.item_id.in_(bindparam("ids", expanding=True)))
)
_LINK_UPDATE = (
    update(_LINKS)
    .where(_LINKS.c.key_id == bindparam("k"), _LINKS.c.account_id == bindparam("a"))
    .values(
        items=_LINKS.c["items"] + bindparam("n"),
        last_item_id=bindparam("last"),
        last_seen_at=func.coalesce(bindparam("at"), _LINKS.c.last_seen_at),
    )
)
_KEY_GROW = (
    update(_KEYS).where(_KEYS.c.id == bindparam("k")).values(accounts=_KEYS.c.accounts + bindparam("n"))
)


@functools.cache
def _upserts(dialect: str) -> tuple[Any, Any]:
    """The key upsert (answering every key's id) and the link insert (answering the new links), in the
    dialect's ``INSERT ... ON CONFLICT`` (``suraksha.db.inserts``), built once per dialect."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    keys = module.insert(_KEYS)
    key_upsert = keys.on_conflict_do_update(
        index_elements=[_KEYS.c.kind, _KEYS.c.value], set_={"last_seen_at": keys.excluded.last_seen_at}
    ).returning(_KEYS.c.id, _KEYS.c.kind, _KEYS.c.value)
    link_insert = (
        module.insert(_LINKS)
        .on_conflict_do_nothing(index_elements=[_LINKS.c.key_id, _LINKS.c.account_id])
        .returning(_LINKS.c.key_id, _LINKS.c.account_id)
    )
    return key_upsert, link_insert


def window(at: datetime, window_s: int) -> int:
    return int(at.timestamp() // window_s)


def item_keys(
    session: Session, item_ids: Sequence[int], options: KeyOptions, near: NearDuplicates | None
) -> list[ItemKey]:
    """The keys of each item (module docstring): three reads for the batch. Near-duplicate groups are
    looked up (and made) here, so this writes new ``near_media`` keys."""
    if not item_ids:
        return []
    connection = session.connection()
    ids = {"ids": list(item_ids)}
    items = {row.id: row for row in connection.execute(_ITEM_ROWS, ids)}
    keys: list[ItemKey] = []

    def when(item_id: int) -> datetime:
        row = items[item_id]
        return row.posted_at or row.received_at or utcnow()

    for row in items.values():
        at = when(row.id)
        if row.upload_ip:
            keys.append(
                ItemKey(
                    row.id, row.account_id, KeyKind.IP, f"{row.upload_ip}@{window(at, options.window_s)}", at
                )
            )
        if row.device_id:
            device = f"{row.device_id[:400]}@{window(at, options.window_s)}"
            keys.append(ItemKey(row.id, row.account_id, KeyKind.DEVICE, device, at))
    for m in connection.execute(_MEDIA_ROWS, ids):
        owner = items[m.item_id]
        digest = m.sha256 or m.md5
        if digest:
            keys.append(ItemKey(m.item_id, owner.account_id, KeyKind.MEDIA, digest, when(m.item_id)))
        if (
            near is not None
            and options.pdq_threshold > 0
            and m.pdq
            and (m.pdq_quality or 0) >= options.pdq_quality_floor
        ):
            value = _near_value(session, near, m.pdq)
            keys.append(ItemKey(m.item_id, owner.account_id, KeyKind.NEAR_MEDIA, value, when(m.item_id)))
    for item_id, kind, value in connection.execute(_ENTITY_ROWS, ids):
        keys.append(ItemKey(item_id, items[item_id].account_id, kind, value, when(item_id)))
    return keys


def _near_value(session: Session, near: NearDuplicates, pdq: str) -> str:
    """The value of the near-duplicate group ``pdq`` belongs to (made when there is none). A group
    this process remembers but the store no longer has (a rebuild elsewhere removed it) sends it back
    to the store for the groups, once."""
    for _attempt in range(2):
        group = near.group_of(session, pdq)
        if group is None:
            group = _near_group(session, pdq)
            near.add(session, group, pdq)
        value = session.scalar(select(NetworkKey.value).where(NetworkKey.id == group))
        if value is not None:
            return value
        near.reset()
    return pdq


def _near_group(session: Session, pdq: str) -> int:
    """A new near-duplicate group whose first hash is ``pdq`` (or the one already stored for it)."""
    session.execute(
        upsert_insert(session, NetworkKey)
        .values(
            kind=KeyKind.NEAR_MEDIA.value,
            value=pdq,
            accounts=0,
            first_seen_at=utcnow(),
            last_seen_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[_KEYS.c.kind, _KEYS.c.value])
    )
    key_id = session.scalar(
        select(NetworkKey.id).where(NetworkKey.kind == KeyKind.NEAR_MEDIA, NetworkKey.value == pdq)
    )
    assert key_id is not None
    return key_id


def record_items(
    session: Session, item_ids: Sequence[int], options: KeyOptions, near: NearDuplicates | None
) -> list[NewLink]:
    """Link each item's keys to its account, in the caller's transaction; answers the links that are
    new (an account that did not carry the key before). Idempotent per (key, account) for the count of
    accounts; a batch recorded twice counts its items twice in ``NetworkLink.items`` only."""
    return record_keys(session, item_keys(session, item_ids, options, near))


def record_keys(session: Session, found: Iterable[ItemKey]) -> list[NewLink]:
    """``record_items`` from keys already computed (``rebuild`` and tests)."""
    per_link: dict[tuple[str, str, int], list[ItemKey]] = {}
    for key in found:
        value = key.value[:500]
        per_link.setdefault((key.kind, value, key.account_id), []).append(key)
    if not per_link:
        return []
    now = utcnow()
    pairs = sorted({(kind, value) for kind, value, _ in per_link})
    connection = session.connection()
    # one statement gives every key's id, new or not (DO UPDATE returns the rows it conflicted on)
    upsert_insert(session, NetworkKey)  # refuses a store other than SQLite and PostgreSQL
    key_upsert, link_insert = _upserts(session.get_bind().dialect.name)
    returned = connection.execute(
        key_upsert,
        [{"kind": k, "value": v, "accounts": 0, "first_seen_at": now, "last_seen_at": now} for k, v in pairs],
    ).all()
    key_ids: dict[tuple[str, str], int] = {(row.kind, row.value): row.id for row in returned}
    rows: list[dict[str, Any]] = []
    for (kind, value, account_id), keys in per_link.items():
        first = min(keys, key=lambda k: (k.at, k.item_id))
        last = max(keys, key=lambda k: (k.at, k.item_id))
        rows.append(
            {
                "key_id": key_ids[(kind, value)],
                "account_id": account_id,
                "first_item_id": first.item_id,
                "last_item_id": last.item_id,
                "items": len({k.item_id for k in keys}),
                "first_seen_at": first.at,
                "last_seen_at": last.at,
                "_kind": kind,
            }
        )
    # rows in one order (key, account) in every writer, so two workers on PostgreSQL lock them alike
    rows.sort(key=lambda row: (row["key_id"], row["account_id"]))
    inserted = connection.execute(
        link_insert, [{k: v for k, v in row.items() if k != "_kind"} for row in rows]
    ).all()
    new = {(r.key_id, r.account_id) for r in inserted}
    old = [row for row in rows if (row["key_id"], row["account_id"]) not in new]
    if old:
        connection.execute(
            _LINK_UPDATE,
            [
                {
                    "k": r["key_id"],
                    "a": r["account_id"],
                    "n": r["items"],
                    "last": r["last_item_id"],
                    "at": r["last_seen_at"],
                }
                for r in old
            ],
        )
    grown: dict[int, int] = {}
    for key_id, _account in new:
        grown[key_id] = grown.get(key_id, 0) + 1
    if grown:
        connection.execute(_KEY_GROW, [{"k": key_id, "n": n} for key_id, n in sorted(grown.items())])
    return [
        NewLink(row["account_id"], row["key_id"], str(row["_kind"]), int(row["last_item_id"]))
        for row in rows
        if (row["key_id"], row["account_id"]) in new
    ]


def clear(session: Session) -> None:
    """Delete every link and key (the start of a rebuild)."""
    session.execute(delete(NetworkLink))
    # keys an alert names stay (the alert's evidence), counted again from zero
    session.execute(delete(NetworkKey).where(NetworkKey.id.not_in(select(NetworkAlert.key_id))))
    session.execute(update(NetworkKey).values(accounts=0))


def rebuild(
    db: Database,
    options: KeyOptions,
    *,
    batch: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Every link again from every item the pipeline has recorded (queued ones join when they are),
    in batches of ``batch`` items each in its own transaction (the store stays usable meanwhile);
    answers the number of items read. The near-duplicate
    groups are made again from scratch, in item order."""
    with db.session() as session:
        clear(session)
        total = session.scalar(select(func.count()).select_from(Item)) or 0
    near = NearDuplicates(options.pdq_threshold)
    done, last_id = 0, 0
    while True:
        with db.session() as session:
            ids = list(
                session.scalars(
                    select(Item.id)
                    .where(Item.id > last_id, Item.state != ItemState.QUEUED)
                    .order_by(Item.id)
                    .limit(batch)
                )
            )
            if not ids:
                break
            record_items(session, ids, options, near)
        last_id = ids[-1]
        done += len(ids)
        if progress is not None:
            progress(done, total)
    log.info("event=network.rebuild items=%d", done)
    return done
