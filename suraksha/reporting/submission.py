"""Sending an approved report through the CyberTipline Reporting API: a persistent state machine that
resumes after a crash at any step, never lets the same report finish twice, and finishes well inside
NCMEC's window.

How each guarantee is kept
--------------------------
- **Intent before every call.** The report (or file) row is moved to ``submitting`` / ``uploading`` /
  ``describing`` / ``finishing`` and committed *before* the call; the answer is recorded in a second
  transaction. A row found in an ``-ing`` state at the start of a run means "the outcome of that call
  is unknown" (the process died, or the answer was lost), and each is resumed as follows:

  - ``submitting`` (no reportId learnt): NCMEC offers no way to find a report by our reference, and a
    report it may have opened can only be finished with its reportId, which we never learnt, so it
    stays unfinished and NCMEC deletes it (24 h after opening). Submitting again therefore cannot
    produce a second *finished* report. We resubmit the *same stored bytes*, audited as
    ``report:outcome_unknown``, at most ``MAX_UNKNOWN_OUTCOMES`` times; after that the report fails
    for a person (something keeps eating answers). Each report also names itself in additionalInfo
    ("Reporter reference: suraksha-report-<id>-<n>") so NCMEC can match a stray copy to it.
  - ``uploading``: the open report may hold a copy of the file whose fileId we never learnt; uploading
    again would put the file in the report twice. We retract the report and start over (restart).
  - ``describing``: fileinfo is sent again (a repeat replaces the same file's details).
  - ``finishing``: finish is called again; ``5102 already finished`` means the earlier call
    succeeded, and the report is recorded as finished. ``5001`` means NCMEC deleted it unfinished,
    so it is submitted afresh.
- **One owner at a time.** Every write is a compare-and-set on the report's ``version``; a worker
  that lost the report (its job lease was taken over while it hung) can record nothing and stops.
- **NCMEC's window.** An opened report with no accepted change for ``finish_within_s`` (default
  30 min, NCMEC deletes after 1 h without change) is retracted and submitted afresh rather than
  raced; retries back off at most ``retry_max_s`` (default 5 min), far inside the window.
- **Which errors are retried.** 1xxx (server errors) and lost connections: retried with exponential
  backoff and jitter, up to ``max_server_retries``. 2000/3xxx (credentials) and 4xxx (our document is
  invalid): never retried; the report fails with NCMEC's code and reason for a person (``suraksha
  report retry`` once fixed). Before a report with a reportId is recorded as failed, it is retracted;
  a retract answered ``5102`` means NCMEC did finish it (a finish whose answer was lost), and it is
  recorded as finished instead: "failed" here never hides a report finished there.

After ``finish``: the report is ``finished`` with its reportId, each decision in it gets a
``report:filed`` audit event naming the reportId, and a ``report.hold`` job (same transaction) places
the 1-year preservation hold on everything in it.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.errors import Conflict, ExternalServiceError, InvalidInput
from suraksha.reporting.models import (
    CyberTiplineReport,
    CyberTiplineReportFile,
    FileState,
    ReportState,
)
from suraksha.reporting.ports import (
    REPORT_ALREADY_FINISHED,
    REPORT_DOES_NOT_EXIST,
    NcmecApi,
    NcmecUnreachable,
    is_server_error,
)
from suraksha.reporting.services import (
    HOLD,
    ReportAudit,
    ReportOptions,
    load_report_content,
    reset_to_approved,
)
from suraksha.reporting.xml import (
    CyberTiplineSchema,
    InvalidReport,
    NcmecAnswer,
    file_details_xml,
    report_xml,
)
from suraksha.settings import Settings
from suraksha.worker.queue import enqueue

log = logging.getLogger(__name__)

SYSTEM = "system:reporting"
MAX_UNKNOWN_OUTCOMES = 3
MAX_RESTARTS = 5


class ReportBusy(Conflict):
    """Another worker moved the report since we read it: it owns the report now."""


class FinishedAfterAll(Exception):
    """Raised inside a run when a report about to be failed turns out to be finished at NCMEC."""


class RetryLater(ExternalServiceError):
    """The step failed in a way a later attempt may fix (1xxx, no answer)."""


class ReportFailed(InvalidInput):
    """The report is ``failed`` (recorded): retrying cannot help until a person fixes something."""


Checkpoint = Callable[[str], None]
"""Called at named points (``submit.before``, ``submit.after``, ``upload.before`` ...): tests raise
there to simulate a process killed between two steps."""


class FileStore(Protocol):
    """A place a reported file's bytes may be kept: the intake media store, the evidence vault
    (``suraksha.reporting.evidence.VaultEvidence``)."""

    def get(self, sha256: str) -> bytes | None: ...


class EvidenceSource:
    """Where a file's bytes come from, by SHA-256: the first store that has them (the intake media
    store, then the evidence vault once it preserves them)."""

    def __init__(self, *stores: FileStore) -> None:
        self.stores = stores

    def read(self, sha256: str) -> bytes | None:
        for store in self.stores:
            data = store.get(sha256)
            if data is not None and hashlib.sha256(data).hexdigest() == sha256:
                return bytes(data)
        return None


@dataclass(frozen=True)
class SubmissionPolicy:
    finish_within_s: float = 1800.0
    max_server_retries: int = 20
    retry_base_s: float = 5.0
    retry_max_s: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SubmissionPolicy:
        return cls(
            finish_within_s=settings.ncmec_finish_within_s,
            max_server_retries=settings.ncmec_max_server_retries,
            retry_base_s=settings.ncmec_retry_base_s,
            retry_max_s=settings.ncmec_retry_max_s,
        )

    def delay(self, retries: int) -> float:
        """Exponential backoff with equal jitter, capped at ``retry_max_s``."""
        ceiling = min(self.retry_max_s, self.retry_base_s * 2 ** max(0, min(retries - 1, 30)))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True)
class FileRow:
    id: int
    state: str
    sha256: str
    md5: str
    file_name: str
    ncmec_file_id: str | None


@dataclass(frozen=True)
class Snapshot:
    id: int
    state: str
    version: int
    ncmec_report_id: int | None
    report_xml: str
    last_change_at: datetime | None
    unknown_outcomes: int
    restarts: int
    files: tuple[FileRow, ...]


def _no_checkpoint(_name: str) -> None:
    return None


class ReportSubmitter:
    """Runs one report's state machine as far as it can go now. ``run(report_id)`` returns the state
    it stopped in; raises ``RetryLater`` (call again after ``policy.delay``), ``ReportFailed``, or
    ``ReportBusy``."""

    def __init__(
        self,
        db: Database,
        api: NcmecApi,
        schema: CyberTiplineSchema,
        evidence: EvidenceSource,
        options: ReportOptions,
        policy: SubmissionPolicy | None = None,
        *,
        checkpoint: Checkpoint = _no_checkpoint,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.api, self.schema, self.evidence = db, api, schema, evidence
        self.options = options
        self.policy = policy or SubmissionPolicy()
        self.checkpoint = checkpoint
        self.clock = clock

    # -- reading and writing under compare-and-set ------------------------------------------------------

    def _snapshot(self, report_id: int) -> Snapshot:
        with self.db.reading() as session:
            report = session.get(CyberTiplineReport, report_id)
            if report is None:
                raise ReportFailed(f"report {report_id} does not exist")
            return Snapshot(
                report.id,
                report.state,
                report.version,
                report.ncmec_report_id,
                report.report_xml,
                report.last_change_at,
                report.unknown_outcomes,
                report.restarts,
                tuple(
                    FileRow(f.id, f.state, f.sha256, f.md5, f.file_name, f.ncmec_file_id)
                    for f in report.files
                ),
            )

    def _claim(self, session: Session, snap: Snapshot, **values: object) -> None:
        """Move the report from the version we read; ReportBusy if someone else moved it."""
        moved = session.execute(
            update(CyberTiplineReport)
            .where(CyberTiplineReport.id == snap.id, CyberTiplineReport.version == snap.version)
            .values(version=snap.version + 1, updated_at=self.clock(), **values)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise ReportBusy(f"report {snap.id} was moved by another worker; it carries on from there")

    def _write(
        self, snap: Snapshot, *, file: tuple[int, dict[str, object]] | None = None, **values: object
    ) -> None:
        with self.db.session() as session:
            self._claim(session, snap, **values)
            if file is not None:
                session.execute(
                    update(CyberTiplineReportFile)
                    .where(CyberTiplineReportFile.id == file[0])
                    .values(**file[1])
                )

    def give_up(self, report_id: int, reason: str) -> Exception | None:
        """Fail the report for a person (retries ran out); returns the error to raise, or None when
        NCMEC turned out to have finished it (see ``_fail``)."""
        error = self._fail(self._snapshot(report_id), reason)
        return None if isinstance(error, FinishedAfterAll) else error

    # -- the loop -----------------------------------------------------------------------------------

    def run(self, report_id: int) -> str:
        try:
            return self._run(report_id)
        except FinishedAfterAll:
            return ReportState.FINISHED

    def _run(self, report_id: int) -> str:
        while True:
            snap = self._snapshot(report_id)
            state = snap.state
            if state in {ReportState.DRAFT, ReportState.FINISHED, ReportState.FAILED}:
                return state
            if state == ReportState.APPROVED:
                self._submit(snap)
            elif state == ReportState.SUBMITTING:
                self._resume_submit(snap)
            elif state == ReportState.SUBMITTED:
                self._files(snap)
            elif state in {ReportState.FILES_UPLOADED, ReportState.FINISHING}:
                self._finish(snap)
            else:
                raise ReportFailed(f"report {report_id} is in an unknown state {state!r}")

    def _fail(self, snap: Snapshot, reason: str, code: int | None = None) -> Exception:
        """Record the report as failed, for a person. If NCMEC holds an opened report for it, that is
        retracted first (nothing half-made stays open), and a retract answered ``5102`` means NCMEC
        finished it after all (a finish whose answer was lost): then it is recorded as finished, never
        as failed. Returns the exception for the caller to raise."""
        if snap.ncmec_report_id is not None:
            try:
                answer = self.api.retract(snap.ncmec_report_id)
            except ExternalServiceError:
                reason += " (NCMEC could not be asked whether it holds the report; check before resending)"
            else:
                if answer.code == REPORT_ALREADY_FINISHED:
                    self._finished(snap, snap.ncmec_report_id, answer)
                    return FinishedAfterAll(f"report {snap.id} had finished at NCMEC")
        with self.db.session() as session:
            self._claim(session, snap, state=ReportState.FAILED, response_code=code, failure=reason[:4000])
            audit.record(
                session,
                SYSTEM,
                ReportAudit.FAILED,
                f"cybertipline_report:{snap.id}",
                {"code": code, "reason": reason[:500], "ncmec_report_id": snap.ncmec_report_id},
            )
        log.warning("event=report.failed report=%d code=%s reason=%s", snap.id, code, reason[:200])
        return ReportFailed(f"report {snap.id} failed: {reason}")

    def _refused(self, snap: Snapshot, step: str, answer: NcmecAnswer) -> Exception:
        """A non-zero answer that is not handled by the step itself."""
        if is_server_error(answer.code):
            self._write(snap, response_code=answer.code, failure=f"{step}: {answer.description}"[:4000])
            return RetryLater(
                f"report {snap.id}: NCMEC server error {answer.code} at {step}: {answer.description}"
            )
        return self._fail(snap, f"NCMEC refused {step}: {answer.description}", answer.code)

    # -- submit -------------------------------------------------------------------------------------

    def _submit(self, snap: Snapshot) -> None:
        try:
            with self.db.reading() as session:
                content = load_report_content(session, snap.id, self.options)
            document = report_xml(content)
            self.schema.validate(document, root="report")
        except InvalidInput as exc:  # InvalidReport included: it must not leave
            raise self._fail(snap, str(exc)) from None
        self._write(
            snap,
            state=ReportState.SUBMITTING,
            report_xml=document.decode(),
            environment=self.api.label[:200],
            submit_attempts=CyberTiplineReport.submit_attempts + 1,
        )
        self._call_submit(self._snapshot(snap.id), document)

    def _resume_submit(self, snap: Snapshot) -> None:
        """The last submit's outcome is unknown (see the module docstring for why resubmitting the
        same bytes, a bounded number of times, is safe)."""
        if snap.unknown_outcomes + 1 > MAX_UNKNOWN_OUTCOMES:
            raise self._fail(
                snap, f"the outcome of {snap.unknown_outcomes + 1} submissions is unknown (no answer)"
            )
        with self.db.session() as session:
            self._claim(
                session,
                snap,
                unknown_outcomes=snap.unknown_outcomes + 1,
                submit_attempts=CyberTiplineReport.submit_attempts + 1,
            )
            audit.record(
                session,
                SYSTEM,
                ReportAudit.OUTCOME_UNKNOWN,
                f"cybertipline_report:{snap.id}",
                {"step": "submit", "resubmit": snap.unknown_outcomes + 1},
            )
        self._call_submit(self._snapshot(snap.id), snap.report_xml.encode())

    def _call_submit(self, snap: Snapshot, document: bytes) -> None:
        self.checkpoint("submit.before")
        try:
            answer = self.api.submit(document)
        except NcmecUnreachable as exc:
            if not exc.sent:
                self._write(snap, state=ReportState.APPROVED, failure=str(exc)[:4000])
            raise RetryLater(str(exc)) from None
        self.checkpoint("submit.after")
        if answer.ok and answer.report_id is not None:
            now = self.clock()
            with self.db.session() as session:
                self._claim(
                    session,
                    snap,
                    state=ReportState.SUBMITTED,
                    ncmec_report_id=answer.report_id,
                    opened_at=now,
                    last_change_at=now,
                    response_code=None,
                    failure="",
                    server_retries=0,
                )
                audit.record(
                    session,
                    SYSTEM,
                    ReportAudit.SUBMITTED,
                    f"cybertipline_report:{snap.id}",
                    {"ncmec_report_id": answer.report_id, "environment": self.api.label},
                )
            log.info("event=report.submitted report=%d ncmec_report_id=%d", snap.id, answer.report_id)
            return
        if answer.ok:
            # Success without a reportId: we cannot go on with it, and it may be open. Unknown outcome.
            raise RetryLater(f"report {snap.id}: NCMEC accepted the submit but sent no reportId")
        if is_server_error(answer.code):
            # NCMEC answered an error: it opened nothing. Back to approved; try again later.
            self._write(
                snap, state=ReportState.APPROVED, response_code=answer.code, failure=answer.description
            )
            raise RetryLater(
                f"report {snap.id}: NCMEC server error {answer.code} at submit: {answer.description}"
            )
        raise self._fail(snap, f"NCMEC refused the report: {answer.description}", answer.code)

    # -- files ----------------------------------------------------------------------------------------

    def _stale(self, snap: Snapshot) -> bool:
        if snap.last_change_at is None:
            return False
        return (self.clock() - snap.last_change_at).total_seconds() > self.policy.finish_within_s

    def _restart(self, snap: Snapshot, reason: str, *, retract: bool) -> None:
        """Abandon the open report (retract it) and go back to approved: the next step submits anew."""
        if snap.restarts + 1 > MAX_RESTARTS:
            raise self._fail(snap, f"restarted {snap.restarts} times; last: {reason}")
        if retract and snap.ncmec_report_id is not None:
            try:
                answer = self.api.retract(snap.ncmec_report_id)
            except NcmecUnreachable as exc:
                raise RetryLater(f"report {snap.id}: retract before restart: {exc}") from None
            if answer.code == REPORT_ALREADY_FINISHED:
                raise self._fail(
                    snap, f"NCMEC says {snap.ncmec_report_id} finished, but we never finished it"
                )
            if is_server_error(answer.code):
                raise RetryLater(f"report {snap.id}: retract: NCMEC server error {answer.code}")
        with self.db.session() as session:
            report = session.get(CyberTiplineReport, snap.id, with_for_update=True)
            if report is None or report.version != snap.version:
                raise ReportBusy(f"report {snap.id} was moved by another worker")
            reset_to_approved(report)
            report.restarts += 1
            report.failure = reason[:4000]
            audit.record(
                session,
                SYSTEM,
                ReportAudit.RESTARTED,
                f"cybertipline_report:{snap.id}",
                {"abandoned_ncmec_report_id": snap.ncmec_report_id, "reason": reason[:500]},
            )
        log.warning(
            "event=report.restarted report=%d abandoned=%s reason=%s", snap.id, snap.ncmec_report_id, reason
        )

    def _files(self, snap: Snapshot) -> None:
        if self._stale(snap):
            self._restart(
                snap, "no change for longer than finish_within_s: NCMEC would delete it", retract=True
            )
            return
        report_id = snap.ncmec_report_id
        assert report_id is not None
        for file in snap.files:
            if file.state == FileState.DESCRIBED:
                continue
            if file.state == FileState.UPLOADING:
                self._restart(snap, f"outcome of the upload of file {file.id} is unknown", retract=True)
                return
            if file.state == FileState.PENDING:
                self._upload(snap, report_id, file)
                return
            self._describe(snap, report_id, file)
            return
        self._write(snap, state=ReportState.FILES_UPLOADED)

    def _upload(self, snap: Snapshot, report_id: int, file: FileRow) -> None:
        data = self.evidence.read(file.sha256)
        if data is None:
            raise self._fail(
                snap,
                f"the bytes of file {file.id} (sha256 {file.sha256}) are in neither the media store nor the "
                "vault; remove it from the report or restore it, then `suraksha report retry`",
            )
        self._write(snap, file=(file.id, {"state": FileState.UPLOADING}))
        snap = self._snapshot(snap.id)
        self.checkpoint("upload.before")
        try:
            answer = self.api.upload(report_id, file.file_name or f"{file.sha256[:16]}.bin", data)
        except NcmecUnreachable as exc:
            if not exc.sent:
                self._write(snap, file=(file.id, {"state": FileState.PENDING}))
            raise RetryLater(str(exc)) from None
        self.checkpoint("upload.after")
        if answer.ok and answer.file_id:
            md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
            if answer.md5 and answer.md5.lower() != md5:
                self._restart(
                    snap, f"NCMEC received file {file.id} with MD5 {answer.md5}, not {md5}", retract=True
                )
                return
            self._write(
                snap,
                file=(file.id, {"state": FileState.UPLOADED, "ncmec_file_id": answer.file_id}),
                last_change_at=self.clock(),
                server_retries=0,
            )
            return
        if answer.ok:
            # Accepted without a fileId: the file may be in the report. Left "uploading": restart.
            raise RetryLater(f"report {snap.id}: NCMEC accepted file {file.id} but sent no fileId")
        if answer.code == REPORT_DOES_NOT_EXIST:
            self._restart(
                snap, f"NCMEC no longer has report {report_id}: {answer.description}", retract=False
            )
            return
        if is_server_error(answer.code):
            self._write(snap, file=(file.id, {"state": FileState.PENDING}), response_code=answer.code)
            raise RetryLater(f"report {snap.id}: NCMEC server error {answer.code} at upload")
        raise self._refused(snap, "upload", answer)

    def _describe(self, snap: Snapshot, report_id: int, file: FileRow) -> None:
        try:
            with self.db.reading() as session:
                content = load_report_content(session, snap.id, self.options)
            reported = next(f for f in content.files if f.key == file.id)
            assert file.ncmec_file_id is not None
            details = file_details_xml(report_id, file.ncmec_file_id, reported)
            self.schema.validate(details, root="fileDetails")
        except InvalidReport as exc:
            raise self._fail(snap, str(exc)) from None
        self._write(snap, file=(file.id, {"state": FileState.DESCRIBING, "details_xml": details.decode()}))
        snap = self._snapshot(snap.id)
        self.checkpoint("fileinfo.before")
        try:
            answer = self.api.file_info(details)
        except NcmecUnreachable as exc:
            raise RetryLater(str(exc)) from None  # resent on resume: a repeat replaces the details
        self.checkpoint("fileinfo.after")
        if answer.ok:
            self._write(
                snap,
                file=(file.id, {"state": FileState.DESCRIBED}),
                last_change_at=self.clock(),
                server_retries=0,
            )
            return
        if answer.code == REPORT_DOES_NOT_EXIST:
            self._restart(
                snap, f"NCMEC no longer has report {report_id}: {answer.description}", retract=False
            )
            return
        raise self._refused(snap, "fileinfo", answer)

    # -- finish ---------------------------------------------------------------------------------------

    def _finish(self, snap: Snapshot) -> None:
        report_id = snap.ncmec_report_id
        assert report_id is not None
        if snap.state != ReportState.FINISHING:
            self._write(snap, state=ReportState.FINISHING)
            snap = self._snapshot(snap.id)
        self.checkpoint("finish.before")
        try:
            answer = self.api.finish(report_id)
        except NcmecUnreachable as exc:
            raise RetryLater(str(exc)) from None
        self.checkpoint("finish.after")
        if answer.ok or answer.code == REPORT_ALREADY_FINISHED:
            self._finished(snap, report_id, answer)
            return
        if answer.code == REPORT_DOES_NOT_EXIST:
            self._restart(snap, f"NCMEC deleted report {report_id} before it was finished", retract=False)
            return
        raise self._refused(snap, "finish", answer)

    def _finished(self, snap: Snapshot, report_id: int, answer: NcmecAnswer) -> None:
        expected = {f.ncmec_file_id for f in snap.files}
        if answer.ok and set(answer.file_ids) != expected:
            log.warning(
                "event=report.file_mismatch report=%d ncmec=%s ours=%d theirs=%d",
                snap.id,
                report_id,
                len(expected),
                len(answer.file_ids),
            )
        with self.db.session() as session:
            self._claim(
                session,
                snap,
                state=ReportState.FINISHED,
                finished_at=self.clock(),
                response_code=None,
                failure="",
            )
            report = session.get(CyberTiplineReport, snap.id)
            assert report is not None
            decisions = sorted({f.decision_id for f in report.files if f.decision_id is not None})
            enqueue(session, HOLD, {"report": snap.id}, key=f"{HOLD}:{snap.id}:{report_id}")
            audit.record(
                session,
                SYSTEM,
                ReportAudit.FINISHED,
                f"cybertipline_report:{snap.id}",
                {
                    "ncmec_report_id": report_id,
                    "files": len(snap.files),
                    "decisions": decisions[:200],
                    "already_finished": answer.code == REPORT_ALREADY_FINISHED,
                },
            )
            for decision_id in decisions:
                audit.record(
                    session,
                    SYSTEM,
                    ReportAudit.FILED,
                    f"decision:{decision_id}",
                    {"ncmec_report_id": report_id, "report": snap.id},
                )
        log.info("event=report.finished report=%d ncmec_report_id=%d", snap.id, report_id)
