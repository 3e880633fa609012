"""Console users: create, sign in, change roles, disable.

Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher``, its recommended parameters) and
re-hashed on the next good sign-in when those parameters change. There is no default password, no
password reset by email and no way to read a password back.

Every change and every sign-in, good or bad, is audited through ``suraksha.audit.record`` in the same
transaction. Audit rows name people by pseudonym, never by email, and never carry a password.

Every function takes a session and leaves committing to the caller's unit of work. ``authenticate``
writes its failure bookkeeping (the count, the lock, the audit row) into the session *before* raising,
so that session must still be committed: ``sign_in`` does that.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.access.models import ConsoleUser
from suraksha.access.sessions import revoke_user_sessions
from suraksha.audit import AuditAction, record
from suraksha.db import Database
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from suraksha.permissions import Permission, Role, parse_roles, permissions_of

log = logging.getLogger(__name__)

HASHER = PasswordHasher()
"""argon2id with argon2-cffi's RFC 9106 "low memory" profile; tests swap in cheaper parameters."""

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024

SIGN_IN_FAILED = "wrong email or password"
"""The one message for every refused sign-in (unknown email, wrong password, locked, disabled), so the
answer does not tell an attacker which emails have accounts. The audit row records the real reason."""

COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678910111213",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwertyuiopasdfghjkl",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "abcdefghijkl",
        "abc123abc123",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "administrator",
        "administrator1",
        "changeme1234",
        "trustno1trustno1",
        "football1234",
        "baseball1234",
        "superman1234",
        "monkey123456",
        "sunshine1234",
        "princess1234",
        "correcthorsebatterystaple",
        "suraksha1234",
        "surakshasuraksha",
    }
)
"""The most common passwords long enough to pass the length rule (from public breach top lists). A short
list on purpose: it refuses the obvious; length does the rest (NIST SP 800-63B 5.1.1.2)."""

EMAIL_MAX_CHARS = 254


def normalise_email(email: str) -> str:
    """Lower-case and stripped; refuses what is plainly not an address."""
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if (
        not local
        or not domain
        or "@" in domain
        or "." not in domain
        or len(value) > EMAIL_MAX_CHARS
        or any(c.isspace() for c in value)
    ):
        raise InvalidInput(f"{email!r} is not an email address (name@example.org)")
    return value


def check_password(password: str, email: str) -> None:
    """The password policy: at least ``MIN_PASSWORD_CHARS`` characters, not the email (or its name part),
    not one of ``COMMON_PASSWORDS``, not a single character repeated. No composition rules (NIST SP
    800-63B): they make passwords harder to remember, not to guess."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(
            f"the password has {len(password)} characters: it needs at least {MIN_PASSWORD_CHARS} "
            "(a few unrelated words make a good one)"
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInput(f"the password is over {MAX_PASSWORD_CHARS} characters")
    folded = password.strip().lower()
    if folded in {email.lower(), email.lower().partition("@")[0]}:
        raise InvalidInput("the password must not be the email address")
    if folded in COMMON_PASSWORDS or len(set(folded)) == 1:
        raise InvalidInput("the password is one of the most common passwords: choose another")


def check_roles(values: Iterable[str | Role]) -> frozenset[Role]:
    roles: set[Role] = set()
    for value in values:
        try:
            roles.add(Role(str(value).strip().lower()))
        except ValueError:
            raise InvalidInput(
                f"unknown role {value!r}: expected one of {', '.join(r.value for r in Role)}"
            ) from None
    if not roles:
        raise InvalidInput(f"a console user needs at least one role: {', '.join(r.value for r in Role)}")
    if Role.FLAGGER in roles and len(roles) > 1:
        # A flagger's staff are outsiders confined to their organisation's pages: a role beside it would
        # open the rest of the console to them.
        raise InvalidInput(
            "the flagger role goes alone (a trusted flagger's staff): give it without other roles"
        )
    return frozenset(roles)


def user_roles(user: ConsoleUser) -> frozenset[Role]:
    """The user's roles; a stored value this version does not know grants nothing."""
    return parse_roles(user.roles.split())


def user_permissions(user: ConsoleUser) -> frozenset[Permission]:
    """Nothing for a disabled user."""
    return frozenset() if user.disabled_at is not None else permissions_of(user_roles(user))


def _roles_text(roles: Iterable[Role]) -> str:
    return " ".join(sorted(r.value for r in roles))


def _new_pseudonym(session: Session) -> str:
    while True:
        pseudonym = f"r-{secrets.token_hex(3)}"
        if session.scalar(select(ConsoleUser.id).where(ConsoleUser.pseudonym == pseudonym)) is None:
            return pseudonym


def get_user(session: Session, email: str) -> ConsoleUser:
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"no console user {email!r}; `suraksha user list` shows them")
    return user


def list_users(session: Session) -> list[ConsoleUser]:
    return list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.email)))


def create_user(
    session: Session, email: str, roles: Iterable[str | Role], password: str, *, by: str
) -> ConsoleUser:
    """Create a console user with a password they chose (there is no default password). Refuses an
    email already taken, an unknown role and a password outside the policy (``check_password``) before
    writing anything. Audited (``config:change``, actor ``by``, subject ``user:<pseudonym>``)."""
    email = normalise_email(email)
    chosen = check_roles(roles)
    check_password(password, email)
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.email == email)) is not None:
        raise Conflict(f"a console user {email!r} already exists")
    user = ConsoleUser(
        email=email,
        pseudonym=_new_pseudonym(session),
        roles=_roles_text(chosen),
        password_hash=HASHER.hash(password),
        failed_logins=0,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    log.info("event=user.create pseudonym=%s roles=%s", user.pseudonym, user.roles)
    details = {"change": "user.create", "roles": user.roles}
    record(session, by, AuditAction.CONFIG_CHANGE, f"user:{user.pseudonym}", details)
    return user


def set_roles(session: Session, email: str, roles: Iterable[str | Role], *, by: str) -> ConsoleUser:
    """Replace the user's roles. Audited with the old and new roles (unless nothing changed)."""
    user = get_user(session, email)
    new = _roles_text(check_roles(roles))
    if new != user.roles:
        details = {"change": "user.roles", "was": user.roles, "roles": new}
        user.roles = new
        log.info("event=user.roles pseudonym=%s roles=%s", user.pseudonym, new)
        record(session, by, AuditAction.CONFIG_CHANGE, f"user:{user.pseudonym}", details)
    return user


def disable_user(session: Session, email: str, *, by: str, now: datetime | None = None) -> ConsoleUser:
    """Disable the user: every sign-in is refused from now on and their console sessions end now (the
    row stays, for the audit trail's pseudonyms). Disabling a disabled user changes nothing and is not
    audited."""
    user = get_user(session, email)
    if user.disabled_at is None:
        user.disabled_at = now or utcnow()
        revoke_user_sessions(session, user.id, now=user.disabled_at)
        log.info("event=user.disable pseudonym=%s", user.pseudonym)
        details = {"change": "user.disable"}
        record(session, by, AuditAction.CONFIG_CHANGE, f"user:{user.pseudonym}", details)
    return user


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash with the current parameters to verify against when the email is unknown, so an unknown
    email costs about the same time as a wrong password."""
    key = f"{HASHER.time_cost}:{HASHER.memory_cost}:{HASHER.parallelism}:{HASHER.hash_len}"
    if key not in _dummy_hashes:
        _dummy_hashes[key] = HASHER.hash(secrets.token_hex(16))
    return _dummy_hashes[key]


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _refuse(session: Session, reason: str, user: ConsoleUser | None, **details: object) -> Unauthenticated:
    subject = f"user:{user.pseudonym}" if user is not None else ""
    log.info("event=user.sign_in_failed subject=%s reason=%s", subject, reason)
    record(session, "anonymous", AuditAction.AUTH_SIGN_IN_FAILED, subject, {"reason": reason, **details})
    return Unauthenticated(SIGN_IN_FAILED)


def authenticate(session: Session, email: str, password: str, *, now: datetime | None = None) -> ConsoleUser:
    """The user with this email and password, or ``Unauthenticated`` with the same message whatever the
    reason (``SIGN_IN_FAILED``). The password is always checked against an argon2 hash (a dummy one for
    an unknown email) so the time taken says little about which emails exist.

    No failure locks the account: a lockout any stranger can trigger denies a reviewer their shift.
    Guessing is throttled in front of this, per address, per (address, account) and against distributed
    runs (``suraksha.access.throttle``). ``failed_logins`` counts wrong passwords in a row, for the
    record; ``locked_until``, when something sets it, is honoured. A good sign-in resets the count, sets
    ``last_sign_in_at`` and re-hashes the password if the hasher's parameters changed since it was stored.

    Writes (the count, the lock, the audit row: ``auth:sign_in`` or ``auth:sign_in_failed``) go into
    ``session`` before this returns or raises: commit it even when this raises (``sign_in`` does)."""
    now = now or utcnow()
    try:
        normalised = normalise_email(email)
    except InvalidInput:
        normalised = ""
    user = None
    if normalised:
        query = select(ConsoleUser).where(ConsoleUser.email == normalised).with_for_update()
        user = session.scalar(query)
    if user is None:
        _verify(_dummy_hash(), password)
        raise _refuse(session, "unknown_user", None)
    good = _verify(user.password_hash, password)
    if user.disabled_at is not None:
        raise _refuse(session, "disabled", user)
    if user.locked_until is not None and user.locked_until > now:
        raise _refuse(session, "locked", user, locked_until=user.locked_until.isoformat())
    if not good:
        user.failed_logins += 1
        raise _refuse(session, "wrong_password", user, failures=user.failed_logins)
    user.failed_logins = 0
    user.last_sign_in_at = now
    rehashed = HASHER.check_needs_rehash(user.password_hash)
    if rehashed:
        user.password_hash = HASHER.hash(password)
    log.info("event=user.sign_in pseudonym=%s rehashed=%s", user.pseudonym, rehashed)
    actor = f"user:{user.pseudonym}"
    record(session, actor, AuditAction.AUTH_SIGN_IN, actor, {"rehashed": rehashed} if rehashed else {})
    return user


REAUTH_FAILED = "that is not your password"


def confirm_password(session: Session, user_id: int, password: str) -> ConsoleUser:
    """A signed-in user gives their password again before a change to how they sign in (setting up or
    removing a second factor), so a browser left signed in is not enough. Unauthenticated when wrong,
    with an ``auth:sign_in_failed`` audit row (``reason: reauth``) written into ``session`` first: commit
    it either way. The caller throttles it like a sign-in."""
    user = session.get(ConsoleUser, user_id)
    if user is None or user.disabled_at is not None or not _verify(user.password_hash, password):
        subject = f"user:{user.pseudonym}" if user is not None else ""
        log.info("event=user.reauth_failed subject=%s", subject)
        details = {"reason": "reauth"}
        record(session, subject or "anonymous", AuditAction.AUTH_SIGN_IN_FAILED, subject, details)
        raise Unauthenticated(REAUTH_FAILED)
    return user


def sign_in(db: Database, email: str, password: str, *, now: datetime | None = None) -> ConsoleUser:
    """``authenticate`` in its own unit of work, committed whether or not the sign-in is refused, so
    failures count and are audited. Returns the user detached from the session."""
    refused: Unauthenticated | None = None
    with db.session() as session:
        try:
            user = authenticate(session, email, password, now=now)
        except Unauthenticated as exc:
            refused = exc
    if refused is not None:
        raise refused
    return user
