"""Group commit for submissions: one thread writes the items that arrive together in one transaction.

Every submission is its own transaction when each request writes for itself, and on SQLite each
waits for the one write lock: with a few requests in flight, most of the web process's threads
queue on that lock, and every commit wakes one of them. Here the requests hand their prepared item
(checked, digested, stored: ``prepare_item``) to one writer thread, which takes whatever has
arrived (up to ``max_batch``) and writes it in one transaction, each item in a savepoint of its own
(one bad item fails alone). A request is answered only after the transaction holding its item and
its job has committed: the same guarantee as writing it alone (nothing queued that is not recorded,
nothing recorded that is not queued), with one commit for several items.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future

from sqlalchemy.orm import Session

from suraksha.db.engine import Database, is_transient
from suraksha.errors import NotReady, SurakshaError
from suraksha.intake.services import Prepared, Submitted, submit_item, submit_items
from suraksha.intake.store import MediaStore

log = logging.getLogger(__name__)

_Pending = tuple[Prepared, "Future[Submitted]"]


TRANSIENT_RETRIES = 3
"""Reruns of a batch that lost a race with another transaction (see ``SubmissionWriter._write``)."""


class SubmissionWriter:
    def __init__(self, db: Database, store: MediaStore, *, max_media_bytes: int, max_batch: int = 32) -> None:
        self.db = db
        self.store = store
        self.max_media_bytes = max_media_bytes
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, prepared: Prepared) -> Future[Submitted]:
        """Queue ``prepared`` for the next transaction; the future answers once it has committed
        (or with the error that refused it: ``Conflict``, a database error...)."""
        future: Future[Submitted] = Future()
        with self._lock:
            if self._closed:
                raise NotReady("the service is stopping: submit the item again shortly")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
                self._thread.start()
            self._queue.put((prepared, future))
        return future

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join(timeout=60)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Pending]) -> None:
        """Write the batch in one transaction: all of it with one statement per table
        (``submit_items``); should that fail, each item again in a savepoint of its own, so that one
        bad item fails alone. A lost race with another transaction (a PostgreSQL deadlock with a
        worker suspending the same accounts, SQLite's lock wait running out) runs the batch again, up
        to ``TRANSIENT_RETRIES`` times: nothing of it had committed, and stored uploads are
        content-addressed, so a rerun is the same write."""
        outcomes: list[Submitted | Exception] = []
        together = len(batch) > 1
        retries = 0
        while True:
            try:
                with self.db.session() as session:
                    outcomes = self._together(session, batch) if together else self._each(session, batch)
            except Exception as exc:  # nothing of the batch committed
                if is_transient(exc) and retries < TRANSIENT_RETRIES:
                    retries += 1
                    log.info("event=intake.batch_retry items=%d attempt=%d", len(batch), retries)
                    time.sleep(0.005 * retries)
                    continue
                if together:  # one item may be at fault: write them one by one
                    log.info("event=intake.batch_split items=%d error=%s", len(batch), type(exc).__name__)
                    together = False
                    continue
                if not isinstance(exc, SurakshaError):  # a refusal (Conflict...) is the caller's answer
                    log.warning("event=intake.batch_failed items=%d error=%s", len(batch), type(exc).__name__)
                for _prepared, future in batch:
                    future.set_exception(exc)
                return
            break
        for (_prepared, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    @staticmethod
    def _together(session: Session, batch: list[_Pending]) -> list[Submitted | Exception]:
        return list(submit_items(session, [prepared for prepared, _future in batch]))

    def _each(self, session: Session, batch: list[_Pending]) -> list[Submitted | Exception]:
        outcomes: list[Submitted | Exception] = []
        for prepared, _future in batch:
            try:
                if len(batch) == 1:  # alone: the transaction is its savepoint
                    outcomes.append(self._submit(session, prepared))
                    continue
                with session.begin_nested():
                    outcomes.append(self._submit(session, prepared))
            except Exception as exc:  # this item only, unless alone or a lost race
                if len(batch) == 1 or is_transient(exc):
                    raise
                outcomes.append(exc)
        return outcomes

    def _submit(self, session: Session, prepared: Prepared) -> Submitted:
        return submit_item(session, self.store, prepared, max_media_bytes=self.max_media_bytes)
