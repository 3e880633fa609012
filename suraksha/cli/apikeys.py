"""``suraksha apikey ...``: create, list and revoke the API keys the web service accepts."""

from __future__ import annotations

import getpass
from typing import Any

import typer
from rich.table import Table

from suraksha.access import services
from suraksha.access.models import ApiKey, ApiScope
from suraksha.cli.common import err, out, platform, print_json

app = typer.Typer(help="API keys for the web service: create, list, revoke.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _key_dict(key: ApiKey) -> dict[str, Any]:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "roles": sorted(s.value for s in services.key_scopes(key)),
        "note": key.note,
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@app.command("create")
def create(
    name: str,
    role: list[ApiScope] = typer.Option(
        ...,
        "--role",
        help="ingest: submit and check; read: lookups and banks; admin: everything. Repeatable.",
    ),
    note: str = typer.Option("", help="Free text: who holds the key, what for."),
    json_out: bool = JSON,
) -> None:
    """Create a key. Its secret is printed once, here, and never stored: keep it now."""
    with platform() as p, p.db.session() as session:
        key, plaintext = services.create_api_key(session, name, role, note, by=f"cli:{getpass.getuser()}")
        info = _key_dict(key)
    if json_out:
        print_json({**info, "key": plaintext})
        return
    out.print(f"created API key {info['name']} (roles: {', '.join(info['roles'])})")
    out.print(plaintext, markup=False)
    err.print("[yellow]Keep this key now:[/yellow] it is not stored and cannot be shown again.")


@app.command("list")
def list_command(json_out: bool = JSON) -> None:
    """List the keys (never their secrets)."""
    with platform() as p, p.db.session() as session:
        rows = [_key_dict(k) for k in services.list_api_keys(session)]
    if json_out:
        print_json(rows)
        return
    if not rows:
        out.print("no API keys yet: `suraksha apikey create NAME --role admin` makes one")
        return
    table = Table("name", "prefix", "roles", "created", "last used", "revoked", "note")
    for r in rows:
        table.add_row(
            str(r["name"]),
            str(r["prefix"]),
            " ".join(r["roles"]),
            str(r["created_at"])[:19],
            str(r["last_used_at"] or "never")[:19],
            str(r["revoked_at"] or "")[:19],
            str(r["note"]),
        )
    out.print(table)


@app.command("revoke")
def revoke(name: str, json_out: bool = JSON) -> None:
    """Revoke a key: every request with it is refused from now on."""
    with platform() as p, p.db.session() as session:
        info = _key_dict(services.revoke_api_key(session, name, by=f"cli:{getpass.getuser()}"))
    if json_out:
        print_json(info)
    else:
        out.print(f"API key {name} revoked")
