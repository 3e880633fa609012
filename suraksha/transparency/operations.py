"""The Platform's accountability operations (figures for a period, the rollup and its check, the
regulators' templates and statements of reasons), as a mixin that
``suraksha.app.Platform`` inherits: the CLI, the web layer and the worker call these, never the modules
underneath."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from suraksha.db.base import utcnow
from suraksha.errors import ConfigError, InvalidInput, NotFound
from suraksha.files import write_private
from suraksha.settings import Secret, Settings
from suraksha.transparency import catalogue, rollup, statements, tasks, templates
from suraksha.transparency.figures import Group, StatsReport, parse_choice
from suraksha.transparency.models import StatementOfReasons
from suraksha.transparency.notices_appeals import NoticesAndAppeals, notices_and_appeals
from suraksha.transparency.ports import TOKEN_ENV, HttpStatementsApi, LocalStatementsApi, StatementsApi
from suraksha.transparency.series import MAX_BUCKETS, Granularity, buckets, series
from suraksha.transparency.statistics import Period
from suraksha.worker.handlers import HandlerRegistry, JobContext

if TYPE_CHECKING:
    from suraksha.db.engine import Database

log = logging.getLogger(__name__)

ROLLUP_JOB = rollup.ROLLUP_JOB


class TransparencyOperations:
    settings: Settings
    if TYPE_CHECKING:

        @property
        def db(self) -> Database: ...

    # Regulators' templates.

    def templates_list(self) -> list[dict[str, object]]:
        return [t.summary() for t in catalogue.TEMPLATES.values()]

    def template_fill(
        self, template_id: str, period: Period, *, now: datetime | None = None
    ) -> templates.FilledTemplate:
        """Every cell of the template for ``period`` (a month for monthly templates, a year for annual)."""
        template = catalogue.get_template(template_id)
        _check_period(template, period)
        with self.db.reading() as session:
            return templates.fill(
                template, session, period, organisation=self.settings.platform_name, now=now or utcnow()
            )

    def template_write(
        self, filled: templates.FilledTemplate, folder: Path, formats: Sequence[str] = ()
    ) -> dict[str, str]:
        """The filled template as each of ``formats`` (default: all its formats) and its exact JSON, in a
        private folder; returns each file's SHA-256 by name."""
        template = filled.template
        chosen = list(formats) or list(template.formats)
        catalogue.check_format(template, chosen)
        stem = f"{template.id}-v{template.version}-{filled.period.start.date().isoformat()}"
        written: dict[str, str] = {}
        outputs = {fmt: templates.RENDERERS[fmt](filled) for fmt in chosen}
        outputs["json"] = json.dumps(filled.as_dict(), indent=2, ensure_ascii=False).encode()
        for fmt, data in outputs.items():
            name = f"{stem}.{fmt}"
            write_private(folder / name, data)
            written[name] = hashlib.sha256(data).hexdigest()
        return written

    # Statements of reasons (DSA Art. 17, 24(5)).

    @cached_property
    def sor_options(self) -> statements.SorOptions:
        return statements.SorOptions.from_settings(self.settings)

    @cached_property
    def sor_api(self) -> StatementsApi:
        """The Transparency Database (dsa_sor_url, token from SURAKSHA_DSA_TOKEN), else the local
        stand-in."""
        url = self.settings.dsa_sor_url
        if not url:
            return LocalStatementsApi()
        token = os.environ.get(TOKEN_ENV, "")
        if not token:
            raise ConfigError(f"dsa_sor_url is set but {TOKEN_ENV} is not: the API needs its token")
        return HttpStatementsApi(url, Secret(token), timeout_s=self.settings.dsa_sor_timeout_s)

    def sor_record(self) -> int:
        """Write the statement of each restriction in scope that has none; returns how many."""
        with self.db.session() as session:
            return statements.record_due(session, self.sor_options, limit=10_000)

    def sor_submit(
        self, *, ids: Sequence[int] = (), now: datetime | None = None, api: StatementsApi | None = None
    ) -> dict[str, int]:
        """Write the statements due, then submit the due ones (only ``ids`` when given)."""
        written = 0 if ids else self.sor_record()
        counts = statements.submit_due(
            self.db, api or self.sor_api, self.sor_options, now=now or utcnow(), ids=ids, limit=10_000
        )
        return {"written": written, **counts.as_dict()}

    def sor_list(self, *, state: str | None = None, limit: int = 100) -> list[dict[str, object]]:
        with self.db.reading() as session:
            return [
                statements.statement_dict(r)
                for r in statements.list_statements(session, state=state, limit=limit)
            ]

    def sor_show(self, statement_id: int) -> dict[str, object]:
        with self.db.reading() as session:
            row = session.get(StatementOfReasons, statement_id)
            if row is None:
                raise NotFound(f"no statement of reasons #{statement_id} (`suraksha sor list`)")
            return {**statements.statement_dict(row), "statement": json.loads(row.body or "{}")}

    def sor_retry(
        self, statement_id: int, *, actor: str, reason: str, now: datetime | None = None
    ) -> dict[str, object]:
        """Send a refused or failed statement again, rebuilt from the records (audited)."""
        with self.db.session() as session:
            row = statements.retry(
                session, statement_id, self.sor_options, actor=actor, reason=reason, now=now or utcnow()
            )
            return statements.statement_dict(row)

    # Figures for a period, the rollup and its check.

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
        same either way. Beside them, for the whole period, the trusted flaggers' notices and the
        appeals (``stats_notices_appeals``). Raises ``InvalidInput`` for a bad period, granularity or
        group, or too many buckets (``max_buckets``)."""
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
            return StatsReport(
                period,
                granularity,
                grouping,
                series(session, period, granularity),
                notices_and_appeals(session, period),
            )

    def stats_notices_appeals(self, period: Period) -> NoticesAndAppeals:
        """Trusted flaggers' notices (overall and per flagger) and appeals (with reversal rates by
        policy, tool, bank, rule and classifier) for ``period``, counted from the raw records
        (``transparency.notices_appeals``; not rolled up)."""
        with self.db.reading() as session:
            return notices_and_appeals(session, period)

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

    def register_transparency_jobs(self, registry: HandlerRegistry) -> None:
        registry.register(ROLLUP_JOB, self._stats_rollup_job, transactional=False)
        if self.settings.stats_rollup_every_s > 0:
            registry.schedule(ROLLUP_JOB, self.settings.stats_rollup_every_s)
        registry.register(tasks.STATEMENTS, self._statements_job, transactional=False)
        if self.settings.dsa_sor_enabled and self.settings.dsa_sor_every_s > 0:
            registry.schedule(tasks.STATEMENTS, self.settings.dsa_sor_every_s)

    def _stats_rollup_job(self, _ctx: JobContext) -> None:
        self.stats_rollup()  # a month of days per transaction of its own

    def _statements_job(self, _ctx: JobContext) -> None:
        counts = tasks.run_statements(self.db, self.sor_api, self.sor_options, now=utcnow())
        if any(counts.as_dict().values()):
            log.info("event=dsa_sor.run %s", " ".join(f"{k}={v}" for k, v in counts.as_dict().items()))


def _check_period(template: templates.Template, period: Period) -> None:
    if template.period_kind is templates.PeriodKind.MONTH:
        expected = templates.month_period(period.start.strftime("%Y-%m"))
        words = "one calendar month (--month 2026-11)"
    elif template.period_kind is templates.PeriodKind.YEAR:
        expected = templates.year_period(period.start.year)
        words = "one calendar year (--year 2025)"
    else:
        return
    if period != expected:
        raise InvalidInput(
            f"{template.id} is produced for {words}, not {period.start.date()}..{period.end.date()}"
        )
