"""Preparing CyberTipline reports from decisions, approving them, and reading one back as the typed
``ReportContent`` the pure XML builder takes.

Bundling: one report per reported account with all its files. A decision about an item of an
account that already has a report still open (draft or approved, not yet being submitted) adds its
files to that report; otherwise a new report is started. An approved report waits
``report_bundle_window_s`` before it is sent, so decisions taken together go out together.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from suraksha import audit
from suraksha.content.models import Account, Item, ItemKind, ItemMedia
from suraksha.db.base import utcnow
from suraksha.enforcement.models import Action, ActionKind, ActionTarget, DecidedBy, Decision
from suraksha.errors import ConfigError, Conflict, Forbidden, InvalidInput, NotFound
from suraksha.reporting.contents import (
    AccountDisabled,
    AssociatedAccount,
    CaptureEvent,
    DeviceRef,
    IncidentPlace,
    IpCapture,
    ReportContent,
    ReportedFile,
    ReportedUser,
    Reporter,
)
from suraksha.reporting.models import (
    ACTIVE_STATES,
    OPEN_STATES,
    CyberTiplineReport,
    CyberTiplineReportFile,
    FileState,
    IncidentType,
    ReportAnnotation,
    ReportState,
)
from suraksha.reporting.progress import SUBMIT, waiting_for
from suraksha.review.models import IndustryClassification
from suraksha.settings import Settings
from suraksha.worker.models import Job, JobState
from suraksha.worker.queue import enqueue

log = logging.getLogger(__name__)

HOLD = "report.hold"


class ReportAudit:
    """Audit actions of this area (``area:action``)."""

    PREPARED = "report:prepared"
    APPROVED = "report:approved"
    SUBMITTED = "report:submitted"
    OUTCOME_UNKNOWN = "report:outcome_unknown"
    RESTARTED = "report:restarted"
    FINISHED = "report:finished"
    FILED = "report:filed"
    """One per decision in a finished report: the reportId on the decision."""
    FAILED = "report:failed"
    RETRIED = "report:retried"


@dataclass(frozen=True)
class ReportOptions:
    """What reports take from settings."""

    reporter: Reporter | None
    platform: str = ""
    profile_url: str = ""
    item_url: str = ""
    bundle_window_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ReportOptions:
        email = (settings.reporter_email or "").strip()
        reporter = (
            Reporter(
                email=email,
                first_name=settings.reporter_first_name,
                last_name=settings.reporter_last_name,
                phone=settings.reporter_phone,
                company_template=settings.reporter_company_template,
                terms_of_service=settings.reporter_terms_of_service,
                legal_url=settings.reporter_legal_url,
            )
            if email
            else None
        )
        return cls(
            reporter=reporter,
            platform=settings.platform_name,
            profile_url=settings.platform_profile_url,
            item_url=settings.platform_item_url,
            bundle_window_s=settings.report_bundle_window_s,
        )


@dataclass(frozen=True)
class RecordedView:
    """A stored human view of one media file (a reveal in the review console): the only ground for
    reporting a file as viewed."""

    media_id: int
    viewer: str
    at: datetime
    exif: bool = False
    """The person also looked at the file's EXIF metadata."""
    ref: str = ""
    """Where it is recorded (e.g. ``human_view:17``)."""


@dataclass(frozen=True)
class ReportRequest:
    """What the people who decided want reported. ``decision_ids`` name the decisions about the items
    to report; ``views`` the recorded human views of their files; ``escalate_reason`` is given only
    when a reviewer flagged a child at immediate risk. ``approved_by`` (the four-eyes approvers of a
    review decision): when given, the report is approved at once; otherwise it waits as a draft for
    ``approve_report``."""

    decision_ids: tuple[int, ...]
    views: tuple[RecordedView, ...] = ()
    classifications: Mapping[int, IndustryClassification] = field(default_factory=dict)
    """Per media id, the industry classification a reviewer gave."""
    publicly_available: bool | None = None
    incident_type: IncidentType = IncidentType.CHILD_PORNOGRAPHY
    escalate_reason: str = ""
    annotations: frozenset[ReportAnnotation] = frozenset()
    additional_info: str = ""
    review_decision_id: int | None = None
    approved_by: tuple[str, ...] = ()
    group_identifier: str = ""
    """NCMEC's ``groupIdentifier`` (a network investigation's reference): the accounts are believed to
    be one organised group."""
    associated_account_ids: tuple[int, ...] = ()
    """The group's accounts: each report names the others as ``associatedAccount``."""


def _open_report(session: Session, account_id: int) -> CyberTiplineReport | None:
    return session.scalar(
        select(CyberTiplineReport)
        .where(CyberTiplineReport.account_id == account_id, CyberTiplineReport.state.in_(OPEN_STATES))
        .order_by(CyberTiplineReport.id)
        .limit(1)
        .with_for_update()
    )


def _file_name(media: ItemMedia, item: Item) -> str:
    extension = (media.media_format or "bin").lower()
    return f"{item.platform_item_id[:80]}-{media.position}.{extension}"


def prepare_report(
    session: Session, request: ReportRequest, *, actor: str, bundle_window_s: float = 0.0
) -> list[CyberTiplineReport]:
    """Add the decisions' items to their accounts' open reports (new ones where none is open); one
    report per account. Idempotent: a file already in the report is not added twice (its view flags
    only ever gain views). Returns the reports touched."""
    if not request.decision_ids:
        raise InvalidInput("a report needs at least one decision to report")
    views_by_media: dict[int, list[RecordedView]] = {}
    for view in request.views:
        views_by_media.setdefault(view.media_id, []).append(view)
    touched: dict[int, CyberTiplineReport] = {}
    for decision_id in dict.fromkeys(request.decision_ids):
        decision = session.get(Decision, decision_id)
        if decision is None:
            raise NotFound(f"decision {decision_id} does not exist")
        item = session.get(Item, decision.item_id)
        assert item is not None
        report = touched.get(item.account_id) or _open_report(session, item.account_id)
        if report is None:
            report = CyberTiplineReport(account_id=item.account_id, state=ReportState.DRAFT, version=0)
            session.add(report)
            session.flush()
        touched[item.account_id] = report
        _merge_request(report, request)
        for media in item.media:
            if media.sha256 is None:
                # Never fetched or decoded: there are no bytes to upload (the item is still reported).
                continue
            _add_file(session, report, item, media, decision, request, views_by_media.get(media.id, []))
    for report in touched.values():
        if request.approved_by and report.state == ReportState.DRAFT:
            _approve(session, report, request.approved_by, bundle_window_s)
        audit.record(
            session,
            actor,
            ReportAudit.PREPARED,
            f"cybertipline_report:{report.id}",
            {"decisions": list(request.decision_ids), "review_decision": request.review_decision_id},
        )
    return list(touched.values())


def _merge_request(report: CyberTiplineReport, request: ReportRequest) -> None:
    """Fold a request into the report. Bumps ``version``: a worker that read the report before this
    change cannot start submitting it (its compare-and-set fails and it reads the report again)."""
    report.version += 1
    report.incident_type = request.incident_type
    report.annotations = " ".join(
        sorted(set(report.annotations.split()) | {str(a) for a in request.annotations})
    )
    reason = request.escalate_reason.strip()
    if reason and reason not in report.escalate_reason:
        report.escalate_reason = f"{report.escalate_reason}\n{reason}".strip()
    if request.group_identifier:
        report.group_identifier = request.group_identifier[:200]
    if request.associated_account_ids:
        known = [int(a) for a in report.associated_account_ids.split()]
        merged = dict.fromkeys([*known, *request.associated_account_ids])
        report.associated_account_ids = " ".join(str(a) for a in merged if a != report.account_id)
    info = request.additional_info.strip()
    if info and info not in report.additional_info:
        report.additional_info = f"{report.additional_info}\n{info}".strip()
    report.updated_at = utcnow()


def _add_file(
    session: Session,
    report: CyberTiplineReport,
    item: Item,
    media: ItemMedia,
    decision: Decision,
    request: ReportRequest,
    views: Sequence[RecordedView],
) -> None:
    row = session.scalar(
        select(CyberTiplineReportFile).where(
            CyberTiplineReportFile.report_id == report.id, CyberTiplineReportFile.media_id == media.id
        )
    )
    if row is None:
        row = CyberTiplineReportFile(
            report_id=report.id,
            item_id=item.id,
            media_id=media.id,
            decision_id=decision.id,
            review_decision_id=request.review_decision_id,
            state=FileState.PENDING,
            sha256=media.sha256,
            md5=media.md5 or "",
            file_name=_file_name(media, item),
            viewed_by_esp=False,
            exif_viewed_by_esp=False,
            view_basis="[]",
        )
        session.add(row)
    # Only recorded views set the flags, and a flag once set by a view stays set.
    basis = json.loads(row.view_basis or "[]")
    for view in views:
        basis.append({"viewer": view.viewer, "at": view.at.isoformat(), "exif": view.exif, "ref": view.ref})
    row.view_basis = json.dumps(basis, sort_keys=True)
    row.viewed_by_esp = bool(row.viewed_by_esp or views)
    row.exif_viewed_by_esp = bool(row.exif_viewed_by_esp or any(v.exif for v in views))
    if media.id in request.classifications:
        row.industry_classification = str(IndustryClassification(request.classifications[media.id]))
    if request.publicly_available is not None:
        row.publicly_available = request.publicly_available
    session.flush()


def _approve(
    session: Session, report: CyberTiplineReport, approvers: Collection[str], bundle_window_s: float
) -> None:
    report.state = ReportState.APPROVED
    report.approved_at = utcnow()
    report.approved_by = " ".join(approvers)[:400]
    report.version += 1
    session.flush()
    enqueue_submission(session, report, delay_s=bundle_window_s)


def enqueue_submission(session: Session, report: CyberTiplineReport, *, delay_s: float) -> None:
    """Queue the job that sends the report in ``delay_s`` (the bundling window). Keyed by report and
    restart count: one job per approval or operator retry."""
    enqueue(
        session,
        SUBMIT,
        {"report": report.id},
        key=f"{SUBMIT}:{report.id}:{report.restarts}:{report.submit_attempts}",
        run_after=utcnow() + timedelta(seconds=max(0.0, delay_s)),
    )


def approve_report(session: Session, report_id: int, *, actor: str, bundle_window_s: float = 0.0) -> None:
    """Approve a draft for sending (a person with ``report:submit``; the caller checks the role).

    Four eyes: ``actor`` is an identified person (``user:<pseudonym>``) who neither prepared the report
    (its ``report:prepared`` audit rows) nor decided any of its items as a reviewer."""
    report = session.get(CyberTiplineReport, report_id, with_for_update=True)
    if report is None:
        raise NotFound(f"report {report_id} does not exist (`suraksha report list`)")
    if report.state != ReportState.DRAFT:
        raise Conflict(f"report {report_id} is {report.state}, not a draft: there is nothing to approve")
    if not actor.startswith("user:"):
        raise Forbidden(f"a report is approved by an identified person (a console user), not {actor!r}")
    if actor in _report_authors(session, report):
        raise Forbidden(
            f"four eyes: report {report_id} is approved by a second person, not by one who prepared it "
            "or decided its items"
        )
    report.state = ReportState.APPROVED
    report.approved_at = utcnow()
    report.approved_by = actor[:400]
    report.version += 1
    session.flush()
    enqueue_submission(session, report, delay_s=bundle_window_s)
    audit.record(session, actor, ReportAudit.APPROVED, f"cybertipline_report:{report.id}", {})


def _report_authors(session: Session, report: CyberTiplineReport) -> set[str]:
    """Who prepared the report or decided its items as a reviewer, as the audit log names them."""
    prepared = session.scalars(
        select(audit.AuditEvent.actor).where(
            audit.AuditEvent.subject == f"cybertipline_report:{report.id}",
            audit.AuditEvent.action == ReportAudit.PREPARED,
        )
    )
    decided = session.scalars(
        select(Decision.decided_by_ref).where(
            Decision.id.in_(
                select(CyberTiplineReportFile.decision_id).where(
                    CyberTiplineReportFile.report_id == report.id
                )
            ),
            Decision.decided_by == DecidedBy.REVIEWER,
        )
    )
    return set(prepared) | {f"user:{ref}" for ref in decided}


def retry_report(session: Session, report_id: int, *, actor: str, reason: str) -> None:
    """Send a failed report again from the start (a person fixed what made it fail: credentials, a
    file's bytes, our XML). It gets a new reportId; the failed attempt never finished at NCMEC."""
    report = session.get(CyberTiplineReport, report_id, with_for_update=True)
    if report is None:
        raise NotFound(f"report {report_id} does not exist (`suraksha report list`)")
    if report.state != ReportState.FAILED:
        raise Conflict(f"report {report_id} is {report.state}; only a failed report is retried")
    if not reason.strip():
        raise InvalidInput("say why the report is retried (what was fixed)")
    reset_to_approved(report)
    report.restarts += 1
    report.server_retries = report.unknown_outcomes = 0
    session.flush()
    enqueue_submission(session, report, delay_s=0)
    audit.record(session, actor, ReportAudit.RETRIED, f"cybertipline_report:{report.id}", {"reason": reason})


def resume_stalled(session: Session) -> list[int]:
    """Queue ``report.submit`` again for approved or in-flight reports that have no queued or running
    job (their job was dead-lettered and handled, or purged): they resume from their recorded state.
    Returns the report ids queued."""
    waiting = {ReportState.APPROVED} | set(ACTIVE_STATES)
    live = {
        job.payload.get("report")
        for job in session.scalars(
            select(Job).where(Job.kind == SUBMIT, Job.state.in_([JobState.QUEUED, JobState.LEASED]))
        )
    }
    queued: list[int] = []
    for report in session.scalars(select(CyberTiplineReport).where(CyberTiplineReport.state.in_(waiting))):
        if report.id in live:
            continue
        enqueue(
            session,
            SUBMIT,
            {"report": report.id},
            key=f"{SUBMIT}:{report.id}:resume:{report.version}",
        )
        queued.append(report.id)
    return queued


def reset_to_approved(report: CyberTiplineReport) -> None:
    """Back to approved with no NCMEC ids: the next run submits afresh (callers bump ``version``)."""
    report.state = ReportState.APPROVED
    report.ncmec_report_id = None
    report.opened_at = report.last_change_at = None
    report.report_xml = ""
    for file in report.files:
        file.state, file.ncmec_file_id, file.details_xml = FileState.PENDING, None, ""
    report.version += 1
    report.updated_at = utcnow()


# -- reading a report back --------------------------------------------------------------------------


def _account_disabled(session: Session, account: Account) -> AccountDisabled | None:
    """The account's disabled state, as the report states it (accountPermanentlyDisabled or
    accountTemporarilyDisabled). Permanent when a person's suspension stands: a reviewer chose
    ``suspend`` and it was carried out (after the second approval where four eyes apply; review
    calls that suspension permanent), with no restore of the account since. A suspension only
    automated enforcement made is temporary: a reviewer's false positive lifts it."""
    if account.suspended_at is None:
        return None
    restored = session.scalar(
        select(Action.id)
        .where(
            Action.account_id == account.id,
            Action.kind == ActionKind.RESTORE,
            Action.target == ActionTarget.ACCOUNT,
        )
        .order_by(Action.id.desc())
        .limit(1)
    )
    by_a_person = session.scalar(
        select(Action.id)
        .where(
            Action.account_id == account.id,
            Action.kind == ActionKind.SUSPEND,
            Action.automated.is_(False),
            Action.id > (restored or 0),
        )
        .limit(1)
    )
    return AccountDisabled(account.suspended_at, permanently=by_a_person is not None)


def load_report_content(session: Session, report_id: int, options: ReportOptions) -> ReportContent:
    """Everything the report says, read from the database: the account as last described, its
    items' upload IPs, ports, device ids and times, its suspension, earlier finished reports about
    it (priorCTReports), and per file the hashes, view flags and classification stored with it."""
    report = session.get(CyberTiplineReport, report_id)
    if report is None:
        raise NotFound(f"report {report_id} does not exist")
    if options.reporter is None:
        # Configuration, not the report's fault: the report waits (its job is deferred) until set.
        raise ConfigError(
            "no CyberTipline reporter is configured: set reporter_email (and reporter_first_name, "
            "reporter_last_name) so NCMEC and law enforcement can reach you"
        )
    account = session.get(Account, report.account_id)
    assert account is not None
    files = list(report.files)
    item_ids = sorted({f.item_id for f in files})
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(item_ids)))} if item_ids else {}
    media = {
        m.id: m
        for m in session.scalars(select(ItemMedia).where(ItemMedia.id.in_([f.media_id for f in files])))
    }
    times = [i.posted_at or i.received_at for i in items.values()]
    prior = session.scalars(
        select(CyberTiplineReport.ncmec_report_id)
        .where(
            CyberTiplineReport.account_id == account.id,
            CyberTiplineReport.state == ReportState.FINISHED,
            CyberTiplineReport.id != report.id,
        )
        .order_by(CyberTiplineReport.id)
    )
    captures: dict[tuple[str, int | None], IpCapture] = {}
    devices: dict[str, DeviceRef] = {}
    for item in sorted(items.values(), key=lambda i: i.id):
        when = item.posted_at or item.received_at
        if item.upload_ip and (item.upload_ip, item.upload_port) not in captures:
            captures[(item.upload_ip, item.upload_port)] = IpCapture(
                item.upload_ip, CaptureEvent.UPLOAD, when, item.upload_port
            )
        if item.device_id and item.device_id not in devices:
            devices[item.device_id] = DeviceRef("device_id", item.device_id, CaptureEvent.UPLOAD, when)
    user = ReportedUser(
        esp_identifier=account.platform_account_id,
        screen_name=account.handle,
        display_name=account.display_name,
        profile_urls=_profile_urls(options, account),
        ip_captures=tuple(captures.values()),
        devices=tuple(devices.values()),
        disabled=_account_disabled(session, account),
        prior_reports=tuple(p for p in prior if p is not None),
        esp_service=options.platform,
        group_identifier=report.group_identifier,
        associated=_associated(session, report, options),
    )
    reported = tuple(_reported_file(f, items[f.item_id], media[f.media_id]) for f in files)
    reference = f"Reporter reference: suraksha-report-{report.id}-{report.restarts}"
    try:
        incident_type = IncidentType(report.incident_type)
        annotations = frozenset(ReportAnnotation(a) for a in report.annotations.split())
    except ValueError as exc:
        raise InvalidInput(f"report {report.id} does not fit NCMEC's vocabulary: {exc}") from None
    return ReportContent(
        incident_at=min(times) if times else report.created_at,
        reporter=options.reporter,
        user=user,
        files=reported,
        incident_type=incident_type,
        platform=options.platform,
        escalate_reason=report.escalate_reason,
        annotations=annotations,
        places=_places(options, list(items.values())),
        additional_info=f"{report.additional_info}\n{reference}".strip(),
    )


def _associated(
    session: Session, report: CyberTiplineReport, options: ReportOptions
) -> tuple[AssociatedAccount, ...]:
    """The other accounts of the report's group, each with its own finished reports."""
    ids = [int(a) for a in report.associated_account_ids.split()]
    if not ids:
        return ()
    prior: dict[int, list[int]] = {}
    for account_id, ncmec_id in session.execute(
        select(CyberTiplineReport.account_id, CyberTiplineReport.ncmec_report_id)
        .where(
            CyberTiplineReport.account_id.in_(ids),
            CyberTiplineReport.state == ReportState.FINISHED,
            CyberTiplineReport.ncmec_report_id.is_not(None),
        )
        .order_by(CyberTiplineReport.id)
    ):
        if ncmec_id is not None:
            prior.setdefault(account_id, []).append(ncmec_id)
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))}
    return tuple(
        AssociatedAccount(
            esp_identifier=accounts[i].platform_account_id,
            screen_name=accounts[i].handle,
            display_name=accounts[i].display_name,
            esp_service=options.platform,
            prior_reports=tuple(prior.get(i, ())),
        )
        for i in ids
        if i in accounts
    )


def _profile_urls(options: ReportOptions, account: Account) -> tuple[str, ...]:
    if not options.profile_url:
        return ()
    return (options.profile_url.format(handle=account.handle, account_id=account.platform_account_id),)


def _places(options: ReportOptions, items: Sequence[Item]) -> tuple[IncidentPlace, ...]:
    places: list[IncidentPlace] = []
    chats = [i for i in items if i.kind == ItemKind.MESSAGE]
    pages = [i for i in items if i.kind != ItemKind.MESSAGE]
    if pages:
        urls = (
            tuple(options.item_url.format(item_id=i.platform_item_id) for i in pages)
            if options.item_url
            else ()
        )
        info = "" if urls else "Items: " + ", ".join(i.platform_item_id for i in pages)
        places.append(IncidentPlace("web", urls=urls, info=info[:2000]))
    if chats:
        info = "Messages: " + ", ".join(i.platform_item_id for i in chats)
        places.append(IncidentPlace("chat", client=options.platform, info=info[:2000]))
    return tuple(places)


def _reported_file(row: CyberTiplineReportFile, item: Item, media: ItemMedia) -> ReportedFile:
    when = item.posted_at or item.received_at
    return ReportedFile(
        key=row.id,
        sha256=row.sha256,
        md5=row.md5,
        file_name=row.file_name,
        uploaded_at=when,
        location=media.url or "",
        viewed_by_esp=row.viewed_by_esp,
        exif_viewed_by_esp=row.exif_viewed_by_esp,
        publicly_available=row.publicly_available,
        classification=IndustryClassification(row.industry_classification)
        if row.industry_classification
        else None,
        ip_capture=IpCapture(item.upload_ip, CaptureEvent.UPLOAD, when, item.upload_port)
        if item.upload_ip
        else None,
        devices=(DeviceRef("device_id", item.device_id, CaptureEvent.UPLOAD, when),)
        if item.device_id
        else (),
    )


def report_ids_for_decision(session: Session, decision_id: int) -> list[int]:
    """The NCMEC reportIds of the finished CyberTipline reports that include a decision's files
    (the reportId "on the decision", for the console and the review area)."""
    return [
        report_id
        for report_id in session.scalars(
            select(CyberTiplineReport.ncmec_report_id)
            .join(CyberTiplineReportFile, CyberTiplineReportFile.report_id == CyberTiplineReport.id)
            .where(
                CyberTiplineReportFile.decision_id == decision_id,
                CyberTiplineReport.state == ReportState.FINISHED,
            )
            .distinct()
        )
        if report_id is not None
    ]


def report_dict(report: CyberTiplineReport) -> dict[str, object]:
    """A report for listings and --json (without its XML): ``account`` names the account as people
    do (the platform's id and handle), ``waiting_for`` says why it is not moving
    (``suraksha.reporting.progress``)."""
    session = object_session(report)
    account = session.get(Account, report.account_id) if session is not None else None
    return {
        "id": report.id,
        "account_id": report.account_id,
        "account": account_name(account),
        "state": report.state,
        "waiting_for": waiting_for(session, report) if session is not None else "",
        "ncmec_report_id": report.ncmec_report_id,
        "environment": report.environment,
        "files": len(report.files),
        "response_code": report.response_code,
        "failure": report.failure,
        "restarts": report.restarts,
        "submit_attempts": report.submit_attempts,
        "created_at": report.created_at,
        "approved_at": report.approved_at,
        "finished_at": report.finished_at,
    }


def account_name(account: Account | None) -> str:
    """The account as people name it: the platform's id and handle (``suraksha.content.lookup``
    takes either back)."""
    if account is None:
        return ""
    handle = account.handle if account.handle.startswith("@") or not account.handle else f"@{account.handle}"
    return f"{account.platform_account_id} ({handle})" if handle else account.platform_account_id


def report_detail(session: Session, report_id: int) -> dict[str, object]:
    """One report for the console and ``suraksha report show``: its summary, its files with their view
    flags and NCMEC file ids, and the documents as sent (the report XML, then each fileDetails)."""
    report = session.get(CyberTiplineReport, report_id)
    if report is None:
        raise NotFound(f"report {report_id} does not exist (`suraksha report list`)")
    files = [
        {
            "id": f.id,
            "item_id": f.item_id,
            "media_id": f.media_id,
            "decision_id": f.decision_id,
            "review_decision_id": f.review_decision_id,
            "state": f.state,
            "ncmec_file_id": f.ncmec_file_id,
            "viewed_by_esp": f.viewed_by_esp,
            "exif_viewed_by_esp": f.exif_viewed_by_esp,
            "view_basis": json.loads(f.view_basis or "[]"),
            "industry_classification": f.industry_classification,
        }
        for f in report.files
    ]
    documents = [report.report_xml] + [f.details_xml for f in report.files if f.details_xml]
    return {**report_dict(report), "file_rows": files, "xml": [d for d in documents if d]}
