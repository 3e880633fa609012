"""API keys for the host platform's integration: stored as a SHA-256 of the secret (keys are 256-bit
random, so a slow password hash adds nothing), shown once, scoped, revocable."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, UTCDateTime, utcnow


class ApiScope(StrEnum):
    INGEST = "ingest"
    """Submit items and check media; read their state and the action feed."""
    READ = "read"
    """Read items, matches, banks (HMA lookups)."""
    LEGAL = "legal"
    """Forward requests from authorities to the legal desk (a platform's law-enforcement portal) and
    read their state and clocks."""
    FLAGGER = "flagger"
    """A trusted flagger's own key (``suraksha flaggers add`` makes it): submit notices and read its own
    notices, nothing else. Not implied by ``admin``: a notice speaks for the flagger the key belongs to."""
    ADMIN = "admin"
    """Everything, including bank changes (but not a flagger's notices)."""


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    """The public first characters of the key, to find the row (and to recognise a key in logs)."""
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200))
    """Space-separated ApiScope values."""
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsoleUser(Base):
    """A person who signs in to the review console. Audit rows, exports and reports name them by
    ``pseudonym``, never by email: the audit log is append-only, so it must not hold personal data that
    may later have to be erased."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Lower-case, stripped."""
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    """Generated (``r-7f3a1c``); stable for the life of the account."""
    roles: Mapped[str] = mapped_column(String(200))
    """Space-separated suraksha.permissions.Role values."""
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id, in its self-describing PHC string (parameters and salt included)."""
    totp_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The TOTP secret, encrypted under ``console_totp_key`` (``TS1:...``, ``suraksha.access.totp``). A
    value without that prefix is a plain secret from before encryption: sealed at its next use."""
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The TOTP time step of the last code accepted: a code is good once (RFC 6238 section 5.2)."""
    totp_pending_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """A set-up in progress: the secret the server made (encrypted), until a code from the app proves it."""
    totp_pending_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    """Consecutive failed sign-ins since the last success (kept for the record: it locks nothing)."""
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Honoured when set, but no failed sign-in sets it (a stranger must not lock a reviewer out):
    guessing is throttled per address, per (address, account) and, for a distributed run, by asking
    new addresses for the second factor (``suraksha.access.throttle``)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsoleSession(Base):
    """A signed-in browser. The cookie holds a 256-bit random token; this row holds only its SHA-256
    (``token_hash``), so a copy of the database signs nobody in. Signing out, disabling the user or
    passing either expiry ends it on the server, whatever the browser keeps."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    """Written at most once a minute (the idle expiry is counted from here)."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The absolute expiry, fixed at sign-in."""
    second_factor_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    """Password checked, TOTP code not yet: such a session may only send the code."""
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str] = mapped_column(String(40), default="")


class KnownAddress(Base):
    """A client address that completed a sign-in to an account (password and, when set up, the second
    factor) in the last ``console_sign_in_known_address_days``. While the account is under a distributed
    guessing run, such an address signs in as usual; others need the password and a code together.
    ``key`` is a SHA-256 of (address, account): no address stored."""

    __tablename__ = "console_known_addresses"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    last_sign_in_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SignInThrottle(Base):
    """Failed console sign-ins counted per client address, per (address, account) pair and per account
    (from unknown addresses), and wrong TOTP codes per account, each in a fixed window. ``key`` is a
    SHA-256 of what is counted, so the table holds no email and no address."""

    __tablename__ = "console_sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
