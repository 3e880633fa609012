"""``suraksha report``: CyberTipline reports (list, show with their XML, prepare from decisions,
approve, send now, retry a failed one, check credentials, fetch NCMEC's schema) and ``suraksha
ncmec-sim``: the local stand-in for NCMEC's Reporting API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import typer
from rich.table import Column, Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.cli import identity
from suraksha.cli.common import ACCOUNT_HELP, ITEM_HELP, account_id, fail, item_id, out, platform, print_json
from suraksha.enforcement.models import Decision
from suraksha.errors import InvalidInput
from suraksha.files import write_private
from suraksha.permissions import Permission
from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.reporting.ports import api_from_settings
from suraksha.reporting.review_link import recorded_views
from suraksha.reporting.services import (
    ReportOptions,
    ReportRequest,
    approve_report,
    prepare_report,
    report_detail,
    report_dict,
    resume_stalled,
    retry_report,
)
from suraksha.reporting.setup import xsd_path
from suraksha.reporting.submission import ReportFailed, RetryLater
from suraksha.reporting.xml import CyberTiplineSchema
from suraksha.review.models import IndustryClassification
from suraksha.settings import Secret
from suraksha.testing.testdata import find_testdata

app = typer.Typer(help="CyberTipline reports to NCMEC.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Machine-readable output.")
_FAIL_RULE = re.compile(r"^(status|submit|upload|fileinfo|finish|retract)=(lost|\d{1,5})(?:x(\d{1,4}))?$")


@app.command("list")
def list_command(
    state: ReportState | None = typer.Option(None, "--state", help="Only reports in this state."),
    limit: int = typer.Option(50, min=1, max=1000),
    json_out: bool = JSON,
) -> None:
    """Reports, newest first."""
    with platform() as p, p.db.reading() as session:
        query = select(CyberTiplineReport).order_by(CyberTiplineReport.id.desc()).limit(limit)
        if state is not None:
            query = query.where(CyberTiplineReport.state == state)
        rows = [report_dict(r) for r in session.scalars(query)]
    if json_out:
        print_json(rows)
        return
    table = Table(
        *(Column(h, overflow="fold") for h in ("id", "state", "account", "files", "reportId", "code"))
    )
    for row in rows:
        table.add_row(
            *(str(row[k] if row[k] is not None else "") for k in ("id", "state", "account", "files")),
            str(row["ncmec_report_id"] or ""),
            str(row["response_code"] or ""),
        )
    out.print(table)
    # What holds a report back, each on its own line under the table: read in full in any terminal.
    for row in rows:
        if row["waiting_for"] or row["failure"]:
            out.print(f"report {row['id']} waits for: {row['waiting_for'] or row['failure']}", soft_wrap=True)


@app.command("show")
def show_command(
    report_id: int = typer.Argument(..., help="Report id (`suraksha report list`)."),
    xml: bool = typer.Option(False, "--xml", help="Print the report XML as sent (and each fileDetails)."),
    json_out: bool = JSON,
) -> None:
    """One report: its state, NCMEC ids, files; with --xml the documents sent."""
    with platform() as p, p.db.reading() as session:
        detail = report_detail(session, report_id)
    documents = cast(list[str], detail.pop("xml"))
    if json_out:
        print_json({**detail, **({"xml": documents} if xml else {})})
        return
    files = cast(list[dict[str, object]], detail.pop("file_rows"))
    for key, value in detail.items():
        out.print(f"{key}: {value if value is not None else ''}")
    for file in files:
        out.print("file: " + ", ".join(f"{k}={v}" for k, v in file.items() if k != "view_basis"))
    if xml:
        for document in documents or ["(not built yet: the XML is fixed when submission starts)"]:
            out.print(document, markup=False)


@app.command("prepare")
def prepare_command(
    decision: list[int] = typer.Option([], "--decision", help="Decision id to report (repeatable)."),
    item: list[str] = typer.Option(
        [], "--item", help=f"Report this item's latest decision (repeatable). {ITEM_HELP}"
    ),
    classification: list[str] = typer.Option(
        [],
        "--classification",
        help="MEDIA_ID=A1|A2|B1|B2: your industry classification of a file you revealed in the console.",
    ),
    escalate: str = typer.Option(
        "", "--escalate", help="Only when a reviewer found a child at immediate risk: the reason."
    ),
    user: str = identity.USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    viewed: list[int] = typer.Option([], "--viewed", hidden=True),
    exif_viewed: list[int] = typer.Option([], "--exif-viewed", hidden=True),
    approve: bool = typer.Option(False, "--approve", hidden=True),
    json_out: bool = JSON,
) -> None:
    """Prepare (or extend) the reported accounts' reports from decisions, as a draft that a second
    person approves (`suraksha report approve`). A file is reported as viewed only where a reveal in
    the review console is stored (the report names who viewed it and when)."""
    if viewed or exif_viewed:
        raise fail(
            "--viewed is gone: a report says a file was viewed only where a reveal in the review console "
            "is stored, and those are added by themselves"
        )
    if approve:
        raise fail(
            "--approve is gone: a report is approved by a second person, who signs in to "
            "`suraksha report approve REPORT_ID --user EMAIL`"
        )
    classes: dict[int, IndustryClassification] = {}
    for entry in classification:
        media, _, value = entry.partition("=")
        try:
            classes[int(media)] = IndustryClassification(value.strip().upper())
        except ValueError:
            raise fail(f"--classification {entry!r} is not MEDIA_ID=A1|A2|B1|B2") from None
    with platform() as p:
        person = identity.sign_in(
            p, user, password_stdin, permission=Permission.REPORT_SUBMIT, doing="prepare a report"
        )
        actor = identity.actor(person)
        with p.db.session() as session:
            decision = [
                *decision,
                *(_latest_decision(session, item_id(p, session, ref), ref) for ref in item),
            ]
            if not decision:
                raise InvalidInput(
                    "name what to report: --item (the platform's id, post URL or #id) or --decision"
                )
            items = list(session.scalars(select(Decision.item_id).where(Decision.id.in_(decision))))
            views = recorded_views(session, items)
            unseen = sorted(set(classes) - {v.media_id for v in views if v.viewer == person.pseudonym})
            if unseen:
                raise InvalidInput(
                    f"media {', '.join(map(str, unseen))}: a classification comes only from someone who saw "
                    "the file: reveal it in the review console first"
                )
            request = ReportRequest(
                decision_ids=tuple(decision), views=views, classifications=classes, escalate_reason=escalate
            )
            window = ReportOptions.from_settings(p.settings).bundle_window_s
            reports = [
                report_dict(r) for r in prepare_report(session, request, actor=actor, bundle_window_s=window)
            ]
    if json_out:
        print_json(reports)
        return
    for report in reports:
        out.print(f"report {report['id']}: {report['state']}, {report['files']} file(s)")


def _latest_decision(session: Session, item: int, ref: str) -> int:
    found = session.scalar(
        select(Decision.id).where(Decision.item_id == item).order_by(Decision.id.desc()).limit(1)
    )
    if found is None:
        raise InvalidInput(f"item {ref} has no decision yet: nothing to report")
    return int(found)


@app.command("approve")
def approve_command(
    report_id: int = typer.Argument(...),
    user: str = identity.USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Approve a draft report for sending (it goes out after the bundling window). Four eyes: the
    approver signs in and is not who prepared the report or decided its items."""
    with platform() as p:
        person = identity.sign_in(
            p, user, password_stdin, permission=Permission.REPORT_SUBMIT, doing="approve a report"
        )
        with p.db.session() as session:
            approve_report(
                session,
                report_id,
                actor=identity.actor(person),
                bundle_window_s=p.settings.report_bundle_window_s,
            )
    out.print(f"report {report_id} approved by {person.pseudonym}; a worker sends it")


@app.command("retry")
def retry_command(
    report_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="What was fixed."),
    user: str = identity.USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Send a failed report again from the start (a signed-in person with report:submit)."""
    with platform() as p:
        person = identity.sign_in(p, user, password_stdin, permission=Permission.REPORT_SUBMIT, doing="retry")
        with p.db.session() as session:
            retry_report(session, report_id, actor=identity.actor(person), reason=reason)
    out.print(f"report {report_id} queued to be sent again")


@app.command("resume")
def resume_command(json_out: bool = JSON) -> None:
    """Queue approved or half-sent reports that have no job any more (after a dead job was dealt
    with): each resumes from where its row says it is."""
    with platform() as p, p.db.session() as session:
        queued = resume_stalled(session)
    if json_out:
        print_json({"queued": queued})
    else:
        out.print(f"queued {len(queued)} report(s): {', '.join(map(str, queued)) or '-'}")


@app.command("send")
def send_command(report_id: int = typer.Argument(...), json_out: bool = JSON) -> None:
    """Run an approved report's submission now, in this process (what the worker's report.submit job
    does), until it finishes, fails, or must wait."""
    with platform() as p:
        submitter = p.report_submitter()
        try:
            state = submitter.run(report_id)
        except RetryLater as exc:
            raise fail(f"NCMEC did not take it yet ({exc}); a worker retries it, or run this again") from None
        except ReportFailed as exc:
            raise fail(f"{exc}; fix it, then `suraksha report retry {report_id} --reason ...`") from None
        with p.db.reading() as session:
            report = session.get(CyberTiplineReport, report_id)
            summary = report_dict(report) if report else {"id": report_id, "state": state}
    if json_out:
        print_json(summary)
    else:
        out.print(
            f"report {report_id}: {summary['state']} (reportId {summary.get('ncmec_report_id') or '-'})"
        )


@app.command("check")
def check_command() -> None:
    """Check the CyberTipline credentials and host (GET /status)."""
    with platform() as p:
        api = api_from_settings(p.settings)
        answer = api.status()
        api.close()
    if not answer.ok:
        raise fail(f"{api.label}: responseCode {answer.code} {answer.description}")
    out.print(f"{api.label}: credentials accepted")


@app.command("fetch-xsd")
def fetch_xsd_command(
    to: Path | None = typer.Option(None, "--to", help="Where to save it (default: where reports read it)."),
) -> None:
    """Download NCMEC's report schema (GET /xsd) with the configured credentials, check it compiles,
    and save it where reports are validated from."""
    with platform() as p:
        api = api_from_settings(p.settings)
        document = api.xsd()
        api.close()
        CyberTiplineSchema(document, source=f"{api.label}/xsd")
        target = to or xsd_path(p.settings)
    write_private(target, document)
    out.print(f"saved NCMEC's schema ({len(document)} bytes) to {target}")


def ncmec_sim_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8900, min=1, max=65535),
    xsd: Path | None = typer.Option(
        None,
        "--xsd",
        help="NCMEC's cyber_tipline.xsd (default: where reports read it, then the test-data copy that "
        "scripts/fetch-testdata fetches).",
    ),
    latency: float = typer.Option(0.0, "--latency", min=0.0, max=60.0, help="Seconds each call waits."),
    fail_rule: list[str] = typer.Option(
        [],
        "--fail",
        help="STEP=CODE[xN] or STEP=lost[xN]: the next N calls of STEP (submit, upload, fileinfo, finish, "
        "retract, status) answer CODE (1000: server error) or act and lose the answer. Repeatable; also "
        "POST /_sim/fail at run time.",
    ),
) -> None:
    """Serve a local stand-in for NCMEC's CyberTipline Reporting API at http://HOST:PORT/ispws (for
    tests, demos, development). It accepts the credentials in SURAKSHA_NCMEC_USERNAME and
    SURAKSHA_NCMEC_PASSWORD, validates against the XSD, and enforces the flow and expiry. Nothing sent
    to it reaches NCMEC."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from suraksha.reporting.simulator import SimClock, simulator_from_xsd  # noqa: PLC0415
    from suraksha.web.ncmec_sim import create_simulator_app  # noqa: PLC0415 - nor the web framework

    with platform() as p:
        user, password = p.settings.ncmec_username, p.settings.ncmec_password
        configured = xsd_path(p.settings)
    if not user or not password:
        raise fail(
            "the simulator needs credentials like the real API: set SURAKSHA_NCMEC_USERNAME and "
            "SURAKSHA_NCMEC_PASSWORD (the client uses the same ones)"
        )
    schema_path = xsd or simulator_schema(configured)
    if schema_path is None or not schema_path.exists():
        raise fail(missing_schema(xsd or configured))
    clock = SimClock()
    simulator = simulator_from_xsd(
        schema_path,
        username=user.reveal() if isinstance(user, Secret) else str(user),
        password=password.reveal() if isinstance(password, Secret) else str(password),
        clock=clock,
        latency_s=latency,
    )
    for rule in fail_rule:
        match = _FAIL_RULE.fullmatch(rule.strip())
        if match is None:
            raise fail(f"--fail {rule!r} is not STEP=CODE[xN] or STEP=lost[xN] (e.g. upload=1000x2)")
        step, code, times = match.group(1), match.group(2), int(match.group(3) or 1)
        lost = code == "lost"
        simulator.fail(step, 0 if lost else int(code), times, lost=lost)
    out.print(f"CyberTipline simulator on http://{host}:{port}/ispws (set SURAKSHA_NCMEC_URL to this)")
    uvicorn.run(
        create_simulator_app(simulator, clock=clock),
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        server_header=False,
    )


def simulator_schema(configured: Path) -> Path | None:
    """The schema the simulator validates against when no --xsd is given: where reports read it
    (``ncmec_xsd_path``, or what ``report fetch-xsd`` saved), else the pinned public copy that
    ``scripts/fetch-testdata`` puts in the test data (``.testdata/ncmec/cyber_tipline.xsd``)."""
    if configured.exists():
        return configured
    testdata = find_testdata()
    copy = testdata / "ncmec" / "cyber_tipline.xsd" if testdata is not None else None
    return copy if copy is not None and copy.exists() else None


def missing_schema(looked_at: Path) -> str:
    """Where NCMEC's schema comes from, all three ways, for the error that says it is missing."""
    return (
        f"NCMEC's report schema (cyber_tipline.xsd) is not at {looked_at} nor in the test data. "
        "NCMEC publishes it to registered reporters: its Reporting API serves it at GET /ispws/xsd, and "
        "`suraksha report fetch-xsd` saves it there with your SURAKSHA_NCMEC_USERNAME and PASSWORD. "
        "Without an NCMEC account, `scripts/fetch-testdata` fetches a pinned, checksummed public copy "
        "into .testdata/ncmec/cyber_tipline.xsd, which this command finds; or pass --xsd PATH."
    )


referral_app = typer.Typer(help="Police referrals: build the package, record it sent and acknowledged.")
app.add_typer(referral_app, name="referral")


@referral_app.command("create")
def referral_create_command(
    account: str = typer.Option(..., "--account", help=ACCOUNT_HELP),
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="Two-letter country code, e.g. IN."),
    agency: str = typer.Option(..., "--agency", help="The police agency it is for."),
    evidence: Path | None = typer.Option(
        None, "--evidence", help="The signed evidence package (`suraksha vault export`) to include."
    ),
    organisation: str = typer.Option("", "--organisation", help="Your organisation's name, as certified."),
    user: str = identity.USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """Build the referral package (PDF with the custodian certificate, summary.json, evidence): a
    signed-in person with report:submit, named as the one who made it."""
    from suraksha.reporting.referrals import create_referral, referral_dict  # noqa: PLC0415

    with platform() as p:
        person = identity.sign_in(
            p, user, password_stdin, permission=Permission.REPORT_SUBMIT, doing="refer to the police"
        )
        with p.db.session() as session:
            referral = create_referral(
                session,
                account_id(p, session, account),
                jurisdiction=jurisdiction,
                agency=agency,
                actor=identity.actor(person),
                out_dir=p.settings.data_path / "referrals",
                organisation=organisation or p.settings.platform_name,
                evidence_package=evidence,
            )
            shown = referral_dict(referral)
    if json_out:
        print_json(shown)
    else:
        out.print(f"referral {shown['id']} drafted: {shown['package_path']}")


@referral_app.command("sent")
def referral_sent_command(
    referral_id: int = typer.Argument(...),
    via: str = typer.Option(..., "--via", help="How it was handed over (portal, e-mail, in person)."),
    user: str = identity.USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Record that the referral was sent (by the signed-in person)."""
    from suraksha.reporting.referrals import mark_sent  # noqa: PLC0415

    with platform() as p:
        person = identity.sign_in(p, user, password_stdin, permission=Permission.REPORT_SUBMIT, doing="refer")
        with p.db.session() as session:
            mark_sent(session, referral_id, via=via, actor=identity.actor(person))
    out.print(f"referral {referral_id} recorded as sent")


@referral_app.command("ack")
def referral_ack_command(
    referral_id: int = typer.Argument(...),
    case_number: str = typer.Option(..., "--case-number", help="The police case number or FIR number."),
    user: str = identity.USER,
    password_stdin: bool = identity.PASSWORD_STDIN,
) -> None:
    """Record the police's acknowledgement with their case number or FIR (by the signed-in person)."""
    from suraksha.reporting.referrals import mark_acknowledged  # noqa: PLC0415

    with platform() as p:
        person = identity.sign_in(p, user, password_stdin, permission=Permission.REPORT_SUBMIT, doing="refer")
        with p.db.session() as session:
            mark_acknowledged(session, referral_id, case_number=case_number, actor=identity.actor(person))
    out.print(f"referral {referral_id} acknowledged: {case_number}")


@referral_app.command("list")
def referral_list_command(json_out: bool = JSON) -> None:
    """Referrals, newest first, with their state and case number."""
    from suraksha.reporting.models import PoliceReferral  # noqa: PLC0415
    from suraksha.reporting.referrals import referral_dict  # noqa: PLC0415

    with platform() as p, p.db.reading() as session:
        rows = [
            referral_dict(r)
            for r in session.scalars(select(PoliceReferral).order_by(PoliceReferral.id.desc()).limit(200))
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "account", "jurisdiction", "agency", "state", "case number")
    for row in rows:
        table.add_row(
            *(str(row[k]) for k in ("id", "account", "jurisdiction", "agency", "state", "case_number"))
        )
    out.print(table)
