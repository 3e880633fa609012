"""The audit log: append-only and hash-chained. Every sign-in, reveal, decision, configuration change and
export is one row, written by ``record`` in the caller's transaction, so the audited change and its
audit row commit (or roll back) together.

Chain format (version 1), which ``verify`` recomputes and which anyone can check without this code:

- Rows are numbered 1, 2, 3, ... with no gaps: ``record`` assigns ``id = previous id + 1`` under a lock
  (a PostgreSQL transaction-level advisory lock; on SQLite the ``BEGIN IMMEDIATE`` write transaction
  already admits one writer), so a rolled-back transaction leaves no hole and two writers never fork.
- ``prev_hash`` is the ``hash`` of row ``id - 1``; for row 1 it is ``GENESIS`` (64 zeros).
- ``hash`` is the lowercase hex SHA-256 of the UTF-8 bytes of ``json.dumps(document, sort_keys=True,
  separators=(",", ":"), ensure_ascii=True)``, where ``document`` is the object
  ``{"id": int, "at": str, "actor": str, "action": str, "subject": str, "details": str,
  "prev_hash": str}``: ``at`` is the UTC time as ``datetime.isoformat(timespec="microseconds")``
  (``2026-11-24T15:04:34.123456+00:00``) and ``details`` is the stored JSON text itself, byte for byte.

What it proves, and what it does not: editing a row breaks its ``hash``; deleting or inserting a row
breaks the numbering or the next row's ``prev_hash``. Rewriting the whole chain from some row onwards
(or deleting its newest rows) is only caught against a head hash kept elsewhere: export it regularly
(``suraksha audit head``) and check it with ``suraksha audit verify --expect HASH``. The migration also
installs triggers that refuse UPDATE and DELETE on the table, but anyone with DDL rights (or TRUNCATE,
on PostgreSQL) can get past them; the chain plus an exported head hash is what proves tampering. Grant
the application's database role only SELECT and INSERT on ``audit_events`` where you can.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from suraksha.db.base import Base, UTCDateTime, utcnow
from suraksha.errors import InvalidInput

log = logging.getLogger(__name__)

GENESIS = "0" * 64
"""``prev_hash`` of the first row."""

MAX_DETAILS_CHARS = 4000
"""Details say what changed (ids, old and new values), never content: they stay small."""

ADVISORY_LOCK_KEY = 0x5355524B_41554454  # "SURKAUDT": one chain, one lock, on PostgreSQL
VERIFY_BATCH = 1000


class AuditAction(StrEnum):
    """What happened, as ``area:action``. Stored as a string: add values freely, never rename one."""

    AUTH_SIGN_IN = "auth:sign_in"
    AUTH_SIGN_IN_FAILED = "auth:sign_in_failed"
    AUTH_SIGN_OUT = "auth:sign_out"
    MEDIA_REVEAL = "media:reveal"
    DECISION_RECORD = "decision:record"
    CONFIG_CHANGE = "config:change"
    SWITCH_SET = "switch:set"
    BANK_CHANGE = "bank:change"
    EVIDENCE_ACCESS = "evidence:access"
    EXPORT_CREATE = "export:create"


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    """The row's place in the chain: 1, 2, 3, ... assigned by ``record``, never by a sequence."""
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    """Who: ``user:<pseudonym>``, ``cli:<os user>``, ``api:<key name>`` or ``system``."""
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    """What it was done to, e.g. ``item:42``, ``switch:read_only``, ``apikey:ops``; may be empty."""
    details: Mapped[str] = mapped_column(Text)
    """Small JSON object (canonical: sorted keys, no spaces)."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


def canonical_details(details: Mapping[str, Any] | None) -> str:
    return json.dumps(
        dict(details or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str
    )


def event_hash(
    *, id: int, at: datetime, actor: str, action: str, subject: str, details: str, prev_hash: str
) -> str:
    """The row's hash (format in the module docstring)."""
    document = {
        "id": id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _hash_of(row: Any) -> str:
    return event_hash(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=row.details,
        prev_hash=row.prev_hash,
    )


def record(
    session: Session,
    actor: str,
    action: AuditAction | str,
    subject: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits with the change it audits).

    Holds the chain's lock until that transaction ends, so call it at the end of the unit of work's
    writes: later writes in the same transaction would wait while other audited writers queue."""
    action = str(action)
    body = canonical_details(details)
    if not actor or len(actor) > 200 or len(subject) > 200 or len(action) > 60 or ":" not in action:
        raise InvalidInput(
            f"audit event needs an actor and an 'area:action' (actor {actor!r}, action {action!r}, "
            f"subject {subject!r}): actor and subject at most 200 characters"
        )
    if len(body) > MAX_DETAILS_CHARS:
        raise InvalidInput(
            f"audit details for {action} are {len(body)} characters, over {MAX_DETAILS_CHARS}: "
            "record ids and changed values, not content"
        )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    tail = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    previous_id, previous_hash = (tail[0], tail[1]) if tail is not None else (0, GENESIS)
    event = AuditEvent(
        id=previous_id + 1,
        at=utcnow(),
        actor=actor,
        action=action,
        subject=subject,
        details=body,
        prev_hash=previous_hash,
    )
    event.hash = _hash_of(event)
    session.add(event)
    session.flush()
    log.info("event=audit.record id=%s actor=%s action=%s subject=%s", event.id, actor, action, subject)
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    """Rows checked (all of them when ``ok``; up to and including the broken one otherwise)."""
    head_id: int | None
    head_hash: str | None
    """Hash of the last good row: keep it elsewhere to catch a later rewrite of the chain."""
    broken_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_CHAIN_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.subject,
    AuditEvent.details,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def _rows(session: Session) -> Iterator[Any]:
    """Every row in id order, a batch at a time (keyset pages of plain rows, not ORM objects kept in
    the session: bounded memory on any store)."""
    after = 0
    while True:
        query = select(*_CHAIN_COLUMNS).where(AuditEvent.id > after).order_by(AuditEvent.id)
        batch = session.execute(query.limit(VERIFY_BATCH)).all()
        yield from batch
        if len(batch) < VERIFY_BATCH:
            return
        after = batch[-1].id


def verify(session: Session, *, expect: str | None = None) -> VerifyResult:
    """Walk the chain in id order and report the first broken link: a gap in the numbering or a
    ``prev_hash`` that is not the previous row's hash (a row deleted or inserted), or a ``hash`` that
    does not match the row (a row edited). With ``expect``, a head hash exported earlier must still be
    in the chain (catches deleted newest rows and a chain rewritten from some row onwards)."""
    count, previous_id, previous_hash = 0, 0, GENESIS
    seen_expected = expect is None

    def broken(row_id: int, reason: str) -> VerifyResult:
        head_id = previous_id or None
        return VerifyResult(False, count, head_id, previous_hash if head_id else None, row_id, reason)

    for row in _rows(session):
        count += 1
        if row.id != previous_id + 1:
            missing = f"{previous_id + 1}" if row.id == previous_id + 2 else f"{previous_id + 1}-{row.id - 1}"
            return broken(row.id, f"gap before row {row.id}: row(s) {missing} missing (deleted)")
        if row.prev_hash != previous_hash:
            return broken(
                row.id,
                f"row {row.id}'s prev_hash does not match the hash of row {previous_id or 'genesis'} "
                "(a row was deleted, inserted or rewritten before it)",
            )
        if _hash_of(row) != row.hash:
            return broken(row.id, f"row {row.id}'s hash does not match its contents (the row was edited)")
        previous_id, previous_hash = row.id, row.hash
        seen_expected = seen_expected or row.hash == expect
    if not seen_expected:
        return VerifyResult(
            False,
            count,
            previous_id or None,
            previous_hash if previous_id else None,
            None,
            f"the expected head hash {expect} is not in the chain "
            "(newest rows were deleted, or the chain was rewritten)",
        )
    return VerifyResult(True, count, previous_id or None, previous_hash if previous_id else None)


def head(session: Session) -> AuditEvent | None:
    """The newest row (its hash is the head hash to keep elsewhere)."""
    return session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))


def tail(session: Session, n: int = 20) -> list[AuditEvent]:
    """The newest ``n`` rows, oldest first."""
    rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(max(n, 0))))
    return rows[::-1]


def event_dict(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "details": json.loads(row.details),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }
