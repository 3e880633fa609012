"""Optional second factor for console users: time-based one-time passwords (RFC 6238, via pyotp).

A user enrols by scanning (or typing) a fresh secret into an authenticator app and sending one code
from it, which proves the app has the secret before it is required. Sign-in then asks for a code after
the password. A code is accepted within one 30-second step either side of the server's clock (drift),
and only once: the step of the last accepted code is stored and a code from that step or before is
refused (RFC 6238 section 5.2), so a code seen over a shoulder cannot be replayed.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from suraksha.access.models import ConsoleUser
from suraksha.audit import AuditAction, record
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

ISSUER = "Suraksha"
DRIFT_STEPS = 1
CODE_DIGITS = 6


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


def check_code(session: Session, user: ConsoleUser, code: str, *, now: datetime | None = None) -> bool:
    """True (and the code's step recorded as used) when ``code`` is good for ``user`` now and not
    used before. The caller commits ``session`` either way."""
    if user.totp_secret is None:
        return False
    try:
        digits = _clean(code)
    except InvalidInput:
        return False
    step = _matching_step(user.totp_secret, digits, now or utcnow())
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def enable(
    session: Session, user_id: int, secret: str, code: str, *, by: str, now: datetime | None = None
) -> ConsoleUser:
    """Turn the second factor on with ``secret`` once ``code`` shows the user's app holds it.
    Audited (``config:change``, ``user.totp_enable``)."""
    user = session.get(ConsoleUser, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"no console user with id {user_id}")
    if user.totp_secret is not None:
        raise Conflict("a second factor is already set up for this account: turn it off first")
    try:
        pyotp.TOTP(secret).now()
    except Exception:
        raise InvalidInput("the secret is not base32 text: start the set-up again") from None
    step = _matching_step(secret, _clean(code), now or utcnow())
    if step is None:
        raise InvalidInput("that code does not match: check the app's clock and send the newest code")
    user.totp_secret, user.totp_last_step = secret, step
    log.info("event=user.totp_enable pseudonym=%s", user.pseudonym)
    record(session, by, AuditAction.CONFIG_CHANGE, f"user:{user.pseudonym}", {"change": "user.totp_enable"})
    return user


def disable(session: Session, user_id: int, *, by: str) -> ConsoleUser:
    """Turn the second factor off (audited)."""
    user = session.get(ConsoleUser, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"no console user with id {user_id}")
    if user.totp_secret is not None:
        user.totp_secret, user.totp_last_step = None, None
        log.info("event=user.totp_disable pseudonym=%s", user.pseudonym)
        details = {"change": "user.totp_disable"}
        record(session, by, AuditAction.CONFIG_CHANGE, f"user:{user.pseudonym}", details)
    return user
