"""The account graph's jobs.

``network.items``: the pipeline calls ``queue_items`` (its ``ItemsRecorded`` port, wired in
``suraksha.app``) in the transaction that records a batch of items, so the job exists exactly when the
items do; a worker then links the items' keys to their accounts and checks for ban evasion
(``services.update_items``), in the job's transaction.

``network.cluster``: clusters the graph again (``services.recluster``), on demand or every
``network_cluster_every_s``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.worker.models import Job, JobState
from suraksha.worker.queue import enqueue

ITEMS = "network.items"
CLUSTER = "network.cluster"


def queue_items(session: Session, item_ids: Sequence[int]) -> None:
    """The pipeline's ``ItemsRecorded`` port: one ``network.items`` job for the batch, keyed by it."""
    ids = sorted({int(i) for i in item_ids})
    if ids:
        enqueue(session, ITEMS, {"item_ids": ids}, key=f"network:items:{ids[0]}:{ids[-1]}:{len(ids)}")


def queue_cluster(session: Session) -> int | None:
    """A ``network.cluster`` job, unless one is already queued (not yet started); its id, or None."""
    waiting = session.scalar(select(Job.id).where(Job.kind == CLUSTER, Job.state == JobState.QUEUED).limit(1))
    if waiting is not None:
        return None
    return enqueue(session, CLUSTER, {}, key=f"network:cluster:{uuid.uuid4().hex}")


def item_ids_of(payload: object) -> list[int]:
    """The item ids of a ``network.items`` job's payload; ValueError when it has none."""
    ids = payload.get("item_ids") if isinstance(payload, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise ValueError("a network.items job needs a list of integer item_ids in its payload")
    return ids
