"""``suraksha answer``: the commission's questions for a period, answered from the records."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import typer

from suraksha.cli import identity
from suraksha.cli.common import fail, out, platform, print_json
from suraksha.permissions import Permission


def _day(raw: str, name: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(raw), time.min, tzinfo=UTC)
    except ValueError:
        raise fail(f"{name} {raw!r} is not a date such as 2018-09-01") from None


def answer_command(
    start: str = typer.Option(..., "--from", help="First day of the period (UTC), e.g. 2018-09-01."),
    end: str = typer.Option(..., "--to", help="Last day of the period (UTC, included), e.g. 2022-09-20."),
    item: list[str] = typer.Option([], "--item", help="A post or URL to explain (repeatable)."),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Write reply.pdf, reply.docx and answer.json to this (new, private) folder."
    ),
    user: str = typer.Option(..., "--user", help="E-mail of the console user (legal or lead) asking."),
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = typer.Option(False, "--json", help="The whole answer as JSON."),
) -> None:
    """Answer the commission's five questions for a period from the system's own records: the steps
    in force, reporting to the police and how fast, the automated share, each named post explained, and
    the counts."""
    first, last = _day(start, "--from"), _day(end, "--to")
    with platform() as p:
        identity.sign_in(
            p, user, password_stdin, permission=Permission.LEGAL_VIEW, doing="answer for the platform"
        )
        drafted = p.answer(first, last + timedelta(days=1), items=item)  # the last day included
        if out_dir is not None:
            if out_dir.exists() and any(out_dir.iterdir()):
                raise fail(f"{out_dir} is not empty: give a new folder for the reply")
            p.write_answer(drafted, out_dir)
    if json_out:
        print_json(drafted.as_dict())
        return
    for qa in drafted.questions:
        out.print(f"[bold]{qa.number}. {qa.question}[/bold]\n{qa.answer}\n")
    if out_dir is not None:
        out.print(f"written to {out_dir}: reply.pdf, reply.docx (to edit), answer.json")
