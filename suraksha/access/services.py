"""API keys: create (the plaintext is returned once and never stored), verify, list, revoke.

A key reads ``sk_<prefix>_<secret>``: the prefix finds the row and names the key in logs; the secret is
256 bits from ``secrets``. Only the SHA-256 of the whole key is stored: the key is random, so a slow
password hash would add nothing (there is no dictionary to guess from). Every function takes a session
and leaves committing to the caller's unit of work.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.access.models import ApiKey, ApiScope
from suraksha.audit import AuditAction, record
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, InvalidInput, NotFound, Unauthenticated

log = logging.getLogger(__name__)

KEY_MARKER = "sk"
PREFIX_BYTES = 4
SECRET_BYTES = 32
MAX_KEY_CHARS = 200
TOUCH_INTERVAL = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per key: a busy key does not make every request a
database write."""

NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-.")

# Compared against when no key has the presented prefix, so an unknown prefix costs the same work as
# a wrong secret.
_NO_KEY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class ApiCaller:
    """Who a verified key belongs to, detached from the session: what the web layer keeps per request."""

    name: str
    prefix: str
    scopes: frozenset[ApiScope]

    def allows(self, scope: ApiScope) -> bool:
        """Admin implies every scope."""
        return ApiScope.ADMIN in self.scopes or scope in self.scopes

    @classmethod
    def of(cls, key: ApiKey) -> ApiCaller:
        return cls(key.name, key.prefix, key_scopes(key))


def key_scopes(key: ApiKey) -> frozenset[ApiScope]:
    """The key's scopes; a stored value this version does not know grants nothing."""
    known = {s.value for s in ApiScope}
    return frozenset(ApiScope(s) for s in key.scopes.split() if s in known)


def digest_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def parse_scopes(values: Iterable[str]) -> frozenset[ApiScope]:
    scopes = set()
    for value in values:
        try:
            scopes.add(ApiScope(value.strip().lower()))
        except ValueError:
            raise InvalidInput(
                f"unknown role {value!r}: expected one of {', '.join(s.value for s in ApiScope)}"
            ) from None
    if not scopes:
        raise InvalidInput(f"an API key needs at least one role: {', '.join(s.value for s in ApiScope)}")
    return frozenset(scopes)


def _check_name(name: str) -> str:
    normalised = name.strip()
    if not normalised or len(normalised) > 100 or not set(normalised.lower()) <= NAME_CHARS:
        raise InvalidInput(
            f"API key name {name!r} must be 1-100 characters of letters, digits, '_', '-' or '.'"
        )
    return normalised


def create_api_key(
    session: Session, name: str, scopes: Iterable[str | ApiScope], note: str = "", *, by: str = "system"
) -> tuple[ApiKey, str]:
    """Create a key; returns (row, plaintext). The plaintext is shown to the caller once and is not
    recoverable afterwards: a lost key is revoked and replaced. Audited (``config:change``, actor
    ``by``) in the same transaction; the audit row names the key and its prefix, never the secret."""
    name = _check_name(name)
    chosen = parse_scopes(str(s) for s in scopes)
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(
            f"an API key named {name!r} already exists (revoked keys keep their name); choose another"
        )
    while True:
        prefix = secrets.token_hex(PREFIX_BYTES)
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    plaintext = f"{KEY_MARKER}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=digest_key(plaintext),
        scopes=" ".join(sorted(s.value for s in chosen)),
        note=note,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    log.info("event=apikey.create name=%s prefix=%s scopes=%s", name, prefix, key.scopes)
    details = {"change": "apikey.create", "prefix": prefix, "scopes": key.scopes}
    record(session, by, AuditAction.CONFIG_CHANGE, f"apikey:{name}", details)
    return key, plaintext


def verify_api_key(
    session: Session, presented: str, *, now: datetime | None = None, touch: bool = True
) -> ApiKey:
    """The key a caller presented, or ``Unauthenticated``. The comparison is constant-time; revoked
    keys are refused; ``last_used_at`` moves at most once per ``TOUCH_INTERVAL`` (with ``touch``;
    without it, in a read-only unit of work, the caller uses ``needs_touch`` and ``touch_api_key``)."""
    parts = presented.split("_", 2)
    if len(presented) > MAX_KEY_CHARS or len(parts) != 3 or parts[0] != KEY_MARKER or not parts[1]:
        raise Unauthenticated(
            "malformed API key: expected sk_<prefix>_<secret>, as `suraksha apikey create` prints it"
        )
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    expected = key.secret_hash if key is not None else _NO_KEY_HASH
    if not hmac.compare_digest(digest_key(presented), expected) or key is None:
        raise Unauthenticated("invalid API key")
    if key.revoked_at is not None:
        raise Unauthenticated(f"API key {key.name!r} was revoked; ask an administrator for a new one")
    if touch and needs_touch(key, now):
        key.last_used_at = now or utcnow()
    return key


def needs_touch(key: ApiKey, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return key.last_used_at is None or now - key.last_used_at >= TOUCH_INTERVAL


def touch_api_key(session: Session, key_id: int, *, now: datetime | None = None) -> None:
    """Record a use (at most once per ``TOUCH_INTERVAL``, checked again under the write lock)."""
    key = session.get(ApiKey, key_id)
    if key is not None and needs_touch(key, now):
        key.last_used_at = now or utcnow()


def list_api_keys(session: Session, *, include_revoked: bool = True) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.name)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def has_active_api_key(session: Session) -> bool:
    return session.scalar(select(ApiKey.id).where(ApiKey.revoked_at.is_(None)).limit(1)) is not None


def revoke_api_key(session: Session, name: str, *, by: str = "system") -> ApiKey:
    """Revoke a key by name; revoking a revoked key changes nothing (and is not audited). A revocation
    is audited (``config:change``, actor ``by``) in the same transaction."""
    key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise NotFound(f"no API key named {name!r}; `suraksha apikey list` shows the keys")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        log.info("event=apikey.revoke name=%s prefix=%s", key.name, key.prefix)
        details = {"change": "apikey.revoke", "prefix": key.prefix}
        record(session, by, AuditAction.CONFIG_CHANGE, f"apikey:{key.name}", details)
    return key
