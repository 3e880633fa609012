"""``suraksha network investigate``: a lead's investigation of a network of accounts: open it from a
cluster or an account, change its accounts and notes, preserve its evidence, act on every account
(a second person approves), prepare its linked CyberTipline reports, make its one police referral,
export it for police analysts, close it (docs/network.md, "Investigations").

Every command signs a console user in (``--user``): what they do is audited under their name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from suraksha.cli import identity
from suraksha.cli.common import ACCOUNT_HELP, account_id, out, platform, print_json
from suraksha.permissions import Permission

app = typer.Typer(
    help="Network investigations: accounts, evidence, holds, actions, reports, one referral, export.",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Machine-readable output.")
USER = typer.Option(..., "--user", help="E-mail of the console user (a lead; legal reads).")
REASON = typer.Option(..., "--reason", help="Why (recorded in the investigation's timeline).")


def _user(p: Any, user: str, password_stdin: bool, permission: Permission, doing: str) -> int:
    return int(identity.sign_in(p, user, password_stdin, permission=permission, doing=doing).id)


def _done(value: Any, json_out: bool, text: str) -> None:
    if json_out:
        print_json(value)
    else:
        out.print(text, markup=False)


@app.command("list")
def list_command(
    user: str = USER, password_stdin: bool = identity.PASSWORD_STDIN, json_out: bool = JSON
) -> None:
    """Investigations, newest first."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_VIEW, "read investigations")
        found = p.investigations(user_id=uid)
    if json_out:
        print_json(found)
        return
    table = Table("id", "title", "state", "accounts", "from", "opened")
    for i in found:
        table.add_row(
            str(i["id"]), i["title"], i["state"], str(i["accounts"]), i["source"], i["opened_at"][:16]
        )
    out.print(table)


@app.command("open")
def open_command(
    title: str = typer.Option(..., "--title", help="What the investigation is about."),
    cluster: int | None = typer.Option(None, "--cluster", help="Open it from this cluster's accounts."),
    account: str | None = typer.Option(None, "--account", help=f"Or from one account: {ACCOUNT_HELP}"),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Open an investigation from a cluster (its accounts as the last run found them) or an account."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_INVESTIGATE, "open an investigation")
        found_account = None
        if account is not None:
            with p.db.reading() as session:
                found_account = account_id(p, session, account)
        opened = p.investigation_open(user_id=uid, title=title, cluster_id=cluster, account_id=found_account)
    _done(opened, json_out, f"investigation {opened['id']} opened with {opened['accounts']} account(s)")


@app.command("show")
def show_command(
    investigation_id: int,
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """An investigation: accounts, evidence among them, shared identifiers, timeline, actions (audited)."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_VIEW, "read an investigation")
        found = p.investigation(investigation_id, user_id=uid)
    if json_out:
        print_json(found.as_dict())
        return
    i = found.investigation
    out.print(f"[bold]investigation {i['id']}[/bold]: {i['title']} ({i['state']}, from {i['source']})")
    out.print(f"{len(found.accounts)} account(s), {len(found.edges)} edge(s), {found.holds} hold(s)")
    ids = Table("kind", "value", "accounts here", "everywhere", "note")
    for row in found.identifiers[:50]:
        ids.add_row(
            row["kind"],
            str(row["value"])[:60],
            str(row["in_investigation"]),
            str(row["accounts"]),
            row["note"],
        )
    out.print(ids)
    for a in found.actions:
        out.print(f"action {a['id']}: {a['kind']} {a['accounts']} account(s), {a['state']} ({a['reason']})")
    for t in found.timeline:
        if t["kind"] != "item":
            out.print(f"{str(t['at'])[:16]} {t['actor']} {t['kind']}: {t['text']}", markup=False)


@app.command("add")
def add_command(
    investigation_id: int,
    accounts: list[str] = typer.Argument(..., help=ACCOUNT_HELP),
    reason: str = REASON,
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Add accounts to an investigation."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_INVESTIGATE, "change an investigation")
        with p.db.reading() as session:
            ids = [account_id(p, session, a) for a in accounts]
        added = p.investigation_add(investigation_id, ids, reason=reason, user_id=uid)
    _done({"added": added}, json_out, f"added {len(added)} account(s)")


@app.command("remove")
def remove_command(
    investigation_id: int,
    account: str = typer.Argument(..., help=ACCOUNT_HELP),
    reason: str = REASON,
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Remove an account from an investigation (it stays listed as removed, with the reason)."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_INVESTIGATE, "change an investigation")
        with p.db.reading() as session:
            found = account_id(p, session, account)
        p.investigation_remove(investigation_id, found, reason=reason, user_id=uid)
    _done({"removed": found}, json_out, f"removed account #{found}")


@app.command("note")
def note_command(
    investigation_id: int,
    text: str = typer.Argument(..., help="The note."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Write a note in the investigation's timeline."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_INVESTIGATE, "write in an investigation")
        p.investigation_note(investigation_id, text, user_id=uid)
    _done({"ok": True}, json_out, "noted")


@app.command("preserve")
def preserve_command(
    investigation_id: int,
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Vault holds on every decided item of every account in the investigation."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_INVESTIGATE, "preserve evidence")
        done = p.investigation_preserve(investigation_id, user_id=uid)
    _done(
        done.as_dict(),
        json_out,
        f"{done.items} item(s) held ({done.holds} holds; {done.skipped} not decided yet)",
    )


@app.command("act")
def act_command(
    investigation_id: int,
    kind: str = typer.Argument(..., help="suspend (every account) or remove (every item of every account)."),
    reason: str = REASON,
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Propose an action on every account; a second person approves it (`approve`)."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_INVESTIGATE, "propose an action")
        proposed = p.investigation_propose(investigation_id, kind, reason=reason, user_id=uid)
    _done(
        proposed,
        json_out,
        f"action {proposed['id']} proposed: {proposed['kind']} {proposed['accounts']} account(s); "
        "a second person approves it with `suraksha network investigate approve`",
    )


@app.command("approve")
def approve_command(
    action_id: int,
    note: str = typer.Option("", "--note", help="What the approver checked."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Approve (as the second person) a proposed action: it is carried out."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.DECISION_APPROVE, "approve an action")
        done = p.investigation_approve(action_id, user_id=uid, note=note)
    _done(done, json_out, f"action {done['id']} approved: {done['actions']} platform action(s)")


@app.command("reject")
def reject_command(
    action_id: int,
    note: str = typer.Option(..., "--note", help="Why not."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Reject a proposed action: nothing is done."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.DECISION_APPROVE, "reject an action")
        done = p.investigation_reject(action_id, user_id=uid, note=note)
    _done(done, json_out, f"action {done['id']} rejected")


@app.command("report")
def report_command(
    investigation_id: int,
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Prepare the CyberTipline reports of the network's accounts, linked to each other (drafts that a
    second person approves with `suraksha report approve`)."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_INVESTIGATE, "report an investigation")
        reports = p.investigation_report(investigation_id, user_id=uid)
    _done(reports, json_out, f"{len(reports)} report(s) prepared: {' '.join(str(r['id']) for r in reports)}")


@app.command("refer")
def refer_command(
    investigation_id: int,
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="Two-letter country code, e.g. IN."),
    agency: str = typer.Option(..., "--agency", help="The police agency it is for."),
    evidence: Path | None = typer.Option(None, "--evidence", help="A signed evidence package to include."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Make the one police referral for the whole network (with the signed network export inside)."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_INVESTIGATE, "refer to the police")
        referral = p.investigation_refer(
            investigation_id, user_id=uid, jurisdiction=jurisdiction, agency=agency, evidence_package=evidence
        )
    _done(referral, json_out, f"referral {referral['id']} drafted: {referral['package_path']}")


@app.command("export")
def export_command(
    investigation_id: int,
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the package (.zip)."),
    reason: str = REASON,
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Export the network (CSV, GraphML, JSON) as a signed package for police analysts."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.EXPORT_CREATE, "export an investigation")
        built = p.investigation_export(investigation_id, output, user_id=uid, reason=reason)
    _done(
        built,
        json_out,
        f"wrote {built['path']} ({built['files']} files, manifest {built['manifest_sha256']})",
    )


@app.command("close")
def close_command(
    investigation_id: int,
    reason: str = REASON,
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Close an investigation (its holds stay until they expire or legal releases them)."""
    with platform() as p:
        uid = _user(p, user, password_stdin, Permission.NETWORK_INVESTIGATE, "close an investigation")
        closed = p.investigation_close(investigation_id, reason=reason, user_id=uid)
    _done(closed, json_out, f"investigation {closed['id']} closed")
