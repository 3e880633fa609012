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
breaks the numbering or the next row's ``prev_hash``. But the chain is unkeyed: someone with write
access to the database can drop the triggers (below), delete a row and recompute every hash after it,
and the chain alone still holds. So the chain is anchored outside the database:

- **Checkpoints** (``Checkpoint``): the head's id and hash at a moment, appended as one JSON line to a
  file outside the database (``CheckpointFile``, setting ``audit_checkpoint_file``; open it O_APPEND,
  mode 0600; make it append-only with ``chattr +a`` or ship it to another machine where you can) and
  signed with Ed25519 when ``audit_signing_key`` is set (a key kept outside the database and its
  backups). The worker writes one every ``audit_checkpoint_every_s``; ``suraksha audit checkpoint``
  writes one now. A checkpoint is only written over a chain that verifies.
- ``verify`` checks the chain against every checkpoint by default: row ``head_id`` must still be there
  with ``head_hash``. Rewriting or deleting any row at or before a checkpoint changes that hash (each
  row's hash covers the previous one), so the rewrite shows; so does deleting the newest rows. What a
  checkpoint cannot catch is a rewrite of the rows written since the last one: checkpoint often.

A checkpoint line is ``{"head_id", "head_hash", "at", "key_id", "signature"}``: ``signature`` is the
base64 Ed25519 signature over ``CHECKPOINT_CONTEXT`` followed by the canonical JSON (as above) of
``{"v": 1, "head_id", "head_hash", "at", "key_id"}``; ``key_id`` is the first 16 hex digits of the
SHA-256 of the raw public key. Unsigned lines (no key set) have both empty.

The migration also installs triggers that refuse UPDATE and DELETE on the table; anyone with DDL rights
(or TRUNCATE, on PostgreSQL) can get past them. Grant the application's database role only SELECT and
INSERT on ``audit_events`` where you can. A head hash can also be kept by hand (``suraksha audit
head``, then ``suraksha audit verify --expect HASH``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import BigInteger, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from suraksha.db.base import Base, UTCDateTime, utcnow
from suraksha.errors import ConfigError, InvalidInput
from suraksha.settings import Secret

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
    EXCHANGE_CHANGE = "exchange:change"
    EXCHANGE_FEEDBACK = "exchange:feedback"
    EVIDENCE_ACCESS = "evidence:access"
    EXPORT_CREATE = "export:create"
    STATS_REPAIR = "stats:repair"


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
    checkpoint_id: int | None = None
    """The newest checkpoint the chain was checked against (None: none was given)."""

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


def verify(
    session: Session, *, expect: str | None = None, checkpoints: Sequence[Checkpoint] = ()
) -> VerifyResult:
    """Walk the chain in id order and report the first broken link: a gap in the numbering or a
    ``prev_hash`` that is not the previous row's hash (a row deleted or inserted), or a ``hash`` that
    does not match the row (a row edited). With ``expect``, a head hash exported earlier must still be
    in the chain (catches deleted newest rows and a chain rewritten from some row onwards). Each of
    ``checkpoints`` must still hold: its row there, with its hash (catches a chain rewritten in the
    database, hashes recomputed and all)."""
    count, previous_id, previous_hash = 0, 0, GENESIS
    seen_expected = expect is None
    anchors = {c.head_id: c.head_hash for c in checkpoints}
    newest = max(anchors, default=None)

    def result(ok: bool, broken_id: int | None = None, reason: str = "") -> VerifyResult:
        head_id = previous_id or None
        return VerifyResult(
            ok, count, head_id, previous_hash if head_id else None, broken_id, reason, checkpoint_id=newest
        )

    for row in _rows(session):
        count += 1
        if row.id != previous_id + 1:
            missing = f"{previous_id + 1}" if row.id == previous_id + 2 else f"{previous_id + 1}-{row.id - 1}"
            return result(False, row.id, f"gap before row {row.id}: row(s) {missing} missing (deleted)")
        if row.prev_hash != previous_hash:
            return result(
                False,
                row.id,
                f"row {row.id}'s prev_hash does not match the hash of row {previous_id or 'genesis'} "
                "(a row was deleted, inserted or rewritten before it)",
            )
        if _hash_of(row) != row.hash:
            return result(
                False, row.id, f"row {row.id}'s hash does not match its contents (the row was edited)"
            )
        anchored = anchors.get(row.id)
        if anchored is not None and anchored != row.hash:
            return result(
                False,
                row.id,
                f"row {row.id}'s hash is not the one checkpointed for it ({anchored[:16]}...): the chain "
                f"was rewritten at or before row {row.id} (rows deleted or changed, hashes recomputed)",
            )
        previous_id, previous_hash = row.id, row.hash
        seen_expected = seen_expected or row.hash == expect
    if newest is not None and newest > previous_id:
        return result(
            False,
            None,
            f"the chain ends at row {previous_id or 'genesis'} but a checkpoint holds row {newest}: "
            "newest rows were deleted (or the database was restored from an older copy)",
        )
    if not seen_expected:
        return result(
            False,
            None,
            f"the expected head hash {expect} is not in the chain "
            "(newest rows were deleted, or the chain was rewritten)",
        )
    return result(True)


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


# -- checkpoints: the chain anchored outside the database -----------------------------------------------

CHECKPOINT_CONTEXT = b"suraksha audit checkpoint v1\n"
"""Signed before the checkpoint's JSON, so that no other signature by the same key reads as one."""


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at a moment (format in the module docstring)."""

    head_id: int
    head_hash: str
    at: str
    key_id: str = ""
    signature: str = ""

    def signed_bytes(self) -> bytes:
        body = {
            "v": 1,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "at": self.at,
            "key_id": self.key_id,
        }
        return CHECKPOINT_CONTEXT + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"not JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        fields = {"head_id": int, "head_hash": str, "at": str, "key_id": str, "signature": str}
        if set(raw) != set(fields) or not all(isinstance(raw[k], t) for k, t in fields.items()):
            raise ValueError(f"expected the fields {', '.join(sorted(fields))} with their types")
        if raw["head_id"] < 1 or len(raw["head_hash"]) != 64:
            raise ValueError("head_id must be a row id and head_hash a SHA-256 in hex")
        return cls(**raw)


def signing_key_from_text(value: str | Secret) -> Ed25519PrivateKey:
    """The key of setting ``audit_signing_key``: base64 of a 32-byte Ed25519 seed."""
    raw = value.reveal() if isinstance(value, Secret) else value
    try:
        seed = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        seed = b""
    if len(seed) != 32:
        raise ConfigError(
            "audit_signing_key must be base64 of a 32-byte Ed25519 seed (make one: `suraksha audit keygen`)"
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def new_signing_key_text() -> str:
    key = Ed25519PrivateKey.generate()
    return base64.b64encode(key.private_bytes_raw()).decode("ascii")


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


class CheckpointFile:
    """Checkpoints appended to a file outside the database, signed when a key is given.

    With a key, lines signed by it must verify (a line that does not was forged or altered: an
    error); lines of another key (one rotated away from) or unsigned are read as they are only when
    no key is set, else skipped: they prove nothing the key vouches for."""

    def __init__(self, path: Path, signing_key: Ed25519PrivateKey | None = None) -> None:
        self.path = path
        self.signing_key = signing_key
        self.key_id = key_id(signing_key.public_key()) if signing_key is not None else ""

    def read(self) -> list[Checkpoint]:
        """The checkpoints that count, in file order; InvalidInput names a line that is bad."""
        try:
            content = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise InvalidInput(f"cannot read the audit checkpoints in {self.path}: {exc.strerror}") from None
        found: list[Checkpoint] = []
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                checkpoint = Checkpoint.from_line(line)
            except ValueError as exc:
                raise InvalidInput(f"{self.path} line {number} is not an audit checkpoint: {exc}") from None
            if self.signing_key is None:
                found.append(checkpoint)
            elif checkpoint.key_id == self.key_id:
                self._check_signature(checkpoint, number)
                found.append(checkpoint)
        return found

    def _check_signature(self, checkpoint: Checkpoint, number: int) -> None:
        assert self.signing_key is not None
        try:
            signature = base64.b64decode(checkpoint.signature, validate=True)
            self.signing_key.public_key().verify(signature, checkpoint.signed_bytes())
        except (binascii.Error, ValueError, InvalidSignature):
            raise InvalidInput(
                f"{self.path} line {number}: the signature does not verify with audit_signing_key "
                "(the line was forged or altered)"
            ) from None

    def append(self, head_id: int, head_hash: str) -> Checkpoint:
        checkpoint = Checkpoint(head_id, head_hash, utcnow().isoformat(timespec="microseconds"), self.key_id)
        if self.signing_key is not None:
            signature = self.signing_key.sign(checkpoint.signed_bytes())
            checkpoint = Checkpoint(
                head_id, head_hash, checkpoint.at, self.key_id, base64.b64encode(signature).decode("ascii")
            )
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # One write of one line with O_APPEND: writers in several processes never interleave a line.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (checkpoint.line() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return checkpoint


def write_checkpoint(session: Session, checkpoints: CheckpointFile) -> Checkpoint | None:
    """Checkpoint the chain's head, after verifying the chain against the checkpoints so far (a
    broken or rewritten chain is never vouched for: InvalidInput says where it broke). None when the
    log is empty; the newest checkpoint itself when the head has not moved since."""
    earlier = checkpoints.read()
    checked = verify(session, checkpoints=earlier)
    if not checked.ok:
        log.error("event=audit.checkpoint_refused broken_id=%s reason=%s", checked.broken_id, checked.reason)
        raise InvalidInput(f"the audit chain does not verify, so it is not checkpointed: {checked.reason}")
    if checked.head_id is None or checked.head_hash is None:
        return None
    newest = max(earlier, key=lambda c: c.head_id, default=None)
    if newest is not None and newest.head_id == checked.head_id:
        return newest
    checkpoint = checkpoints.append(checked.head_id, checked.head_hash)
    log.info(
        "event=audit.checkpoint head_id=%d signed=%s file=%s",
        checkpoint.head_id,
        bool(checkpoint.signature),
        checkpoints.path,
    )
    return checkpoint
