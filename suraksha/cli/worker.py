"""``suraksha worker``: run jobs (item processing, deliveries) until stopped. Any number may run
against PostgreSQL; on SQLite, ``suraksha serve`` runs one inside the web process."""

from __future__ import annotations

import typer

from suraksha.cli.common import out, platform, print_json


def worker_command(
    kind: list[str] = typer.Option(None, "--kind", help="Only these job kinds (repeatable)."),
    drain: bool = typer.Option(False, "--drain", help="Stop once no job is queued or leased."),
    json_out: bool = typer.Option(False, "--json", help="Print the counters as JSON when stopping."),
) -> None:
    """Process jobs until SIGTERM/SIGINT. A job in hand is finished (or released) before stopping."""
    with platform() as p:
        index = p.bank_index().load()
        index.follow(interval_s=1.0)
        try:
            counters = p.run_worker(index, kinds=kind or None, until_drained=drain)
        finally:
            index.close()
        summary = counters.as_dict()
        if json_out:
            print_json(summary)
        else:
            out.print("worker stopped: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
