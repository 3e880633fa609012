"""CyberTipline XML: building reports and fileDetails (pure: values in, bytes out), validating them
against NCMEC's schema, and reading NCMEC's answers safely.

Element order follows the sequences in NCMEC's ``cyber_tipline.xsd``; nothing leaves without passing
``CyberTiplineSchema.validate`` (the services call it before every submit and fileinfo). Answers from
the network are parsed with a parser that refuses DTDs and entities and reads at most
``MAX_ANSWER_BYTES``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from suraksha.errors import ConfigError, ExternalServiceError, InvalidInput
from suraksha.reporting.contents import (
    AccountDisabled,
    AssociatedAccount,
    DeviceRef,
    IncidentPlace,
    IpCapture,
    ReportContent,
    ReportedFile,
    ReportedUser,
    Reporter,
)

MAX_ANSWER_BYTES = 1024 * 1024
MAX_TEXT_CHARS = 20_000
"""Longest single text field we put in a report (bios, templates); longer text is cut and marked."""
_NOT_XML_CHARS = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class InvalidReport(InvalidInput):
    """A document that does not validate against NCMEC's schema: it must not be sent."""


def clean_text(value: str, *, limit: int = MAX_TEXT_CHARS) -> str:
    """Text as XML 1.0 can carry it: characters it cannot hold (controls, lone surrogates) become
    U+FFFD, so a hostile screen name cannot break or alter the document; overlong text is cut."""
    cleaned = _NOT_XML_CHARS.sub("\ufffd", value)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 12] + " [truncated]"


def xml_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise InvalidInput("naive datetime in a report; use timezone-aware UTC times")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _sub(parent: Any, tag: str, text: str | None = None, **attrib: str) -> Any:
    element = etree.SubElement(parent, tag, dict(attrib))
    if text is not None:
        element.text = clean_text(text)
    return element


def _serialize(root: Any) -> bytes:
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


# -- the report ---------------------------------------------------------------------------------------


def report_xml(content: ReportContent) -> bytes:
    """The ``<report>`` document for ``content`` (not yet validated: see ``CyberTiplineSchema``).

    Business rules applied here:
    - ``escalateToHighPriority`` is written only when a reviewer gave a reason (a child at immediate
      risk); it is never inferred.
    - ``fileViewedByEsp`` lives in fileDetails, not here (see ``file_details_xml``).
    """
    root = etree.Element("report")
    summary = _sub(root, "incidentSummary")
    _sub(summary, "incidentType", str(content.incident_type))
    if content.platform:
        _sub(summary, "platform", content.platform)
    if content.escalate_reason.strip():
        _sub(summary, "escalateToHighPriority", content.escalate_reason.strip())
    if content.annotations:
        annotations = _sub(summary, "reportAnnotations")
        for annotation in sorted(content.annotations):
            _sub(annotations, str(annotation), "true")
    _sub(summary, "incidentDateTime", xml_datetime(content.incident_at))
    for place in content.places:
        _incident_place(_sub(root, "internetDetails"), place)
    _reporter(_sub(root, "reporter"), content.reporter)
    _reported_user(_sub(root, "personOrUserReported"), content.user)
    if content.additional_info:
        _sub(root, "additionalInfo", content.additional_info)
    return _serialize(root)


def _incident_place(parent: Any, place: IncidentPlace) -> None:
    if place.kind == "chat":
        chat = _sub(parent, "chatImIncident")
        if place.client:
            _sub(chat, "chatClient", place.client)
        if place.info:
            _sub(chat, "additionalInfo", place.info)
        return
    page = _sub(parent, "webPageIncident")
    for url in place.urls:
        _sub(page, "url", url)
    if place.info:
        _sub(page, "additionalInfo", place.info)


def _reporter(parent: Any, reporter: Reporter) -> None:
    person = _sub(parent, "reportingPerson")
    if reporter.first_name:
        _sub(person, "firstName", reporter.first_name)
    if reporter.last_name:
        _sub(person, "lastName", reporter.last_name)
    if reporter.phone:
        _sub(person, "phone", reporter.phone)
    _sub(person, "email", reporter.email)
    if reporter.company_template:
        _sub(parent, "companyTemplate", reporter.company_template)
    if reporter.terms_of_service:
        _sub(parent, "termsOfService", reporter.terms_of_service)
    if reporter.legal_url:
        _sub(parent, "legalURL", reporter.legal_url)


def _ip_capture(parent: Any, tag: str, capture: IpCapture) -> None:
    element = _sub(parent, tag)
    _sub(element, "ipAddress", capture.ip)
    _sub(element, "eventName", capture.event)
    if capture.at is not None:
        _sub(element, "dateTime", xml_datetime(capture.at))
    if capture.possible_proxy is not None:
        _sub(element, "possibleProxy", _bool(capture.possible_proxy))
    if capture.port is not None:
        _sub(element, "port", str(capture.port))


def _device(parent: Any, device: DeviceRef) -> None:
    element = _sub(parent, "deviceId")
    _sub(element, "idType", device.id_type)
    _sub(element, "idValue", device.value)
    if device.event:
        _sub(element, "eventName", device.event)
    if device.at is not None:
        _sub(element, "dateTime", xml_datetime(device.at))


def _disabled(parent: Any, disabled: AccountDisabled) -> None:
    attrib = {"disabledDate": xml_datetime(disabled.at)}
    if disabled.user_notified is not None:
        attrib["userNotified"] = _bool(disabled.user_notified)
    if disabled.user_notified_at is not None:
        attrib["userNotifiedDate"] = xml_datetime(disabled.user_notified_at)
    tag = "accountPermanentlyDisabled" if disabled.permanently else "accountTemporarilyDisabled"
    _sub(parent, tag, "true", **attrib)


def _reported_user(parent: Any, user: ReportedUser) -> None:
    _sub(parent, "espIdentifier", user.esp_identifier)
    if user.esp_service:
        _sub(parent, "espService", user.esp_service)
    if user.screen_name:
        _sub(parent, "screenName", user.screen_name)
    if user.display_name:
        _sub(parent, "displayName", user.display_name)
    for url in user.profile_urls:
        _sub(parent, "profileUrl", url)
    for capture in user.ip_captures:
        _ip_capture(parent, "ipCaptureEvent", capture)
    for device in user.devices:
        _device(parent, device)
    for prior in user.prior_reports:
        _sub(parent, "priorCTReports", str(prior))
    if user.group_identifier:
        _sub(parent, "groupIdentifier", user.group_identifier)
    if user.disabled is not None:
        _disabled(parent, user.disabled)
    for other in user.associated:
        # "Linked": an account the reported user is linked to (here: by what the network shares).
        _associated(_sub(parent, "associatedAccount", type="Linked"), other)


def _associated(parent: Any, other: AssociatedAccount) -> None:
    if other.esp_service:
        _sub(parent, "espService", other.esp_service)
    _sub(parent, "espIdentifier", other.esp_identifier)
    if other.screen_name:
        _sub(parent, "screenName", other.screen_name)
    if other.display_name:
        _sub(parent, "displayName", other.display_name)
    for prior in other.prior_reports:
        _sub(parent, "priorCTReport", str(prior))


# -- file details -------------------------------------------------------------------------------------


def file_details_xml(report_id: int, file_id: str, file: ReportedFile) -> bytes:
    """The ``<fileDetails>`` document for one uploaded file.

    ``fileViewedByEsp`` and ``exifViewedByEsp`` are always stated, and true only when a recorded
    human view says so (``ReportedFile`` carries them from the stored views): under US v. Wilson a
    file the platform matched by hash but no person opened must be reported as not viewed, so that
    law enforcement knows it needs a warrant to open it. ``industryClassification`` only when a
    reviewer gave one.
    """
    root = etree.Element("fileDetails")
    _sub(root, "reportId", str(report_id))
    _sub(root, "fileId", file_id)
    if file.file_name:
        _sub(root, "fileName", file.file_name)
    if file.uploaded_at is not None:
        _sub(root, "uploadedToEspTimestamp", xml_datetime(file.uploaded_at))
    if file.location:
        _sub(root, "locationOfFile", file.location)
    _sub(root, "fileViewedByEsp", _bool(file.viewed_by_esp))
    _sub(root, "exifViewedByEsp", _bool(file.exif_viewed_by_esp))
    if file.publicly_available is not None:
        _sub(root, "publiclyAvailable", _bool(file.publicly_available))
    if file.classification is not None:
        _sub(root, "industryClassification", str(file.classification))
    if file.md5:
        _sub(root, "originalFileHash", file.md5, hashType="MD5")
    _sub(root, "originalFileHash", file.sha256, hashType="SHA256")
    if file.ip_capture is not None:
        _ip_capture(root, "ipCaptureEvent", file.ip_capture)
    for device in file.devices:
        _device(root, device)
    return _serialize(root)


# -- the schema ---------------------------------------------------------------------------------------


def _safe_parser() -> Any:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


class CyberTiplineSchema:
    """NCMEC's XSD, compiled once. ``validate(document, root="report")`` raises ``InvalidReport``
    naming every problem; a document whose root is not the expected element is refused too (the XSD
    declares several top-level elements)."""

    def __init__(self, xsd: bytes, *, source: str = "the CyberTipline XSD") -> None:
        try:
            self._schema = etree.XMLSchema(etree.fromstring(xsd, _safe_parser()))
        except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
            raise ConfigError(f"{source} is not a usable XML schema: {exc}") from None
        self.source = source

    @classmethod
    def from_path(cls, path: str | Path) -> CyberTiplineSchema:
        path = Path(path)
        try:
            return cls(path.read_bytes(), source=str(path))
        except FileNotFoundError:
            raise ConfigError(
                f"NCMEC's schema is not at {path}: set ncmec_xsd_path to NCMEC's cyber_tipline.xsd, or "
                "run `suraksha report fetch-xsd` to download it with the configured credentials"
            ) from None

    def problems(self, document: bytes, *, root: str) -> list[str]:
        try:
            tree = etree.fromstring(document, _safe_parser())
        except etree.XMLSyntaxError as exc:
            return [f"not well-formed XML: {exc}"]
        if tree.tag != root:
            return [f"the root element is <{tree.tag}>, expected <{root}>"]
        if self._schema.validate(tree):
            return []
        return [f"line {e.line}: {e.message}" for e in self._schema.error_log]

    def validate(self, document: bytes, *, root: str) -> None:
        problems = self.problems(document, root=root)
        if problems:
            raise InvalidReport(
                f"the <{root}> document does not validate against {self.source}: " + "; ".join(problems[:10])
            )


# -- answers --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NcmecAnswer:
    """A ``reportResponse`` or ``reportDoneResponse``. ``code`` 0 is success."""

    code: int
    description: str = ""
    report_id: int | None = None
    file_id: str | None = None
    md5: str | None = None
    file_ids: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.code == 0


def parse_answer(body: bytes) -> NcmecAnswer:
    """Read an answer from the API. Raises ``ExternalServiceError`` for anything that is not one
    (oversized, a DTD, not XML, another root): the caller treats that as an unknown outcome."""
    if len(body) > MAX_ANSWER_BYTES:
        raise ExternalServiceError(f"CyberTipline answer of {len(body)} bytes is over {MAX_ANSWER_BYTES}")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ExternalServiceError("CyberTipline answer carries a DTD; refused unread")
    try:
        root = etree.fromstring(body, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ExternalServiceError(f"CyberTipline answer is not XML: {exc}") from None
    if root.tag not in {"reportResponse", "reportDoneResponse"}:
        raise ExternalServiceError(f"CyberTipline answer has root <{root.tag}>, not a report response")

    def text(tag: str) -> str | None:
        found = root.find(tag)
        return None if found is None or found.text is None else str(found.text).strip()

    try:
        code = int(text("responseCode") or "")
        report_id = text("reportId")
        return NcmecAnswer(
            code=code,
            description=text("responseDescription") or "",
            report_id=int(report_id) if report_id else None,
            file_id=text("fileId"),
            md5=text("hash"),
            file_ids=tuple(str(e.text).strip() for e in root.iterfind("files/fileId") if e.text),
        )
    except ValueError:
        raise ExternalServiceError("CyberTipline answer has no integer responseCode/reportId") from None


def answer_xml(
    code: int,
    description: str = "",
    *,
    report_id: int | None = None,
    file_id: str | None = None,
    md5: str | None = None,
) -> bytes:
    """A ``reportResponse`` (what the API answers; the simulator writes these)."""
    root = etree.Element("reportResponse")
    _sub(root, "responseCode", str(code))
    _sub(root, "responseDescription", description)
    if report_id is not None:
        _sub(root, "reportId", str(report_id))
    if file_id is not None:
        _sub(root, "fileId", file_id)
    if md5 is not None:
        _sub(root, "hash", md5)
    return _serialize(root)


def done_answer_xml(report_id: int, file_ids: Sequence[str] | Iterable[str], code: int = 0) -> bytes:
    root = etree.Element("reportDoneResponse")
    _sub(root, "responseCode", str(code))
    _sub(root, "reportId", str(report_id))
    files = _sub(root, "files")
    for file_id in file_ids:
        _sub(files, "fileId", file_id)
    return _serialize(root)
