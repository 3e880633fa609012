"""Sign-in throttling for the console, in front of the per-account lockout (``users.authenticate``).

Two counters per failed sign-in, each over a fixed window (``console_sign_in_window_minutes``): one for
the (client address, account) pair and one for the address alone. A counter at its limit refuses
sign-ins from that pair (or address) until its window ends, *before* the password is checked, so a
guessing run neither costs an argon2 hash per try nor moves the account's own lockout (which would let
anyone lock a known reviewer out from afar). The keys are SHA-256 digests: the table holds no emails and
no addresses.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from suraksha.access.models import SignInThrottle
from suraksha.db.base import utcnow
from suraksha.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottlePolicy:
    per_pair: int
    per_address: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            per_pair=int(settings.console_sign_in_max_failures),
            per_address=int(settings.console_sign_in_max_failures_per_address),
            window=timedelta(minutes=float(settings.console_sign_in_window_minutes)),
        )


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(("console-sign-in", *parts)).encode("utf-8")).hexdigest()


def _keys(address: str, email: str, policy: ThrottlePolicy) -> list[tuple[str, int]]:
    folded = email.strip().lower()
    return [(_key("pair", address, folded), policy.per_pair), (_key("address", address), policy.per_address)]


def blocked_until(
    session: Session, address: str, email: str, policy: ThrottlePolicy, *, now: datetime | None = None
) -> datetime | None:
    """When sign-ins from ``address`` for ``email`` are allowed again, or None if they are now."""
    now = now or utcnow()
    latest: datetime | None = None
    for key, _limit in _keys(address, email, policy):
        row = session.get(SignInThrottle, key)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            latest = row.blocked_until if latest is None else max(latest, row.blocked_until)
    return latest


def record_failure(
    session: Session, address: str, email: str, policy: ThrottlePolicy, *, now: datetime | None = None
) -> datetime | None:
    """Count a failed sign-in; returns when the pair or address is blocked until, if this failure
    reached a limit."""
    now = now or utcnow()
    blocked: datetime | None = None
    for key, limit in _keys(address, email, policy):
        row = session.get(SignInThrottle, key, with_for_update=True)
        if row is None:
            row = SignInThrottle(key=key, window_started_at=now, failures=0)
            session.add(row)
        elif row.window_started_at + policy.window <= now:
            row.window_started_at, row.failures, row.blocked_until = now, 0, None
        row.failures += 1
        if row.failures >= limit:
            row.blocked_until = row.window_started_at + policy.window
            blocked = row.blocked_until if blocked is None else max(blocked, row.blocked_until)
    session.flush()
    if blocked is not None:
        log.warning("event=console.sign_in_throttled until=%s", blocked.isoformat())
    return blocked


def record_success(session: Session, address: str, email: str, policy: ThrottlePolicy) -> None:
    """A good sign-in clears the pair's counter (not the address's: one good account must not reset
    a guessing run against the others)."""
    pair_key = _keys(address, email, policy)[0][0]
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == pair_key))


def purge(session: Session, policy: ThrottlePolicy, *, now: datetime | None = None) -> int:
    """Drop counters whose window ended (they refuse nothing any more)."""
    cutoff = (now or utcnow()) - policy.window
    result = session.execute(delete(SignInThrottle).where(SignInThrottle.window_started_at <= cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
