"""Migration 0029 (the rollup's ``since`` dimension, the legal desk's partial index) matches the models,
goes down and up again, and leaves every closed day dirty for the next rollup run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import inspect, select

import suraksha.enforcement.models
import suraksha.transparency.models  # noqa: F401 - registers the tables on Base.metadata
from suraksha.content.history import DayState, StatsDay
from suraksha.db import Database
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.schema_support import schema_differences

TABLES = {"stats_day_counts", "decisions", "stats_days"}


def _differences(db: Database) -> list[Any]:
    return schema_differences(db, TABLES)


def test_since_migration_matches_round_trips_and_reopens_closed_days(db: Database) -> None:
    assert _differences(db) == []
    assert "ix_decisions_legal_ref" in {i["name"] for i in inspect(db.engine).get_indexes("decisions")}
    downgrade(db, "0028")
    assert "since" not in {c["name"] for c in inspect(db.engine).get_columns("stats_day_counts")}
    with db.session() as session:
        session.add(StatsDay(day=date(2024, 1, 1), state=DayState.CLOSED, rolled_at=datetime.now(UTC)))
    upgrade(db)
    assert current_revision(db) == head_revision(db)
    assert _differences(db) == []
    with db.reading() as session:
        day = session.execute(select(StatsDay).where(StatsDay.day == date(2024, 1, 1))).scalar_one()
        assert day.state == DayState.DIRTY and day.dirtied_at is not None
