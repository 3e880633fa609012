"""The Platform's statistics operations (``Platform`` mixes this in; web, CLI and worker call them):
figures for a period, the rollup job, and the check of the rollup against the raw records."""

from __future__ import annotations

from datetime import datetime, timedelta

from suraksha.db import Database, utcnow
from suraksha.errors import InvalidInput
from suraksha.settings import Settings
from suraksha.transparency import rollup
from suraksha.transparency.figures import Group, StatsReport, parse_choice
from suraksha.transparency.series import MAX_BUCKETS, Granularity, buckets, series
from suraksha.transparency.statistics import Period

ROLLUP_JOB = rollup.ROLLUP_JOB


class StatsOperations:
    settings: Settings

    @property
    def db(self) -> Database:  # the Platform's (a cached property there)
        raise NotImplementedError

    def stats(
        self,
        start: datetime,
        end: datetime,
        *,
        by: Granularity | str = Granularity.MONTH,
        group: Group | str | None = None,
        max_buckets: int = MAX_BUCKETS,
    ) -> StatsReport:
        """Every measure for ``[start, end)`` (UTC) cut into calendar buckets ``by`` (day, week, month,
        quarter, year, total), each broken down by ``group`` (category, source, policy, country) when
        given. Closed days come from the rollup, the rest from the raw records: the figures are the
        same either way. Raises ``InvalidInput`` for a bad period, granularity or group, or too many
        buckets (``max_buckets``)."""
        granularity = by if isinstance(by, Granularity) else parse_choice(Granularity, by, "by")
        grouping = group if group is None or isinstance(group, Group) else parse_choice(Group, group, "group")
        period = Period(start, end)
        for count, _ in enumerate(buckets(period, granularity), start=1):  # refused before any query
            if count > max_buckets:
                raise InvalidInput(
                    f"more than {max_buckets} {granularity.value}s from {start.date()} to {end.date()}: "
                    "choose a coarser granularity (by) or a shorter period"
                )
        with self.db.reading() as session:
            return StatsReport(period, granularity, grouping, series(session, period, granularity))

    def stats_rollup(
        self, *, now: datetime | None = None, progress: rollup.Progress | None = None
    ) -> rollup.RollResult:
        """Roll up every complete day older than ``stats_rollup_lag_s`` not yet rolled, and dirty days."""
        lag = timedelta(seconds=self.settings.stats_rollup_lag_s)
        return rollup.roll(self.db, now=now or utcnow(), lag=lag, progress=progress)

    def stats_check(
        self,
        start: datetime,
        end: datetime,
        *,
        repair: bool = False,
        actor: str,
        progress: rollup.Progress | None = None,
    ) -> rollup.Check:
        """Recompute every closed day of ``[start, end)`` from the raw records and compare with the
        rollup cell by cell; with ``repair``, roll again the days that differ (audited as ``actor``)."""
        period, now = Period(start, end), utcnow()
        with self.db.reading() as session:
            day_runs = rollup.closed_runs(session, period)
        check, total = rollup.Check(), sum(len(run) for run in day_runs)
        for run in day_runs:  # a read transaction a month: the write path never waits on a check
            with self.db.reading() as session:
                check.differences.extend(rollup.check_days(session, run))
            check.days_checked += len(run)
            if progress is not None:
                progress(check.days_checked, total)
        checked = [day for run in day_runs for day in run]
        with self.db.session() as session:
            rollup.finish_check(session, check, checked, period, repair=repair, actor=actor, now=now)
        return check
