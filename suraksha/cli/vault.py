"""``suraksha vault ...``: keys, preservations, holds, purge, deletion on request, key rotation, signed
export packages and their offline verification.

Commands that open evidence or end a hold early (open, export, delete, hold release) sign a console
user in (``--user EMAIL``, password asked hidden or read with ``--password-stdin``, and the second
factor: ``suraksha.cli.identity``): only the legal role may, and the custody log names the person, not
the shell account.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select

from suraksha.app import Platform
from suraksha.cli import identity
from suraksha.cli.common import EXIT_ERROR, ITEM_HELP, err, fail, item_id, out, platform, print_json
from suraksha.errors import InvalidInput, NotFound
from suraksha.files import create_private, private_dir
from suraksha.vault import crypto
from suraksha.vault.holds import extend_hold, hold_dict, place_hold, release_hold
from suraksha.vault.models import Preservation, PreservationHold
from suraksha.vault.packages import build_package, verify_package
from suraksha.vault.purge import delete_on_request, purge_expired
from suraksha.vault.rotation import count_by_key, rotate_key
from suraksha.vault.services import (
    EvidenceActor,
    list_preservations,
    open_blob,
    preservation_dict,
    read_preservation,
)

EXIT_INVALID = 1

app = typer.Typer(
    help="The evidence vault: preservations, holds, purge, keys, export packages.", no_args_is_help=True
)
hold_app = typer.Typer(help="Preservation holds: place, extend, release, list.", no_args_is_help=True)
app.add_typer(hold_app, name="hold")

JSON = typer.Option(False, "--json", help="Machine-readable output.")
USER = typer.Option(..., "--user", help="E-mail of the console user (legal role) doing this.")
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from stdin's first line.")
REASON = typer.Option(..., "--reason", help="Why (recorded in the custody log).")


def _by() -> str:
    return f"cli:{getpass.getuser()}"


def _sign_in(p: Platform, email: str, password_stdin: bool) -> EvidenceActor:
    """The console sign-in (throttle, password, second factor: ``suraksha.cli.identity``)."""
    return EvidenceActor.for_user(identity.sign_in(p, email, password_stdin))


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2026-11-24T10:00:00+00:00)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("keygen")
def keygen_command(json_out: bool = JSON) -> None:
    """Make a new KEK and a new package signing key (printed once: store them in your secret store;
    give the verify key to whoever checks packages)."""
    kek = crypto.KeyEncryptionKey.generate()
    signing = crypto.generate_signing_key_text()
    info = {
        "SURAKSHA_VAULT_KEK": kek.to_text(),
        "kek_id": kek.key_id,
        "SURAKSHA_VAULT_SIGNING_KEY": signing,
        "verify_key": crypto.verify_key_text(crypto.signing_key_from_text(signing)),
    }
    if json_out:
        print_json(info)
        return
    err.print(
        "[yellow]secret keys below: put them in the environment's secret store, not in a file in git[/yellow]"
    )
    for key, value in info.items():
        out.print(f"{key}={value}", markup=False)


@app.command("public-key")
def public_key_command() -> None:
    """Print the verify (public) key of the configured signing key, for `verify-package`."""
    with platform() as p:
        if not p.settings.vault_signing_key:
            raise fail("SURAKSHA_VAULT_SIGNING_KEY is not set (`suraksha vault keygen` makes one)")
        out.print(
            crypto.verify_key_text(crypto.signing_key_from_text(p.settings.vault_signing_key)), markup=False
        )


@app.command("list")
def list_command(
    item: str | None = typer.Option(None, "--item", help=f"Only this item's preservations. {ITEM_HELP}"),
    after: int = typer.Option(0, "--after", help="Preservations with a larger id (paging)."),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    json_out: bool = JSON,
) -> None:
    """Preservations with their state, files and hold clocks (metadata only: nothing is decrypted)."""
    with platform() as p, p.db.reading() as session:
        only = item_id(p, session, item) if item is not None else None
        rows = [
            preservation_dict(r) for r in list_preservations(session, item_id=only, after=after, limit=limit)
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "decision", "item", "state", "files", "holds (days left)")
    for r in rows:
        holds = ", ".join(f"{h['basis']} ({h['days_left']})" for h in r["holds"] if h["active"]) or "none"
        table.add_row(
            str(r["id"]), str(r["decision_id"]), f"#{r['item_id']}", r["state"], str(len(r["files"])), holds
        )
    out.print(table)


@app.command("show")
def show_command(
    preservation_id: int,
    user: str | None = typer.Option(None, "--user", help="With --reason: also decrypt the snapshot (legal)."),
    reason: str | None = typer.Option(None, "--reason"),
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """One preservation's metadata; with --user and --reason, its decrypted snapshot too (audited)."""
    with platform() as p:
        info: dict[str, Any]
        if user:
            actor = _sign_in(p, user, password_stdin)
            with p.db.session() as session:
                contents = read_preservation(
                    session, p.vault, preservation_id, actor=actor, reason=reason or ""
                )
            info = {**contents.preservation, "snapshot": contents.snapshot, "enrichment": contents.enrichment}
        else:
            with p.db.reading() as session:
                row = session.get(Preservation, preservation_id)
                if row is None:
                    raise NotFound(f"preservation {preservation_id} does not exist (`suraksha vault list`)")
                info = preservation_dict(row)
    print_json(info) if json_out else out.print_json(data=info)


@app.command("open")
def open_command(
    sha256: str = typer.Argument(..., help="The file's SHA-256 (`suraksha vault show ID`)."),
    output: Path = typer.Option(..., "--out", help="Where to write the decrypted file (must not exist)."),
    user: str = USER,
    reason: str = REASON,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Decrypt one preserved file to --out (legal role; audited as evidence:access)."""
    if output.exists():
        raise fail(f"{output} exists; name a new file")
    with platform() as p:
        actor = _sign_in(p, user, password_stdin)
        with p.db.session() as session:
            data = open_blob(session, p.vault, sha256=sha256, actor=actor, reason=reason)
            private_dir(output.parent)
            with create_private(output) as f:  # decrypted evidence: 0600, whatever the umask
                f.write(data)
    info = {"sha256": sha256, "path": str(output), "size": len(data)}
    print_json(info) if json_out else out.print(f"wrote {len(data)} bytes to {output}", markup=False)


@hold_app.command("place")
def hold_place_command(
    basis: str = typer.Option(
        ..., "--basis", help="cybertipline_report, india_it_rules_3_1_g, law_enforcement_request"
    ),
    reference: str = typer.Option(..., "--reference", help="Report id, request or case number."),
    preservation: int | None = typer.Option(None, "--preservation", help="Hold this preservation."),
    item: list[str] = typer.Option([], "--item", help=f"Hold this item's evidence (repeatable). {ITEM_HELP}"),
    jurisdiction: str = typer.Option("", "--jurisdiction", help="ISO 3166 code; default vault_jurisdiction."),
    starts_at: str | None = typer.Option(None, "--starts-at", help="When the clock starts (default now)."),
    json_out: bool = JSON,
) -> None:
    """Place a hold (idempotent per preservation, basis and reference)."""
    if (preservation is None) == (not item):
        raise fail("give --preservation ID or one or more --item ID (one of them)")
    with platform() as p, p.db.session() as session:
        holds = place_hold(
            session,
            basis=basis,
            reference=reference,
            actor=_by(),
            periods=p.vault.periods,
            item_ids=[item_id(p, session, ref) for ref in item] or None,
            preservation_id=preservation,
            jurisdiction=jurisdiction or p.vault.jurisdiction,
            starts_at=_when(starts_at),
        )
        rows = [hold_dict(h) for h in holds]
    _print_holds(rows, json_out)


@hold_app.command("extend")
def hold_extend_command(
    hold_id: int,
    reason: str = REASON,
    until: str | None = typer.Option(None, "--until", help="New expiry (default: one more period)."),
    json_out: bool = JSON,
) -> None:
    """Extend a hold (e.g. a law-enforcement request renewed)."""
    with platform() as p, p.db.session() as session:
        hold = extend_hold(
            session, hold_id, actor=_by(), periods=p.vault.periods, reason=reason, until=_when(until)
        )
        rows = [hold_dict(hold)]
    _print_holds(rows, json_out)


@hold_app.command("release")
def hold_release_command(
    hold_id: int,
    user: str = USER,
    reason: str = REASON,
    override_statutory: bool = typer.Option(
        False,
        "--override-statutory",
        help="Counsel confirmed a statutory hold (a CyberTipline report's year) may be lifted early.",
    ),
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Release a hold before its expiry (legal role; audited); the evidence is purged once no other
    hold covers it."""
    with platform() as p:
        actor = _sign_in(p, user, password_stdin)
        with p.db.session() as session:
            hold = release_hold(
                session, hold_id, actor=actor, reason=reason, override_statutory=override_statutory
            )
            rows = [hold_dict(hold)]
    _print_holds(rows, json_out)


@hold_app.command("list")
def hold_list_command(
    preservation: int | None = typer.Option(None, "--preservation"),
    active_only: bool = typer.Option(False, "--active", help="Only holds still running."),
    json_out: bool = JSON,
) -> None:
    """Holds with their clocks."""
    with platform() as p, p.db.reading() as session:
        query = select(PreservationHold).order_by(PreservationHold.id).limit(10_000)
        if preservation is not None:
            query = query.where(PreservationHold.preservation_id == preservation)
        rows = [hold_dict(h) for h in session.scalars(query)]
    _print_holds([r for r in rows if r["active"] or not active_only], json_out)


def _print_holds(rows: list[dict[str, Any]], json_out: bool) -> None:
    if json_out:
        print_json(rows)
        return
    table = Table("id", "preservation", "basis", "jurisdiction", "reference", "expires", "days left", "state")
    for h in rows:
        state = "active" if h["active"] else ("released" if h["released_at"] else "expired")
        table.add_row(
            str(h["id"]),
            str(h["preservation_id"]),
            str(h["basis"]),
            str(h["jurisdiction"]),
            str(h["reference"]),
            str(h["expires_at"])[:19],
            str(h["days_left"]),
            state,
        )
    out.print(table)


@app.command("purge")
def purge_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be purged; change nothing."),
    json_out: bool = JSON,
) -> None:
    """Purge every blob no active hold covers (each purge audited). Run it daily (cron or a timer)."""
    with platform() as p, Progress(console=err, transient=True, disable=json_out) as progress:
        task = progress.add_task("purging", total=None)
        result = purge_expired(
            p.db, p.vault, actor=_by(), dry_run=dry_run, progress=lambda n: progress.advance(task, n)
        )
    if json_out:
        print_json(result.as_dict())
    else:
        verb = "would purge" if dry_run else "purged"
        out.print(
            f"{verb} {len(result.purged)} blob(s); {result.objects_deleted} stored object(s) and "
            f"{result.media_deleted} media store copies deleted"
        )


@app.command("delete")
def delete_command(
    preservation_id: int,
    reference: str = typer.Option(
        ..., "--reference", help="The law-enforcement request asking for deletion."
    ),
    user: str = USER,
    reason: str = REASON,
    override_statutory: bool = typer.Option(
        False,
        "--override-statutory",
        help="Counsel confirmed a statutory hold may be lifted by this request.",
    ),
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Delete a preservation's evidence on a law-enforcement request (legal role; audited)."""
    with platform() as p:
        actor = _sign_in(p, user, password_stdin)
        result = delete_on_request(
            p.db,
            p.vault,
            preservation_id,
            reference=reference,
            actor=actor,
            reason=reason,
            override_statutory=override_statutory,
        )
    if json_out:
        print_json(result.as_dict())
    else:
        out.print(
            f"deleted {len(result.purged)} blob(s) of preservation {preservation_id} and "
            f"{result.media_deleted} media store copies"
        )


@app.command("rotate-key")
def rotate_key_command(json_out: bool = JSON) -> None:
    """Re-wrap every data key under the new KEK. Set SURAKSHA_VAULT_KEK to the new key and
    SURAKSHA_VAULT_KEK_PREVIOUS to the old one; resumable (run it again after an interruption), audited.
    Once it reports nothing left under the old key, remove SURAKSHA_VAULT_KEK_PREVIOUS."""
    with platform() as p:
        if not p.settings.vault_kek_previous:
            raise fail(
                "set SURAKSHA_VAULT_KEK_PREVIOUS to the key being retired "
                "and SURAKSHA_VAULT_KEK to the new one"
            )
        keyring = p.vault.keyring
        assert keyring.previous is not None
        pending = count_by_key(p.db).get(keyring.previous.key_id, 0)
        with Progress(console=err, transient=True, disable=json_out) as progress:
            task = progress.add_task("re-wrapping data keys", total=pending)
            result = rotate_key(
                p.db,
                keyring.previous,
                keyring.current,
                actor=_by(),
                progress=lambda n: progress.advance(task, n),
            )
            # The media store's files carry their wrapped keys with them: re-wrap those too.
            task = progress.add_task("re-wrapping media keys", total=None)
            media = p.seal_media(actor=_by(), progress=lambda n: progress.advance(task, n))
    if json_out:
        print_json({**result.as_dict(), "media": media.as_dict()})
        return
    out.print(f"re-wrapped {result.rewrapped} data key(s) from {result.old_key_id} to {result.new_key_id}")
    out.print(f"media store: re-wrapped {media.rewrapped} file key(s), sealed {media.sealed} in plain")
    if result.under_other_keys:
        err.print(
            f"[yellow]{result.under_other_keys} blob(s) are under other, older keys: "
            "rotate from those too[/yellow]"
        )


@app.command("seal-media")
def seal_media_command(json_out: bool = JSON) -> None:
    """Bring the media store in line with the vault: seal media an older version stored in plain,
    re-wrap file keys under the current KEK, delete copies of evidence the vault purged, make every
    file 0600 and folder 0700. Safe to run again (audited as vault:media_seal)."""
    with platform() as p, Progress(console=err, transient=True, disable=json_out) as progress:
        task = progress.add_task("sealing the media store", total=None)
        result = p.seal_media(actor=_by(), progress=lambda n: progress.advance(task, n))
    if json_out:
        print_json(result.as_dict())
        return
    out.print(
        f"{result.files} file(s): sealed {result.sealed} found in plain, re-wrapped {result.rewrapped}, "
        f"deleted {result.destroyed} copies of purged evidence and {result.strays} stray temporary file(s)"
    )


@app.command("export")
def export_command(
    preservation: list[int] = typer.Option(
        ..., "--preservation", help="Preservation to include (repeatable)."
    ),
    output: Path = typer.Option(..., "--out", help="The package file to write (.zip)."),
    user: str = USER,
    reason: str = REASON,
    purpose: str = typer.Option("", "--purpose", help="e.g. 'police referral, FIR 12/2026'"),
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Write a signed evidence package (files, manifest, custody log excerpt, Ed25519 signature)."""
    if output.exists():
        raise fail(f"{output} exists; name a new file")
    with platform() as p:
        actor = _sign_in(p, user, password_stdin)
        with p.db.session() as session:
            built = build_package(
                session, p.vault, preservation, output, actor=actor, reason=reason, purpose=purpose
            )
    if json_out:
        print_json(built.as_dict())
    else:
        out.print(f"wrote {output} ({built.files} files, manifest {built.manifest_sha256})", markup=False)


@app.command("verify-package")
def verify_package_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The package (.zip)."),
    public_key: str = typer.Option(
        ...,
        "--public-key",
        envvar="SURAKSHA_VAULT_VERIFY_KEY",
        help="The exporter's verify key (base64; `suraksha vault public-key`).",
    ),
    max_bytes: int = typer.Option(4 * 1024**3, "--max-bytes", help="Refuse larger packages."),
    json_out: bool = JSON,
) -> None:
    """Check a package offline (no database): signature, every file, and the zip byte for byte.
    Exit 0 when it holds, 1 when it does not."""
    try:
        key = crypto.verify_key_from_text(public_key)
    except Exception as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    check = verify_package(file, key, max_bytes=max_bytes)
    if json_out:
        print_json(check.as_dict())
    elif check.ok:
        out.print(f"package ok: signature valid, {check.files} files match the manifest", markup=False)
    else:
        for problem in check.problems:
            err.print(f"[red]package NOT valid:[/red] {problem}")
    raise typer.Exit(0 if check.ok else EXIT_INVALID)
