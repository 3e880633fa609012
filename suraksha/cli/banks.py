"""``suraksha bank ...``: create, list, show, import, export, add, enable and disable."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select

from suraksha.banks import services
from suraksha.banks.formats import ListFormat, read_hash_list
from suraksha.banks.models import BankCategory, BankEntry, BankKind, EntrySource
from suraksha.cli import identity
from suraksha.cli.common import EXIT_ERROR, cli_actor, err, fail, out, platform, print_json
from suraksha.errors import InvalidInput
from suraksha.permissions import Permission
from suraksha.signals.file_signals import hash_path
from suraksha.signals.types import SignalKind

app = typer.Typer(help="Hash banks: lists of known signals to block, or to allow.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Machine-readable output.")


@app.command("create")
def create(
    name: str,
    category: BankCategory = typer.Option(BankCategory.OTHER, help="What the bank holds."),
    kind: BankKind = typer.Option(
        BankKind.BLOCK, help="block: matches are findings; allow: matches suppress."
    ),
    description: str = typer.Option("", help="Free text."),
    pdq_threshold: int | None = typer.Option(None, help="PDQ match distance (0-63; default from settings)."),
    vpdq_query_percent: float | None = typer.Option(None, help="Share of query frames that must match."),
    vpdq_target_percent: float | None = typer.Option(
        None, help="Share of bank video frames that must match."
    ),
    json_out: bool = JSON,
) -> None:
    """Create a bank."""
    with platform() as p:
        s = p.settings
        query_percent = s.vpdq_query_match_percent if vpdq_query_percent is None else vpdq_query_percent
        target_percent = s.vpdq_target_match_percent if vpdq_target_percent is None else vpdq_target_percent
        created = p.bank_create(
            name,
            actor=cli_actor(),
            category=category,
            kind=kind,
            description=description,
            pdq_threshold=s.default_pdq_threshold if pdq_threshold is None else pdq_threshold,
            vpdq_query_percent=query_percent,
            vpdq_target_percent=target_percent,
        )
    with platform() as p, p.db.reading() as session:
        bank = services.get_bank(session, created)
        if json_out:
            print_json(_bank_dict(bank))
        else:
            out.print(
                f"created bank {bank.name} ({bank.kind}, {bank.category}, PDQ threshold {bank.pdq_threshold})"
            )


def _bank_dict(bank: object) -> dict[str, object]:
    from suraksha.banks.models import Bank  # noqa: PLC0415

    assert isinstance(bank, Bank)
    return {
        "name": bank.name,
        "category": bank.category,
        "kind": bank.kind,
        "description": bank.description,
        "pdq_threshold": bank.pdq_threshold,
        "vpdq_query_percent": bank.vpdq_query_percent,
        "vpdq_target_percent": bank.vpdq_target_percent,
        "enabled": bank.enabled,
        "created_at": bank.created_at.isoformat(),
    }


@app.command("list")
def list_command(json_out: bool = JSON) -> None:
    """List the banks with their entry counts."""
    with platform() as p, p.db.session() as session:
        banks = services.list_banks(session)
        rows = []
        for bank in banks:
            stats = services.bank_stats(session, bank)
            rows.append({**_bank_dict(bank), "entries": stats.total, "active_entries": stats.active})
        if json_out:
            print_json(rows)
            return
        if not rows:
            out.print("no banks yet: `suraksha bank create NAME --category csam` makes one")
            return
        table = Table("bank", "kind", "category", "PDQ threshold", "entries", "active", "enabled")
        for r in rows:
            table.add_row(
                str(r["name"]),
                str(r["kind"]),
                str(r["category"]),
                str(r["pdq_threshold"]),
                str(r["entries"]),
                str(r["active_entries"]),
                "yes" if r["enabled"] else "no",
            )
        out.print(table)


@app.command("show")
def show(
    name: str,
    entries: bool = typer.Option(False, "--entries", help="List the entries too."),
    limit: int = typer.Option(50, help="Most entries listed."),
    json_out: bool = JSON,
) -> None:
    """Show a bank, its statistics, and optionally its entries."""
    with platform() as p, p.db.session() as session:
        bank = services.get_bank(session, name)
        stats = services.bank_stats(session, bank)
        info: dict[str, object] = {
            **_bank_dict(bank),
            "entries": stats.total,
            "active_entries": stats.active,
            "by_signal_type": stats.by_signal_type,
        }
        rows = []
        if entries:
            query = select(BankEntry).where(BankEntry.bank_id == bank.id).order_by(BankEntry.id).limit(limit)
            for e in session.scalars(query):
                rows.append(
                    {
                        "id": e.id,
                        "signal_type": e.signal_type,
                        "signal": e.value
                        if e.signal_type != SignalKind.VPDQ
                        else f"{e.value.count(chr(10)) + 1} frames",
                        "quality": e.quality,
                        "source": e.source,
                        "note": e.note,
                        "enabled": e.enabled,
                        "disabled_until": e.disabled_until.isoformat() if e.disabled_until else None,
                    }
                )
            info["entry_list"] = rows
        if json_out:
            print_json(info)
            return
        for key in (
            "name",
            "kind",
            "category",
            "description",
            "pdq_threshold",
            "vpdq_query_percent",
            "vpdq_target_percent",
            "enabled",
            "entries",
            "active_entries",
            "by_signal_type",
        ):
            out.print(f"{key:>20}: {info[key]}")
        if rows:
            table = Table("id", "type", "signal", "quality", "source", "enabled", "note")
            for r in rows:
                table.add_row(
                    str(r["id"]),
                    str(r["signal_type"]),
                    str(r["signal"]),
                    str(r["quality"] or ""),
                    str(r["source"]),
                    "yes"
                    if r["enabled"]
                    else f"no (until {r['disabled_until']})"
                    if r["disabled_until"]
                    else "no",
                    str(r["note"]),
                )
            out.print(table)


@app.command("import")
def import_command(
    name: str,
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The hash list file."),
    fmt: ListFormat | None = typer.Option(None, "--format", help="csv, plain or vpdq (default: detected)."),
    signal_type: SignalKind | None = typer.Option(None, help="Type of every hash in a plain list."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the valid rows, skip the rest."),
    json_out: bool = JSON,
) -> None:
    """Import a hash list. All or nothing unless --skip-invalid; re-importing adds nothing new."""
    with platform() as p:
        try:
            text = read_hash_list(path, p.settings.import_max_bytes)
        except InvalidInput as exc:
            raise fail(str(exc)) from None
        result = p.bank_import(
            name,
            text,
            actor=cli_actor(),
            source_ref=path.name,
            fmt=fmt,
            signal_type=signal_type,
            skip_invalid=skip_invalid,
        )
        if json_out:
            print_json(result.as_dict())
        else:
            for warning in result.warnings:
                err.print(f"[yellow]note:[/yellow] {warning}")
            for row in result.rejected[:50]:
                err.print(f"line {row.line}: {row.reason}")
            if len(result.rejected) > 50:
                err.print(f"... and {len(result.rejected) - 50} more rejected lines (--json lists them all)")
            if result.committed:
                out.print(
                    f"{result.bank}: {result.added} added, {result.unchanged} already present, "
                    f"{result.duplicates_in_file} duplicates in the file, {len(result.rejected)} rejected"
                )
            else:
                err.print(
                    f"[red]nothing imported:[/red] {len(result.rejected)} invalid rows; fix them or pass "
                    "--skip-invalid to import the valid ones"
                )
        if not result.committed:
            raise typer.Exit(EXIT_ERROR)


@app.command("export")
def export(
    name: str,
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
) -> None:
    """Export a bank as CSV (the import format)."""
    with platform() as p, p.db.session() as session:
        text = services.export_entries(session, name)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


@app.command("add")
def add(
    name: str,
    files: list[Path] = typer.Argument(None, help="Files whose hashes to add (PDQ or vPDQ, and MD5)."),
    signal: list[str] = typer.Option([], "--signal", help="TYPE:VALUE to add, e.g. pdq:f8f8... or md5:..."),
    note: str = typer.Option("", help="Note stored on each new entry."),
    json_out: bool = JSON,
) -> None:
    """Add entries by value, or by hashing files."""
    with platform() as p:
        options = p.hash_options()
        pairs: list[tuple[SignalKind, str, int | None, str]] = []
        for item in signal:
            kind, _, value = item.partition(":")
            try:
                pairs.append((SignalKind(kind.strip().lower()), value.strip(), None, "manual"))
            except ValueError:
                raise fail(
                    f"--signal {item!r}: expected TYPE:VALUE with TYPE one of "
                    f"{', '.join(k.value for k in SignalKind)}"
                ) from None
        for path in files or []:
            signals = hash_path(path, options)
            if signals.pdq is not None and signals.pdq.quality >= options.quality_floor:
                pairs.append((SignalKind.PDQ, signals.pdq.hex, signals.pdq.quality, path.name))
            elif signals.pdq is not None:
                err.print(
                    f"[yellow]note:[/yellow] {path}: PDQ quality {signals.pdq.quality} is under the floor; "
                    "only its MD5 is added"
                )
            if signals.vpdq:
                pairs.append((SignalKind.VPDQ, "\n".join(f.to_line() for f in signals.vpdq), None, path.name))
            if signals.md5:
                pairs.append((SignalKind.MD5, signals.md5, None, path.name))
            if signals.error:
                err.print(f"[yellow]note:[/yellow] {path}: {signals.state}: {signals.error}")
        new = [
            services.NewEntry(
                kind, value, quality=quality, source=EntrySource.MANUAL, source_ref=ref, note=note
            )
            for kind, value, quality, ref in pairs
        ]
        ids, unchanged = p.bank_add_entries(name, new, actor=cli_actor())
        added = len(ids)
        if json_out:
            print_json({"bank": name, "added": added, "unchanged": unchanged})
        else:
            out.print(f"{name}: {added} added, {unchanged} already present")


@app.command("enable")
def enable(name: str) -> None:
    """Enable a bank: its entries match again."""
    with platform() as p:
        p.bank_set_enabled(name, True, actor=cli_actor())
    out.print(f"bank {name} enabled")


@app.command("disable")
def disable(name: str) -> None:
    """Disable a bank: none of its entries match until it is enabled."""
    with platform() as p:
        p.bank_set_enabled(name, False, actor=cli_actor())
    out.print(f"bank {name} disabled")


@app.command("entry-disable")
def entry_disable(
    entry_id: int,
    until: datetime | None = typer.Option(None, help="Come back by itself at this UTC time (ISO 8601)."),
    reason: str = typer.Option("", help="Why (kept on the entry)."),
) -> None:
    """Disable one entry (for good, or until a time)."""
    from datetime import UTC  # noqa: PLC0415

    with platform() as p:
        p.bank_set_entry_enabled(
            entry_id,
            False,
            actor=cli_actor(),
            until=until.replace(tzinfo=UTC) if until and until.tzinfo is None else until,
            reason=reason,
        )
    out.print(f"entry {entry_id} disabled" + (f" until {until.isoformat()}" if until else ""))


@app.command("entry-enable")
def entry_enable(entry_id: int) -> None:
    """Enable one entry again."""
    with platform() as p:
        p.bank_set_entry_enabled(entry_id, True, actor=cli_actor())
    out.print(f"entry {entry_id} enabled")


quarantine_app = typer.Typer(
    help="Flood quarantine: entries that matched far more than entries usually do; their matches go to "
    "review until a lead releases them.",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def quarantine_list(
    all_: bool = typer.Option(False, "--all", help="Released quarantines too."), json_out: bool = JSON
) -> None:
    """Entries under flood quarantine (newest first)."""
    with platform() as p:
        rows = p.bank_quarantines(include_released=all_)
    if json_out:
        print_json(rows)
        return
    if not rows:
        out.print("no entry is quarantined" if not all_ else "no quarantine yet")
        return
    table = Table("entry", "bank", "since", "matches", "per hour", "threshold", "typical", "state")
    for row in rows:
        state = "active" if row["active"] else f"released {row['released_at']} by {row['released_by']}"
        table.add_row(
            str(row["entry_id"]),
            str(row["bank"]),
            str(row["started_at"]),
            str(row["matches"]),
            str(row["rate_per_hour"]),
            str(row["threshold_per_hour"]),
            str(row["typical_per_hour"]),
            state,
        )
    out.print(table)


@quarantine_app.command("release")
def quarantine_release(
    entry_id: int = typer.Argument(..., min=1, help="The entry's id (`suraksha bank quarantine list`)."),
    note: str = typer.Option(..., "--note", help="Why its matches may act by themselves again (audited)."),
    user: str = identity.USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """End an entry's flood quarantine (a lead signs in): its matches act by the policy again, and it is
    measured afresh."""
    with platform() as p:
        person = identity.sign_in(
            p, user, password_stdin, permission=Permission.BANK_MANAGE, doing="release a quarantined entry"
        )
        p.bank_quarantine_release(entry_id, actor=identity.actor(person), note=note)
    out.print(f"entry {entry_id} released from quarantine: its matches act by the policy again")
