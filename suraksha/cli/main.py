"""Entry point: ``suraksha COMMAND``."""

from __future__ import annotations

import logging
import os

import typer

from suraksha import __version__
from suraksha.cli import (
    actions,
    apikeys,
    appeals,
    audit,
    banks,
    demo,
    exchanges,
    flaggers,
    hashing,
    index,
    jobs,
    legal,
    network,
    reports,
    scan,
    serve,
    sor,
    stats,
    switches,
    system,
    templates,
    transparency,
    users,
    vault,
    worker,
)

app = typer.Typer(
    name="suraksha",
    help="Suraksha: detect, act on, review, preserve and report child-safety harms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(banks.app, name="bank")
app.add_typer(system.db_app, name="db")
app.add_typer(index.index_app, name="index")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(jobs.app, name="jobs")
app.add_typer(switches.app, name="switch")
app.add_typer(audit.app, name="audit")
app.add_typer(users.app, name="user")
app.add_typer(vault.app, name="vault")
app.add_typer(reports.app, name="report")
app.add_typer(legal.app, name="legal")
app.add_typer(network.app, name="network")
app.add_typer(actions.app, name="actions")
app.add_typer(appeals.app, name="appeals")
app.add_typer(appeals.notices_app, name="user-notices")
app.add_typer(templates.app, name="templates")
app.add_typer(sor.app, name="sor")
app.add_typer(stats.app, name="stats")
app.add_typer(flaggers.app, name="flaggers")
app.add_typer(exchanges.app, name="exchange")
app.command("hash")(hashing.hash_command)
app.command("scan")(scan.scan_command)
app.command("match")(scan.match_command)
app.command("settings")(system.settings_command)
app.command("demo")(demo.demo_command)
app.command("serve")(serve.serve_command)
app.command("worker")(worker.worker_command)
app.command("ncmec-sim")(reports.ncmec_sim_command)
app.command("dsa-sim")(sor.dsa_sim_command)
app.command("hashsharing-sim")(exchanges.hashsharing_sim_command)
app.command("stopncii-sim")(exchanges.stopncii_sim_command)
app.command("tat-sim")(exchanges.tat_sim_command)
app.command("threatexchange-sim")(exchanges.threatexchange_sim_command)
app.command("answer")(transparency.answer_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"suraksha {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log structured events to stderr."),
) -> None:
    level = logging.INFO if verbose else getattr(logging, os.environ.get("SURAKSHA_LOG_LEVEL", "WARNING"), 30)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def main() -> None:
    app()
