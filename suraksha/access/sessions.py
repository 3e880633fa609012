"""Console sessions: started at sign-in, checked on every request, ended by signing out, by disabling
the user, or by either expiry.

The browser holds a 256-bit random token; the database holds only its SHA-256, so neither a database
copy nor a backup signs anybody in (a slow hash adds nothing to a 256-bit random secret). A session
ends on the server: signing out revokes the row, so a copied cookie stops working at once.

Expiry (OWASP Session Management Cheat Sheet): idle (``SessionPolicy.idle``, counted from the last
request, recorded at most once a minute so requests do not queue on SQLite's one writer) and absolute
(``SessionPolicy.absolute`` from sign-in, however active). A user disabled after signing in is refused
at their next request and their sessions are revoked.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from suraksha.access.models import ConsoleSession, ConsoleUser
from suraksha.audit import AuditAction, record
from suraksha.db.base import utcnow
from suraksha.settings import Settings

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN_CHARS = 100


class RevokedReason:
    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    EXPIRED = "expired"
    USER_DISABLED = "user_disabled"
    SECOND_FACTOR_DONE = "second_factor_done"
    REPLACED = "replaced"
    """The same browser signed in again: its earlier session ends."""
    """A pending session is replaced by a new one (a new token) once the TOTP code is good."""


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(
            idle=timedelta(minutes=float(settings.console_session_idle_minutes)),
            absolute=timedelta(hours=float(settings.console_session_max_hours)),
        )


@dataclass(frozen=True)
class ActiveSession:
    """What a request learns from its session cookie (detached from the database session)."""

    session_id: int
    user_id: int
    email: str
    pseudonym: str
    roles: str
    second_factor_pending: bool
    has_totp: bool
    needs_touch: bool

    @property
    def actor(self) -> str:
        return f"user:{self.pseudonym}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session,
    user: ConsoleUser,
    policy: SessionPolicy,
    *,
    second_factor_pending: bool = False,
    now: datetime | None = None,
) -> tuple[ConsoleSession, str]:
    """A new session for ``user`` (a new token every sign-in: no session fixation). Returns the row and
    the token, which is shown to the browser once and never stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = ConsoleSession(
        token_hash=token_hash(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.absolute,
        second_factor_pending=second_factor_pending,
        revoked_reason="",
    )
    session.add(row)
    session.flush()
    log.info(
        "event=console.session_start session=%d pseudonym=%s pending=%s",
        row.id,
        user.pseudonym,
        second_factor_pending,
    )
    return row, token


def _ended(row: ConsoleSession, user: ConsoleUser, policy: SessionPolicy, now: datetime) -> str | None:
    if user.disabled_at is not None:
        return RevokedReason.USER_DISABLED
    if row.expires_at <= now:
        return RevokedReason.EXPIRED
    if row.last_seen_at + policy.idle <= now:
        return RevokedReason.IDLE
    return None


def resolve(
    session: Session, token: str, policy: SessionPolicy, *, now: datetime | None = None
) -> ActiveSession | None:
    """The live session behind ``token``, or None (unknown, revoked, idle, expired, or its user
    disabled). Only reads: the caller ends a dead session with ``end_dead`` and records the request
    with ``touch`` when ``needs_touch``."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    now = now or utcnow()
    found = session.execute(
        select(ConsoleSession, ConsoleUser)
        .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
        .where(ConsoleSession.token_hash == token_hash(token), ConsoleSession.revoked_at.is_(None))
    ).first()
    if found is None:
        return None
    row, user = found
    if _ended(row, user, policy, now) is not None:
        return None
    return ActiveSession(
        session_id=row.id,
        user_id=user.id,
        email=user.email,
        pseudonym=user.pseudonym,
        roles=user.roles,
        second_factor_pending=row.second_factor_pending,
        has_totp=user.totp_secret is not None,
        needs_touch=now - row.last_seen_at >= TOUCH_EVERY,
    )


def end_dead(session: Session, token: str, policy: SessionPolicy, *, now: datetime | None = None) -> None:
    """Revoke the session behind ``token`` if it has ended (idle, expired, user disabled), so the row
    says why it ended. A live or unknown token changes nothing."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return
    now = now or utcnow()
    found = session.execute(
        select(ConsoleSession, ConsoleUser)
        .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
        .where(ConsoleSession.token_hash == token_hash(token), ConsoleSession.revoked_at.is_(None))
    ).first()
    if found is None:
        return
    row, user = found
    reason = _ended(row, user, policy, now)
    if reason is not None:
        row.revoked_at, row.revoked_reason = now, reason
        log.info("event=console.session_end session=%d reason=%s", row.id, reason)


def touch(session: Session, session_id: int, *, now: datetime | None = None) -> None:
    session.execute(
        update(ConsoleSession).where(ConsoleSession.id == session_id).values(last_seen_at=now or utcnow())
    )


def sign_out(session: Session, session_id: int, *, now: datetime | None = None) -> None:
    """Revoke the session and audit the sign-out. Signing out a session already ended changes
    nothing."""
    row = session.get(ConsoleSession, session_id)
    if row is None or row.revoked_at is not None:
        return
    user = session.get(ConsoleUser, row.user_id)
    row.revoked_at, row.revoked_reason = now or utcnow(), RevokedReason.SIGNED_OUT
    actor = f"user:{user.pseudonym}" if user is not None else "anonymous"
    log.info("event=console.sign_out session=%d", row.id)
    record(session, actor, AuditAction.AUTH_SIGN_OUT, actor, {"session": row.id})


def revoke(session: Session, session_id: int, reason: str, *, now: datetime | None = None) -> None:
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow(), revoked_reason=reason)
    )


def revoke_token(session: Session, token: str, reason: str, *, now: datetime | None = None) -> None:
    """End the live session behind ``token``, if any (a browser signing in again)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.token_hash == token_hash(token), ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow(), revoked_reason=reason)
    )


def revoke_user_sessions(
    session: Session, user_id: int, reason: str = RevokedReason.USER_DISABLED, *, now: datetime | None = None
) -> int:
    """End every live session of a user (on disabling them, or a role change); returns how many."""
    result = session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow(), revoked_reason=reason)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    log.info("event=console.sessions_revoked user=%d count=%d reason=%s", user_id, count, reason)
    return count
