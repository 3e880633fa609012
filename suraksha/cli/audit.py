"""``suraksha audit``: prove the audit chain, show its newest rows, print its head hash."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from suraksha import audit
from suraksha.cli.common import EXIT_OK, err, out, platform, print_json

EXIT_BROKEN = 1

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Machine-readable output.")


@app.command("verify")
def verify_command(
    expect: str | None = typer.Option(
        None,
        "--expect",
        help="A head hash kept elsewhere earlier (`suraksha audit head`): it must be in the chain.",
    ),
    json_out: bool = JSON,
) -> None:
    """Walk the whole chain; exit 0 when every link holds, 1 at the first broken one (with why)."""
    with platform() as p, p.db.reading() as session:
        result = audit.verify(session, expect=expect)
    if json_out:
        print_json(result.as_dict())
    elif result.ok:
        out.print(
            f"audit chain ok: {result.count} rows, head {result.head_id} {result.head_hash or '(empty)'}"
        )
    else:
        err.print(f"[red]audit chain broken[/red] at row {result.broken_id}: {result.reason}")
        err.print(f"last good row: {result.head_id} {result.head_hash}")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_BROKEN)


@app.command("tail")
def tail_command(
    n: int = typer.Option(20, "-n", "--lines", min=1, help="How many of the newest rows."),
    json_out: bool = JSON,
) -> None:
    """The newest rows, oldest first."""
    with platform() as p, p.db.reading() as session:
        rows = [audit.event_dict(row) for row in audit.tail(session, n)]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "at", "actor", "action", "subject", "details")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["at"])[:19],
            str(row["actor"]),
            str(row["action"]),
            str(row["subject"]),
            json.dumps(row["details"], sort_keys=True),
        )
    out.print(table)


@app.command("head")
def head_command(json_out: bool = JSON) -> None:
    """Print the head hash: keep it outside this database to catch a later rewrite of the chain."""
    with platform() as p, p.db.reading() as session:
        row = audit.head(session)
        info = {"id": row.id, "hash": row.hash} if row else {"id": None, "hash": None}
    if json_out:
        print_json(info)
    elif info["hash"] is None:
        out.print("the audit log is empty")
    else:
        out.print(str(info["hash"]), markup=False)
