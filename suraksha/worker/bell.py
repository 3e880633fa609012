"""The job bell: a transaction in this process that commits new jobs wakes this process's idle
workers at once, instead of leaving the jobs until their next look (an idle worker's sleep doubles
up to ``worker_poll_interval_s``).

It only reaches workers in the same process (``suraksha serve`` with its worker threads, the
one-process SQLite deployment). Workers in other processes keep polling; they lose nothing, they
only start later.
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import event
from sqlalchemy.orm import Session

_RANG = "suraksha_jobs_enqueued"
_lock = threading.Lock()
_listeners: weakref.WeakSet[threading.Event] = weakref.WeakSet()


def mark_enqueued(session: Session) -> None:
    """Note that ``session``'s transaction adds jobs: its commit rings the bell."""
    session.info[_RANG] = True


def listen(wake: threading.Event) -> None:
    """Have ``ring`` set ``wake`` (held weakly: a worker that goes away needs no unregistering)."""
    with _lock:
        _listeners.add(wake)


def ring() -> None:
    """Wake every listening worker of this process."""
    with _lock:
        listeners = list(_listeners)
    for wake in listeners:
        wake.set()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # A rolled-back transaction leaves the mark for the session's next commit: at worst a spurious
    # wake-up (one look for jobs), never a missed job (workers still poll).
    if session.info.pop(_RANG, False):
        ring()
