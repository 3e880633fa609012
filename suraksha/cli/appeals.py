"""``suraksha appeals``: users' appeals and the reversal rates they give; ``suraksha user-notices``: the
notices to users (statements of reasons), those withheld by law and releasing one."""

from __future__ import annotations

import typer
from rich.table import Column, Table

from suraksha.cli import identity
from suraksha.cli.common import cli_actor, out, platform, print_json
from suraksha.permissions import Permission

app = typer.Typer(help="Users' appeals of decisions, and reversal rates.", no_args_is_help=True)
notices_app = typer.Typer(
    help="Notices to users: statements of reasons, withheld ones.", no_args_is_help=True
)


@app.command("list")
def list_command(
    state: str = typer.Option(
        None, help="Only appeals in this state (open, awaiting_approval, upheld, reversed)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Appeals, newest first, with their clocks."""
    with platform() as p:
        rows = p.appeals_list(state=state)
    if json_out:
        print_json(rows)
        return
    table = Table("appeal", "platform id", "decision", "state", "due", "clock")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["appeal_id"]),
            str(r["decision_id"]),
            str(r["state"]),
            str(r["due_at"]),
            str(r["clock"]),
        )
    out.print(table if rows else "no appeals")


@app.command("show")
def show_command(
    appeal_id: int = typer.Argument(..., min=1, help="Suraksha's id of the appeal."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """One appeal as the platform reads it."""
    with platform() as p:
        shown = p.appeal(appeal_id)
    if json_out:
        print_json(shown)
        return
    for key, value in shown.items():
        out.print(f"{key}: {value}")


@app.command("rates")
def rates_command(
    flag: bool = typer.Option(
        True,
        "--flag/--no-flag",
        help="Flag (and clear) the often wrong first (audited); --no-flag only reads.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Reversal rates of decided appeals by policy, tool, bank, text rule and classifier. Banks, rules
    and classifiers reversed at or over appeal_flag_threshold, over at least appeal_flag_min_count
    appeals, are flagged as often wrong (an audit row when a flag is set or cleared)."""
    with platform() as p:
        rows = p.appeal_rates(actor=cli_actor(), flag=flag)
        threshold, minimum = p.settings.appeal_flag_threshold, p.settings.appeal_flag_min_count
    if json_out:
        print_json([r.as_dict() for r in rows])
        return
    if not rows:
        out.print("no decided appeals yet")
        return
    table = Table("by", Column("what", overflow="fold"), "appealed", "reversed", "rate", "flag")
    for r in rows:
        table.add_row(
            r.dimension,
            r.key,
            str(r.appealed),
            str(r.reversed),
            f"{r.rate:.0%}",
            "[red]often wrong[/red]" if r.flagged else "",
        )
    out.print(table)
    out.print(f"flagged: reversed in {threshold:.0%} or more of at least {minimum} appeals")


@notices_app.command("list")
def notices_command(
    state: str = typer.Option(None, help="Only notices in this state (pending, withheld, ready, delivered)."),
    limit: int = typer.Option(100, min=1, max=1000),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Notices to users, newest first; withheld ones say why."""
    with platform() as p:
        rows = p.user_notices(state=state, limit=limit)
    if json_out:
        print_json(rows)
        return
    table = Table(
        "notice",
        "kind",
        "decision",
        "state",
        Column("withheld because", overflow="fold"),
        Column("what", overflow="fold"),
    )
    for r in rows:
        why = f"{r['withheld_reason']} ({r['withheld_ref']})" if r["withheld_reason"] else ""
        statement = r["statement"] or {}
        table.add_row(
            str(r["id"]),
            str(r["kind"]),
            str(r["decision_id"]),
            str(r["state"]),
            why,
            str(statement.get("what", "")),
        )
    out.print(table if rows else "no notices")


@notices_app.command("release")
def release_command(
    notice_id: int = typer.Argument(
        ..., min=1, help="The notice's id (`suraksha user-notices list --state withheld`)."
    ),
    note: str = typer.Option(..., "--note", help="Why it may go to the user now (audited)."),
    user: str = identity.USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Release a withheld notice once its reason has ended (a lead signs in: telling too early can tip
    off an offender). It goes out unless a gag or an investigation still covers it."""
    with platform() as p:
        person = identity.sign_in(
            p, user, password_stdin, permission=Permission.DECISION_APPROVE, doing="release a notice"
        )
        shown = p.notice_release(notice_id, actor=identity.actor(person), note=note)
    out.print(f"notice {shown['id']} released: it goes out unless a gag or an investigation still covers it")
