"""``suraksha network``: the account graph: rebuild it, cluster it, list suspected rackets, and show a
cluster or an account with the evidence that links them (docs/network.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress
from rich.table import Table

from suraksha.app import Platform
from suraksha.cli import identity, investigate
from suraksha.cli.common import ACCOUNT_HELP, account_id, cli_actor, err, out, platform, print_json
from suraksha.network.services import AccountNetwork, ClusterDetail, ClusterSummary, Edge
from suraksha.permissions import Permission

app = typer.Typer(
    help="The account graph: linked accounts, clusters, suspected rackets.", no_args_is_help=True
)

JSON = typer.Option(False, "--json", help="Machine-readable output.")
USER = typer.Option(..., "--user", help="E-mail of the console user (lead or legal) asking.")


@app.command("rebuild")
def rebuild_command(
    cluster: bool = typer.Option(True, "--cluster/--no-cluster", help="Cluster the graph afterwards."),
    json_out: bool = JSON,
) -> None:
    """Build the whole graph again from every recorded item (links between accounts by shared files,
    near-duplicates, identifiers, upload addresses and devices), then cluster it."""
    result: dict[str, Any] = {}
    with platform() as p, Progress(console=err, transient=True, disable=json_out) as progress:
        task = progress.add_task("linking items", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result["items"] = p.network_rebuild(actor=cli_actor(), progress=advance)
        if cluster:
            progress.update(task, description="clustering", total=None, completed=0)
            summary = p.network_cluster(
                actor=cli_actor(), progress=lambda message: progress.update(task, description=message)
            )
            result["cluster"] = summary.__dict__
        result["graph"] = dict(p.network_counts())
    if json_out:
        print_json(result)
        return
    counts = result["graph"]
    out.print(f"linked {result['items']} item(s): {counts['links']} link(s) to {counts['keys']} key(s)")
    if cluster:
        _print_run(result["cluster"])


def _print_run(run: dict[str, Any]) -> None:
    out.print(
        f"clustered {run['accounts']} linked account(s) over {run['edges']} trustworthy edge(s): "
        f"{run['clusters']} cluster(s), {run['suspected']} suspected racket(s) in {run['seconds']:.1f}s"
    )


@app.command("clusters")
def clusters_command(
    run: bool = typer.Option(False, "--run", help="Cluster the graph again first."),
    every: bool = typer.Option(False, "--all", help="Every cluster, not only suspected rackets."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many."),
    json_out: bool = JSON,
) -> None:
    """Suspected rackets (clusters scoring at least network_racket_score), highest score first, with
    what the score is made of."""
    with platform() as p:
        if run:
            with Progress(console=err, transient=True, disable=json_out) as progress:
                task = progress.add_task("clustering", total=None)
                summary = p.network_cluster(
                    actor=cli_actor(), progress=lambda message: progress.update(task, description=message)
                )
            if not json_out:
                _print_run(summary.__dict__)
        found = p.network_clusters(suspected_only=not every, limit=limit)
    if json_out:
        print_json([c.as_dict() for c in found])
        return
    if not found:
        out.print(
            "no clusters" + ("" if every else " suspected") + " (run `suraksha network clusters --run`)"
        )
        return
    table = Table("id", "accounts", "score", "suspected", "why")
    for c in found:
        table.add_row(str(c.id), str(c.accounts), f"{c.score:.1f}", "yes" if c.suspected else "", _why(c))
    out.print(table)


def _why(cluster: ClusterSummary) -> str:
    factors = cluster.explanation.get("factors", [])
    return "; ".join(f"{f['detail']} (+{f['points']:.1f})" for f in factors if isinstance(f, dict))


@app.command("show-cluster")
def show_cluster_command(
    cluster_id: int,
    limit: int = typer.Option(200, "--limit", min=1, max=100_000, help="At most this many edges."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """A cluster: its score and why, its accounts, the edges among them with their evidence, and its
    ban-evasion alerts (audited)."""
    with platform() as p:
        person = identity.sign_in(
            p, user, password_stdin, permission=Permission.NETWORK_VIEW, doing="read the account graph"
        )
        detail = p.network_cluster_detail(cluster_id, actor=identity.actor(person), limit=limit)
    if json_out:
        print_json(detail.as_dict())
        return
    _print_cluster(detail)


def _print_cluster(detail: ClusterDetail) -> None:
    c = detail.cluster
    state = "suspected racket" if c.suspected else "cluster"
    gone = f", dissolved {c.dissolved_at:%Y-%m-%d}" if c.dissolved_at else ""
    out.print(f"[bold]{state} {c.id}[/bold]: {c.accounts} account(s), score {c.score:.1f}{gone}")
    out.print(_why(c) or "nothing scored")
    accounts = Table("account", "platform id", "handle", "created", "suspended")
    for a in detail.accounts:
        created = f"{a.platform_created_at:%Y-%m-%d}" if a.platform_created_at else ""
        suspended = f"{a.suspended_at:%Y-%m-%d}" if a.suspended_at else ""
        accounts.add_row(f"#{a.id}", a.platform_account_id, a.handle, created, suspended)
    out.print(accounts)
    out.print(_edges_table(detail.edges))
    for alert in detail.alerts:
        out.print(
            f"alert {alert.id}: {alert.kind} by account #{alert.account_id} "
            f"(item #{alert.item_id}, review case {alert.case_id})"
        )


def _edges_table(edges: list[Edge]) -> Table:
    table = Table("accounts", "weight", "shared", "evidence")
    for e in edges:
        shared = ", ".join(f"{k.kind} {k.value[:40]}" for k in e.keys)
        evidence = "; ".join(
            f"#{k.a.account_id} item #{k.a.last_item_id} {k.a.last_seen_at:%Y-%m-%d}, "
            f"#{k.b.account_id} item #{k.b.last_item_id} {k.b.last_seen_at:%Y-%m-%d}"
            + (f" ({k.note})" if k.note else "")
            for k in e.keys
        )
        table.add_row(
            f"#{e.a} – #{e.b}", f"{e.weight:.2f}" + ("" if e.trustworthy else " (weak)"), shared, evidence
        )
    return table


@app.command("account")
def account_command(
    account: str = typer.Argument(..., help=ACCOUNT_HELP),
    limit: int = typer.Option(200, "--limit", min=1, max=10_000, help="At most this many edges."),
    user: str = USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """An account's links to other accounts with their evidence, its cluster, and its keys cut as hubs
    (audited)."""
    with platform() as p:
        person = identity.sign_in(
            p, user, password_stdin, permission=Permission.NETWORK_VIEW, doing="read the account graph"
        )
        with p.db.reading() as session:
            found_id = account_id(p, session, account)
        found = p.network_account(found_id, actor=identity.actor(person), limit=limit)
    if json_out:
        print_json(found.as_dict())
        return
    _print_account(found)


def _print_account(found: AccountNetwork) -> None:
    a = found.account
    out.print(f"[bold]account #{a.id}[/bold] {a.platform_account_id} {a.handle}")
    if found.cluster is not None:
        c = found.cluster
        out.print(
            f"in {'suspected racket' if c.suspected else 'cluster'} {c.id} "
            f"({c.accounts} accounts, score {c.score:.1f})"
        )
    out.print(_edges_table(found.edges) if found.edges else "no links to other accounts")
    for kind, value, accounts in found.cut_keys:
        out.print(f"not evidence: {kind} {value[:60]} is shared by {accounts} accounts (a hub)")


app.add_typer(investigate.app, name="investigate")


@app.command("verify-export")
def verify_export_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The network export (.zip)."),
    public_key: str = typer.Option(
        ...,
        "--public-key",
        envvar="SURAKSHA_VAULT_VERIFY_KEY",
        help="The exporter's verify key (base64; `suraksha vault public-key`).",
    ),
    json_out: bool = JSON,
) -> None:
    """Check a network export offline (no database): signature, every file, the zip byte for byte.
    Exit 0 when it holds, 1 when it does not."""
    try:
        check = Platform.network_verify_export(file, public_key)
    except Exception as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if json_out:
        print_json(check.as_dict())
    elif check.ok:
        out.print(f"export ok: signature valid, {check.files} files match the manifest", markup=False)
    else:
        for problem in check.problems:
            err.print(f"[red]export NOT valid:[/red] {problem}")
    raise typer.Exit(0 if check.ok else 1)
