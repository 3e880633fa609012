"""CyberTipline reports and their files, each a persistent state machine.

A report (``CyberTiplineReport``) bundles every reported file of one account. Its ``state`` moves

    draft -> approved -> submitting -> submitted (reportId) -> files_uploaded -> finishing -> finished

or to ``failed`` (with NCMEC's response code and reason) from any step. Each file
(``CyberTiplineReportFile``) moves ``pending -> uploading -> uploaded (fileId) -> describing ->
described``. The ``-ing`` states are *intents*: written and committed before the call to NCMEC, so a
process that dies during the call leaves a row that says "outcome unknown", which the resume logic in
``suraksha.reporting.services`` handles without blindly repeating the call.

Every write goes through a compare-and-set on ``version``: whoever last moved the report owns it,
and a worker that lost it (its lease was taken over while it hung) can record nothing more.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suraksha.db.base import Base, BigId, UTCDateTime, utcnow


class ReportState(StrEnum):
    DRAFT = "draft"
    """Built from decisions; files may still be added (bundling). Needs approval to be sent."""
    APPROVED = "approved"
    """Approved for sending; files may still be added until submission starts."""
    SUBMITTING = "submitting"
    """Intent recorded: the report XML is fixed and ``submit`` is (or was) being called."""
    SUBMITTED = "submitted"
    """NCMEC opened the report (``ncmec_report_id``); files are being uploaded and described."""
    FILES_UPLOADED = "files_uploaded"
    FINISHING = "finishing"
    """Intent recorded: ``finish`` is (or was) being called."""
    FINISHED = "finished"
    FAILED = "failed"
    """A person must look: NCMEC refused it (``response_code``), or retries ran out (``failure``)."""


OPEN_STATES = frozenset({ReportState.DRAFT, ReportState.APPROVED})
"""States in which files may still be bundled into the report."""
ACTIVE_STATES = frozenset(
    {ReportState.SUBMITTING, ReportState.SUBMITTED, ReportState.FILES_UPLOADED, ReportState.FINISHING}
)
DONE_STATES = frozenset({ReportState.FINISHED, ReportState.FAILED})


class FileState(StrEnum):
    PENDING = "pending"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    DESCRIBING = "describing"
    DESCRIBED = "described"


class IncidentType(StrEnum):
    """NCMEC's incidentType vocabulary (cyber_tipline.xsd)."""

    CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking"
    CHILD_SEX_TOURISM = "Child Sex Tourism"
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation"
    MISLEADING_DOMAIN_NAME = "Misleading Domain Name"
    MISLEADING_WORDS_OR_IMAGES = "Misleading Words or Digital Images on the Internet"
    ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Acts"
    UNSOLICITED_OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"


class ReportAnnotation(StrEnum):
    """incidentSummary/reportAnnotations (cyber_tipline.xsd)."""

    SEXTORTION = "sextortion"
    CSAM_SOLICITATION = "csamSolicitation"
    MINOR_TO_MINOR = "minorToMinorInteraction"
    SPAM = "spam"
    SADISTIC_ONLINE_EXPLOITATION = "sadisticOnlineExploitation"


class CyberTiplineReport(Base):
    __tablename__ = "cybertipline_reports"
    __table_args__ = (
        # statistics count the reports finished in a period (suraksha.transparency.tally)
        Index("ix_cybertipline_reports_state_finished_at", "state", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=ReportState.DRAFT, index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped by every write (compare-and-set): see the module docstring."""
    environment: Mapped[str] = mapped_column(String(200), default="")
    """'test', 'production' or the simulator's URL: where it was sent."""
    incident_type: Mapped[str] = mapped_column(String(100), default=IncidentType.CHILD_PORNOGRAPHY)
    annotations: Mapped[str] = mapped_column(String(200), default="")
    """Space-separated ReportAnnotation values."""
    escalate_reason: Mapped[str] = mapped_column(Text, default="")
    """Non-empty only when a reviewer flagged a child at immediate risk (then sent as
    escalateToHighPriority)."""
    additional_info: Mapped[str] = mapped_column(Text, default="")
    group_identifier: Mapped[str] = mapped_column(String(200), default="")
    """NCMEC's ``groupIdentifier``: the organised group the account is believed to be part of (a network
    investigation's reference), empty when none."""
    associated_account_ids: Mapped[str] = mapped_column(Text, default="")
    """Space-separated ids of the other accounts of that group, sent as ``associatedAccount``."""
    report_xml: Mapped[str] = mapped_column(Text, default="")
    """The exact document submitted, fixed when submission starts (the same bytes on every attempt)."""
    ncmec_report_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    """NCMEC's id of the current submission. Not unique: the test host, the production host and a
    restarted simulator each issue their own ids."""
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """NCMEC's last non-zero responseCode (0 is never stored: it means success)."""
    failure: Mapped[str] = mapped_column(Text, default="")
    """Why the report failed, or the last retried error."""
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    unknown_outcomes: Mapped[int] = mapped_column(Integer, default=0)
    """Submits whose outcome we never learnt (crash or lost answer); bounded, see services."""
    server_retries: Mapped[int] = mapped_column(Integer, default=0)
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    """Times an opened report was retracted (or found deleted by NCMEC) and submitted afresh."""
    approved_by: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When NCMEC opened the current reportId."""
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Our last change NCMEC accepted (submit, upload, fileinfo): its deletion clock runs from here."""
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    files: Mapped[list[CyberTiplineReportFile]] = relationship(
        back_populates="report", order_by="CyberTiplineReportFile.id"
    )


class CyberTiplineReportFile(Base):
    """One reported file, with what the people who decided recorded about it.

    ``viewed_by_esp``/``exif_viewed_by_esp`` are true only when a stored human view says so
    (US v. Wilson: a file nobody at the platform opened must not be reported as viewed);
    ``view_basis`` names those views."""

    __tablename__ = "cybertipline_report_files"
    __table_args__ = (UniqueConstraint("report_id", "media_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("cybertipline_reports.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("item_media.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), nullable=True, index=True)
    review_decision_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(20), default=FileState.PENDING)
    sha256: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str] = mapped_column(String(32), default="")
    file_name: Mapped[str] = mapped_column(String(200), default="")
    viewed_by_esp: Mapped[bool] = mapped_column(Boolean, default=False)
    exif_viewed_by_esp: Mapped[bool] = mapped_column(Boolean, default=False)
    view_basis: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of the recorded human views behind the two flags above."""
    publicly_available: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    industry_classification: Mapped[str | None] = mapped_column(String(2), nullable=True)
    ncmec_file_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details_xml: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[CyberTiplineReport] = relationship(back_populates="files")


class ReferralState(StrEnum):
    DRAFTED = "drafted"
    """The package is built (PDF, summary, evidence package named by its manifest hash)."""
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    """The police confirmed receipt; ``case_number`` holds their case number or FIR."""


class PoliceReferral(Base):
    """A referral of one account's case to the police of its jurisdiction (India: POCSO Rules r.11,
    IT Rules 3(1)(j)), tracked from drafted to sent to acknowledged."""

    __tablename__ = "police_referrals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(10))
    agency: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20), default=ReferralState.DRAFTED, index=True)
    ncmec_report_ids: Mapped[str] = mapped_column(String(400), default="")
    """Space-separated reportIds of the finished CyberTipline reports about the account."""
    evidence_manifest_sha256: Mapped[str] = mapped_column(String(64), default="")
    """The signed evidence package that goes with it (the vault export's manifest hash)."""
    package_path: Mapped[str] = mapped_column(Text, default="")
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_via: Mapped[str] = mapped_column(String(300), default="")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    case_number: Mapped[str] = mapped_column(String(200), default="")
    """The police case number or FIR number, once acknowledged."""
