"""Statistics over years of records: the rollup against a plain GROUP BY over the raw tables.

    .venv/bin/python benchmarks/stats.py --store sqlite|postgres --decisions N [--rounds R]
        [--postgres-url URL] [--service-items-per-s 120] [--skip-count-only] [--skip-raw-timings] [--json]

A history of N decisions over four years (2021-2024) is written straight into a fresh database with
bulk SQL (on PostgreSQL a bulk load: secondary indexes and foreign keys dropped, ``INSERT ... SELECT
FROM generate_series`` on two connections, indexes rebuilt; chunked ``executemany`` on SQLite), in the
proportions of a platform: N/1.2 items (one decision each, a second, by a reviewer, for one in five),
30 % violations, a removal for each violation (a suspension for a third of them, a withhold for one in
30), a finished CyberTipline report (one file, a bank match) for one in ten items. Then:

- the rollup's counting alone (``count_records`` over the whole range, 31 days at a time as the rollup
  counts them, nothing stored), timed once: wall and this process's CPU, per million decisions;
- the rollup is built (``Platform.stats_rollup``: every day closed), timed once: wall and this
  process's CPU, per million decisions, and as a share of the service's time per item (the service
  benchmark's items/s, ``--service-items-per-s``; a decision write pays nothing for statistics, the
  job's cost is all there is);
- ``--rounds`` times each: the whole range through ``series()`` by month and in total, the same counts
  by a plain GROUP BY over the raw tables (decisions, actions, reports, files, first violations), the
  ratio; one month's figures by category through the rollup; the same month from the raw records
  (``statistics()``); the IT Rules monthly report filled for that month (``template_fill``).

Prints medians with min and max. Run small sizes to check it works; the issue's sizes take long:
100M on PostgreSQL took 106 minutes and 54 GB of disk here (docs/performance.md), 10M on SQLite
about an hour.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, create_engine, insert, literal, text
from sqlalchemy.engine import Connection, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suraksha.app import Platform  # noqa: E402
from suraksha.content.models import Account, Item, ItemMatch, ItemMedia  # noqa: E402
from suraksha.enforcement.models import Action, Decision  # noqa: E402
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile  # noqa: E402
from suraksha.settings import Settings  # noqa: E402
from suraksha.transparency import measures  # noqa: E402
from suraksha.transparency.rollup import days_period, runs  # noqa: E402
from suraksha.transparency.statistics import Period  # noqa: E402
from suraksha.transparency.statistics import statistics as raw_statistics  # noqa: E402
from suraksha.transparency.tally import _statements, count_records, days_between  # noqa: E402

T0 = datetime(2021, 1, 1, tzinfo=UTC)
SPAN_S = 4 * 365 * 86400 + 86400  # 2021-01-01 .. 2025-01-01
WHOLE = Period(T0, T0 + timedelta(seconds=SPAN_S))
MONTH = Period(datetime(2023, 6, 1, tzinfo=UTC), datetime(2023, 7, 1, tzinfo=UTC))
YEAR = Period(datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC))
HALF_YEAR = Period(datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 7, 1, tzinfo=UTC))
ACCOUNTS = 1000
CHUNK = 20_000


def table(model: Any) -> Table:
    return cast(Table, model.__table__)


# -- the history: the same formulas as SQL (PostgreSQL) and as Python (SQLite) ----------------------


def sql_rows(items: int) -> list[tuple[Table, str, dict[str, str]]]:
    """(table, FROM clause, column -> SQL expression of g) for each table, in insertion order."""
    at = "TIMESTAMPTZ '2021-01-01 00:00:00+00' + make_interval(secs => {})"
    received = f"((g - 1)::bigint * {SPAN_S} / {items})"
    first = f"({received} + g % 600)"
    second = f"({first} + 3600 + g % 3600)"
    violation = "(g % 10 IN (0, 1, 2))"
    series = f"generate_series(1, {items}) AS g"
    return [
        (
            table(Account),
            f"generate_series(1, {ACCOUNTS}) AS g",
            {
                "platform_account_id": "'acct-' || g",
                "first_seen_at": "now()",
                "last_seen_at": "now()",
            },
        ),
        (
            table(Item),
            series,
            {
                "platform_item_id": "'bench-' || g",
                "payload_digest": "repeat('0', 64)",
                "kind": "'post'",
                "account_id": f"1 + g % {ACCOUNTS}",
                "state": "'decided'",
                "received_at": at.format(received),
                "updated_at": at.format(received),
                "reporter_kind": "CASE WHEN g % 10 = 5 THEN 'user' END",
            },
        ),
        (
            table(Decision),
            series,
            {
                "item_id": "g",
                "verdict": f"CASE WHEN {violation} THEN 'violation' WHEN g % 10 = 3 THEN 'review' "
                "ELSE 'clean' END",
                "automated": "g % 7 <> 0",
                "decided_by": "CASE WHEN g % 7 <> 0 THEN 'policy' ELSE 'reviewer' END",
                "decided_by_ref": "CASE WHEN g % 7 <> 0 THEN 'policy 3' ELSE 'rev-' || g % 50 END",
                "category": f"CASE WHEN {violation} THEN "
                "(CASE WHEN g % 2 = 0 THEN 'csam' ELSE 'solicitation' END)"
                " ELSE '' END",
                "created_at": at.format(first),
            },
        ),
        (
            table(Decision),
            f"{series} WHERE g % 5 = 4",
            {
                "item_id": "g",
                "verdict": "CASE WHEN g % 10 = 4 THEN 'violation' ELSE 'clean' END",
                "automated": "false",
                "decided_by": "'reviewer'",
                "decided_by_ref": "'rev-' || g % 50",
                "category": "CASE WHEN g % 10 = 4 THEN 'solicitation' ELSE '' END",
                "created_at": at.format(second),
            },
        ),
        (
            table(Action),
            f"{series} WHERE {violation}",
            {
                "decision_id": "g",
                "item_id": "g",
                "account_id": f"1 + g % {ACCOUNTS}",
                "kind": "'remove'",
                "target": "'item'",
                "automated": "g % 7 <> 0",
                "state": "'delivered'",
                "created_at": at.format(f"({first} + g % 30)"),
            },
        ),
        (
            table(Action),
            f"{series} WHERE g % 10 = 0",
            {
                "decision_id": "g",
                "item_id": "g",
                "account_id": f"1 + g % {ACCOUNTS}",
                "kind": "'suspend'",
                "target": "'account'",
                "automated": "g % 7 <> 0",
                "state": "'delivered'",
                "created_at": at.format(f"({first} + g % 30)"),
            },
        ),
        (
            table(Action),
            f"{series} WHERE g % 30 = 1",
            {
                "decision_id": "g",
                "item_id": "g",
                "account_id": f"1 + g % {ACCOUNTS}",
                "kind": "'withhold'",
                "target": "'item'",
                "countries": "'IN DE'",
                "automated": "g % 7 <> 0",
                "state": "'delivered'",
                "created_at": at.format(f"({first} + g % 30)"),
            },
        ),
        (
            table(Action),
            f"{series} WHERE g % 10 = 4",
            {
                "decision_id": f"{items} + (g - 4) / 5 + 1",
                "item_id": "g",
                "account_id": f"1 + g % {ACCOUNTS}",
                "kind": "'remove'",
                "target": "'item'",
                "automated": "false",
                "state": "'delivered'",
                "created_at": at.format(f"({second} + 60)"),
            },
        ),
        (
            table(ItemMedia),
            f"{series} WHERE g % 10 = 2",
            {
                "item_id": "g",
                "position": "0",
                "sha256": "lpad(g::text, 64, '0')",
            },
        ),
        (
            table(ItemMatch),
            f"{series} WHERE g % 10 = 2",
            {
                "item_id": "g",
                "media_id": "(g - 2) / 10 + 1",
                "bank_name": "'known'",
                "bank_category": "'csam'",
                "entry_id": "1",
                "signal_type": "'md5'",
            },
        ),
        (
            table(CyberTiplineReport),
            f"{series} WHERE g % 10 = 2",
            {
                "account_id": f"1 + g % {ACCOUNTS}",
                "state": "'finished'",
                "created_at": at.format(first),
                "updated_at": at.format(first),
                "finished_at": at.format(f"({first} + 7200 + g % 7200)"),
            },
        ),
        (
            table(CyberTiplineReportFile),
            f"{series} WHERE g % 10 = 2",
            {
                "report_id": "(g - 2) / 10 + 1",
                "item_id": "g",
                "media_id": "(g - 2) / 10 + 1",
                "decision_id": "g",
                "sha256": "lpad(g::text, 64, '0')",
                "state": "'submitted'",
                "created_at": "now()",
            },
        ),
    ]


def py_rows(items: int) -> Iterator[tuple[Table, Iterator[dict[str, Any]]]]:
    """The same history as rows for executemany (SQLite)."""

    def at(seconds: int) -> datetime:
        return T0 + timedelta(seconds=seconds)

    def received(g: int) -> int:
        return (g - 1) * SPAN_S // items

    def first(g: int) -> int:
        return received(g) + g % 600

    def second(g: int) -> int:
        return first(g) + 3600 + g % 3600

    def violation(g: int) -> bool:
        return g % 10 in (0, 1, 2)

    now = datetime.now(UTC)
    every = range(1, items + 1)
    yield (
        table(Account),
        (
            {"platform_account_id": f"acct-{g}", "first_seen_at": now, "last_seen_at": now}
            for g in range(1, ACCOUNTS + 1)
        ),
    )
    yield (
        table(Item),
        (
            {
                "platform_item_id": f"bench-{g}",
                "payload_digest": "0" * 64,
                "kind": "post",
                "account_id": 1 + g % ACCOUNTS,
                "state": "decided",
                "received_at": at(received(g)),
                "updated_at": at(received(g)),
                "reporter_kind": "user" if g % 10 == 5 else None,
            }
            for g in every
        ),
    )
    yield (
        table(Decision),
        (
            {
                "item_id": g,
                "verdict": "violation" if violation(g) else "review" if g % 10 == 3 else "clean",
                "automated": g % 7 != 0,
                "decided_by": "policy" if g % 7 else "reviewer",
                "decided_by_ref": "policy 3" if g % 7 else f"rev-{g % 50}",
                "category": ("csam" if g % 2 == 0 else "solicitation") if violation(g) else "",
                "created_at": at(first(g)),
            }
            for g in every
        ),
    )
    yield (
        table(Decision),
        (
            {
                "item_id": g,
                "verdict": "violation" if g % 10 == 4 else "clean",
                "automated": False,
                "decided_by": "reviewer",
                "decided_by_ref": f"rev-{g % 50}",
                "category": "solicitation" if g % 10 == 4 else "",
                "created_at": at(second(g)),
            }
            for g in every
            if g % 5 == 4
        ),
    )
    for kind, target, keep in (
        ("remove", "item", violation),
        ("suspend", "account", lambda g: g % 10 == 0),
        ("withhold", "item", lambda g: g % 30 == 1),
    ):
        yield (
            table(Action),
            (
                {
                    "decision_id": g,
                    "item_id": g,
                    "account_id": 1 + g % ACCOUNTS,
                    "kind": kind,
                    "target": target,
                    "countries": "IN DE" if kind == "withhold" else "",
                    "automated": g % 7 != 0,
                    "state": "delivered",
                    "created_at": at(first(g) + g % 30),
                }
                for g in every
                if keep(g)
            ),
        )
    yield (
        table(Action),
        (
            {
                "decision_id": items + (g - 4) // 5 + 1,
                "item_id": g,
                "account_id": 1 + g % ACCOUNTS,
                "kind": "remove",
                "target": "item",
                "automated": False,
                "state": "delivered",
                "created_at": at(second(g) + 60),
            }
            for g in every
            if g % 10 == 4
        ),
    )
    reported = [g for g in every if g % 10 == 2]
    yield table(ItemMedia), ({"item_id": g, "position": 0, "sha256": f"{g:064d}"} for g in reported)
    yield (
        table(ItemMatch),
        (
            {
                "item_id": g,
                "media_id": (g - 2) // 10 + 1,
                "bank_name": "known",
                "bank_category": "csam",
                "entry_id": 1,
                "signal_type": "md5",
            }
            for g in reported
        ),
    )
    yield (
        table(CyberTiplineReport),
        (
            {
                "account_id": 1 + g % ACCOUNTS,
                "state": "finished",
                "created_at": at(first(g)),
                "updated_at": at(first(g)),
                "finished_at": at(first(g) + 7200 + g % 7200),
            }
            for g in reported
        ),
    )
    yield (
        table(CyberTiplineReportFile),
        (
            {
                "report_id": (g - 2) // 10 + 1,
                "item_id": g,
                "media_id": (g - 2) // 10 + 1,
                "decision_id": g,
                "sha256": f"{g:064d}",
                "state": "submitted",
            }
            for g in reported
        ),
    )


def _defaults(conn: Connection, table: Table, given: dict[str, str]) -> dict[str, str]:
    """The given expressions, plus each NOT NULL column's scalar default as a literal."""
    filled = dict(given)
    for column in table.columns:
        if column.name in filled or column.nullable or column.primary_key:
            continue
        default = getattr(column.default, "arg", None)
        if default is None or callable(default):
            raise SystemExit(f"benchmark: give {table.name}.{column.name} (no scalar default)")
        value = default.value if hasattr(default, "value") else default
        filled[column.name] = str(
            literal(value).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        )
    return filled


def _drop_secondary(conn: Connection, tables: list[str]) -> list[str]:
    """Drop the foreign keys, unique constraints and indexes (not the primary keys) of ``tables``, as a
    bulk load does; returns the statements that put them back (foreign keys ``NOT VALID``: the history
    is consistent by construction, and validating 100M rows proves nothing about the queries)."""
    bound = {"t": tables}
    constraints = conn.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(:t) AND c.contype IN ('f', 'u') "
            "ORDER BY c.contype"  # f before u: a key is dropped after what refers to it
        ),
        bound,
    ).all()
    indexes = conn.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(:t) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))"
        ),
        bound,
    ).all()
    restore: list[str] = [definition for _, definition in indexes]
    for table_name, name, kind, definition in constraints:
        conn.execute(text(f'ALTER TABLE {table_name} DROP CONSTRAINT "{name}"'))
        suffix = " NOT VALID" if kind == "f" else ""
        restore.append(f'ALTER TABLE {table_name} ADD CONSTRAINT "{name}" {definition}{suffix}')
    for name, _ in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    # unique constraints before the foreign keys that need them
    return sorted(restore, key=lambda sql: "FOREIGN KEY" in sql)


def _insert_select(url: str, statements: list[str]) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for sql in statements:
                conn.execute(text(sql))
    finally:
        engine.dispose()


def generate(platform: Platform, decisions: int) -> int:
    """Write the history; returns how many decisions it holds."""
    items = round(decisions / 1.2)
    if platform.db.dialect == "postgresql":
        return _generate_postgres(platform, items)
    with platform.db.engine.begin() as conn:
        for table, rows in py_rows(items):
            chunk: list[dict[str, Any]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    conn.execute(insert(table), chunk)
                    chunk = []
            if chunk:
                conn.execute(insert(table), chunk)
        return int(conn.execute(text("SELECT count(*) FROM decisions")).scalar_one())


def _generate_postgres(platform: Platform, items: int) -> int:
    """A bulk load: secondary indexes and foreign keys dropped, the tables filled by ``INSERT ... SELECT
    FROM generate_series`` on two connections at once (items and what hangs off them; decisions and
    actions), then the indexes built (``maintenance_work_mem`` 1 GB) and ``ANALYZE``."""
    plan = sql_rows(items)
    statements: dict[str, list[str]] = {}
    with platform.db.engine.begin() as conn:
        for table, source, given in plan:
            columns = _defaults(conn, table, given)
            statements.setdefault(table.name, []).append(
                f"INSERT INTO {table.name} ({', '.join(columns)}) "
                f"SELECT {', '.join(columns.values())} FROM {source}"
            )
        restore = _drop_secondary(conn, [t for t in statements if t != "accounts"])
        for sql in statements.pop("accounts"):
            conn.execute(text(sql))
    url = platform.db.engine.url.render_as_string(hide_password=False)
    streams = [
        [sql for name in ("decisions", "actions") for sql in statements.pop(name)],
        [sql for sqls in statements.values() for sql in sqls],
    ]
    with ThreadPoolExecutor(len(streams)) as pool:
        for done in [pool.submit(_insert_select, url, stream) for stream in streams]:
            done.result()
    with platform.db.engine.begin() as conn:
        conn.execute(text("SET maintenance_work_mem = '1GB'"))
        for sql in restore:
            conn.execute(text(sql))
    with platform.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        return int(conn.execute(text("SELECT count(*) FROM decisions")).scalar_one())


# -- the peer: a plain GROUP BY over the raw tables, for the same counts ------------------------------


def group_by(conn: Connection, period: Period, *, monthly: bool) -> list[Any]:
    """Decisions (automated or not), actions by kind, finished reports and their files, and items first
    identified, over the raw tables: by month, or in total."""
    pg = conn.dialect.name == "postgresql"

    def month(column: str) -> str:
        if not monthly:
            return "'total'"
        return f"date_trunc('month', {column} AT TIME ZONE 'UTC')" if pg else f"substr({column}, 1, 7)"

    bounds = {"s": period.start, "e": period.end}
    found: list[Any] = []
    for sql in (
        f"SELECT {month('created_at')} AS m, automated, count(*) FROM decisions "
        "WHERE created_at >= :s AND created_at < :e GROUP BY 1, 2",
        f"SELECT {month('created_at')} AS m, kind, automated, count(*) FROM actions "
        "WHERE created_at >= :s AND created_at < :e GROUP BY 1, 2, 3",
        f"SELECT {month('finished_at')} AS m, count(*) FROM cybertipline_reports "
        "WHERE state = 'finished' AND finished_at >= :s AND finished_at < :e GROUP BY 1",
        f"SELECT {month('r.finished_at')} AS m, count(*) FROM cybertipline_report_files f "
        "JOIN cybertipline_reports r ON r.id = f.report_id "
        "WHERE r.state = 'finished' AND r.finished_at >= :s AND r.finished_at < :e GROUP BY 1",
        f"SELECT {month('first_at')} AS m, count(*) FROM (SELECT item_id, min(created_at) AS first_at "
        "FROM decisions WHERE verdict IN ('violation', 'legal_order') GROUP BY item_id) x "
        "WHERE first_at >= :s AND first_at < :e GROUP BY 1",
    ):
        found.extend(conn.execute(text(sql), bounds).all())
    return found


# -- the run ------------------------------------------------------------------------------------------


def timed(call: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _postgres_database(url: str) -> tuple[str, Callable[[], None]]:
    name = f"suraksha_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def run(
    store: str,
    decisions: int,
    rounds: int,
    postgres_url: str,
    items_per_s: float,
    *,
    count_only: bool = True,
    raw: bool = True,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="suraksha-stats-bench-") as folder:
        drop: Callable[[], None] = lambda: None  # noqa: E731
        if store == "postgres":
            url, drop = _postgres_database(postgres_url)
        else:
            url = f"sqlite:///{folder}/bench.sqlite3"
        platform = Platform(Settings.load({"database_url": url, "data_dir": folder, "stats_rollup_lag_s": 0}))
        try:
            started = time.perf_counter()
            written = generate(platform, decisions)
            generated_s = time.perf_counter() - started
            # the raw path first, before any day is closed
            raw_month = timed(lambda: _raw(platform, MONTH), rounds if raw else 0)
            count_cpu, count_wall = _count_only(platform) if count_only else (float("nan"), float("nan"))
            removal_wall = _removal_counting(platform) if count_only else float("nan")
            cpu, wall = time.process_time(), time.perf_counter()
            rolled = platform.stats_rollup(now=WHOLE.end + timedelta(days=1))
            rollup_cpu, rollup_wall = time.process_time() - cpu, time.perf_counter() - wall
            by_month = timed(lambda: platform.stats(WHOLE.start, WHOLE.end, by="month"), rounds)
            total = timed(lambda: platform.stats(WHOLE.start, WHOLE.end, by="total"), rounds)
            month = timed(
                lambda: platform.stats(MONTH.start, MONTH.end, by="total", group="category"), rounds
            )
            template = timed(lambda: platform.template_fill("it-rules-monthly", MONTH), rounds)
            with _removals_from_the_records():
                template_records = timed(lambda: platform.template_fill("it-rules-monthly", MONTH), rounds)
            annual = timed(lambda: platform.template_fill("ncmec-annual", YEAR), rounds)
            half_year = timed(lambda: platform.template_fill("dsa-transparency", HALF_YEAR), rounds)
            with platform.db.engine.connect() as conn:
                plain_month = timed(lambda: group_by(conn, WHOLE, monthly=True), rounds if raw else 0)
                plain_total = timed(lambda: group_by(conn, WHOLE, monthly=False), rounds if raw else 0)
            check = platform.stats(WHOLE.start, WHOLE.end, by="total").buckets[0].statistics
        finally:
            platform.close()
            drop()
    per_decision_cpu = rollup_cpu / written
    service_item_s = 1 / items_per_s
    return {
        "store": store,
        "decisions": written,
        "generated_s": round(generated_s, 1),
        "days_closed": rolled.closed,
        "rollup_wall_s": round(rollup_wall, 2),
        "rollup_cpu_s": round(rollup_cpu, 2),
        "rollup_cpu_s_per_million": round(per_decision_cpu * 1e6, 1),
        "rollup_share_of_service_item": round(per_decision_cpu / service_item_s, 5),
        "count_wall_s": round(count_wall, 2),
        "count_cpu_s": round(count_cpu, 2),
        "count_cpu_s_per_million": round(count_cpu / written * 1e6, 1),
        "count_wall_s_per_million": round(count_wall / written * 1e6, 1),
        "removal_measures_wall_s": round(removal_wall, 2),
        "service_items_per_s": items_per_s,
        "identified_whole_range": check.identified_items,
        "timings_s": {
            "series by month, 4 years": by_month,
            "series total, 4 years": total,
            "GROUP BY by month, 4 years": plain_month,
            "GROUP BY total, 4 years": plain_total,
            "one month by category (rollup)": month,
            "one month, raw records": raw_month,
            "it-rules-monthly template, one month": template,
            "it-rules-monthly template, removals counted from the records": template_records,
            "ncmec-annual template, 2023": annual,
            "dsa-transparency template, 2023 H1": half_year,
        },
    }


@contextmanager
def _removals_from_the_records() -> Iterator[None]:
    """The templates as they were before the removal measures: distinct items removed and items
    reported counted from the period's records (what a period not made of whole days still does)."""
    whole_days = measures.whole_days
    measures.whole_days = lambda period: False
    try:
        yield
    finally:
        measures.whole_days = whole_days


def _removal_counting(platform: Platform) -> float:
    """Wall seconds of the rollup's removal measures alone (the templates' distinct items removed and
    items reported: ``tally._removals``), over every day, 31 days at a time as ``roll`` counts them."""
    days = list(days_between(WHOLE.start.date(), WHOLE.end.date()))
    wall = time.perf_counter()
    for run in runs(days):
        period = days_period(run)
        with platform.db.reading() as session:
            statement = _statements(session.get_bind().dialect.name == "postgresql").removals
            session.connection().execute(statement, {"start": period.start, "end": period.end}).all()
    return time.perf_counter() - wall


def _count_only(platform: Platform) -> tuple[float, float]:
    """The rollup's counting alone (``count_records``, 31 days at a time as ``roll`` counts them, each
    in a read transaction, nothing stored): (CPU of this process, wall) in seconds."""
    days = list(days_between(WHOLE.start.date(), WHOLE.end.date()))
    cpu, wall = time.process_time(), time.perf_counter()
    for run in runs(days):
        with platform.db.reading() as session:
            count_records(session, days_period(run))
    return time.process_time() - cpu, time.perf_counter() - wall


def _raw(platform: Platform, period: Period) -> object:
    with platform.db.reading() as session:
        return raw_statistics(session, period)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--service-items-per-s",
        type=float,
        default=120.0,
        help="benchmarks/service.py's items/s on this machine (docs/performance.md: 105-143 here)",
    )
    parser.add_argument(
        "--skip-count-only",
        action="store_true",
        help="do not time the rollup's counting on its own (nor its removal measures alone)",
    )
    parser.add_argument(
        "--skip-raw-timings",
        action="store_true",
        help="do not time the raw-record paths (statistics() over a month, the plain GROUP BY): for a "
        "rerun that needs only the rollup's and the templates' figures",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(
        args.store,
        args.decisions,
        args.rounds,
        args.postgres_url,
        args.service_items_per_s,
        count_only=not args.skip_count_only,
        raw=not args.skip_raw_timings,
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['store']}: {result['decisions']:,} decisions over 4 years, "
        f"written in {result['generated_s']} s"
    )
    print(
        f"rollup: {result['days_closed']} days closed in {result['rollup_wall_s']} s wall, "
        f"{result['rollup_cpu_s']} s CPU in this process ({result['rollup_cpu_s_per_million']} s per million "
        f"decisions) = {100 * result['rollup_share_of_service_item']:.3f} % of the service's time per item "
        f"at {result['service_items_per_s']:g} items/s"
    )
    print(
        f"counting alone (count_records, 31 days at a time, nothing stored): {result['count_wall_s']} s "
        f"wall, {result['count_cpu_s']} s CPU ({result['count_cpu_s_per_million']} s CPU, "
        f"{result['count_wall_s_per_million']} s wall per million decisions)"
    )
    print(
        f"of the rollup's counting, the removal measures alone (templates' distinct items removed): "
        f"{result['removal_measures_wall_s']} s wall"
    )
    print(f"{'query':38} {'median s':>9} {'min':>8} {'max':>8}")
    timings = result["timings_s"]
    for name, times in timings.items():
        if not times:
            print(f"{name:38} not timed (--skip-raw-timings)")
            continue
        print(f"{name:38} {statistics.median(times):9.4f} {min(times):8.4f} {max(times):8.4f}")
    for rolled, plain in (
        ("series by month, 4 years", "GROUP BY by month, 4 years"),
        ("series total, 4 years", "GROUP BY total, 4 years"),
    ):
        if not timings[plain]:
            continue
        ratio = statistics.median(timings[rolled]) / statistics.median(timings[plain])
        print(f"{rolled} / {plain}: {ratio:.3f}")


if __name__ == "__main__":
    main()
