"""Console users on real SQLite and PostgreSQL: the permission matrix, the password policy, sign-in with
one answer for every refusal, lockout and its window, re-hashing, audit rows, and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import func, select
from typer.testing import CliRunner

from suraksha.access import users
from suraksha.access.models import ConsoleUser
from suraksha.audit import AuditEvent, tail, verify
from suraksha.cli.users import app as users_app
from suraksha.db import Database
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, InvalidInput, Unauthenticated
from suraksha.permissions import ROLE_PERMISSIONS, Permission, Role, has_permission, permissions_of

runner = CliRunner()
PASSWORD = "tidal-oak-lantern-91"
EMAIL = "Asha@Example.org"


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with the cheapest parameters: the suite stays fast."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(CHEAPEST))


def test_permission_matrix() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    csam = {r for r in Role if has_permission([r], Permission.MEDIA_REVEAL_CSAM)}
    assert csam == {Role.CHILD_SAFETY_REVIEWER, Role.LEAD}
    assert {r for r in Role if has_permission([r], Permission.EVIDENCE_OPEN)} == {Role.LEGAL}
    assert permissions_of([Role.AUDITOR]) == {Permission.AUDIT_VIEW}
    admin = permissions_of(["admin"])
    assert {Permission.USER_MANAGE, Permission.CONFIG_CHANGE} <= admin
    assert not admin & {Permission.EVIDENCE_OPEN, Permission.MEDIA_REVEAL_CSAM, Permission.ITEM_DECIDE}
    assert not has_permission([Role.REVIEWER], Permission.MEDIA_REVEAL_CSAM)
    assert has_permission([Role.REVIEWER], Permission.MEDIA_REVEAL)
    assert {r for r in Role if has_permission([r], Permission.DECISION_APPROVE)} == {Role.LEAD}
    # roles add up; unknown stored values grant nothing
    both = permissions_of(["admin", "legal", "superuser"])
    assert both == ROLE_PERMISSIONS[Role.ADMIN] | ROLE_PERMISSIONS[Role.LEGAL]
    assert permissions_of(["superuser"]) == frozenset()


def test_create_and_authenticate(db: Database) -> None:
    with db.session() as s:
        user = users.create_user(s, EMAIL, ["reviewer", Role.CHILD_SAFETY_REVIEWER], PASSWORD, by="cli:ops")
        pseudonym = user.pseudonym
    assert pseudonym.startswith("r-") and len(pseudonym) == 8
    signed_in = users.sign_in(db, " asha@EXAMPLE.org ", PASSWORD)
    assert signed_in.email == "asha@example.org" and signed_in.last_sign_in_at is not None
    assert signed_in.password_hash.startswith("$argon2id$") and PASSWORD not in signed_in.password_hash
    assert users.user_permissions(signed_in) == permissions_of([Role.CHILD_SAFETY_REVIEWER])
    with db.session() as s, pytest.raises(Conflict):
        users.create_user(s, "asha@example.org", ["admin"], "another-long-phrase", by="cli:ops")
    with db.reading() as s:
        rows = tail(s, 10)
        assert verify(s).ok
    assert [(r.actor, r.action, r.subject) for r in rows] == [
        ("cli:ops", "config:change", f"user:{pseudonym}"),
        (f"user:{pseudonym}", "auth:sign_in", f"user:{pseudonym}"),
    ]
    assert json.loads(rows[0].details) == {"change": "user.create", "roles": "child_safety_reviewer reviewer"}
    assert all(PASSWORD not in r.details and "asha" not in r.details for r in rows)


def test_wrong_password_and_unknown_user_look_the_same(db: Database) -> None:
    with db.session() as s:
        users.create_user(s, EMAIL, ["legal"], PASSWORD, by="cli:ops")
    messages = []
    for email, password in [(EMAIL, "not-the-password!"), ("nobody@example.org", PASSWORD), ("x", PASSWORD)]:
        with pytest.raises(Unauthenticated) as caught:
            users.sign_in(db, email, password)
        messages.append(str(caught.value))
    assert messages == [users.SIGN_IN_FAILED] * 3
    with db.reading() as s:
        rows = tail(s, 3)
        assert verify(s).ok
        failures = s.scalar(select(ConsoleUser.failed_logins))
    assert [r.action for r in rows] == ["auth:sign_in_failed"] * 3
    assert [json.loads(r.details)["reason"] for r in rows] == [
        "wrong_password",
        "unknown_user",
        "unknown_user",
    ]
    assert rows[0].actor == "anonymous" and rows[1].subject == ""
    assert failures == 1
    assert all("not-the-password" not in r.details and "nobody" not in r.details for r in rows)


def test_wrong_passwords_never_lock_the_account(db: Database) -> None:
    """A lockout any stranger can trigger would deny a reviewer their shift: guessing is throttled in
    front of the password check instead (suraksha.access.throttle, tested over HTTP)."""
    with db.session() as s:
        users.create_user(s, EMAIL, ["lead"], PASSWORD, by="cli:ops")
    start = utcnow()
    for i in range(10):
        with pytest.raises(Unauthenticated):
            users.sign_in(db, EMAIL, f"wrong-password-{i}", now=start + timedelta(seconds=i))
    with db.reading() as s:
        user = users.get_user(s, EMAIL)
        assert user.locked_until is None and user.failed_logins == 10
    user = users.sign_in(db, EMAIL, PASSWORD, now=start + timedelta(seconds=11))
    assert user.locked_until is None and user.failed_logins == 0


def test_weak_passwords_refused_with_nothing_written(db: Database) -> None:
    cases = {
        "short-one": "at least 12",
        "asha@example.org": "email",
        "ASHA@EXAMPLE.ORG": "email",
        "Password1234": "most common",
        "aaaaaaaaaaaaaaaa": "most common",
    }
    for password, message in cases.items():
        with db.session() as s, pytest.raises(InvalidInput, match=message):
            users.create_user(s, EMAIL, ["reviewer"], password, by="cli:ops")
    with db.session() as s, pytest.raises(InvalidInput, match="unknown role"):
        users.create_user(s, EMAIL, ["root"], PASSWORD, by="cli:ops")
    with db.session() as s, pytest.raises(InvalidInput, match="at least one role"):
        users.create_user(s, EMAIL, [], PASSWORD, by="cli:ops")
    with db.session() as s, pytest.raises(InvalidInput, match="not an email"):
        users.create_user(s, "asha", ["reviewer"], PASSWORD, by="cli:ops")
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(ConsoleUser)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_roles_disable_and_rehash(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session() as s:
        pseudonym = users.create_user(s, EMAIL, ["reviewer"], PASSWORD, by="cli:ops").pseudonym
    with db.session() as s:
        users.set_roles(s, EMAIL, ["lead"], by="user:r-admin")
        users.set_roles(s, EMAIL, ["lead"], by="user:r-admin")  # unchanged: no audit row
    old_hash = users.sign_in(db, EMAIL, PASSWORD).password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(users, "HASHER", stronger)
    rehashed = users.sign_in(db, EMAIL, PASSWORD)
    assert rehashed.password_hash != old_hash and not stronger.check_needs_rehash(rehashed.password_hash)
    assert users.sign_in(db, EMAIL, PASSWORD).password_hash == rehashed.password_hash
    with db.session() as s:
        users.disable_user(s, EMAIL, by="user:r-admin")
        users.disable_user(s, EMAIL, by="user:r-admin")  # already disabled: no audit row
    with pytest.raises(Unauthenticated, match=users.SIGN_IN_FAILED):
        users.sign_in(db, EMAIL, PASSWORD)
    with db.reading() as s:
        rows = tail(s, 10)
        assert verify(s).ok
        assert users.user_permissions(users.get_user(s, EMAIL)) == frozenset()
    details = [(r.action, json.loads(r.details)) for r in rows]
    assert details == [
        ("config:change", {"change": "user.create", "roles": "reviewer"}),
        ("config:change", {"change": "user.roles", "was": "reviewer", "roles": "lead"}),
        ("auth:sign_in", {}),
        ("auth:sign_in", {"rehashed": True}),
        ("auth:sign_in", {}),
        ("config:change", {"change": "user.disable"}),
        ("auth:sign_in_failed", {"reason": "disabled"}),
    ]
    assert {r.subject for r in rows} == {f"user:{pseudonym}"}


def test_cli_create_list_disable(db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", database_url)
    args = ["create", EMAIL, "--role", "reviewer", "--role", "legal", "--password-stdin"]
    result = runner.invoke(users_app, args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    pseudonym = result.stdout.strip()
    assert pseudonym.startswith("r-")
    weak = runner.invoke(
        users_app, ["create", "b@example.org", "--role", "admin", "--password-stdin"], input="x\n"
    )
    assert weak.exit_code == 2 and "at least 12" in weak.output
    prompted = runner.invoke(
        users_app, ["create", "c@example.org", "--role", "auditor"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output  # hidden input
    listed = json.loads(runner.invoke(users_app, ["list", "--json"]).stdout)
    assert [(u["email"], u["roles"]) for u in listed] == [
        ("asha@example.org", ["legal", "reviewer"]),
        ("c@example.org", ["auditor"]),
    ]
    assert listed[0]["pseudonym"] == pseudonym and "password_hash" not in listed[0]
    disabled = runner.invoke(users_app, ["disable", EMAIL])
    assert disabled.exit_code == 0 and pseudonym in disabled.stdout
    assert users.sign_in(db, "c@example.org", PASSWORD).pseudonym != pseudonym
    with pytest.raises(Unauthenticated):
        users.sign_in(db, EMAIL, PASSWORD)
