"""Sign-in throttling for the console. Nothing here, and nothing a stranger can do, locks an account.

Counted in fixed windows (``console_sign_in_window_minutes``), each before any password work:

- per (client address, account) and per address: a counter at its limit refuses sign-ins from that pair
  (or address) until its window ends (429). A guessing run from a few addresses stops here, and the
  reviewer, signing in from their own address, is not affected.
- per account, the failures from addresses the account never signed in from
  (``console_sign_in_max_failures_per_account``): past it the account is under a *distributed* run
  (many addresses, each under its own limits) until the window ends. It is not locked: an address that
  completed a sign-in to it in the last ``console_sign_in_known_address_days`` (``KnownAddress``) signs in
  as usual; any other must send the password and a TOTP code together, on one form, and is told only
  that both are needed (an account without a second factor cannot sign in from a new address until the
  window ends). So a stranger can slow nobody's shift, and a run over many addresses learns nothing even
  when it hits the password.
- wrong TOTP codes per account (``console_totp_max_failures``), whatever the address: only someone who
  has the password reaches the code, so this limit cannot be used by a stranger; at it, codes are refused
  until the window ends (and the event is logged: the password is probably known to someone else).

The keys are SHA-256 digests: the tables hold no emails and no addresses. Unknown emails are counted
like known ones, so the answers do not tell which emails have accounts.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from suraksha.access.models import ConsoleUser, KnownAddress, SignInThrottle
from suraksha.db.base import utcnow
from suraksha.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottlePolicy:
    per_pair: int
    per_address: int
    window: timedelta
    per_account: int = 20
    totp_per_account: int = 5
    known_for: timedelta = timedelta(days=30)

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            per_pair=int(settings.console_sign_in_max_failures),
            per_address=int(settings.console_sign_in_max_failures_per_address),
            window=timedelta(minutes=float(settings.console_sign_in_window_minutes)),
            per_account=int(settings.console_sign_in_max_failures_per_account),
            totp_per_account=int(settings.console_totp_max_failures),
            known_for=timedelta(days=float(settings.console_sign_in_known_address_days)),
        )


@dataclass(frozen=True)
class SignInGate:
    """What the counters say about a sign-in from an address for an email, before the password."""

    blocked_until: datetime | None
    """The pair or the address is over its limit: refuse (429) until then."""
    step_up_until: datetime | None
    """The account is under a distributed run and this address is not known to it: the password only
    counts together with a TOTP code, until then."""
    known: bool
    """The address completed a sign-in to this account recently."""


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(("console-sign-in", *parts)).encode("utf-8")).hexdigest()


def _fold(email: str) -> str:
    return email.strip().lower()


def _pair_key(address: str, email: str) -> str:
    return _key("pair", address, _fold(email))


def _address_key(address: str) -> str:
    return _key("address", address)


def _account_key(email: str) -> str:
    return _key("account", _fold(email))


def _known_key(address: str, user_id: int) -> str:
    return _key("known", address, str(user_id))


def _totp_key(user_id: int) -> str:
    return _key("totp", str(user_id))


def _blocked(session: Session, key: str, now: datetime) -> datetime | None:
    row = session.get(SignInThrottle, key)
    if row is not None and row.blocked_until is not None and row.blocked_until > now:
        return row.blocked_until
    return None


def _count(session: Session, key: str, limit: int, window: timedelta, now: datetime) -> datetime | None:
    """One more failure under ``key``; when the window's count reaches ``limit``, the time the key is
    blocked until (the window's end)."""
    row = session.get(SignInThrottle, key, with_for_update=True)
    if row is None:
        row = SignInThrottle(key=key, window_started_at=now, failures=0)
        session.add(row)
    elif row.window_started_at + window <= now:
        row.window_started_at, row.failures, row.blocked_until = now, 0, None
    row.failures += 1
    if row.failures >= limit:
        row.blocked_until = row.window_started_at + window
        return row.blocked_until
    return None


def is_known(
    session: Session, address: str, user_id: int, policy: ThrottlePolicy, *, now: datetime | None = None
) -> bool:
    row = session.get(KnownAddress, _known_key(address, user_id))
    return row is not None and row.last_sign_in_at + policy.known_for > (now or utcnow())


def _user_id(session: Session, email: str) -> int | None:
    return session.scalar(select(ConsoleUser.id).where(ConsoleUser.email == _fold(email)))


def gate(
    session: Session, address: str, email: str, policy: ThrottlePolicy, *, now: datetime | None = None
) -> SignInGate:
    """Where a sign-in from ``address`` for ``email`` stands (module docstring). Only reads."""
    now = now or utcnow()
    user_id = _user_id(session, email)
    pair, per_address = (
        _blocked(session, _pair_key(address, email), now),
        _blocked(session, _address_key(address), now),
    )
    blocked = max((t for t in (pair, per_address) if t is not None), default=None)
    known = user_id is not None and is_known(session, address, user_id, policy, now=now)
    attacked = None if known else _blocked(session, _account_key(email), now)
    return SignInGate(blocked_until=blocked, step_up_until=attacked, known=known)


def blocked_until(
    session: Session, address: str, email: str, policy: ThrottlePolicy, *, now: datetime | None = None
) -> datetime | None:
    """When sign-ins from ``address`` for ``email`` are allowed again, or None if they are now."""
    return gate(session, address, email, policy, now=now).blocked_until


def record_failure(
    session: Session,
    address: str,
    email: str,
    policy: ThrottlePolicy,
    *,
    known: bool = False,
    now: datetime | None = None,
) -> datetime | None:
    """Count a failed sign-in (for the pair, the address and, from an address not ``known`` to the
    account, the account); returns when the pair or address is blocked until, if this failure reached
    its limit."""
    now = now or utcnow()
    blocked = [
        _count(session, _pair_key(address, email), policy.per_pair, policy.window, now),
        _count(session, _address_key(address), policy.per_address, policy.window, now),
    ]
    if not known and _count(session, _account_key(email), policy.per_account, policy.window, now):
        log.warning("event=console.sign_in_distributed_run step_up=on")
    session.flush()
    until = max((t for t in blocked if t is not None), default=None)
    if until is not None:
        log.warning("event=console.sign_in_throttled until=%s", until.isoformat())
    return until


def record_success(session: Session, address: str, email: str, policy: ThrottlePolicy) -> None:
    """A good password clears the pair's counter (not the address's: one good account must not reset
    a guessing run against the others; nor the account's: a run may go on)."""
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == _pair_key(address, email)))


def remember_address(session: Session, address: str, user_id: int, *, now: datetime | None = None) -> None:
    """The address completed a sign-in to the account (password and, when set up, the code)."""
    now = now or utcnow()
    key = _known_key(address, user_id)
    row = session.get(KnownAddress, key, with_for_update=True)
    if row is None:
        session.add(KnownAddress(key=key, user_id=user_id, last_sign_in_at=now))
    else:
        row.last_sign_in_at = now
    session.flush()


def totp_blocked_until(
    session: Session, user_id: int, policy: ThrottlePolicy, *, now: datetime | None = None
) -> datetime | None:
    """When the account's TOTP codes are checked again, or None if they are now."""
    return _blocked(session, _totp_key(user_id), now or utcnow())


def record_totp_failure(
    session: Session, user_id: int, policy: ThrottlePolicy, *, now: datetime | None = None
) -> datetime | None:
    """Count a wrong code for the account (any address); returns the block's end when this one reached
    the limit."""
    until = _count(session, _totp_key(user_id), policy.totp_per_account, policy.window, now or utcnow())
    session.flush()
    if until is not None:
        log.warning("event=console.totp_throttled user=%d until=%s", user_id, until.isoformat())
    return until


def record_totp_success(session: Session, user_id: int) -> None:
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == _totp_key(user_id)))


def purge(session: Session, policy: ThrottlePolicy, *, now: datetime | None = None) -> int:
    """Drop counters whose window ended (they refuse nothing any more) and addresses no longer known."""
    now = now or utcnow()
    counters = session.execute(
        delete(SignInThrottle).where(SignInThrottle.window_started_at <= now - policy.window)
    )
    known = session.execute(
        delete(KnownAddress).where(KnownAddress.last_sign_in_at <= now - policy.known_for)
    )
    return int(getattr(counters, "rowcount", 0) or 0) + int(getattr(known, "rowcount", 0) or 0)
