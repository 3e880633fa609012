"""``suraksha sor``: DSA statements of reasons (write and submit the due ones, list, show, retry) and
``suraksha dsa-sim``: the local stand-in for the Transparency Database's statement API."""

from __future__ import annotations

import os

import typer
from rich.table import Table

from suraksha.cli import identity
from suraksha.cli.common import fail, out, platform, print_json
from suraksha.permissions import Permission
from suraksha.transparency.ports import TOKEN_ENV

app = typer.Typer(help="DSA statements of reasons (Art. 17, 24(5)).", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Machine-readable output.")


@app.command("submit")
def submit_command(
    statement_id: list[int] = typer.Option([], "--id", help="Only this statement (repeatable)."),
    json_out: bool = JSON,
) -> None:
    """Write the statement of each restriction in scope that has none, then submit every due one now (what
    the worker's transparency.statements job does)."""
    with platform() as p:
        if not p.settings.dsa_sor_enabled:
            raise fail("statements of reasons are off: set SURAKSHA_DSA_SOR_ENABLED=true first")
        counts = p.sor_submit(ids=statement_id)
        where = p.sor_api.label
    if json_out:
        print_json({**counts, "to": where})
        return
    out.print(
        f"written {counts['written']}; submitted {counts['submitted']}, refused {counts['refused']}, "
        f"to retry {counts['retrying']}, failed {counts['failed']} ({where})"
    )


@app.command("list")
def list_command(
    state: str | None = typer.Option(
        None, "--state", help="pending, submitting, submitted, refused, failed, not_required."
    ),
    limit: int = typer.Option(50, min=1, max=10_000),
    json_out: bool = JSON,
) -> None:
    """Statements, newest first."""
    with platform() as p:
        rows = p.sor_list(state=state, limit=limit)
    if json_out:
        print_json(rows)
        return
    table = Table("id", "action", "puid", "state", "uuid", "attempts", "error")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["action_id"]),
            str(r["puid"]),
            str(r["state"]),
            str(r["uuid"] or "-"),
            str(r["attempts"]),
            str(r["error"])[:80],
        )
    out.print(table)


@app.command("show")
def show_command(statement_id: int = typer.Argument(...)) -> None:
    """One statement, with the body it sends (JSON)."""
    with platform() as p:
        print_json(p.sor_show(statement_id))


@app.command("retry")
def retry_command(
    statement_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="What was fixed."),
    user: str = identity.USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Queue a refused or failed statement again, once its cause is fixed (a signed-in person with
    legal:manage)."""
    with platform() as p:
        person = identity.sign_in(
            p, user, password_stdin, permission=Permission.LEGAL_MANAGE, doing="retry a statement"
        )
        row = p.sor_retry(statement_id, actor=identity.actor(person), reason=reason)
    out.print(f"statement {row['id']} ({row['puid']}) queued to be sent again")


def dsa_sim_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8901, min=1, max=65535),
) -> None:
    """Serve a local stand-in for the DSA Transparency Database's statement API at
    http://HOST:PORT/api/v1 (for tests, demos, development). It accepts the token in SURAKSHA_DSA_TOKEN,
    validates like the API (required fields, allowed values, unique puids, 422 with the API's errors)
    and keeps what it stored in memory. Nothing sent to it reaches the Commission."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from suraksha.transparency.sor_api import TransparencyDatabase  # noqa: PLC0415
    from suraksha.web.dsa_sim import create_dsa_sim_app  # noqa: PLC0415 - nor the web framework

    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise fail(
            f"the stand-in needs a token like the real API: set {TOKEN_ENV} (the client sends the same)"
        )
    database = TransparencyDatabase(token, base_url=f"http://{host}:{port}")
    out.print(
        f"Transparency Database stand-in on http://{host}:{port}/api/v1 (nothing reaches the Commission)"
    )
    uvicorn.run(create_dsa_sim_app(database), host=host, port=port, log_config=None, access_log=False)
