"""``suraksha legal``: the legal desk from the command line. Every command names the signed-in person
(``--user``): reading shows confidential orders, changing answers to an authority."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from suraksha.app import Platform
from suraksha.cli import identity
from suraksha.cli.common import fail, out, platform, print_json
from suraksha.enforcement.models import ActionKind
from suraksha.legal.clocks import RequestKind, Step, parse_duration
from suraksha.legal.models import Channel, RejectReason, ScopeKind
from suraksha.legal.services import NewRequest, ScopeEntry
from suraksha.permissions import Permission
from suraksha.vault.services import EvidenceActor

app = typer.Typer(help="The legal desk: requests from authorities, each on its clock.", no_args_is_help=True)
authority_app = typer.Typer(help="The authorities that send requests.", no_args_is_help=True)
app.add_typer(authority_app, name="authority")

USER = typer.Option(..., "--user", help="E-mail of the console user (legal role) doing this.")
JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _person(p: Platform, email: str, password_stdin: bool, permission: Permission, doing: str) -> str:
    return identity.actor(identity.sign_in(p, email, password_stdin, permission=permission, doing=doing))


def _time(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise fail(f"{name} {raw!r} is not a time such as 2022-09-20T10:00+05:30") from None
    if parsed.tzinfo is None:
        raise fail(f"{name} {raw!r} has no offset: give it as 2022-09-20T10:00+05:30 (or Z for UTC)")
    return parsed.astimezone(UTC)


def _left(seconds: int) -> str:
    late, seconds = seconds < 0, abs(seconds)
    days, rest = divmod(seconds, 86400)
    text = (f"{days}d " if days else "") + f"{rest // 3600}h {rest % 3600 // 60:02d}m"
    return f"[bold red]OVERDUE by {text}[/bold red]" if late else f"in {text}"


def _show_clocks(rows: list[dict[str, object]]) -> None:
    table = Table("request", "kind", "step", "due (UTC)", "left", "state", "source")
    for row in rows:
        due = datetime.fromisoformat(str(row["due_at"]))
        left = int(str(row["remaining_s"]))
        state = str(row["state"])
        table.add_row(
            f"#{row['request_id']} {row.get('reference') or ''}".strip(),
            str(row["kind"]),
            str(row["step"]),
            f"{due:%Y-%m-%d %H:%M}",
            _left(left) if state not in {"met", "met_late"} else state,
            state,
            str(row["source"])[:60],
        )
    out.print(table)


@authority_app.command("add")
def authority_add(
    agency: str = typer.Option(..., help="The agency (e.g. 'Delhi Police, IFSO')."),
    jurisdiction: str = typer.Option(..., help="IN, IN-DL, US, US-CA, EU..."),
    officer: str = typer.Option("", help="The issuing officer's name."),
    rank: str = typer.Option("", help="The officer's rank, as the rules name ranks."),
    unit: str = typer.Option("", help="Unit or branch."),
    contact: str = typer.Option("", help="How to reach them."),
    verified_how: str = typer.Option("", "--verified-how", help="How the desk knows they are who they say."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Register an authority that sends requests."""
    with platform() as p:
        actor = _person(p, user, password_stdin, Permission.LEGAL_MANAGE, "register authorities")
        added = p.legal_add_authority(
            actor=actor,
            agency=agency,
            jurisdiction=jurisdiction,
            officer=officer,
            rank=rank,
            unit=unit,
            contact=contact,
            verified_how=verified_how,
        )
    if json_out:
        print_json(added)
    else:
        out.print(f"authority #{added['id']}: {added['agency']} ({added['rank'] or 'no rank recorded'})")


@authority_app.command("list")
def authority_list(
    user: str = USER, password_stdin: bool = identity.PASSWORD_STDIN, json_out: bool = JSON
) -> None:
    """The registered authorities."""
    with platform() as p:
        _person(p, user, password_stdin, Permission.LEGAL_VIEW, "read the legal desk")
        rows = p.legal_authorities()
    if json_out:
        print_json(rows)
        return
    table = Table("id", "agency", "officer", "rank", "jurisdiction", "verified how")
    for row in rows:
        table.add_row(
            *(str(row[k]) for k in ("id", "agency", "officer", "rank", "jurisdiction", "verified_how"))
        )
    out.print(table)


@app.command("receive")
def receive_command(
    kind: RequestKind = typer.Option(..., help="What arrived."),
    jurisdiction: str = typer.Option(..., help="Whose law: IN, IN-DL, US, EU..."),
    authority: int | None = typer.Option(None, help="The sender (`suraksha legal authority list`)."),
    reference: str = typer.Option("", help="Their number: FIR, notice or order number."),
    basis: str = typer.Option("", "--basis", help="The legal basis it cites (e.g. 'IT Rules r.3(1)(j)')."),
    channel: Channel = typer.Option(Channel.EMAIL, help="How it arrived."),
    received_at: str | None = typer.Option(
        None, "--received-at", help="When it arrived, with its offset (default: now). Its clocks start here."
    ),
    due: str | None = typer.Option(None, help="The deadline the request itself states, if any."),
    confidential: bool = typer.Option(False, help="A gag: no notice to users while it holds."),
    account: list[str] = typer.Option(
        [], "--account", help="An account it names: @handle, platform id, URL."
    ),
    item: list[str] = typer.Option([], "--item", help="A post it names: URL or platform id."),
    summary: str = typer.Option("", help="What it asks, in a line or two."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Record a request as received and start its clocks (from the jurisdiction files)."""
    scope = [ScopeEntry(ScopeKind.ACCOUNT, a) for a in account] + [
        ScopeEntry(ScopeKind.ITEM, i) for i in item
    ]
    with platform() as p:
        actor = _person(p, user, password_stdin, Permission.LEGAL_MANAGE, "receive requests")
        new = NewRequest(
            kind=kind,
            jurisdiction=jurisdiction,
            received_at=_time(received_at, "--received-at") or datetime.now(UTC),
            channel=channel,
            authority_id=authority,
            reference=reference,
            legal_basis=basis,
            summary=summary,
            stated_due_at=_time(due, "--due"),
            confidential=confidential,
            scope=scope,
        )
        shown = p.legal_receive(new, actor=actor)
    if json_out:
        print_json(shown)
        return
    out.print(f"legal request #{shown['id']} received ({shown['kind']}, {shown['jurisdiction']})")
    _show_scope(shown)
    _show_clocks([{"request_id": shown["id"], "reference": shown["reference"], **c} for c in _clocks(shown)])


def _clocks(shown: dict[str, object]) -> list[dict[str, object]]:
    clocks = shown["clocks"]
    assert isinstance(clocks, list)
    return clocks


def _show_scope(shown: dict[str, object]) -> None:
    scope = shown["scope"]
    assert isinstance(scope, list)
    for entry in scope:
        found = (
            f"[yellow]not found: {entry['not_found']}[/yellow]"
            if entry["not_found"]
            else f"account #{entry['account_id']}"
            + (f", item #{entry['item_id']}" if entry["item_id"] else "")
        )
        out.print(f"  {entry['kind']} {entry['value']}: {found}")


@app.command("due")
def due_command(
    within: str | None = typer.Option(
        None, help="Only clocks due within this (e.g. 24h, 7d); overdue always."
    ),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Every running clock of an open request, overdue first, then soonest."""
    try:
        window: timedelta | None = parse_duration(within) if within else None
    except ValueError as exc:
        raise fail(f"--within: {exc}") from None
    with platform() as p:
        _person(p, user, password_stdin, Permission.LEGAL_VIEW, "read the legal desk")
        rows = p.legal_due(within=window)
    if json_out:
        print_json(rows)
    elif rows:
        _show_clocks(rows)
    else:
        out.print("no clock running" + (f" due within {within}" if within else ""))


@app.command("list")
def list_command(
    all_: bool = typer.Option(False, "--all", help="Closed and rejected requests too."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Requests, newest first (open ones unless --all)."""
    with platform() as p:
        _person(p, user, password_stdin, Permission.LEGAL_VIEW, "read the legal desk")
        rows = p.legal_requests(open_only=not all_)
    if json_out:
        print_json(rows)
        return
    table = Table("id", "kind", "jurisdiction", "reference", "state", "received (UTC)", "next clock")
    for row in rows:
        running = [c for c in _clocks(row) if c["state"] not in {"met", "met_late"}]
        soonest = min(running, key=lambda c: str(c["due_at"]), default=None)
        table.add_row(
            str(row["id"]),
            str(row["kind"]),
            str(row["jurisdiction"]),
            str(row["reference"]),
            str(row["state"]),
            f"{datetime.fromisoformat(str(row['received_at'])):%Y-%m-%d %H:%M}",
            f"{soonest['step']} {_left(int(str(soonest['remaining_s'])))}" if soonest else "-",
        )
    out.print(table)


@app.command("show")
def show_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """One request: its authority, scope, clocks and timeline."""
    with platform() as p:
        _person(p, user, password_stdin, Permission.LEGAL_VIEW, "read the legal desk")
        shown = p.legal_request(request_id)
    if json_out:
        print_json(shown)
        return
    out.print(
        f"[bold]#{shown['id']} {shown['kind']}[/bold] ({shown['jurisdiction']}) {shown['reference']}: "
        f"{shown['state']}" + (f" ({shown['state_reason']})" if shown["state_reason"] else "")
    )
    if shown["confidential"]:
        out.print("[yellow]confidential: no notice to users[/yellow]")
    _show_scope(shown)
    _show_clocks([{"request_id": shown["id"], "reference": shown["reference"], **c} for c in _clocks(shown)])
    events = shown["events"]
    assert isinstance(events, list)
    for event in events:
        out.print(
            f"  {event['at'][:16]} {event['actor']}: {event['event']} {event['to']} {event['note']}".rstrip()
        )


@app.command("verify")
def verify_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    how: str = typer.Option(..., help="How it was verified (e.g. 'called back on the published number')."),
    rank_accepted_because: str = typer.Option(
        "",
        "--rank-accepted-because",
        help="Where the issuer's rank is not one the rule names: why it stands.",
    ),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """The request is genuine and lawful."""
    with platform() as p:
        actor = _person(p, user, password_stdin, Permission.LEGAL_MANAGE, "verify requests")
        shown = p.legal_verify(request_id, actor=actor, how=how, rank_accepted_because=rank_accepted_because)
    out.print(f"#{request_id}: {shown['state']}")


@app.command("reject")
def reject_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    reason: RejectReason = typer.Option(..., help="Why it is not acted on."),
    detail: str = typer.Option("", help="In a line, for the answer to the authority."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Not acted on, with the reason."""
    with platform() as p:
        actor = _person(p, user, password_stdin, Permission.LEGAL_MANAGE, "reject requests")
        shown = p.legal_reject(request_id, reason=reason, detail=detail, actor=actor)
    out.print(f"#{request_id}: {shown['state']} ({shown['state_reason']})")


@app.command("done")
def done_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    step: Step = typer.Option(..., help="The clock to stop: acknowledge, act or answer."),
    note: str = typer.Option("", help="What was done."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Stop one clock: acknowledged, acted (removed, withheld, preserved) or answered, now."""
    with platform() as p:
        actor = _person(p, user, password_stdin, Permission.LEGAL_MANAGE, "update requests")
        p.legal_mark_done(request_id, step, actor=actor, note=note)
    out.print(f"#{request_id}: {step.value} clock stopped")


@app.command("move")
def move_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    to: str = typer.Argument(..., help="in_progress, answered, closed or withdrawn."),
    note: str = typer.Option("", help="Why (for withdrawn: what the authority said)."),
    partly_because: str = typer.Option(
        "", "--partly-because", help="With 'answered': why part of it was not answered."
    ),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Move a request on: in_progress, answered (or partly, --partly-because), closed, withdrawn."""
    moves = {"in_progress", "answered", "closed", "withdrawn"}
    if to not in moves:
        raise fail(
            f"{to!r}: move a request to one of {', '.join(sorted(moves))} "
            "(verify and reject have their own commands)"
        )
    with platform() as p:
        actor = _person(p, user, password_stdin, Permission.LEGAL_MANAGE, "update requests")
        if to == "in_progress":
            shown = p.legal_start(request_id, actor=actor, note=note)
        elif to == "answered":
            shown = p.legal_answer(request_id, actor=actor, partly_because=partly_because)
        elif to == "closed":
            shown = p.legal_close(request_id, actor=actor, note=note)
        else:
            if not note.strip():
                raise fail("say what the authority said when it withdrew the request (--note)")
            shown = p.legal_withdraw(request_id, actor=actor, note=note)
    out.print(f"#{request_id}: {shown['state']}")


@app.command("preserve")
def preserve_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Preserve everything in the request's scope and hold it for the jurisdiction's period (released
    when the request ends)."""
    with platform() as p:
        actor = _person(p, user, password_stdin, Permission.LEGAL_MANAGE, "preserve evidence for requests")
        shown = p.legal_preserve(request_id, actor=actor)
    holds = shown["holds"]
    assert isinstance(holds, list)
    if json_out:
        print_json(shown)
    else:
        until = max((str(h["expires_at"])[:10] for h in holds), default="-")
        out.print(f"#{request_id}: {len(holds)} holds, to {until}")


@app.command("renew")
def renew_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    reason: str = typer.Option(..., help="The authority's renewal (its letter or reference)."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """The authority renewed its preservation request: its holds run one more period."""
    with platform() as p:
        actor = _person(p, user, password_stdin, Permission.LEGAL_MANAGE, "renew preservations")
        shown = p.legal_renew(request_id, actor=actor, reason=reason)
    holds = shown["holds"]
    assert isinstance(holds, list)
    out.print(f"#{request_id}: holds renewed, to {max(str(h['expires_at'])[:10] for h in holds)}")


@app.command("act")
def act_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    action: str = typer.Option(..., help="withhold (in --country) or remove."),
    country: list[str] = typer.Option([], "--country", help="Where to withhold (default: the request's)."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Carry out a verified order on everything in its scope: withhold in named countries, or remove."""
    kinds = {"withhold": ActionKind.WITHHOLD, "remove": ActionKind.REMOVE}
    if action not in kinds:
        raise fail(f"--action {action!r}: an order is carried out by withhold or remove")
    with platform() as p:
        actor = _person(p, user, password_stdin, Permission.LEGAL_MANAGE, "act on orders")
        shown = p.legal_act(request_id, kinds[action], actor=actor, countries=country)
    actions = shown["actions"]
    assert isinstance(actions, list)
    out.print(f"#{request_id}: {action} on {sum(1 for a in actions if a['kind'] == action)} items")


disclosure_app = typer.Typer(help="Disclosure packages: drafted, approved by a second person, sent.")
app.add_typer(disclosure_app, name="disclosure")


def _counsel(p: Platform, email: str, password_stdin: bool) -> EvidenceActor:
    """Disclosures hand over evidence: the signed-in person, with the legal role's evidence check."""
    return EvidenceActor.for_user(identity.sign_in(p, email, password_stdin))


def _show_disclosure(shown: dict[str, object], json_out: bool) -> None:
    if json_out:
        print_json(shown)
    else:
        out.print(
            f"disclosure #{shown['id']} for request #{shown['request_id']}: {shown['state']} "
            f"({shown['accounts']} accounts, {shown['items']} items) in {shown['package_path']}"
        )


@app.command("disclose")
def disclose_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Draft the disclosure package for a verified request: account and item facts, the signed evidence
    package of what was preserved, the jurisdiction's certificate. A second person approves it."""
    with platform() as p:
        shown = p.legal_disclose(request_id, actor=_counsel(p, user, password_stdin))
    _show_disclosure(shown, json_out)


@disclosure_app.command("approve")
def approve_disclosure_command(
    disclosure_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Approve a disclosure someone else drafted: it may leave."""
    with platform() as p:
        shown = p.legal_approve_disclosure(disclosure_id, actor=_counsel(p, user, password_stdin))
    _show_disclosure(shown, json_out)


@disclosure_app.command("sent")
def sent_disclosure_command(
    disclosure_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    via: str = typer.Option(..., help="How it was handed over: the authority's portal, e-mail, in person."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Record that an approved disclosure was handed over (stops the request's answer clock)."""
    with platform() as p:
        shown = p.legal_disclosure_sent(disclosure_id, via=via, actor=_counsel(p, user, password_stdin))
    _show_disclosure(shown, json_out)


@app.command("reply")
def reply_command(
    request_id: int = typer.Argument(..., min=1, max=2**63 - 1),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Draft the reply to a commission's notice: each question answered from the records, each post it
    names explained (reply.pdf, reply.docx to edit, answer.json). A second person approves it
    (`suraksha legal disclosure approve`) before it is sent."""
    with platform() as p:
        shown = p.legal_reply(request_id, actor=_counsel(p, user, password_stdin))
    if json_out:
        print_json(shown)
    else:
        out.print(f"reply #{shown['id']} for request #{request_id}: drafted in {shown['package_path']}")
