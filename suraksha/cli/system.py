"""``suraksha settings`` and ``suraksha db``."""

from __future__ import annotations

import typer
from rich.table import Table

from suraksha.cli.common import out, platform, print_json
from suraksha.db.migrate import current_revision, head_revision
from suraksha.settings import settings_markdown

db_app = typer.Typer(help="Database: migrate and inspect.", no_args_is_help=True)


def settings_command(
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    markdown: bool = typer.Option(
        False, "--markdown", help="Print the table of every setting and its default, as in README.md."
    ),
) -> None:
    """Show every setting, its value (secrets hidden) and where the value came from."""
    if markdown:
        typer.echo(settings_markdown(), nl=False)
        return
    with platform() as p:
        rows = p.settings.describe()
        if json_out:
            print_json(rows)
            return
        table = Table("setting", "environment variable", "value", "from")
        for row in rows:
            table.add_row(row["name"], row["env"], row["value"], row["source"])
        out.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    with platform() as p:
        db = p.db  # opening migrates
        out.print(f"database at revision {current_revision(db)} ({db.dialect})")


@db_app.command("status")
def db_status(json_out: bool = typer.Option(False, "--json")) -> None:
    """Show the schema revision in use and the newest one shipped."""
    with platform() as p:
        db = p.db
        status = {"dialect": db.dialect, "current": current_revision(db), "head": head_revision(db)}
        if json_out:
            print_json(status)
        else:
            out.print(f"{status['dialect']}: revision {status['current']} (newest {status['head']})")
