"""A local stand-in for NCMEC's CyberTipline Reporting API, following its documented protocol, for
tests, demos and development (``suraksha ncmec-sim`` serves it over HTTP; ``LocalNcmecApi`` runs it in
process). Framework-free: the HTTP layer is ``suraksha.web.ncmec_sim``.

What it enforces, as NCMEC documents it:
- every report and fileDetails document validates against the XSD it was given (else 4100, with the
  schema's messages);
- the flow order: upload, fileinfo and finish only on an open report (5001 for an id it never issued
  or has deleted, 5102 once finished); fileinfo only for a file uploaded to that report; retract only
  before finish;
- expiry: an unfinished report is deleted 24 h after it was opened or 1 h after its last change,
  whichever is later (checked on every call, against an injectable clock);
- ids: reportIds are increasing integers, fileIds opaque tokens; uploads are answered with their MD5.

It can be told to fail: ``fail(step, code, times, lost=False)`` makes the next ``times`` calls of
``step`` answer ``code`` without acting (1000: server error), or, with ``lost=True``, act and then
lose the answer (HTTP 502, no XML): the outcome the client cannot know.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree

from suraksha.db.base import utcnow
from suraksha.errors import InvalidInput
from suraksha.reporting.ports import (
    OK,
    REPORT_ALREADY_FINISHED,
    REPORT_DOES_NOT_EXIST,
    VALIDATION_FAILED,
)
from suraksha.reporting.xml import CyberTiplineSchema, answer_xml, done_answer_xml

log = logging.getLogger(__name__)

STEPS = ("status", "submit", "upload", "fileinfo", "finish", "retract")
OPEN_FOR = timedelta(hours=24)
IDLE_FOR = timedelta(hours=1)
MAX_FILE_BYTES = 512 * 1024 * 1024
LOST = (502, b"<html>502 Bad Gateway</html>")

Reply = tuple[int, bytes]


class SimClock:
    """The simulator's clock: real UTC time plus an offset a test or demo can advance (to see an
    unfinished report expire without waiting an hour)."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return utcnow() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise InvalidInput("the simulator's clock only moves forwards")
        with self._lock:
            self._offset += timedelta(seconds=seconds)


@dataclass
class SimFile:
    file_id: str
    file_name: str
    md5: str
    size: int
    details_xml: bytes | None = None


@dataclass
class SimReport:
    report_id: int
    xml: bytes
    opened_at: datetime
    last_change_at: datetime
    files: dict[str, SimFile] = field(default_factory=dict)
    finished_at: datetime | None = None

    @property
    def expires_at(self) -> datetime:
        return max(self.opened_at + OPEN_FOR, self.last_change_at + IDLE_FOR)


@dataclass
class FailRule:
    step: str
    code: int
    times: int
    lost: bool = False
    description: str = ""


@dataclass
class SimCounters:
    submits: int = 0
    uploads: int = 0
    file_infos: int = 0
    finishes: int = 0
    retracts: int = 0
    expired: int = 0
    rejected: int = 0


class NcmecSimulator:
    def __init__(
        self,
        schema: CyberTiplineSchema,
        xsd_bytes: bytes,
        *,
        username: str,
        password: str,
        clock: Callable[[], datetime] = utcnow,
        first_report_id: int = 100_001,
        latency_s: float = 0.0,
    ) -> None:
        if not username or not password:
            raise InvalidInput("the simulator needs a user name and a password, like the real API")
        self.schema = schema
        self.xsd_bytes = xsd_bytes
        self._username, self._password = username, password
        self.clock = clock
        self._ids = itertools.count(first_report_id)
        self._lock = threading.Lock()
        self.open: dict[int, SimReport] = {}
        self.finished: dict[int, SimReport] = {}
        self.counters = SimCounters()
        self._rules: list[FailRule] = []
        self.latency_s = latency_s
        """Each call waits this long before it acts (to give crash tests time to strike mid-flow)."""

    # -- control ------------------------------------------------------------------------------------

    def check_credentials(self, username: str, password: str) -> bool:
        user_ok = secrets.compare_digest(username.encode(), self._username.encode())
        return secrets.compare_digest(password.encode(), self._password.encode()) and user_ok

    def fail(self, step: str, code: int = 1000, times: int = 1, *, lost: bool = False) -> None:
        """The next ``times`` calls of ``step`` fail (see the module docstring)."""
        if step not in STEPS:
            raise InvalidInput(f"unknown step {step!r}; one of {', '.join(STEPS)}")
        if times < 1 or (not lost and code == OK):
            raise InvalidInput("a failure needs times >= 1 and a non-zero code (or lost=True)")
        with self._lock:
            self._rules.append(FailRule(step, code, times, lost))

    def clear_failures(self) -> None:
        with self._lock:
            self._rules.clear()

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            self._expire()
            return {
                "open": sorted(self.open),
                "finished": {rid: sorted(r.files) for rid, r in sorted(self.finished.items())},
                "counters": vars(self.counters).copy(),
                "failures": [vars(rule).copy() for rule in self._rules],
            }

    # -- the API ------------------------------------------------------------------------------------

    def _rule(self, step: str) -> FailRule | None:
        for rule in self._rules:
            if rule.step == step:
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    def _expire(self) -> None:
        now = self.clock()
        for report_id, report in list(self.open.items()):
            if now >= report.expires_at:
                del self.open[report_id]
                self.counters.expired += 1
                log.info("event=ncmec_sim.expired report=%d", report_id)

    def _run(self, step: str, action: Callable[[], Reply]) -> Reply:
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        with self._lock:
            self._expire()
            rule = self._rule(step)
            if rule is not None and not rule.lost:
                self.counters.rejected += 1
                return 200, answer_xml(rule.code, f"simulated failure at {step}")
            reply = action()
            return LOST if rule is not None else reply

    @staticmethod
    def _error(code: int, description: str) -> Reply:
        return 200, answer_xml(code, description)

    def _report(self, raw_id: str) -> SimReport | Reply:
        try:
            report_id = int(raw_id)
        except ValueError:
            return self._error(VALIDATION_FAILED, f"report id {raw_id[:40]!r} is not a number")
        if report_id in self.finished:
            return self._error(REPORT_ALREADY_FINISHED, f"report {report_id} is already finished")
        report = self.open.get(report_id)
        if report is None:
            return self._error(REPORT_DOES_NOT_EXIST, f"report {report_id} does not exist")
        return report

    def status(self) -> Reply:
        return self._run("status", lambda: (200, answer_xml(OK, "")))

    def submit(self, body: bytes) -> Reply:
        def act() -> Reply:
            problems = self.schema.problems(body, root="report")
            if problems:
                return self._error(VALIDATION_FAILED, "; ".join(problems[:5]))
            now = self.clock()
            report = SimReport(next(self._ids), body, now, now)
            self.open[report.report_id] = report
            self.counters.submits += 1
            return 200, answer_xml(OK, "", report_id=report.report_id)

        return self._run("submit", act)

    def upload(self, report_id: str, file_name: str, data: bytes) -> Reply:
        def act() -> Reply:
            found = self._report(report_id)
            if not isinstance(found, SimReport):
                return found
            if len(data) > MAX_FILE_BYTES:
                return self._error(VALIDATION_FAILED, f"file over {MAX_FILE_BYTES} bytes")
            md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
            file = SimFile(secrets.token_hex(16), file_name, md5, len(data))
            found.files[file.file_id] = file
            found.last_change_at = self.clock()
            self.counters.uploads += 1
            return 200, answer_xml(OK, "", report_id=found.report_id, file_id=file.file_id, md5=md5)

        return self._run("upload", act)

    def file_info(self, body: bytes) -> Reply:
        def act() -> Reply:
            problems = self.schema.problems(body, root="fileDetails")
            if problems:
                return self._error(VALIDATION_FAILED, "; ".join(problems[:5]))
            report_id, file_id = _ids_of(body)
            found = self._report(report_id)
            if not isinstance(found, SimReport):
                return found
            file = found.files.get(file_id)
            if file is None:
                message = f"file {file_id} was not uploaded to report {report_id}"
                return self._error(VALIDATION_FAILED, message)
            # A repeated fileinfo for the same file replaces the earlier details.
            file.details_xml = body
            found.last_change_at = self.clock()
            self.counters.file_infos += 1
            return 200, answer_xml(OK, "", report_id=found.report_id, file_id=file_id)

        return self._run("fileinfo", act)

    def finish(self, report_id: str) -> Reply:
        def act() -> Reply:
            found = self._report(report_id)
            if not isinstance(found, SimReport):
                return found
            found.finished_at = self.clock()
            del self.open[found.report_id]
            self.finished[found.report_id] = found
            self.counters.finishes += 1
            return 200, done_answer_xml(found.report_id, list(found.files))

        return self._run("finish", act)

    def retract(self, report_id: str) -> Reply:
        def act() -> Reply:
            found = self._report(report_id)
            if not isinstance(found, SimReport):
                return found
            del self.open[found.report_id]
            self.counters.retracts += 1
            return 200, answer_xml(OK, "", report_id=found.report_id)

        return self._run("retract", act)


def _ids_of(details: bytes) -> tuple[str, str]:
    """reportId and fileId of a (schema-valid) fileDetails document."""
    root = etree.fromstring(details, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    return str(root.findtext("reportId")).strip(), str(root.findtext("fileId")).strip()


def simulator_from_xsd(
    path: str | Path,
    *,
    username: str,
    password: str,
    clock: Callable[[], datetime] = utcnow,
    latency_s: float = 0.0,
) -> NcmecSimulator:
    """A simulator validating against the XSD file at ``path`` (NCMEC's cyber_tipline.xsd)."""
    xsd = Path(path).read_bytes()
    schema = CyberTiplineSchema(xsd, source=str(path))
    return NcmecSimulator(schema, xsd, username=username, password=password, clock=clock, latency_s=latency_s)
