"""What a CyberTipline report says, as plain typed values: the input of the pure XML builder
(``suraksha.reporting.xml``). ``suraksha.reporting.services.load_report_content`` is the one function
that reads the database to build it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from suraksha.errors import InvalidInput
from suraksha.reporting.models import IncidentType, ReportAnnotation
from suraksha.review.models import IndustryClassification


class CaptureEvent:
    """ipCaptureType values."""

    LOGIN = "Login"
    REGISTRATION = "Registration"
    PURCHASE = "Purchase"
    UPLOAD = "Upload"
    OTHER = "Other"
    UNKNOWN = "Unknown"


CAPTURE_EVENTS = frozenset({"Login", "Registration", "Purchase", "Upload", "Other", "Unknown"})


@dataclass(frozen=True)
class Reporter:
    """The person reporting, from settings (``reporter_*``)."""

    email: str
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    company_template: str = ""
    terms_of_service: str = ""
    legal_url: str = ""

    def __post_init__(self) -> None:
        if "@" not in self.email:
            raise InvalidInput(
                "the CyberTipline reporter needs an e-mail address NCMEC can reach: set reporter_email "
                "(and reporter_first_name, reporter_last_name)"
            )


@dataclass(frozen=True)
class IpCapture:
    ip: str
    event: str = CaptureEvent.UPLOAD
    at: datetime | None = None
    port: int | None = None
    possible_proxy: bool | None = None

    def __post_init__(self) -> None:
        if self.event not in CAPTURE_EVENTS:
            raise InvalidInput(f"IP capture event {self.event!r} is not one of {sorted(CAPTURE_EVENTS)}")
        if self.port is not None and not 0 <= self.port <= 65535:
            raise InvalidInput(f"port {self.port} is not between 0 and 65535")


@dataclass(frozen=True)
class DeviceRef:
    id_type: str
    value: str
    event: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class AccountDisabled:
    at: datetime
    permanently: bool = False
    user_notified: bool | None = None
    user_notified_at: datetime | None = None


@dataclass(frozen=True)
class AssociatedAccount:
    """Another account of the same organised group (NCMEC's ``associatedAccount``)."""

    esp_identifier: str
    screen_name: str = ""
    display_name: str = ""
    esp_service: str = ""
    prior_reports: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReportedUser:
    esp_identifier: str
    screen_name: str = ""
    display_name: str = ""
    profile_urls: tuple[str, ...] = ()
    ip_captures: tuple[IpCapture, ...] = ()
    devices: tuple[DeviceRef, ...] = ()
    disabled: AccountDisabled | None = None
    prior_reports: tuple[int, ...] = ()
    """reportIds of earlier finished CyberTipline reports about this account."""
    esp_service: str = ""
    group_identifier: str = ""
    """The organised group the account is believed to be part of (``groupIdentifier``)."""
    associated: tuple[AssociatedAccount, ...] = ()
    """The group's other accounts (``associatedAccount``)."""


@dataclass(frozen=True)
class ReportedFile:
    """One file of the report. ``viewed_by_esp``/``exif_viewed_by_esp`` come only from recorded human
    views; ``classification`` only from a reviewer."""

    key: int
    """Our id for the file (the report file row): ties upload answers back to it."""
    sha256: str
    md5: str = ""
    file_name: str = ""
    uploaded_at: datetime | None = None
    location: str = ""
    viewed_by_esp: bool = False
    exif_viewed_by_esp: bool = False
    publicly_available: bool | None = None
    classification: IndustryClassification | None = None
    ip_capture: IpCapture | None = None
    devices: tuple[DeviceRef, ...] = ()


@dataclass(frozen=True)
class IncidentPlace:
    """Where it happened: a web page (posts, profiles, comments) or a chat (messages)."""

    kind: str
    """'web' or 'chat'."""
    urls: tuple[str, ...] = ()
    client: str = ""
    info: str = ""


@dataclass(frozen=True)
class ReportContent:
    incident_at: datetime
    reporter: Reporter
    user: ReportedUser
    files: tuple[ReportedFile, ...]
    incident_type: IncidentType = IncidentType.CHILD_PORNOGRAPHY
    platform: str = ""
    escalate_reason: str = ""
    """Non-empty only when a reviewer flagged a child at immediate risk."""
    annotations: frozenset[ReportAnnotation] = field(default_factory=frozenset)
    places: tuple[IncidentPlace, ...] = ()
    additional_info: str = ""

    def __post_init__(self) -> None:
        if self.incident_at.tzinfo is None:
            raise InvalidInput("incident time must be timezone-aware (UTC)")
