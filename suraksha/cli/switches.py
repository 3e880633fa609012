"""``suraksha switch``: the kill switches, flipped in the database (every process obeys at its next
decision, delivery or write), with who and why."""

from __future__ import annotations

import getpass

import typer
from rich.table import Table

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import all_switches, set_switch
from suraksha.cli.common import out, platform, print_json

app = typer.Typer(
    help="Kill switches: pause automated enforcement, pause delivery, read-only.", no_args_is_help=True
)


@app.command("list")
def list_command(json_out: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Every switch, on or off, with who flipped it last, when and why."""
    with platform() as p, p.db.session() as session:
        rows = [
            {
                "switch": switch.value,
                "on": bool(row and row.enabled),
                "by": row.changed_by if row else "",
                "at": row.changed_at.isoformat() if row else "",
                "reason": row.reason if row else "",
            }
            for switch, row in all_switches(session).items()
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("switch", "by", "at", "reason", "state")
    for row in rows:
        table.add_row(
            *(str(row[k]) for k in ("switch", "by", "at", "reason")),
            "[red]ON[/red]" if row["on"] else "off",
        )
    out.print(table)


def _flip(switch: KillSwitch, enabled: bool, reason: str) -> None:
    with platform() as p, p.db.session() as session:
        set_switch(session, switch, enabled, by=f"cli:{getpass.getuser()}", reason=reason)
    out.print(f"{switch.value} is now {'ON' if enabled else 'off'}")


@app.command("on")
def on_command(
    switch: KillSwitch = typer.Argument(..., help="Which switch."),
    reason: str = typer.Option(..., "--reason", help="Why (kept with the switch and shown to others)."),
) -> None:
    """Turn a switch on."""
    _flip(switch, True, reason)


@app.command("off")
def off_command(
    switch: KillSwitch = typer.Argument(..., help="Which switch."),
    reason: str = typer.Option("", "--reason", help="Why."),
) -> None:
    """Turn a switch off."""
    _flip(switch, False, reason)
