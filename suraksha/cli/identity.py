"""Who is at the keyboard: the console's sign-in, for the commands that need an identified person
(approving a report, releasing a hold, opening or deleting evidence).

``--user EMAIL`` names the console user. The password is asked without echo, or, for automation, read
from the first line of standard input with ``--password-stdin`` (pipe it from a secret store); a
password is never taken from the command line, where every user of the machine sees it. An account
with a second factor is also asked for its current code (with ``--password-stdin``, the second line
of standard input).

The checks are the console's (``suraksha.access``): the sign-in throttle per (address, account) and
per address, where the address is ``cli:<os user>@<host>``; the argon2 password check; the step-up
to a second factor while the account is under a distributed run; a single-use TOTP code, limited per
account. Every sign-in and refusal is audited. What the person then
does is audited under ``user:<pseudonym>``, as in the console.
"""

from __future__ import annotations

import getpass
import socket
import sys
from collections.abc import Iterator

import typer

from suraksha.access import throttle, totp, users
from suraksha.access.models import ConsoleUser
from suraksha.access.throttle import ThrottlePolicy
from suraksha.app import Platform
from suraksha.audit import AuditAction, record
from suraksha.errors import Forbidden, Unauthenticated
from suraksha.permissions import Permission

USER = typer.Option(
    ...,
    "--user",
    help="E-mail of the console user doing this (signs in: password asked, or --password-stdin).",
)
PASSWORD_STDIN = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from stdin's first line (and the second-factor code, if any, from the next).",
)


def address() -> str:
    """What the sign-in throttle counts command-line attempts by."""
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"


def actor(user: ConsoleUser) -> str:
    """How the audit log names the person: by pseudonym, as the console does."""
    return f"user:{user.pseudonym}"


def _lines() -> Iterator[str]:
    while True:
        yield sys.stdin.readline().rstrip("\r\n")


def sign_in(
    p: Platform, email: str, password_stdin: bool, *, permission: Permission | None = None, doing: str = ""
) -> ConsoleUser:
    """The console user ``email`` once their password (and second-factor code) checks out, holding
    ``permission`` when one is named (``doing`` says what for, in the refusal). Raises
    ``Unauthenticated`` with the console's one message whatever went wrong (the audit row holds why),
    or ``Forbidden``."""
    stdin = _lines()
    where, policy, db = address(), ThrottlePolicy.from_settings(p.settings), p.db
    with db.reading() as session:
        gate = throttle.gate(session, where, email, policy)
    if gate.blocked_until is not None:
        raise Unauthenticated(
            "too many failed sign-ins from this account on this machine: try again after "
            f"{gate.blocked_until:%H:%M} UTC"
        )
    password = next(stdin) if password_stdin else getpass.getpass(f"Password for {email}: ")
    try:
        user = users.sign_in(db, email, password)
    except Unauthenticated:
        with db.session() as session:
            throttle.record_failure(session, where, email, policy, known=gate.known)
        raise
    if user.totp_secret is None and gate.step_up_until is not None:
        # the account is under a distributed run and this machine is new to it: as in the console, only
        # the password and a second factor together get in (docs/console.md)
        raise Unauthenticated(users.SIGN_IN_FAILED)
    if user.totp_secret is not None:
        code = next(stdin) if password_stdin else getpass.getpass("Code from your authenticator app: ")
        key = totp.TotpKey.from_settings(p.settings)
        with db.session() as session:
            locked = session.get(ConsoleUser, user.id, with_for_update=True)
            try:
                good = locked is not None and totp.check_code(session, locked, code, key, policy)
            except totp.CodesThrottled as exc:
                raise Unauthenticated(
                    f"too many wrong codes for this account: try again after {exc.until:%H:%M} UTC"
                ) from None
            if good:
                record(session, actor(user), AuditAction.AUTH_SIGN_IN, actor(user), {"second_factor": "totp"})
            else:
                record(
                    session,
                    "anonymous",
                    AuditAction.AUTH_SIGN_IN_FAILED,
                    actor(user),
                    {"reason": "wrong_code"},
                )
        if not good:
            raise Unauthenticated(users.SIGN_IN_FAILED)
    with db.session() as session:
        throttle.record_success(session, where, email, policy)
        throttle.remember_address(session, where, user.id)
    if permission is not None and permission not in users.user_permissions(user):
        raise Forbidden(f"{email} lacks {permission}{', needed to ' + doing if doing else ''}")
    return user
