"""Optional second factor for console users: time-based one-time passwords (RFC 6238, via pyotp).

Set-up: the user gives their password again (``users.confirm_password``), the server makes a fresh
secret (``begin_enrolment``: never one chosen by the client) and keeps it, encrypted, as pending; the user
scans it into an authenticator app and sends one code from it (``enable``), which proves the app has the
secret before it is required. Sign-in then asks for a code after the password. A code is accepted within
one 30-second step either side of the server's clock (drift), and only once: the step of the last
accepted code is stored and a code from that step or before is refused (RFC 6238 section 5.2), so a code
seen over a shoulder cannot be replayed. Wrong codes are limited per account, whatever the address
(``check_code``, ``throttle.record_totp_failure``). Turning the factor off needs the password and a code.

Secrets are stored encrypted (AES-256-GCM) under ``console_totp_key``, a key from the environment, never
in the database: ``TS1:<key id>:<base64 of nonce + ciphertext>``, with the user's id as associated data
(a sealed secret copied onto another user's row does not open). Without a key nobody can set a factor
up (``TotpKeyMissing``); a plain secret stored before encryption is still accepted and is sealed at its
next use once a key is set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from suraksha.access import throttle
from suraksha.access.models import ConsoleUser
from suraksha.access.throttle import ThrottlePolicy
from suraksha.audit import AuditAction, record
from suraksha.db.base import utcnow
from suraksha.errors import ConfigError, Conflict, InvalidInput, NotFound, NotReady, SurakshaError
from suraksha.settings import Secret, Settings

log = logging.getLogger(__name__)

ISSUER = "Suraksha"
DRIFT_STEPS = 1
CODE_DIGITS = 6
PENDING_FOR = timedelta(minutes=10)
"""How long a set-up waits for the first code before it has to be started again."""
SEALED_PREFIX = "TS1:"
KEY_BYTES = 32
NONCE_BYTES = 12


class TotpKeyMissing(NotReady):
    """No ``console_totp_key``: a second factor cannot be set up (its secret would be stored in plain)."""


class CodesThrottled(SurakshaError):
    """Too many wrong codes for this account in the window: codes are refused until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"too many wrong codes for this account: try again after {until:%H:%M} UTC")
        self.until = until


@dataclass(frozen=True)
class TotpKey:
    """The key that seals TOTP secrets at rest. ``repr`` never shows it."""

    key_id: str
    key: bytes

    def __repr__(self) -> str:
        return f"TotpKey(key_id={self.key_id!r})"

    @classmethod
    def from_text(cls, value: str | Secret) -> TotpKey:
        """Base64 of 32 bytes; anything else is a ConfigError naming the setting (never the value)."""
        raw = value.reveal() if isinstance(value, Secret) else value
        try:
            key = base64.b64decode(raw.strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise ConfigError(
                f"console_totp_key must be base64 of {KEY_BYTES} random bytes "
                "(make one with `suraksha vault keygen`, and use a value of its own)"
            )
        return cls("tk-" + hashlib.sha256(b"suraksha-totp-key-id:" + key).hexdigest()[:12], key)

    @classmethod
    def from_settings(cls, settings: Settings) -> TotpKey | None:
        value = settings.console_totp_key
        return cls.from_text(value) if value else None

    def seal(self, secret: str, user_id: int) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.key).encrypt(nonce, secret.encode("ascii"), _aad(user_id))
        return f"{SEALED_PREFIX}{self.key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, user_id: int) -> str:
        key_id, _, body = stored.removeprefix(SEALED_PREFIX).partition(":")
        if key_id != self.key_id:
            raise ConfigError(
                f"a TOTP secret is sealed under key {key_id}, not the configured console_totp_key "
                f"({self.key_id}): set the key it was sealed with"
            )
        try:
            raw = base64.b64decode(body, validate=True)
            return AESGCM(self.key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(user_id)).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise ConfigError(
                f"the TOTP secret of console user {user_id} does not open (a changed row)"
            ) from None


def _aad(user_id: int) -> bytes:
    return f"suraksha-totp-secret:{user_id}".encode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def require_key(key: TotpKey | None) -> TotpKey:
    if key is None:
        raise TotpKeyMissing(
            "a second factor cannot be set up on this server yet: it has no console_totp_key to encrypt "
            "the secret with. Ask an operator to set SURAKSHA_CONSOLE_TOTP_KEY (base64 of 32 random bytes)."
        )
    return key


def _plain(stored: str, user_id: int, key: TotpKey | None) -> str:
    if not is_sealed(stored):
        return stored  # from before encryption: ``check_code`` seals it
    return require_key(key).open(stored, user_id)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _clean(code: str) -> str:
    digits = "".join(c for c in code if not c.isspace())
    if len(digits) != CODE_DIGITS or not digits.isdigit():
        raise InvalidInput(f"a code is {CODE_DIGITS} digits from your authenticator app")
    return digits


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(candidate), code):
            return candidate
    return None


def check_code(
    session: Session,
    user: ConsoleUser,
    code: str,
    key: TotpKey | None,
    policy: ThrottlePolicy,
    *,
    now: datetime | None = None,
) -> bool:
    """True (and the code's step recorded as used) when ``code`` is good for ``user`` now and not used
    before. A wrong code counts against the account (``throttle.record_totp_failure``); past the limit
    every code, right or wrong, raises CodesThrottled until the window ends. The caller commits
    ``session`` either way. A plain secret from before encryption is sealed here when a key is set."""
    now = now or utcnow()
    if user.totp_secret is None:
        return False
    blocked = throttle.totp_blocked_until(session, user.id, policy, now=now)
    if blocked is not None:
        raise CodesThrottled(blocked)
    secret = _plain(user.totp_secret, user.id, key)
    try:
        step = _matching_step(secret, _clean(code), now)
    except InvalidInput:
        step = None
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        throttle.record_totp_failure(session, user.id, policy, now=now)
        return False
    user.totp_last_step = step
    throttle.record_totp_success(session, user.id)
    if not is_sealed(user.totp_secret):
        if key is None:
            log.warning("event=user.totp_plaintext pseudonym=%s: set console_totp_key", user.pseudonym)
        else:
            user.totp_secret = key.seal(secret, user.id)
            log.info("event=user.totp_sealed pseudonym=%s", user.pseudonym)
    return True


def _user(session: Session, user_id: int) -> ConsoleUser:
    user = session.get(ConsoleUser, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"no console user with id {user_id}")
    return user


def begin_enrolment(
    session: Session, user_id: int, key: TotpKey | None, *, now: datetime | None = None
) -> str:
    """Make a fresh secret for the user (after they gave their password again: the caller checks it)
    and keep it, encrypted, as pending for ``PENDING_FOR``. Returns it, to show once."""
    key = require_key(key)
    user = _user(session, user_id)
    if user.totp_secret is not None:
        raise Conflict("a second factor is already set up for this account: turn it off first")
    secret = new_secret()
    user.totp_pending_secret, user.totp_pending_at = key.seal(secret, user.id), now or utcnow()
    return secret


def pending_secret(user: ConsoleUser, key: TotpKey | None, *, now: datetime | None = None) -> str | None:
    """The secret of the set-up in progress (to show again), or None when none is, or it expired."""
    if user.totp_pending_secret is None or user.totp_pending_at is None or key is None:
        return None
    if user.totp_pending_at + PENDING_FOR <= (now or utcnow()):
        return None
    return key.open(user.totp_pending_secret, user.id)


def enable(
    session: Session, user_id: int, code: str, key: TotpKey | None, *, by: str, now: datetime | None = None
) -> ConsoleUser:
    """Turn the second factor on with the pending secret (``begin_enrolment``) once ``code`` shows the
    user's app holds it. Audited (``config:change``, ``user.totp_enable``)."""
    now = now or utcnow()
    key = require_key(key)
    user = _user(session, user_id)
    if user.totp_secret is not None:
        raise Conflict("a second factor is already set up for this account: turn it off first")
    secret = pending_secret(user, key, now=now)
    if secret is None:
        raise InvalidInput("no set-up is in progress (or it took over 10 minutes): start the set-up again")
    step = _matching_step(secret, _clean(code), now)
    if step is None:
        raise InvalidInput("that code does not match: check the app's clock and send the newest code")
    user.totp_secret, user.totp_last_step = user.totp_pending_secret, step
    user.totp_pending_secret, user.totp_pending_at = None, None
    log.info("event=user.totp_enable pseudonym=%s", user.pseudonym)
    record(session, by, AuditAction.CONFIG_CHANGE, f"user:{user.pseudonym}", {"change": "user.totp_enable"})
    return user


def disable(session: Session, user_id: int, *, by: str) -> ConsoleUser:
    """Turn the second factor off (audited). The caller checks the password and a current code."""
    user = _user(session, user_id)
    user.totp_pending_secret, user.totp_pending_at = None, None
    if user.totp_secret is not None:
        user.totp_secret, user.totp_last_step = None, None
        log.info("event=user.totp_disable pseudonym=%s", user.pseudonym)
        details = {"change": "user.totp_disable"}
        record(session, by, AuditAction.CONFIG_CHANGE, f"user:{user.pseudonym}", details)
    return user
