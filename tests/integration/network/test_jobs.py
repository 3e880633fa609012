"""The account graph's jobs: the pipeline's port queues one job per recorded batch; clustering runs on a
schedule only when network_cluster_every_s is set."""

from __future__ import annotations

from sqlalchemy import select

from suraksha.app import Platform
from suraksha.db import Database
from suraksha.network import tasks
from suraksha.settings import Settings
from suraksha.worker.handlers import HandlerRegistry
from suraksha.worker.models import Job


def test_a_recorded_batch_queues_one_job_once(db: Database) -> None:
    with db.session() as session:
        tasks.queue_items(session, [3, 1, 2, 2])
        tasks.queue_items(session, [1, 2, 3])  # the same batch again: the same key
    with db.reading() as session:
        [job] = session.scalars(select(Job).where(Job.kind == tasks.ITEMS)).all()
    assert tasks.item_ids_of(dict(job.payload)) == [1, 2, 3]


def test_clustering_is_scheduled_only_when_asked() -> None:
    registry = HandlerRegistry()
    Platform(Settings.load({"network_cluster_every_s": 600.0})).register_network_jobs(registry)
    assert registry.schedules == {tasks.CLUSTER: 600.0} and tasks.ITEMS in registry
    quiet = HandlerRegistry()
    Platform(Settings.load()).register_network_jobs(quiet)
    assert quiet.schedules == {}


def test_a_run_asked_for_twice_is_queued_once(db: Database) -> None:
    with db.session() as session:
        first = tasks.queue_cluster(session)
        again = tasks.queue_cluster(session)
    assert first is not None and again is None
    with db.reading() as session:
        assert len(session.scalars(select(Job).where(Job.kind == tasks.CLUSTER)).all()) == 1
