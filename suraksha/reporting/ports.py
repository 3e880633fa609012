"""The CyberTipline Reporting API, behind a port: ``HttpNcmecApi`` talks to NCMEC (or to the local
simulator over HTTP); ``LocalNcmecApi`` runs the simulator in process, for development without
credentials (it warns: nothing it accepts reaches NCMEC).

The documented flow (HTTPS, Basic auth): ``POST /submit`` (report XML) -> reportId; ``POST /upload``
(multipart ``id`` + ``file``) -> fileId and MD5; ``POST /fileinfo`` (fileDetails XML); ``POST
/finish`` (``id``) -> reportDoneResponse. ``POST /retract`` (``id``) abandons an unfinished report;
``GET /status`` checks the credentials; ``GET /xsd`` serves the schema.

Response codes this code relies on (NCMEC's documentation): 0 success; 1xxx server errors (retry with
backoff); 2000 authentication required / 3xxx not authorised (a person must fix the credentials); 4xxx
validation failed (our document is wrong: never retried); 5001 the report does not exist (never
opened, retracted, or deleted unfinished); 5102 the report is already finished.
"""

from __future__ import annotations

import ipaddress
import logging
import warnings
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from suraksha.errors import ConfigError, ExternalServiceError
from suraksha.reporting.xml import MAX_ANSWER_BYTES, NcmecAnswer, answer_xml, parse_answer
from suraksha.settings import Secret, Settings

log = logging.getLogger(__name__)

PRODUCTION_URL = "https://report.cybertip.org/ispws"
TEST_URL = "https://exttest.cybertip.org/ispws"
XSD_MAX_BYTES = 4 * 1024 * 1024

OK = 0
AUTHENTICATION_REQUIRED = 2000
VALIDATION_FAILED = 4100
REPORT_DOES_NOT_EXIST = 5001
REPORT_ALREADY_FINISHED = 5102


def is_server_error(code: int) -> bool:
    """1xxx: NCMEC's side failed; the same call may succeed later."""
    return 1000 <= code < 2000


class NcmecUnreachable(ExternalServiceError):
    """No answer from the API. ``sent`` is False only when the request certainly never reached it
    (connection refused, connect timeout); otherwise it may have been acted on."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class NcmecApi(Protocol):
    """The CyberTipline Reporting API. Calls answer ``NcmecAnswer`` (check ``code``) or raise
    ``NcmecUnreachable``."""

    @property
    def label(self) -> str:
        """Where reports go ('production', 'test', or the URL of a simulator): stored on each report."""
        ...

    def status(self) -> NcmecAnswer: ...

    def submit(self, report_xml: bytes) -> NcmecAnswer: ...

    def upload(self, report_id: int, file_name: str, data: bytes) -> NcmecAnswer: ...

    def file_info(self, details_xml: bytes) -> NcmecAnswer: ...

    def finish(self, report_id: int) -> NcmecAnswer: ...

    def retract(self, report_id: int) -> NcmecAnswer: ...

    def xsd(self) -> bytes: ...


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpNcmecApi:
    """The real client (httpx). HTTPS only, except plain http to a loopback address (the simulator)."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: Secret | str,
        *,
        label: str | None = None,
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname or "")):
            raise ConfigError(
                f"the CyberTipline API URL {base_url!r} must be https (plain http only to a loopback "
                "address, for the local simulator)"
            )
        if not username or not password:
            raise ConfigError(
                "the CyberTipline API needs credentials: set SURAKSHA_NCMEC_USERNAME and "
                "SURAKSHA_NCMEC_PASSWORD (issued by NCMEC; for the simulator, the ones it was started with)"
            )
        secret = password.reveal() if isinstance(password, Secret) else password
        self._label = label or base_url
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=httpx.BasicAuth(username, secret),
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "Suraksha-CyberTipline/0.1"},
        )

    @property
    def label(self) -> str:
        return self._label

    @property
    def base_url(self) -> str:
        return str(self._client.base_url).rstrip("/")

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, **kwargs: object) -> bytes:
        try:
            with self._client.stream(method, path, **kwargs) as response:  # type: ignore[arg-type]
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > (XSD_MAX_BYTES if path == "/xsd" else MAX_ANSWER_BYTES):
                        raise NcmecUnreachable(f"{path}: answer too large, cut off unread", sent=True)
                status = response.status_code
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            message = f"{path}: could not connect to the CyberTipline API: {exc}"
            raise NcmecUnreachable(message, sent=False) from None
        except httpx.HTTPError as exc:
            # The request may have been received and acted on before the answer was lost.
            message = f"{path}: no answer from the CyberTipline API: {exc!r}"
            raise NcmecUnreachable(message, sent=True) from None
        if status == 401 and b"reportResponse" not in body:
            return answer_xml(AUTHENTICATION_REQUIRED, "HTTP 401: authentication required")
        if status >= 500 and b"Response>" not in body:
            raise NcmecUnreachable(f"{path}: HTTP {status} without a report response", sent=True)
        return bytes(body)

    def _answer(self, method: str, path: str, **kwargs: object) -> NcmecAnswer:
        body = self._call(method, path, **kwargs)
        try:
            answer = parse_answer(body)
        except ExternalServiceError as exc:
            raise NcmecUnreachable(f"{path}: {exc}", sent=True) from None
        log.info("event=ncmec.call path=%s code=%d report=%s", path, answer.code, answer.report_id)
        return answer

    def status(self) -> NcmecAnswer:
        return self._answer("GET", "/status")

    def submit(self, report_xml: bytes) -> NcmecAnswer:
        return self._answer(
            "POST", "/submit", content=report_xml, headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    def upload(self, report_id: int, file_name: str, data: bytes) -> NcmecAnswer:
        return self._answer(
            "POST",
            "/upload",
            data={"id": str(report_id)},
            files={"file": (file_name, data, "application/octet-stream")},
        )

    def file_info(self, details_xml: bytes) -> NcmecAnswer:
        return self._answer(
            "POST", "/fileinfo", content=details_xml, headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    def finish(self, report_id: int) -> NcmecAnswer:
        return self._answer("POST", "/finish", data={"id": str(report_id)})

    def retract(self, report_id: int) -> NcmecAnswer:
        return self._answer("POST", "/retract", data={"id": str(report_id)})

    def xsd(self) -> bytes:
        return self._call("GET", "/xsd")


def environment_label(settings: Settings) -> str:
    """Where reports go, as a report records it (``CyberTiplineReport.environment``): ``test``,
    ``production``, or the ``ncmec_url`` of a simulator."""
    return str(settings.ncmec_url or settings.ncmec_environment)


def api_from_settings(settings: Settings) -> HttpNcmecApi:
    """The client the settings describe: ``ncmec_url`` when set (a simulator), otherwise NCMEC's
    test or production host by ``ncmec_environment``."""
    url = settings.ncmec_url or (PRODUCTION_URL if settings.ncmec_environment == "production" else TEST_URL)
    label = environment_label(settings)
    password = settings.ncmec_password
    username = settings.ncmec_username
    return HttpNcmecApi(
        url,
        username.reveal() if isinstance(username, Secret) else (username or ""),
        password or "",
        label=label,
        timeout_s=settings.ncmec_timeout_s,
    )


class LocalNcmecApi:
    """The simulator in process, through the same port: for development and demos without NCMEC
    credentials. Nothing sent here reaches NCMEC."""

    def __init__(self, simulator: SimulatorLike) -> None:
        warnings.warn(
            "LocalNcmecApi: reports go to an in-process simulator, not to NCMEC",
            RuntimeWarning,
            stacklevel=2,
        )
        self._sim = simulator

    @property
    def label(self) -> str:
        return "local-simulator"

    def _parse(self, reply: tuple[int, bytes]) -> NcmecAnswer:
        try:
            return parse_answer(reply[1])
        except ExternalServiceError as exc:
            # The simulator acted and "lost" its answer: the same unknown outcome as over HTTP.
            raise NcmecUnreachable(f"no usable answer (HTTP {reply[0]}): {exc}", sent=True) from None

    def status(self) -> NcmecAnswer:
        return self._parse(self._sim.status())

    def submit(self, report_xml: bytes) -> NcmecAnswer:
        return self._parse(self._sim.submit(report_xml))

    def upload(self, report_id: int, file_name: str, data: bytes) -> NcmecAnswer:
        return self._parse(self._sim.upload(str(report_id), file_name, data))

    def file_info(self, details_xml: bytes) -> NcmecAnswer:
        return self._parse(self._sim.file_info(details_xml))

    def finish(self, report_id: int) -> NcmecAnswer:
        return self._parse(self._sim.finish(str(report_id)))

    def retract(self, report_id: int) -> NcmecAnswer:
        return self._parse(self._sim.retract(str(report_id)))

    def xsd(self) -> bytes:
        return self._sim.xsd_bytes


class SimulatorLike(Protocol):
    """What ``LocalNcmecApi`` needs of ``suraksha.reporting.simulator.NcmecSimulator``: each call
    answers (HTTP status, body)."""

    xsd_bytes: bytes

    def status(self) -> tuple[int, bytes]: ...

    def submit(self, body: bytes) -> tuple[int, bytes]: ...

    def upload(self, report_id: str, file_name: str, data: bytes) -> tuple[int, bytes]: ...

    def file_info(self, body: bytes) -> tuple[int, bytes]: ...

    def finish(self, report_id: str) -> tuple[int, bytes]: ...

    def retract(self, report_id: str) -> tuple[int, bytes]: ...
