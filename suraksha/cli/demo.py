"""``suraksha demo``: a working product in one command, on benign synthetic pictures.

It makes a demo database (SQLite, in its own folder), a "known bad" bank holding hashes of benign
synthetic pictures (stand-ins: Suraksha never ships real abuse hashes), an allow-list bank, and a
folder of "uploads" (edited copies of banked pictures, unrelated pictures, a video, a corrupt file, a
flat picture), then scans the uploads and shows what was found and why.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import typer
from PIL import Image, ImageOps

from suraksha.cli.common import err, out, platform, scan_exit_code
from suraksha.files import private_dir, tighten, write_private

KNOWN_SEEDS = (101, 102, 103, 104, 105, 106)
UNRELATED_SEEDS = (201, 202, 203, 204)


def build_demo(folder: Path) -> Path:
    """Write the demo's media; return the uploads folder."""
    from suraksha.testing.synthetic import encode, synthetic_image, write_synthetic_video  # noqa: PLC0415

    known, uploads = folder / "known", folder / "uploads"
    for sub in (known, uploads):
        private_dir(sub)
    for seed in KNOWN_SEEDS:
        write_private(known / f"known-{seed}.jpg", encode(synthetic_image(seed), "JPEG", quality=95))
    write_synthetic_video(known / "known-clip.mp4", seed=107)
    tighten(known / "known-clip.mp4")  # written by the video encoder, under the umask
    first = synthetic_image(KNOWN_SEEDS[0])
    write_private(uploads / "repost-resized.jpg", encode(first.resize((400, 300)), "JPEG", quality=70))
    write_private(
        uploads / "repost-greyscale.png", encode(ImageOps.grayscale(synthetic_image(KNOWN_SEEDS[1])), "PNG")
    )
    write_private(
        uploads / "repost-rotated.webp",
        encode(synthetic_image(KNOWN_SEEDS[2]).transpose(Image.Transpose.ROTATE_90), "WEBP", quality=90),
    )
    write_private(uploads / "allow-listed.jpg", encode(synthetic_image(KNOWN_SEEDS[5]), "JPEG", quality=85))
    for seed in UNRELATED_SEEDS:
        write_private(uploads / f"holiday-{seed}.jpg", encode(synthetic_image(seed), "JPEG", quality=88))
    write_private(uploads / "clip-copy.mp4", (known / "known-clip.mp4").read_bytes())
    write_private(uploads / "broken.jpg", encode(synthetic_image(301), "JPEG")[:2000])
    write_private(uploads / "flat.png", encode(Image.new("RGB", (300, 200), (90, 120, 160)), "PNG"))
    return uploads


def demo_command(
    folder: Path = typer.Option(None, "--dir", help="Where to put the demo (default: <data dir>/demo)."),
    keep: bool = typer.Option(
        False, "--keep", help="Reuse an existing demo folder instead of starting afresh."
    ),
    serve: bool = typer.Option(
        True, "--serve/--no-serve", help="Serve the demo over HTTP afterwards (until Ctrl-C)."
    ),
    port: int = typer.Option(8000, min=1, max=65535, help="Port for --serve (on 127.0.0.1)."),
) -> None:
    """Seed a demo (benign pictures as a 'known bad' bank, an allow list, uploads; accounts and posts
    including a small racket), scan it, run the posts through the pipeline, then serve it."""
    from suraksha.settings import Settings  # noqa: PLC0415

    settings = Settings.load()
    base, database_url, media = _demo_place(
        folder, settings.data_path, settings.database_url is not None, keep
    )
    demo_env = {
        "SURAKSHA_DATABASE_URL": database_url,
        "SURAKSHA_DATA_DIR": str(base),
        # the demo serves the console over plain HTTP on 127.0.0.1 only: its cookies cannot be Secure
        "SURAKSHA_CONSOLE_SECURE_COOKIES": "false",
    }
    demo_env.update(_demo_vault_keys(base))
    if not settings.platform_item_url:  # so that a flagger can name the demo's posts by their URL
        demo_env["SURAKSHA_PLATFORM_ITEM_URL"] = DEMO_POST_URL
    previous = {name: os.environ.get(name) for name in demo_env}
    os.environ.update(demo_env)
    try:
        _seed_and_scan(media, build_demo(media))
        _submit_and_process()
        _network()
        _demo_report()
        _legal_replay(base)
        _flagger_notice()
        _appeal_replay()
        _exchange_sync()
        if base == settings.data_path and settings.database_url is None:
            out.print(
                f"\nThe demo is in the default data dir {base}: the README's commands (`suraksha bank "
                "list`, `suraksha scan ...`) work on it as written; the next `suraksha demo` replaces it."
            )
        else:
            out.print(
                f"\nThe demo stays in {base}. Its commands need:\n"
                f"  export SURAKSHA_DATA_DIR={base} SURAKSHA_DATABASE_URL={database_url}"
            )
        if serve:
            _serve(port)
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


DEMO_MARKER = "SURAKSHA-DEMO.txt"
DEMO_EXCHANGE = "demo-ncmec"
DEMO_EXCHANGE_BANK = "demo-exchange"
DEMO_SIM_ENTRIES = 20
"""Made-up entries the demo's NCMEC stand-in lists beside the demo bank's pictures (random bits)."""


def _exchange_sync() -> None:
    """Sync an exchange: NCMEC's hash sharing stand-in, in this process on a free loopback port, lists
    made-up hashes and the demo bank's benign pictures' PDQ hashes; an exchange on a bank of its own
    fetches it once, and what it added is shown."""
    import socket  # noqa: PLC0415
    import threading  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415
    from sqlalchemy import select  # noqa: PLC0415

    from suraksha.banks.models import Bank, BankEntry  # noqa: PLC0415
    from suraksha.exchanges.hashsharing_sim import HashSharingSimulator  # noqa: PLC0415
    from suraksha.exchanges.models import ExchangeApi, Trust  # noqa: PLC0415
    from suraksha.web.hashsharing_sim import create_hashsharing_app  # noqa: PLC0415

    out.print("\n[bold]Hash-list exchange[/bold]: syncing a bank from a local NCMEC hash sharing stand-in")
    password = secrets.token_urlsafe(18)
    sim = HashSharingSimulator("demo", password, page_size=10)
    sim.seed(DEMO_SIM_ENTRIES, seed=2026)
    with platform() as p, p.db.reading() as session:
        if session.scalar(select(Bank.id).where(Bank.name == DEMO_EXCHANGE_BANK)) is not None:
            out.print(f"bank {DEMO_EXCHANGE_BANK} is there already (--keep): not synced again")
            return
        known = list(
            session.scalars(
                select(BankEntry.value)
                .join(Bank, Bank.id == BankEntry.bank_id)
                .where(Bank.name == "demo-known-bad", BankEntry.signal_type == "pdq")
                .order_by(BankEntry.id)
            )
        )
    sim.upsert(
        [
            {"member": 42, "id": f"demo-picture-{n}", "type": "image", "pdq": value, "classification": "A1"}
            for n, value in enumerate(known, 1)
        ]
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            create_hashsharing_app(sim), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, name="demo-hashsharing-sim", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            err.print("[yellow]the NCMEC stand-in did not start: the exchange step is skipped[/yellow]")
            server.should_exit = True
            return
        time.sleep(0.02)
    env = "SURAKSHA_EXCHANGE_" + DEMO_EXCHANGE.upper().replace("-", "_") + "_CREDENTIALS"
    previous = os.environ.get(env)
    os.environ[env] = f"demo:{password}"  # demo-only, made now; the stand-in forgets it on exit
    try:
        with platform() as p:
            p.bank_create(
                DEMO_EXCHANGE_BANK,
                actor="demo",
                category="csam",
                description="DEMO: synced from a local NCMEC hash sharing stand-in (benign, made-up)",
            )
            p.exchange_create(
                DEMO_EXCHANGE,
                ExchangeApi.NCMEC,
                DEMO_EXCHANGE_BANK,
                settings={"url": f"http://127.0.0.1:{port}"},
                trust=Trust.REVIEW,
                actor="demo",
            )
            result = p.exchange_fetch(DEMO_EXCHANGE, actor="demo")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if previous is None:
            os.environ.pop(env, None)
        else:
            os.environ[env] = previous
    out.print(
        f"stand-in: {len(sim.entries)} entries ({DEMO_SIM_ENTRIES} made-up hashes and the PDQ hashes of "
        f"{len(known)} demo-known-bad pictures) on http://127.0.0.1:{port}"
    )
    out.print(
        f"exchange {DEMO_EXCHANGE} -> bank {DEMO_EXCHANGE_BANK}: {result.state.value}, {result.pages} pages, "
        f"{result.added} added, {result.updated} updated, {result.removed} removed"
        + (f" ({result.error})" if result.error else "")
    )
    out.print(
        "its matches go to review (trust 'review'); see `suraksha exchange show demo-ncmec`, "
        "`suraksha bank show demo-exchange`"
    )


def _demo_place(
    folder: Path | None, data_dir: Path, database_set: bool, keep: bool
) -> tuple[Path, str, Path]:
    """Where the demo goes: (its data dir, its database URL, the folder of its media).

    With ``--dir``: that folder, as asked. Otherwise the default data dir itself when it holds no data
    yet (or only an earlier demo, which it replaces), so that the README's commands reach the demo's
    data as written. A data dir with real data in it, or a configured database, is never touched: then
    the demo goes to <data dir>/demo and says which variables reach it.
    """
    default_db = data_dir / "suraksha.sqlite3"
    if folder is None and not database_set and (not default_db.exists() or (data_dir / DEMO_MARKER).exists()):
        if (data_dir / DEMO_MARKER).exists() and not keep:
            for child in data_dir.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        private_dir(data_dir)
        tighten(data_dir)
        write_private(
            data_dir / DEMO_MARKER,
            b"This data dir holds the Suraksha demo: benign synthetic pictures, accounts and posts.\n"
            b"The next `suraksha demo` replaces everything here; delete this file to keep it as it is.\n",
        )
        return data_dir, f"sqlite:///{default_db}", data_dir / "demo"
    base = folder or data_dir / "demo"
    if base.exists() and not keep:
        shutil.rmtree(base)
    private_dir(base)  # the demo's data folder: private like any other (0700, files 0600)
    return base, f"sqlite:///{base / 'demo.sqlite3'}", base


def _demo_vault_keys(base: Path) -> dict[str, str]:
    """The vault's keys for the demo: the environment's when set, else demo-only keys made once and
    kept (mode 0600) in the demo folder, so the demo's evidence is preserved and its packages signed.
    Never use these for real evidence: a real deployment's keys live in its secret store."""
    from suraksha.vault import crypto  # noqa: PLC0415

    names = ("SURAKSHA_VAULT_KEK", "SURAKSHA_VAULT_SIGNING_KEY")
    if all(os.environ.get(name) for name in names):
        return {}
    stored = base / "demo-vault-keys.env"
    if not stored.exists():
        write_private(
            stored,
            (
                f"SURAKSHA_VAULT_KEK={crypto.KeyEncryptionKey.generate().to_text()}\n"
                f"SURAKSHA_VAULT_SIGNING_KEY={crypto.generate_signing_key_text()}\n"
            ).encode(),
            exclusive=True,
        )
        err.print(f"[yellow]demo-only vault keys made in {stored} (never for real evidence)[/yellow]")
    keys = dict(line.split("=", 1) for line in stored.read_text().splitlines() if "=" in line)
    return {name: keys[name] for name in names if not os.environ.get(name) and name in keys}


def _seed_and_scan(base: Path, uploads: Path) -> None:
    from suraksha.cli import scan  # noqa: PLC0415

    with platform() as p, p.db.session() as session:
        from suraksha.banks import services  # noqa: PLC0415
        from suraksha.banks.models import BankCategory, BankKind, EntrySource  # noqa: PLC0415
        from suraksha.signals.file_signals import hash_path  # noqa: PLC0415

        if not services.list_banks(session):
            bad = services.create_bank(
                session,
                "demo-known-bad",
                category=BankCategory.CSAM,
                description="DEMO: hashes of benign synthetic pictures standing in for a known-abuse list",
            )
            allow = services.create_bank(
                session,
                "demo-allow",
                kind=BankKind.ALLOW,
                category=BankCategory.CSAM,
                description="DEMO: pictures a third-party list mis-hashed",
            )
            options = p.hash_options()
            for path in sorted((base / "known").iterdir()):
                signals = hash_path(path, options)
                from suraksha.signals.types import SignalKind  # noqa: PLC0415

                if signals.pdq is not None:
                    services.add_entry(
                        session,
                        bad,
                        SignalKind.PDQ,
                        signals.pdq.hex,
                        quality=signals.pdq.quality,
                        source=EntrySource.FILE,
                        source_ref=path.name,
                    )
                    if path.name == f"known-{KNOWN_SEEDS[5]}.jpg":
                        services.add_entry(
                            session,
                            allow,
                            SignalKind.PDQ,
                            signals.pdq.hex,
                            source=EntrySource.MANUAL,
                            note="reviewed: benign",
                            four_eyes="demo seed: a benign stand-in, no real review",
                        )
                if signals.vpdq:
                    services.add_entry(
                        session,
                        bad,
                        SignalKind.VPDQ,
                        "\n".join(f.to_line() for f in signals.vpdq),
                        source=EntrySource.FILE,
                        source_ref=path.name,
                    )
                if signals.md5:
                    services.add_entry(
                        session,
                        bad,
                        SignalKind.MD5,
                        signals.md5,
                        source=EntrySource.FILE,
                        source_ref=path.name,
                    )
    out.print(f"[bold]Suraksha demo[/bold] in {base}")
    out.print("banks: demo-known-bad (benign stand-ins), demo-allow (allow list)")
    out.print(f"scanning {uploads} ...\n")
    err.print(
        "expected: 3 edited reposts and the video match; allow-listed.jpg is suppressed; broken.jpg "
        "cannot be checked; flat.png is low quality\n"
    )
    try:
        scan.scan_command(
            [uploads], bank=[], json_out=False, workers=2, fast=False, rotations=True, video_fps=None
        )
    except typer.Exit as done:
        # The scan exits 3 because the demo plants matches, a corrupt and a flat file: for the demo
        # that is success.
        if done.exit_code != scan_exit_code(matched=True, unchecked=True):
            raise


def _submit_and_process() -> None:
    """Send the demo's accounts and posts through intake and the pipeline (a worker that drains the
    queue), then show what was decided for each."""
    from rich.table import Table  # noqa: PLC0415
    from sqlalchemy import select  # noqa: PLC0415

    from suraksha.content.models import Item  # noqa: PLC0415
    from suraksha.enforcement.models import Decision  # noqa: PLC0415
    from suraksha.intake.services import prepare_item, submit_items  # noqa: PLC0415
    from suraksha.testing.demo_items import demo_items, demo_population  # noqa: PLC0415

    shown = demo_items(KNOWN_SEEDS[:5], UNRELATED_SEEDS)
    crowd = demo_population()
    with platform() as p:
        posts = [*shown, *crowd]
        for start in range(0, len(posts), 500):  # as a platform sends them: batches, one transaction each
            prepared = [
                prepare_item(p.media_store, post, max_media_bytes=p.settings.media_max_bytes)
                for post in posts[start : start + 500]
            ]
            with p.db.session() as session:
                for outcome in submit_items(session, prepared):
                    if isinstance(outcome, Exception):
                        raise outcome
        index = p.bank_index().load()
        p.run_worker(index, until_drained=True, install_signal_handlers=False)
        out.print(
            "\n[bold]Posts from the demo platform[/bold] (accounts, text, media), through the pipeline "
            f"(and {len(crowd)} more text posts: the rest of the racket hidden among ordinary accounts):"
        )
        table = Table("item", "account", "verdict", "why", "actions")
        with p.db.session() as session:
            rows = session.execute(
                select(Item, Decision)
                .join(Decision, Decision.item_id == Item.id)
                .where(Item.platform_item_id.in_([s.platform_item_id for s in shown]))
                .order_by(Item.id)
            ).all()
            for row, decision in rows:
                actions = ", ".join(a.kind for a in decision.actions) or "-"
                table.add_row(
                    row.platform_item_id, row.account.handle, decision.verdict, decision.reason, actions
                )
        out.print(table)


def _network() -> None:
    """Cluster the account graph the pipeline built and show the suspected rackets it found."""
    with platform() as p:
        run = p.network_cluster(actor="demo:seed")
        found = p.network_clusters(limit=3)
    out.print(
        f"\n[bold]The account graph[/bold]: {run.accounts} linked accounts clustered in {run.seconds:.2f}s; "
        f"{run.suspected} suspected racket(s) among {run.clusters} cluster(s):"
    )
    for cluster in found:
        why = "; ".join(str(f["detail"]) for f in cluster.explanation.get("factors", []))
        out.print(f"  racket {cluster.id}: {cluster.accounts} accounts, score {cluster.score:.1f} ({why})")
    out.print(
        "  `suraksha network show-cluster ID --user EMAIL` shows its accounts and the evidence "
        "(docs/network.md)."
    )


DEMO_APPROVERS = ("demo:seed-approver-1", "demo:seed-approver-2")
"""Who "approved" the demo's report: named as the demo's seed, never a person (a real report is
prepared by one signed-in person and approved by another: docs/reporting.md)."""


def _demo_report() -> None:
    """An approved CyberTipline report of the demo's matched posts, so that sending one to the local
    simulator can be tried at once (docs/reporting.md, "Try it"). It waits until NCMEC's credentials
    are set, and `suraksha report list` says so."""
    from sqlalchemy import select  # noqa: PLC0415

    from suraksha.enforcement.models import Action, ActionKind, Decision  # noqa: PLC0415
    from suraksha.reporting.services import ReportRequest, prepare_report  # noqa: PLC0415

    with platform() as p, p.db.session() as session:
        decisions = tuple(
            session.scalars(
                select(Decision.id)
                .join(Action, Action.decision_id == Decision.id)
                .where(Decision.automated.is_(True), Action.kind == ActionKind.REPORT)
                .order_by(Decision.id)
            )
        )
        if not decisions:
            return
        request = ReportRequest(
            decisions, approved_by=DEMO_APPROVERS, additional_info="DEMO: benign stand-ins"
        )
        reports = prepare_report(session, request, actor="cli:demo")
        ids = ", ".join(str(r.id) for r in reports)
    out.print(
        f"\n[bold]Reports[/bold]: {ids}, approved by the demo's seed (a real one needs two people). "
        'To send them to the local NCMEC simulator, see docs/reporting.md ("Try it").'
    )


DEMO_DESK = "demo:legal-desk"
"""Who works the demo's legal desk: named as the demo, never a person (real requests are received and
approved by signed-in people: docs/legal.md)."""


def _legal_replay(base: Path) -> None:
    """The case this product exists for, replayed on the demo's racket: the police ask for the accounts'
    details (IT Rules r.3(1)(j): 72 h), the ministry orders their posts blocked (IT Act s.69A), and the
    women's commission sends a notice with its five questions; the desk preserves, withholds, drafts the
    disclosure and the reply. Approving and sending are left to people (docs/legal.md)."""
    from rich.table import Table  # noqa: PLC0415

    from suraksha.db.base import utcnow  # noqa: PLC0415
    from suraksha.enforcement.models import ActionKind  # noqa: PLC0415
    from suraksha.legal.clocks import RequestKind  # noqa: PLC0415
    from suraksha.legal.models import ScopeKind  # noqa: PLC0415
    from suraksha.legal.services import NewRequest, ScopeEntry  # noqa: PLC0415
    from suraksha.testing.demo_items import RACKET  # noqa: PLC0415
    from suraksha.vault.requests import PRESERVE  # noqa: PLC0415
    from suraksha.vault.services import ENRICH, EvidenceActor  # noqa: PLC0415

    desk = EvidenceActor(DEMO_DESK, frozenset({"legal"}))
    accounts = [ScopeEntry(ScopeKind.ACCOUNT, handle) for _, handle, _ in RACKET]
    now = utcnow()
    with platform() as p:
        police = p.legal_add_authority(
            actor=DEMO_DESK,
            agency="DEMO Police, cyber cell",
            jurisdiction="IN-DL",
            rank="Deputy Commissioner of Police",
            verified_how="DEMO: called back on the published number",
        )
        ministry = p.legal_add_authority(
            actor=DEMO_DESK,
            agency="DEMO Ministry (blocking committee)",
            jurisdiction="IN",
            rank="Joint Secretary",
            verified_how="DEMO: signed direction",
        )
        commission = p.legal_add_authority(
            actor=DEMO_DESK,
            agency="DEMO Commission for Women",
            jurisdiction="IN-DL",
            verified_how="DEMO: summons",
        )

        def receive(
            kind: RequestKind,
            authority: object,
            reference: str,
            scope: list[ScopeEntry],
            legal_basis: str,
            stated_due_at: datetime | None = None,
        ) -> int:
            new = NewRequest(
                kind=kind,
                jurisdiction="IN-DL",
                received_at=now,
                reference=reference,
                authority_id=int(str(authority)),
                scope=scope,
                legal_basis=legal_basis,
                stated_due_at=stated_due_at,
            )
            request = int(str(p.legal_receive(new, actor=DEMO_DESK)["id"]))
            p.legal_verify(request, actor=DEMO_DESK, how="DEMO: verified")
            return request

        details = receive(
            RequestKind.DATA_DISCLOSURE,
            police["id"],
            "DEMO FIR 1/2022",
            accounts,
            legal_basis="IT Rules r.3(1)(j); BNSS s.94",
        )
        p.legal_preserve(details, actor=DEMO_DESK)
        order = receive(
            RequestKind.BLOCKING_ORDER,
            ministry["id"],
            "DEMO direction 69A/1",
            accounts,
            legal_basis="IT Act s.69A",
        )
        p.legal_act(order, ActionKind.WITHHOLD, actor=DEMO_DESK, countries=["IN"])
        notice = receive(
            RequestKind.COMMISSION_NOTICE,
            commission["id"],
            "DEMO summons 2022",
            [*accounts, ScopeEntry(ScopeKind.DATE_RANGE, "", now.replace(year=now.year - 4), now)],
            legal_basis="Delhi Commission for Women Act, 1994",
            stated_due_at=now.replace(microsecond=0) + _days(4),
        )
        index = p.bank_index().load()
        try:
            # the preservations only: the demo's reports wait for NCMEC's credentials (never drained)
            p.run_worker(index, kinds=[PRESERVE, ENRICH], until_drained=True, install_signal_handlers=False)
        finally:
            index.close()
        disclosure = p.legal_disclose(details, actor=desk)
        reply = p.legal_reply(notice, actor=desk)
        shown = [p.legal_request(r) for r in (details, order, notice)]
    out.print("\n[bold]The legal desk[/bold] (the 2022 case, replayed on the demo's racket):")
    table = Table("request", "kind", "state", "clock", "what the desk did")
    did = {
        details: "preserved the posts; disclosure drafted",
        order: "withheld the posts in IN",
        notice: "reply drafted",
    }
    for request in shown:
        clocks = request["clocks"]
        assert isinstance(clocks, list)
        running = [c for c in clocks if c["state"] not in ("met", "met_late")] or clocks
        clock = running[0]
        table.add_row(
            f"#{request['id']} {request['reference']}",
            str(request["kind"]),
            str(request["state"]),
            f"{clock['step']} due {str(clock['due_at'])[:16]} ({clock['state']})",
            did[int(str(request["id"]))],
        )
    out.print(table)
    out.print(f"disclosure: {disclosure['package_path']}\nreply (PDF, DOCX to edit): {reply['package_path']}")
    out.print(
        "A second person approves the disclosure and the reply before they leave: "
        "`suraksha legal disclosure approve ID --user EMAIL` (docs/legal.md)."
    )


DEMO_POST_URL = "https://social.example/p/{item_id}"
DEMO_NGO = "demo-child-rights"


def _flagger_notice() -> None:
    """A child-rights NGO, registered as a trusted flagger, flags three of the racket's posts: two the
    demo holds (named by URL and by platform id) and one it does not, which is asked of the platform
    (here the local stand-in, which knows that one post). They go to review at the NGO's priority; a
    reviewer decides them in the console and the NGO then reads the outcome (docs/flaggers.md)."""
    from rich.table import Table  # noqa: PLC0415

    from suraksha.flaggers.ports import LocalPlatformItems  # noqa: PLC0415
    from suraksha.flaggers.registry import NewFlagger  # noqa: PLC0415
    from suraksha.flaggers.schemas import NoticeIn  # noqa: PLC0415
    from suraksha.flaggers.services import FETCH  # noqa: PLC0415
    from suraksha.intake.services import PROCESS_ITEM  # noqa: PLC0415
    from suraksha.testing.demo_items import RACKET  # noqa: PLC0415

    unseen, handle, bio = "demo-r-new1", "@quickdeals_new1", "Another backup. UPI demo.seller1@okaxis"
    with platform() as p:
        p.flagger_items = LocalPlatformItems(
            {
                f"{unseen}-post1": {
                    "platform_item_id": f"{unseen}-post1",
                    "kind": "post",
                    "account": {"platform_id": unseen, "handle": handle, "bio": bio},
                    "text": "Same set as @quickdeals_01, DM for price. Pay via UPI demo.seller1@okaxis",
                }
            }
        )
        shown = p.flagger_add(
            NewFlagger(
                name=DEMO_NGO,
                organisation="DEMO Child Rights Foundation",
                country="IN",
                designation="partner",
                contacts=["Online safety desk <desk@ngo.example>"],
                expertise=["csam", "sale_or_solicitation"],
                priority=70,
            ),
            actor="cli:demo",
        )
        prefix = str(shown["api_key"]).split("_")[1]
        first, second = RACKET[0][0], RACKET[1][0]
        body = NoticeIn.model_validate(
            {
                "reference": "DEMO-CRF-2026-001",
                "category": "sale_or_solicitation",
                "explanation": "These accounts sell sets of pictures of children for UPI payments and move "
                "buyers to a channel (demo: benign stand-ins).",
                "targets": [
                    {"url": DEMO_POST_URL.format(item_id=f"{first}-post1")},
                    {"platform_id": f"{second}-post2"},
                    {"platform_id": f"{unseen}-post1"},
                ],
            }
        )
        sent, _ = p.notice_submit(prefix, body)
        index = p.bank_index().load()
        try:  # ask the platform for the post not held, and check it like any other
            p.run_worker(
                index, kinds=[FETCH, PROCESS_ITEM], until_drained=True, install_signal_handlers=False
            )
        finally:
            index.close()
        read = p.notice_read(prefix, int(str(sent["id"])))
    out.print(
        f"\n[bold]A trusted flagger's notice[/bold]: {DEMO_NGO} sent {read['reference']} "
        f"(acknowledged at once; {read['state']}):"
    )
    table = Table("named", "found", "state")
    targets = read["targets"]
    assert isinstance(targets, list)
    for target in targets:
        joined = " (joined its open case)" if target["joined_existing_case"] else ""
        table.add_row(str(target["value"]), f"{target['detail']}{joined}", str(target["state"]))
    out.print(table)
    clocks = read["clocks"]
    assert isinstance(clocks, list)
    out.print(
        "Clocks (IT Rules r.3(2)): "
        + "; ".join(f"{c['step']} due {str(c['due_at'])[:16]} ({c['state']})" for c in clocks)
    )
    out.print(
        "The posts wait in the review queue at the NGO's priority (70); once a reviewer decides them the "
        f"NGO gets the outcome: `suraksha flaggers notices {DEMO_NGO}`, `suraksha flaggers list` (accuracy)."
    )


DEMO_PLATFORM = "demo:platform"


def _appeal_replay() -> None:
    """An ordinary user's post wrongly removed by a text rule (a strict policy that removes on a rule hit,
    without a person), the statement of reasons she is sent, her appeal through the platform, a
    reviewer who did not decide reversing it, and the restore and the outcome's notice that follow
    (docs/appeals.md)."""
    from sqlalchemy import select  # noqa: PLC0415

    from suraksha.access import users  # noqa: PLC0415
    from suraksha.appeals import services as appeals  # noqa: PLC0415
    from suraksha.appeals.services import AppealOutcome, NewAppeal  # noqa: PLC0415
    from suraksha.enforcement.models import Action, UserNotice  # noqa: PLC0415
    from suraksha.enforcement.services import DELIVER  # noqa: PLC0415
    from suraksha.enforcement.user_notices import SEND  # noqa: PLC0415
    from suraksha.review import services as review  # noqa: PLC0415
    from suraksha.testing.appeals import wrongly_removed_post  # noqa: PLC0415

    with platform() as p:
        post = wrongly_removed_post(
            p.db, p.rule_engine, platform_item_id="demo-cake-1", account="@asha_bakes"
        )
        index = p.bank_index().load()
        # Only the deliveries: the demo's reports wait for NCMEC's credentials (deferred, never drained).
        kinds = {DELIVER, SEND}
        p.run_worker(index, kinds=kinds, until_drained=True, install_signal_handlers=False)
        with p.db.reading() as session:
            notice = session.scalar(select(UserNotice).where(UserNotice.action_id == post.action_id))
            told = json.loads(notice.body)["what"] if notice is not None and notice.body else "-"
        lodged, _ = p.appeal_lodge(
            NewAppeal(
                "demo-appeal-1", "It is a bake sale for my son's school library.", action_id=post.action_id
            ),
            by=DEMO_PLATFORM,
        )
        with p.db.session() as session:
            # A reviewer for the demo only (its password is random and never shown): not who decided.
            reviewer = users.create_user(
                session,
                f"demo-appeals-{int(time.time())}@example.org",
                ["reviewer"],
                secrets.token_urlsafe(16),
                by="cli:demo",
            )
            case_id = appeals.get_appeal(session, int(lodged["id"])).case_id
            assert case_id is not None
            review.claim(session, case_id, reviewer, p.review_options)
        with p.db.session() as session:
            appeals.decide(
                session,
                int(lodged["id"]),
                reviewer,
                AppealOutcome.REVERSED,
                "A school bake sale with a payment handle is not a sale of abuse material.",
            )
        p.run_worker(index, kinds=kinds, until_drained=True, install_signal_handlers=False)
        index.close()
        shown = p.appeal(int(lodged["id"]))
        with p.db.reading() as session:
            restores = [
                f"{a.kind} {a.target} (#{a.id})"
                for a in session.scalars(select(Action).where(Action.id.in_(shown["restore_action_ids"])))
            ]
    out.print(
        '\n[bold]An appeal[/bold]: @asha_bakes\'s post "Baking for the school library fundraiser..." was '
        "removed by a text rule (pay-via-upi) under a strict policy, automatically."
    )
    out.print(f"  she was told: {told} (how and by when to appeal with it)")
    out.print(
        f"  appeal {shown['id']} ({shown['appeal_id']}) lodged through POST /api/v1/appeals; a reviewer with "
        f"no part in the decision {shown['outcome']} it; sent: {', '.join(restores) or '-'}; notice of the "
        f"outcome #{shown['notice_id']} (GET /api/v1/user-notices). `suraksha appeals rates` shows "
        "the rule's reversal rate."
    )


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _demo_flagger_desk() -> tuple[str, str]:
    """A console user of the demo NGO (role ``flagger``, linked to it), with a random password printed
    once; ("", "") when the demo's flagger is not registered."""
    from suraksha.access import users  # noqa: PLC0415

    with platform() as p:
        if not any(f["name"] == DEMO_NGO for f in p.flaggers_list()):
            return "", ""
        email, password = f"demo-ngo-desk-{int(time.time())}@example.org", secrets.token_urlsafe(12)
        with p.db.session() as session:
            users.create_user(session, email, ["flagger"], password, by="cli:demo")
        p.flagger_add_user(DEMO_NGO, email, actor="cli:demo")
    return email, password


def _serve(port: int) -> None:
    """Serve the demo: an admin key for this demo only, printed once, and a few requests to try."""
    from suraksha.access import users  # noqa: PLC0415
    from suraksha.access.services import create_api_key  # noqa: PLC0415
    from suraksha.cli.serve import serve_command  # noqa: PLC0415

    with platform() as p, p.db.session() as session:
        name = f"demo-admin-{int(time.time())}"
        _, key = create_api_key(session, name, ["admin"], note="suraksha demo")
        # A console user for this demo only, with a random password printed once (never a default one).
        email, password = f"demo-lead-{int(time.time())}@example.org", secrets.token_urlsafe(12)
        users.create_user(session, email, ["lead", "admin"], password, by="cli:demo")
    desk, desk_password = _demo_flagger_desk()
    base = f"http://127.0.0.1:{port}"
    out.print(f"\n[bold]Serving the demo on {base}[/bold] (Ctrl-C stops). A demo admin API key:\n  {key}")
    out.print(
        f"Try:\n  curl -H 'Authorization: Bearer {key}' {base}/api/v1/items/1\n"
        f"  curl -H 'Authorization: Bearer {key}' '{base}/api/v1/actions?after=0'\n"
        f"  curl -H 'Authorization: Bearer {key}' {base}/c/banks\n"
        f"  curl {base}/readyz\n"
        f"The API is described at {base}/openapi.json (docs/api.md)."
    )
    out.print(
        f"\n[bold]The review console[/bold]: {base}/console/ — sign in as {email} with the password "
        f"{password} (this demo only; `suraksha user create` makes real accounts)."
    )
    if desk:
        out.print(
            f"The demo NGO's own desk (a trusted flagger's staff: its notices and nothing else): {desk} "
            f"with the password {desk_password}."
        )
    serve_command(host="127.0.0.1", port=port, workers=1)
