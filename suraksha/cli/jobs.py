"""``suraksha jobs ...``: see the job queue (list, show, stats) and retry dead jobs."""

from __future__ import annotations

import json
from datetime import datetime

import typer
from rich.table import Table

from suraksha.cli.common import fail, out, platform, print_json
from suraksha.worker import queue
from suraksha.worker.listing import get_job, list_jobs, queue_stats
from suraksha.worker.models import Job, JobState

app = typer.Typer(help="The job queue: list, show, retry dead jobs, statistics.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _job_dict(job: Job, default_max_attempts: int) -> dict[str, object]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "payload": job.payload,
        "key": job.dedupe_key,
        "priority": job.priority,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts or default_max_attempts,
        "run_after": _when(job.run_after),
        "leased_by": job.leased_by,
        "lease_expires_at": _when(job.lease_expires_at),
        "last_error": job.last_error,
        "created_at": _when(job.created_at),
        "finished_at": _when(job.finished_at),
    }


@app.command("list")
def list_command(
    state: JobState | None = typer.Option(None, help="Only jobs in this state."),
    kind: str | None = typer.Option(None, help="Only jobs of this kind."),
    limit: int = typer.Option(50, help="Most jobs listed (newest first)."),
    json_out: bool = JSON,
) -> None:
    """List jobs, newest first."""
    with platform() as p, p.db.session() as session:
        jobs = list_jobs(session, state=state, kind=kind, limit=limit)
        rows = [_job_dict(j, p.settings.job_max_attempts) for j in jobs]
    if json_out:
        print_json(rows)
        return
    if not rows:
        out.print("no jobs" + (f" in state {state}" if state else "") + (f" of kind {kind}" if kind else ""))
        return
    # One line per job: `jobs show ID` has the full error and the lease.
    table = Table("id", "kind", "state", "tries", "due (UTC)", "last error", expand=True)
    for column in table.columns:
        column.no_wrap = True
    table.columns[-1].overflow, table.columns[-1].ratio = "ellipsis", 1
    for job, r in zip(jobs, rows, strict=True):
        table.add_row(
            str(job.id),
            job.kind,
            job.state,
            f"{job.attempts}/{r['max_attempts']}",
            f"{job.run_after:%m-%d %H:%M:%S}",
            (job.last_error or "")[:200],
        )
    out.print(table)


@app.command("show")
def show(job_id: int = typer.Argument(..., help="The job's id."), json_out: bool = JSON) -> None:
    """Show one job in full, with its last error."""
    with platform() as p, p.db.session() as session:
        info = _job_dict(get_job(session, job_id), p.settings.job_max_attempts)
    if json_out:
        print_json(info)
        return
    info["payload"] = json.dumps(info["payload"])
    for name, value in info.items():
        out.print(f"{name:>16}: {value if value is not None else '-'}")


@app.command("retry")
def retry_command(
    job_id: int | None = typer.Argument(None, help="The job to run again (dead, or queued and backing off)."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Retry every dead job."),
    kind: str | None = typer.Option(None, help="With --all-dead: only dead jobs of this kind."),
    json_out: bool = JSON,
) -> None:
    """Run a dead job again with its attempts reset, or every dead job (of a kind)."""
    if (job_id is None) == (not all_dead):
        raise fail("give a job id or --all-dead (not both): `suraksha jobs list --state dead` lists them")
    if kind is not None and not all_dead:
        raise fail("--kind goes with --all-dead; a job id names one job already")
    with platform() as p, p.db.session() as session:
        if job_id is not None:
            job = queue.retry(session, job_id)
            result: dict[str, object] = {"retried": 1, "job": _job_dict(job, p.settings.job_max_attempts)}
        else:
            result = {"retried": queue.retry_dead(session, kind)}
    if json_out:
        print_json(result)
    elif job_id is not None:
        out.print(f"job {job_id} queued again")
    else:
        out.print(f"{result['retried']} dead job(s)" + (f" of kind {kind}" if kind else "") + " queued again")


@app.command("stats")
def stats(json_out: bool = JSON) -> None:
    """Jobs per kind and state, how many are due, and how long the oldest due job has waited."""
    with platform() as p, p.db.session() as session:
        figures = queue_stats(session)
    if json_out:
        print_json(figures.as_dict())
        return
    states = list(JobState)
    table = Table("kind", *[str(s) for s in states])
    for kind, counts in figures.counts.items():
        table.add_row(kind, *[str(counts.get(s, 0)) for s in states])
    out.print(table if figures.counts else "no jobs")
    lag = f"{figures.oldest_due_age_s:.1f} s (job {figures.oldest_due_job})" if figures.due else "-"
    out.print(f"due now: {figures.due}; oldest due job waiting: {lag}")
    if figures.expired_leases:
        out.print(
            f"[yellow]{figures.expired_leases} job(s) whose worker stopped heartbeating[/yellow]: "
            "a running worker takes them over"
        )
