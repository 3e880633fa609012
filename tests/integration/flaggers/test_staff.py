"""A flagger's staff (console users linked to one flagger) on SQLite and PostgreSQL: who may be linked,
one flagger per user, audited linking and unlinking (sessions end with the link), and their notices going
through the API's path: same resolution, same duplicate rule, refused while the flagger is suspended,
never another flagger's notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from suraksha.access import sessions, users
from suraksha.access.models import ConsoleSession, ConsoleUser
from suraksha.audit import AuditEvent
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.flaggers.models import FlaggerState, FlaggerUser, NoticeTarget
from suraksha.flaggers.operations import StaffMember
from suraksha.flaggers.schemas import NoticeIn

from .conftest import World

PASSWORD = "tidal-oak-lantern-91"


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))


def user(world: World, email: str, *roles: str) -> ConsoleUser:
    with world.platform.db.session() as session:
        made = users.create_user(session, email, roles or ("flagger",), PASSWORD, by="test")
        session.expunge(made)
        return made


def member(found: ConsoleUser) -> StaffMember:
    return StaffMember(user_id=found.id, actor=f"user:{found.pseudonym}")


def audit_rows(world: World, action: str) -> list[AuditEvent]:
    with world.platform.db.reading() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        )


def body(reference: str, *targets: dict[str, str]) -> NoticeIn:
    return NoticeIn.model_validate(
        {
            "reference": reference,
            "category": "csam",
            "explanation": "Benign test notice.",
            "targets": list(targets) or [{"platform_id": "p-1"}],
        }
    )


def test_who_may_be_linked_and_the_audit(world: World) -> None:
    world.flagger("ngo")
    world.flagger("hotline")
    staff = user(world, "desk@ngo.example")
    user(world, "lead@example.org", "lead")
    with world.platform.db.session() as session:
        with pytest.raises(InvalidInput, match="goes alone"):
            users.create_user(session, "x@ngo.example", ["flagger", "lead"], PASSWORD, by="test")
        with pytest.raises(InvalidInput, match="goes alone"):
            users.set_roles(session, "desk@ngo.example", ["flagger", "admin"], by="test")
    with pytest.raises(InvalidInput, match=r"one\s+role 'flagger'"):
        world.platform.flagger_add_user("ngo", "lead@example.org", actor="cli:admin")
    with pytest.raises(NotFound):
        world.platform.flagger_add_user("nobody", "desk@ngo.example", actor="cli:admin")
    with pytest.raises(NotFound):
        world.platform.flagger_add_user("ngo", "nobody@ngo.example", actor="cli:admin")

    shown = world.platform.flagger_add_user("NGO", " Desk@NGO.example ", actor="cli:admin")
    assert shown == {"flagger": "ngo", "email": "desk@ngo.example", "pseudonym": staff.pseudonym}
    with pytest.raises(Conflict, match="already"):
        world.platform.flagger_add_user("ngo", "desk@ngo.example", actor="cli:admin")
    with pytest.raises(Conflict, match="remove-user ngo"):
        world.platform.flagger_add_user("hotline", "desk@ngo.example", actor="cli:admin")
    (listed,) = world.platform.flagger_users("ngo")
    assert listed["email"] == "desk@ngo.example" and listed["pseudonym"] == staff.pseudonym
    assert world.platform.flagger_users("hotline") == []
    (row,) = audit_rows(world, "flagger:user_add")
    assert row.actor == "cli:admin" and row.subject == "flagger:ngo"
    assert "desk@" not in str(row.details) and staff.pseudonym in str(row.details)  # pseudonyms only

    with world.platform.db.session() as session:
        users.disable_user(session, "desk@ngo.example", by="test")
    user(world, "second@ngo.example")
    with world.platform.db.session() as session:
        users.disable_user(session, "second@ngo.example", by="test")
    with pytest.raises(InvalidInput, match="disabled"):
        world.platform.flagger_add_user("ngo", "second@ngo.example", actor="cli:admin")


def test_unlinking_ends_sessions_and_access(world: World) -> None:
    world.flagger("ngo")
    staff = user(world, "desk@ngo.example")
    world.platform.flagger_add_user("ngo", "desk@ngo.example", actor="cli:admin")
    policy = sessions.SessionPolicy(idle=timedelta(hours=1), absolute=timedelta(hours=8))
    with world.platform.db.session() as session:
        found = session.get(ConsoleUser, staff.id)
        assert found is not None
        sessions.start_session(session, found, policy)
    assert world.platform.staff_flagger(member(staff))["name"] == "ngo"
    with pytest.raises(NotFound):
        world.platform.flagger_remove_user("ngo", "nobody@example.org", actor="cli:admin")
    world.platform.flagger_remove_user("ngo", "desk@ngo.example", actor="cli:admin")
    with world.platform.db.reading() as session:
        assert session.scalars(select(FlaggerUser)).all() == []
        (ended,) = session.scalars(select(ConsoleSession).where(ConsoleSession.user_id == staff.id))
        assert ended.revoked_at is not None and ended.revoked_reason == "flagger_unlinked"
    with pytest.raises(NotFound):
        world.platform.flagger_remove_user("ngo", "desk@ngo.example", actor="cli:admin")
    (row,) = audit_rows(world, "flagger:user_remove")
    assert row.subject == "flagger:ngo"
    with pytest.raises(Forbidden, match="belongs to no trusted flagger"):
        world.platform.staff_notices(member(staff))
    with pytest.raises(Forbidden, match="belongs to no trusted flagger"):
        world.platform.notice_submit(member(staff), body("N-1"))


def test_staff_notices_take_the_api_path(world: World) -> None:
    ngo = world.flagger("ngo")
    other = world.flagger("hotline")
    item_id = world.item("p-1")
    staff = user(world, "desk@ngo.example")
    world.platform.flagger_add_user("ngo", "desk@ngo.example", actor="cli:admin")
    now = utcnow()
    shown, created = world.platform.notice_submit(member(staff), body("N-1"), now=now)
    assert created and shown["state"] == "in_review"
    # The API key of the same flagger sees the same notice; the same reference again answers it.
    assert world.platform.notice_read(ngo.prefix, int(shown["id"]))["reference"] == "N-1"  # type: ignore[call-overload]
    again, created = world.platform.notice_submit(ngo.prefix, body("N-1"))
    assert not created and again["id"] == shown["id"]
    with world.platform.db.reading() as session:
        (target,) = session.scalars(select(NoticeTarget))
        assert target.item_id == item_id and target.case_id is not None
    (row,) = audit_rows(world, "flagger:notice")
    assert row.actor == f"user:{staff.pseudonym}"

    theirs, _ = world.platform.notice_submit(other.prefix, body("H-1"))
    with pytest.raises(NotFound):
        world.platform.notice_read(member(staff), int(theirs["id"]))  # type: ignore[call-overload]
    assert [n["reference"] for n in world.platform.staff_notices(member(staff))] == ["N-1"]

    world.platform.flagger_set_state(
        "ngo", FlaggerState.SUSPENDED, reason="designation revoked", actor="cli:admin"
    )
    with pytest.raises(Forbidden, match="suspended"):
        world.platform.notice_submit(member(staff), body("N-2"))
    assert world.platform.staff_flagger(member(staff))["state_reason"] == "designation revoked"
    assert len(world.platform.staff_notices(member(staff))) == 1  # still reads what it sent
