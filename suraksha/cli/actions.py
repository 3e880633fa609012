"""``suraksha actions``: actions sent to the platform that it has not confirmed, or said failed."""

from __future__ import annotations

import typer
from rich.table import Column, Table

from suraksha.cli.common import out, platform, print_json

app = typer.Typer(help="Actions sent to the host platform and what it said of them.", no_args_is_help=True)


@app.command("unconfirmed")
def unconfirmed_command(
    failed: bool = typer.Option(
        True, "--failed/--no-failed", help="Also list actions the platform said failed."
    ),
    limit: int = typer.Option(500, min=1, max=10000, help="Most actions listed (oldest first)."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Actions the platform has not acknowledged (done or failed) for longer than
    action_ack_overdue_s, and those it said failed with its reason: what to follow up with it."""
    with platform() as p:
        rows = p.unconfirmed_actions(include_failed=failed, limit=limit)
        overdue_s = p.settings.action_ack_overdue_s
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        out.print(f"every action is confirmed (none unacknowledged for over {overdue_s:g} s, none failed)")
        return
    # Folded, never cut: an operator reading this in a narrow terminal still sees every value.
    headers = ("action", "kind", "target", "item", "account", "state", "since", "why")
    table = Table(*(Column(h, overflow="fold") for h in headers))
    for r in rows:
        table.add_row(
            str(r.action_id),
            r.kind,
            r.target,
            r.item_id,
            r.account_id,
            r.state + (" (overdue)" if r.overdue else ""),
            r.created_at.isoformat(timespec="seconds"),
            r.state_reason or ("not acknowledged" if r.overdue else ""),
        )
    out.print(table)
