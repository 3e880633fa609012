"""``suraksha flaggers ...``: the trusted-flagger registry (administrators) and the flaggers' accuracy
(leads): add, list, show, update, new-key, new-secret, suspend, reinstate, clear-review, notices, due;
add-user, remove-user and users link console users to a flagger (its staff)."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.table import Table

from suraksha.cli.common import cli_actor, err, out, platform, print_json
from suraksha.flaggers.models import Designation, FlaggerState
from suraksha.flaggers.registry import FlaggerChanges, NewFlagger
from suraksha.flaggers.schemas import NoticeCategory
from suraksha.legal.clocks import parse_duration

app = typer.Typer(
    help="Trusted flaggers: register them (each gets its own API key), suspend, and see their accuracy.",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _share(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, float) else "-"


def _wait(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Short name: lower-case letters, digits and '-'."),
    organisation: str = typer.Option(..., help="The organisation's full name."),
    country: str = typer.Option(..., help="Where it is established (ISO 3166-1 alpha-2, e.g. IN)."),
    designation: Designation = typer.Option(
        ..., help="dsa_art22 (DSA Art. 22 trusted flagger), statutory, hotline or partner."
    ),
    designated_on: str = typer.Option(None, help="Date of the designation (YYYY-MM-DD); dsa_art22 needs it."),
    authority: str = typer.Option("", help="The designating authority (a Digital Services Coordinator...)."),
    jurisdiction: str = typer.Option(
        "IN", help="Whose clocks its notices run on (a jurisdiction file with grievance clocks)."
    ),
    contact: list[str] = typer.Option([], "--contact", help="A contact (name and address). Repeatable."),
    expertise: list[NoticeCategory] = typer.Option(
        [], "--expertise", help="A category it flags. Repeatable."
    ),
    priority: int = typer.Option(60, min=0, max=100, help="Review priority of what its notices name."),
    webhook_url: str = typer.Option(None, help="Where its acknowledgements and outcomes go (signed)."),
    allow_private_network: bool = typer.Option(
        False, help="Let webhook_url be on a private network (RFC 1918)."
    ),
    json_out: bool = JSON,
) -> None:
    """Register a flagger. Its API key and webhook secret are printed once, here: hand them over now."""
    try:
        on = date.fromisoformat(designated_on) if designated_on else None
    except ValueError:
        err.print(f"[red]error:[/red] --designated-on {designated_on!r} is not a date such as 2025-05-01")
        raise typer.Exit(2) from None
    new = NewFlagger(
        name=name,
        organisation=organisation,
        country=country,
        designation=designation,
        jurisdiction=jurisdiction,
        designated_on=on,
        designating_authority=authority,
        contacts=contact,
        expertise=[str(e) for e in expertise],
        priority=priority,
        webhook_url=webhook_url,
        webhook_allow_private_network=allow_private_network,
    )
    with platform() as p:
        shown = p.flagger_add(new, actor=cli_actor())
    if json_out:
        print_json(shown)
        return
    out.print(f"registered flagger {shown['name']} ({shown['organisation']}), priority {shown['priority']}")
    out.print("API key (role flagger):", markup=False)
    out.print(str(shown["api_key"]), markup=False)
    out.print("Webhook secret (checks our signatures, docs/webhooks.md):", markup=False)
    out.print(str(shown["webhook_secret"]), markup=False)
    err.print("[yellow]Hand both over now:[/yellow] neither can be shown again.")


@app.command("list")
def list_command(json_out: bool = JSON) -> None:
    """Every flagger with its state, accuracy, median time to decision and any status-review mark."""
    with platform() as p:
        rows = p.flaggers_list()
    if json_out:
        print_json(rows)
        return
    if not rows:
        out.print("no flaggers yet: `suraksha flaggers add NAME ...` registers one")
        return
    table = Table("name", "organisation", "designation", "state", "notices", "decided", "accuracy", "median")
    for row in rows:
        figures: dict[str, Any] = row["accuracy"]  # type: ignore[assignment]
        state = str(row["state"]) + (" [red]status review[/red]" if row["status_review"] else "")
        table.add_row(
            str(row["name"]),
            str(row["organisation"]),
            str(row["designation"]),
            state,
            str(figures["notices"]),
            str(figures["decided"]),
            _share(figures["accuracy"]),
            _wait(figures["median_decision_s"]),
        )
    out.print(table)


@app.command("show")
def show(name: str, json_out: bool = JSON) -> None:
    """One flagger: its registration, state and figures."""
    with platform() as p:
        shown = p.flagger_show(name)
    if json_out:
        print_json(shown)
        return
    figures: dict[str, Any] = shown.pop("accuracy")  # type: ignore[assignment]
    for key, value in shown.items():
        out.print(f"{key}: {value}", markup=False)
    out.print(
        f"notices: {figures['notices']}, decided: {figures['decided']}, confirmed: {figures['confirmed']} "
        f"({_share(figures['accuracy'])}), not found: {figures['not_found']}, median time to decision: "
        f"{_wait(figures['median_decision_s'])}",
        markup=False,
    )
    if shown["status_review"]:
        out.print(f"[red]marked for a status review:[/red] {shown['status_review']}")


@app.command("suspend")
def suspend(
    name: str, reason: str = typer.Option(..., help="Why (the flagger is owed it)."), json_out: bool = JSON
) -> None:
    """Suspend a flagger: its notices are refused until it is reinstated (it still reads its own)."""
    with platform() as p:
        shown = p.flagger_set_state(name, FlaggerState.SUSPENDED, reason=reason, actor=cli_actor())
    print_json(shown) if json_out else out.print(f"flagger {name} suspended")


@app.command("reinstate")
def reinstate(
    name: str, reason: str = typer.Option(..., help="Why it is heard again."), json_out: bool = JSON
) -> None:
    """Reinstate a suspended flagger."""
    with platform() as p:
        shown = p.flagger_set_state(name, FlaggerState.ACTIVE, reason=reason, actor=cli_actor())
    print_json(shown) if json_out else out.print(f"flagger {name} reinstated")


@app.command("update")
def update(
    name: str,
    priority: int = typer.Option(None, min=0, max=100, help="Review priority of what its notices name."),
    webhook_url: str = typer.Option(None, help="Where its webhooks go; '' removes the webhook."),
    contact: list[str] = typer.Option(None, "--contact", help="Its contacts (replace them all). Repeatable."),
    expertise: list[NoticeCategory] = typer.Option(
        None, "--expertise", help="Its categories (replace them all). Repeatable."
    ),
    designation: Designation = typer.Option(None, help="dsa_art22, statutory, hotline or partner."),
    designated_on: str = typer.Option(None, help="Date of the designation (YYYY-MM-DD)."),
    authority: str = typer.Option(None, help="The designating authority."),
    json_out: bool = JSON,
) -> None:
    """Change a flagger's registration (audited with what changed)."""
    try:
        on = date.fromisoformat(designated_on) if designated_on else None
    except ValueError:
        err.print(f"[red]error:[/red] --designated-on {designated_on!r} is not a date such as 2025-05-01")
        raise typer.Exit(2) from None
    changes = FlaggerChanges(
        priority=priority,
        webhook_url=webhook_url,
        contacts=contact or None,
        expertise=[str(e) for e in expertise] if expertise else None,
        designation=designation,
        designated_on=on,
        designating_authority=authority,
    )
    with platform() as p:
        shown = p.flagger_update(name, changes, actor=cli_actor())
    print_json(shown) if json_out else out.print(f"flagger {name} updated")


@app.command("new-key")
def new_key(name: str, json_out: bool = JSON) -> None:
    """Replace a flagger's API key (lost or leaked): the old one stops working now; the new one is
    printed once."""
    with platform() as p:
        key = p.flagger_new_key(name, actor=cli_actor())
    if json_out:
        print_json({"name": name, "api_key": key})
        return
    out.print(f"new API key for {name} (the old one is revoked):")
    out.print(key, markup=False)
    err.print("[yellow]Hand it over now:[/yellow] it cannot be shown again.")


@app.command("new-secret")
def new_secret(name: str, json_out: bool = JSON) -> None:
    """Replace a flagger's webhook secret; webhooks not yet delivered are signed with the new one."""
    with platform() as p:
        secret = p.flagger_new_secret(name, actor=cli_actor())
    if json_out:
        print_json({"name": name, "webhook_secret": secret})
        return
    out.print(f"new webhook secret for {name}:")
    out.print(secret, markup=False)
    err.print("[yellow]Hand it over now:[/yellow] it cannot be shown again.")


@app.command("clear-review")
def clear_review(
    name: str,
    note: str = typer.Option(..., help="What the review of its status found."),
    json_out: bool = JSON,
) -> None:
    """Clear the status-review mark its accuracy set, once a lead has reviewed its status."""
    with platform() as p:
        shown = p.flagger_clear_review(name, note=note, actor=cli_actor())
    print_json(shown) if json_out else out.print(f"flagger {name}: status review cleared")


@app.command("due")
def due(
    within: str = typer.Option(None, help="Only clocks due within, e.g. 24h (overdue always)."),
    json_out: bool = JSON,
) -> None:
    """Every undecided notice's decision clock, overdue first, then soonest (every flagger)."""
    try:
        window = parse_duration(within) if within else None
    except ValueError as exc:
        err.print(f"[red]error:[/red] --within: {exc}")
        raise typer.Exit(2) from None
    with platform() as p:
        rows = p.notices_due(within=window)
    if json_out:
        print_json(rows)
        return
    if not rows:
        out.print("no notice is waiting on a clock")
        return
    table = Table("notice", "flagger", "reference", "category", "step", "due", "state")
    for row in rows:
        table.add_row(
            str(row["notice"]),
            str(row["flagger"]),
            str(row["reference"]),
            str(row["category"]),
            str(row["step"]),
            str(row["due_at"])[:16],
            str(row["state"]),
        )
    out.print(table)


@app.command("notices")
def notices(
    name: str,
    limit: int = typer.Option(20, min=1, max=500, help="How many, newest first."),
    json_out: bool = JSON,
) -> None:
    """A flagger's latest notices: state, outcome and the decision clock."""
    with platform() as p:
        rows = p.flagger_notices(name, limit=limit)
    if json_out:
        print_json(rows)
        return
    table = Table(
        "notice", "reference", "category", "state", "outcome", "things", "decision clock", "webhooks"
    )
    for row in rows:
        clocks: list[dict[str, Any]] = row["clocks"]  # type: ignore[assignment]
        decision = [c for c in clocks if c["step"] != "acknowledge"]
        clock = f"{decision[0]['state']} (due {str(decision[0]['due_at'])[:16]})" if decision else "-"
        targets: list[dict[str, Any]] = row["targets"]  # type: ignore[assignment]
        webhooks: dict[str, str] = row["webhooks"]  # type: ignore[assignment]
        table.add_row(
            str(row["id"]),
            str(row["reference"]),
            str(row["category"]),
            str(row["state"]),
            str(row["outcome"] or "-"),
            str(len(targets)),
            clock,
            ", ".join(f"{event.removeprefix('notice.')}: {state}" for event, state in webhooks.items()),
        )
    out.print(table)


@app.command("add-user")
def add_user(
    name: str,
    email: str = typer.Argument(..., help="A console user whose one role is flagger."),
    json_out: bool = JSON,
) -> None:
    """Link a console user to the flagger, as its staff: they sign in to the console to send its notices
    and read them, and see nothing else. Make the user first: `suraksha user create EMAIL --role
    flagger`."""
    with platform() as p:
        shown = p.flagger_add_user(name, email, actor=cli_actor())
    if json_out:
        print_json(shown)
    else:
        out.print(
            f"console user {shown['email']} ({shown['pseudonym']}) belongs to flagger {shown['flagger']}"
        )


@app.command("remove-user")
def remove_user(name: str, email: str, json_out: bool = JSON) -> None:
    """Unlink a console user from the flagger; their console sessions end now."""
    with platform() as p:
        p.flagger_remove_user(name, email, actor=cli_actor())
    if json_out:
        print_json({"flagger": name, "email": email, "removed": True})
    else:
        out.print(f"console user {email} no longer belongs to flagger {name}")


@app.command("users")
def users(name: str, json_out: bool = JSON) -> None:
    """The console users who belong to the flagger."""
    with platform() as p:
        rows = p.flagger_users(name)
    if json_out:
        print_json(rows)
        return
    if not rows:
        out.print(f"no console user belongs to flagger {name}: `suraksha flaggers add-user {name} EMAIL`")
        return
    table = Table("email", "pseudonym", "linked", "last sign-in", "disabled")
    for row in rows:
        table.add_row(
            str(row["email"]),
            str(row["pseudonym"]),
            str(row["linked_at"])[:19],
            str(row["last_sign_in_at"] or "never")[:19],
            "yes" if row["disabled"] else "",
        )
    out.print(table)
