"""A flagger's staff: console users who belong to one trusted flagger and sign in to the console to send
its notices and read them (the issue's "optionally, console users").

Business rules:
- An administrator links an existing console user to a flagger (``suraksha flaggers add-user``) and
  unlinks them (``remove-user``); both are audited on the flagger, naming the user by pseudonym (never
  the email: the audit log is append-only).
- Only a user whose one role is ``flagger`` is linked (``suraksha.permissions``: that role holds
  ``notices:own`` and nothing else, and goes alone), and not a disabled one: linking gives a person
  outside the platform a way in, so it must not also open anything else of the console.
- A user belongs to one flagger at most; moving them is a removal and an addition, both audited.
- Unlinking ends the user's console sessions at once: what they could see stops with the link.
- A user with the role but no link sees no notices: the console says who links them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.access.models import ConsoleUser
from suraksha.access.sessions import revoke_user_sessions
from suraksha.access.users import get_user, user_roles
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.flaggers.models import Flagger, FlaggerAudit, FlaggerUser
from suraksha.flaggers.registry import get_flagger
from suraksha.permissions import Role

log = logging.getLogger(__name__)

UNLINKED = "flagger_unlinked"
"""Why the sessions of a user unlinked from their flagger ended (``console_sessions.revoked_reason``)."""

NOT_LINKED = (
    "your account belongs to no trusted flagger yet: an administrator links it "
    "(`suraksha flaggers add-user NAME EMAIL`)"
)


def add_user(session: Session, name: str, email: str, *, by: str, now: datetime | None = None) -> FlaggerUser:
    """Link the console user ``email`` to the flagger ``name`` (business rules in the module docstring)."""
    flagger = get_flagger(session, name)
    user = get_user(session, email)
    if user.disabled_at is not None:
        raise InvalidInput(f"console user {user.email!r} is disabled: a disabled account is not linked")
    if user_roles(user) != {Role.FLAGGER}:
        raise InvalidInput(
            f"console user {user.email!r} has the roles {user.roles!r}: a flagger's staff have the one "
            "role 'flagger' (`suraksha user create EMAIL --role flagger`)"
        )
    existing = session.get(FlaggerUser, user.id)
    if existing is not None:
        other = session.get(Flagger, existing.flagger_id)
        owner = other.name if other is not None else "?"
        if existing.flagger_id == flagger.id:
            raise Conflict(f"console user {user.email!r} belongs to flagger {owner!r} already")
        raise Conflict(
            f"console user {user.email!r} belongs to flagger {owner!r}: "
            f"`suraksha flaggers remove-user {owner} {user.email}` first"
        )
    link = FlaggerUser(user_id=user.id, flagger_id=flagger.id, linked_at=now or utcnow())
    session.add(link)
    session.flush()
    subject = f"flagger:{flagger.name}"
    audit.record(session, by, FlaggerAudit.USER_ADD, subject, {"user": f"user:{user.pseudonym}"})
    log.info("event=flaggers.user_add flagger=%s pseudonym=%s", flagger.name, user.pseudonym)
    return link


def remove_user(
    session: Session, name: str, email: str, *, by: str, now: datetime | None = None
) -> ConsoleUser:
    """Unlink the console user ``email`` from the flagger ``name``; their console sessions end now."""
    flagger = get_flagger(session, name)
    user = get_user(session, email)
    link = session.get(FlaggerUser, user.id)
    if link is None or link.flagger_id != flagger.id:
        raise NotFound(f"console user {user.email!r} does not belong to flagger {flagger.name!r}")
    session.delete(link)
    revoke_user_sessions(session, user.id, UNLINKED, now=now)
    subject = f"flagger:{flagger.name}"
    audit.record(session, by, FlaggerAudit.USER_REMOVE, subject, {"user": f"user:{user.pseudonym}"})
    log.info("event=flaggers.user_remove flagger=%s pseudonym=%s", flagger.name, user.pseudonym)
    return user


def users_of(session: Session, name: str) -> list[tuple[ConsoleUser, FlaggerUser]]:
    """The flagger's staff, by email."""
    flagger = get_flagger(session, name)
    rows = session.execute(
        select(ConsoleUser, FlaggerUser)
        .join(FlaggerUser, FlaggerUser.user_id == ConsoleUser.id)
        .where(FlaggerUser.flagger_id == flagger.id)
        .order_by(ConsoleUser.email)
    )
    return [(user, link) for user, link in rows]


def flagger_of_user(session: Session, user_id: int) -> Flagger:
    """The flagger a console user belongs to; Forbidden when they belong to none."""
    found = session.scalar(
        select(Flagger)
        .join(FlaggerUser, FlaggerUser.flagger_id == Flagger.id)
        .where(FlaggerUser.user_id == user_id)
    )
    if found is None:
        raise Forbidden(NOT_LINKED)
    return found
