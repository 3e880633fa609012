"""``suraksha user ...``: create, list and disable the people who sign in to the review console."""

from __future__ import annotations

import getpass
import sys
from typing import Any

import typer
from rich.table import Table

from suraksha.access import users
from suraksha.access.models import ConsoleUser
from suraksha.cli.common import fail, out, platform, print_json
from suraksha.permissions import Role

app = typer.Typer(help="Console users: create, list, disable.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _user_dict(user: ConsoleUser) -> dict[str, Any]:
    return {
        "email": user.email,
        "pseudonym": user.pseudonym,
        "roles": sorted(r.value for r in users.user_roles(user)),
        "created_at": user.created_at.isoformat(),
        "last_sign_in_at": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None,
        "locked_until": user.locked_until.isoformat() if user.locked_until else None,
        "disabled_at": user.disabled_at.isoformat() if user.disabled_at else None,
    }


def _by() -> str:
    return f"cli:{getpass.getuser()}"


@app.command("create")
def create(
    email: str,
    role: list[Role] = typer.Option(..., "--role", help="A role to grant. Repeatable."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin (for scripts)."
    ),
    json_out: bool = JSON,
) -> None:
    """Create a console user. The password is asked for twice, hidden (or read with --password-stdin);
    prints the user's pseudonym, the name audit rows, exports and reports use."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise fail("--password-stdin: no password on stdin")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with platform() as p, p.db.session() as session:
        info = _user_dict(users.create_user(session, email, role, password, by=_by()))
    if json_out:
        print_json(info)
    else:
        out.print(info["pseudonym"])


@app.command("list")
def list_command(json_out: bool = JSON) -> None:
    """List the console users (never their password hashes)."""
    with platform() as p, p.db.reading() as session:
        rows = [_user_dict(u) for u in users.list_users(session)]
    if json_out:
        print_json(rows)
        return
    if not rows:
        out.print("no console users yet: `suraksha user create EMAIL --role admin` makes one")
        return
    table = Table("email", "pseudonym", "roles", "created", "last sign-in", "locked until", "disabled")
    for r in rows:
        table.add_row(
            str(r["email"]),
            str(r["pseudonym"]),
            " ".join(r["roles"]),
            str(r["created_at"])[:19],
            str(r["last_sign_in_at"] or "never")[:19],
            str(r["locked_until"] or "")[:19],
            str(r["disabled_at"] or "")[:19],
        )
    out.print(table)


@app.command("disable")
def disable(email: str, json_out: bool = JSON) -> None:
    """Disable a console user: every sign-in is refused from now on."""
    with platform() as p, p.db.session() as session:
        info = _user_dict(users.disable_user(session, email, by=_by()))
    if json_out:
        print_json(info)
    else:
        out.print(f"console user {info['email']} ({info['pseudonym']}) disabled")
