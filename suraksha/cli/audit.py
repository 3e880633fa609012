"""``suraksha audit``: prove the audit chain (against its checkpoints), checkpoint it, show its newest
rows, print its head hash, make a checkpoint signing key."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table

from suraksha import audit
from suraksha.cli.common import EXIT_OK, err, fail, out, platform, print_json
from suraksha.errors import InvalidInput

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
    checkpoints: bool = typer.Option(
        True,
        "--checkpoints/--no-checkpoints",
        help="Check the chain against the checkpoints in audit_checkpoint_file (default).",
    ),
    json_out: bool = JSON,
) -> None:
    """Walk the whole chain and check it against every checkpoint; exit 0 when every link holds, 1 at
    the first broken one (with why)."""
    with platform() as p:
        result = p.audit_verify(expect=expect, checkpoints=checkpoints)
        anchored = p.audit_checkpoints.path if checkpoints else None
    if json_out:
        print_json(result.as_dict())
    elif result.ok:
        out.print(
            f"audit chain ok: {result.count} rows, head {result.head_id} {result.head_hash or '(empty)'}",
            markup=False,
        )
        if result.checkpoint_id is not None:
            out.print(
                f"checked against checkpoints up to row {result.checkpoint_id} ({anchored})", markup=False
            )
        elif anchored is not None:
            err.print(
                f"note: no checkpoint in {anchored} yet: `suraksha audit checkpoint` writes one", markup=False
            )
    else:
        err.print(f"[red]audit chain broken[/red] at row {result.broken_id}: {result.reason}")
        err.print(f"last good row: {result.head_id} {result.head_hash}")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_BROKEN)


@app.command("checkpoint")
def checkpoint_command(json_out: bool = JSON) -> None:
    """Checkpoint the chain's head now: verified first, then appended to audit_checkpoint_file
    (signed with audit_signing_key when set). The worker does it every audit_checkpoint_every_s."""
    with platform() as p:
        try:
            checkpoint = p.audit_checkpoint()
        except InvalidInput as exc:
            raise fail(str(exc)) from None
        path = p.audit_checkpoints.path
    info = {**asdict(checkpoint), "file": str(path)} if checkpoint else {"file": str(path), "head_id": None}
    if json_out:
        print_json(info)
    elif checkpoint is None:
        out.print("the audit log is empty: nothing to checkpoint")
    else:
        signed = "signed" if checkpoint.signature else "unsigned (set audit_signing_key to sign)"
        out.print(
            f"checkpoint: row {checkpoint.head_id} {checkpoint.head_hash}, {signed}, in {path}", markup=False
        )


@app.command("keygen")
def keygen_command() -> None:
    """Print a new audit_signing_key (base64 Ed25519 seed). Keep it outside the database and its
    backups; set it as SURAKSHA_AUDIT_SIGNING_KEY for the worker and for `audit verify`."""
    out.print(audit.new_signing_key_text(), markup=False)


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
