"""What the job-queue tests share, and a worker process to run (and kill) in the reliability tests.

``effect`` jobs write a row keyed by the job's key in the job's own transaction (a database-only
effect) and enqueue a ``webhook`` job with a dedupe key. ``webhook`` jobs "deliver" to a stand-in
receiver outside any transaction (a row written on its own connection, as a remote system would
record it), with the job's key as the stable delivery id. Neither table has a unique constraint, so a
duplicate effect shows up as a second row instead of an error.

Run as a script: ``python jobs_support.py URL WORKER_ID [--lease-s S] [--until-drained]``.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, insert, select

from suraksha.db import Database, open_database
from suraksha.worker import HandlerRegistry, JobContext, RetryPolicy, WorkerConfig, enqueue, run_worker

test_metadata = MetaData()
effects = Table(
    "test_job_effects",
    test_metadata,
    Column("id", Integer, primary_key=True),
    Column("job_key", String(200), nullable=False),
    Column("job_id", Integer, nullable=False),
    Column("worker", String(200), nullable=False),
)
deliveries = Table(
    "test_job_deliveries",
    test_metadata,
    Column("id", Integer, primary_key=True),
    Column("item", String(200), nullable=False),
    Column("delivery_id", String(200), nullable=False),
)


def registry(engine: Engine, worker_id: str, *, pause_s: float = 0.0) -> HandlerRegistry:
    handlers = HandlerRegistry()

    @handlers.register("test.effect")
    def effect(ctx: JobContext) -> None:
        assert ctx.key is not None
        ctx.session.execute(insert(effects).values(job_key=ctx.key, job_id=ctx.job_id, worker=worker_id))
        enqueue(ctx.session, "test.webhook", {"item": ctx.key}, key=f"webhook:{ctx.key}")
        if pause_s:
            time.sleep(random.uniform(0, pause_s))

    @handlers.register("test.webhook", transactional=False)
    def webhook(ctx: JobContext) -> None:
        with engine.begin() as conn:  # the receiver's own record, outside the job's transaction
            conn.execute(insert(deliveries).values(item=ctx.payload["item"], delivery_id=ctx.key))

    return handlers


def enqueue_items(db: Database, names: list[str]) -> None:
    with db.session() as s:
        for name in names:
            enqueue(s, "test.effect", {"item": name}, key=name)


def count_rows(engine: Engine, table: Table) -> tuple[int, int]:
    """(rows, distinct keys) of an effects or deliveries table."""
    column = table.c.job_key if table is effects else table.c.delivery_id
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(table)) or 0
        distinct = conn.scalar(select(func.count(column.distinct()))) or 0
    return total, distinct


def worker_config(lease_s: float) -> WorkerConfig:
    return WorkerConfig(
        lease_s=lease_s,
        retry=RetryPolicy(max_attempts=50, backoff_base_s=0.05, backoff_max_s=0.2),
        poll_interval_s=0.1,
        idle_sleep_min_s=0.02,
        batch_size=5,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("worker_id")
    parser.add_argument("--lease-s", type=float, default=1.0)
    parser.add_argument("--pause-s", type=float, default=0.0)
    parser.add_argument("--until-drained", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(message)s")
    db = open_database(args.url, migrate=False)
    run_worker(
        db,
        registry(db.engine, args.worker_id, pause_s=args.pause_s),
        worker_id=args.worker_id,
        config=worker_config(args.lease_s),
        until_drained=args.until_drained,
    )
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
