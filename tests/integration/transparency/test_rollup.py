"""The rollup gives exactly the figures the raw records give, for any history and any cut of it, on
SQLite and PostgreSQL; ``verify`` finds a stored cell that drifted and ``repair`` restores it; a write
dated in a closed day makes that day count from the raw records until it is rolled again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from suraksha.app import Platform
from suraksha.audit import AuditEvent
from suraksha.content.history import DayState, StatsDay, history_written
from suraksha.content.models import Account, Item, ItemMatch, ItemMedia, ItemRuleHit
from suraksha.db import Database
from suraksha.enforcement.models import Action, Decision
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, PoliceReferral, ReportState
from suraksha.settings import Settings
from suraksha.transparency import measures, rollup
from suraksha.transparency.models import StatsDayCount, StatsDayTime
from suraksha.transparency.rollup import ROLLUP_JOB
from suraksha.transparency.series import Granularity, series
from suraksha.transparency.statistics import Period, statistics
from suraksha.transparency.tally import Tally, count_records
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import run_worker
from tests.integration.transparency.test_statistics import PERIOD, T, seed

BASE = datetime(2024, 2, 27, tzinfo=UTC)  # a leap day inside the generated ten days
LAG = timedelta(hours=2)
TABLES = (
    StatsDayCount, StatsDayTime, StatsDay, CyberTiplineReportFile, CyberTiplineReport, PoliceReferral, Action,
    Decision, ItemRuleHit, ItemMatch, ItemMedia, Item, Account,
)  # fmt: skip


def empty(db: Database) -> None:
    with db.session() as session:
        for model in TABLES:
            session.execute(delete(model))


def cuts(period: Period) -> list[tuple[Period, Granularity]]:
    """Every granularity; by day only over the first 40 days (each day is compared to the raw path)."""
    days = Period(period.start, min(period.end, period.start + timedelta(days=40)))
    return [(days, Granularity.DAY)] + [
        (period, by) for by in (Granularity.WEEK, Granularity.MONTH, Granularity.QUARTER, Granularity.TOTAL)
    ]


def assert_same_by_both_paths(db: Database, period: Period) -> None:
    with db.reading() as session:
        for cut, by in cuts(period):
            for bucket in series(session, cut, by):
                assert bucket.statistics == statistics(session, bucket.period), (by, bucket.period)


def test_known_history_rolled_equals_the_raw_records(db: Database) -> None:
    seed(db)
    now = datetime(2022, 6, 1, tzinfo=UTC)
    result = rollup.roll(db, now=now, lag=LAG)
    assert result.closed == result.pending > 400 and result.left_dirty == 0
    with db.reading() as session:
        assert session.scalar(select(StatsDay.state).where(StatsDay.day == T.date())) == DayState.CLOSED
        by_month = series(session, PERIOD, Granularity.MONTH)
        june = by_month[5].statistics
        assert (june.identified_items, june.decisions, june.actions["remove"]) == (2, 4, 2)
        assert sum(b.statistics.decisions for b in by_month) == statistics(session, PERIOD).decisions
        assert by_month[0].statistics.notes == ["no records in this period"]
    assert_same_by_both_paths(db, PERIOD)
    assert_same_by_both_paths(db, Period(T - timedelta(days=20), T + timedelta(days=20)))
    # a custom period with partial days at both edges: they come from the raw records
    assert_same_by_both_paths(db, Period(T - timedelta(hours=3), T + timedelta(days=2, hours=5)))
    with db.session() as session:
        check = rollup.verify(session, PERIOD)
    assert check.agrees and check.days_checked == 365


def test_verify_finds_a_drifted_cell_and_repair_restores_it(db: Database) -> None:
    seed(db)
    rollup.roll(db, now=datetime(2022, 6, 1, tzinfo=UTC), lag=LAG)
    with db.session() as session:
        session.execute(
            update(StatsDayCount)
            .where(StatsDayCount.day == T.date(), StatsDayCount.measure == "decision")
            .values(value=StatsDayCount.value + 5)
        )
    with db.session() as session:
        check = rollup.verify(session, PERIOD)
    assert not check.agrees and check.days_differing == [T.date()]
    assert all(d.stored == d.recomputed + 5 for d in check.differences)
    with db.session() as session:
        repaired = rollup.verify(session, PERIOD, repair=True, actor="user:lead@example.org")
    assert repaired.repaired == [T.date()]
    with db.session() as session:
        assert rollup.verify(session, PERIOD).agrees
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "stats:repair")).one()
        assert event.actor == "user:lead@example.org" and T.date().isoformat() in event.details


def test_a_backfill_into_a_closed_day_is_counted_at_once_and_rolled_again(db: Database) -> None:
    seed(db)
    now = datetime(2022, 6, 1, tzinfo=UTC)
    rollup.roll(db, now=now, lag=LAG)
    old = T - timedelta(days=30)
    with db.session() as session:
        account = session.scalars(select(Account)).first()
        assert account is not None
        item = Item(
            platform_item_id="archived-1",
            payload_digest="0" * 64,
            kind="post",
            account_id=account.id,
            received_at=old,
            backfilled=True,
        )
        session.add(item)
        session.flush()
        session.add(
            Decision(
                item_id=item.id,
                verdict="violation",
                automated=True,
                decided_by="policy",
                created_at=old + timedelta(minutes=1),
            )
        )
        assert history_written(session, [old, old + timedelta(minutes=1)], now=now) == 1  # one day
    with db.reading() as session:
        assert session.scalar(select(StatsDay.state).where(StatsDay.day == old.date())) == DayState.DIRTY
        s = series(session, PERIOD, Granularity.TOTAL)[0].statistics
        assert s.identified_items == 3 and s.identified_backfilled == 1
        assert "1 of the identified items were imported by the archive backfill" in s.notes[0]
    with db.session() as session:
        assert rollup.verify(session, PERIOD).agrees  # a dirty day is not closed: nothing to compare
    assert rollup.roll(db, now=now, lag=LAG).closed == 1
    with db.reading() as session:
        assert session.scalar(select(StatsDay.state).where(StatsDay.day == old.date())) == DayState.CLOSED
    assert_same_by_both_paths(db, PERIOD)


# A generated history: items received over ten days, decided, acted on and reported at random later
# times (some after the item's first violation, some not), and referrals; then the days before a random
# moment are rolled, some closed days are marked dirty, and every cut must agree with the raw path.
VERDICTS = st.sampled_from(["violation", "legal_order", "clean", "review"])
KINDS = st.sampled_from(["remove", "suspend", "withhold", "restrict", "restore", "notify"])
SECONDS = st.integers(min_value=0, max_value=10 * 86400)
LATER = st.integers(min_value=0, max_value=3 * 86400) | st.floats(min_value=0, max_value=5, allow_nan=False)


@st.composite
def histories(draw: st.DrawFn) -> dict[str, object]:
    items = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "received": SECONDS,
                    "backfilled": st.booleans(),
                    "reporter": st.sampled_from([None, "user", "trusted_flagger"]),
                    "matched": st.booleans(),
                    "ruled": st.booleans(),
                    "decisions": st.lists(
                        st.fixed_dictionaries(
                            {
                                "after": LATER,
                                "verdict": VERDICTS,
                                "automated": st.booleans(),
                                "by": st.sampled_from(["policy", "reviewer", "legal"]),
                                "category": st.sampled_from(["", "csam", "solicitation"]),
                                "actions": st.lists(
                                    st.tuples(KINDS, LATER), max_size=2, unique_by=lambda a: a[0]
                                ),
                            }
                        ),
                        max_size=3,
                    ),
                    "reported": st.none() | LATER,
                }
            ),
            max_size=8,
        )
    )
    referrals = draw(st.lists(st.tuples(SECONDS, st.none() | LATER, st.none() | LATER), max_size=2))
    return {
        "items": items,
        "referrals": referrals,
        "rolled_until": draw(SECONDS),
        "dirty": draw(st.lists(st.integers(0, 12), max_size=2)),
        "edges": draw(st.tuples(st.integers(0, 3 * 86400), st.integers(0, 3 * 86400))),
    }


def later(at: datetime, seconds: float) -> datetime:
    return at + timedelta(seconds=seconds)


def write(db: Database, history: dict[str, object]) -> None:
    with db.session() as session:
        account = Account(platform_account_id="acct-gen")
        session.add(account)
        session.flush()
        items: list[dict[str, object]] = history["items"]  # type: ignore[assignment]
        for n, spec in enumerate(items):
            received = later(BASE, spec["received"])  # type: ignore[arg-type]
            item = Item(
                platform_item_id=f"gen-{n}",
                payload_digest="0" * 64,
                kind="post",
                account_id=account.id,
                received_at=received,
                backfilled=spec["backfilled"],
                reporter_kind=spec["reporter"],
            )
            session.add(item)
            session.flush()
            media = ItemMedia(item_id=item.id, position=0, sha256=f"{n:064x}")
            session.add(media)
            session.flush()
            if spec["matched"]:
                session.add(
                    ItemMatch(
                        item_id=item.id,
                        media_id=media.id,
                        bank_name="known",
                        bank_category="csam",
                        entry_id=1,
                        signal_type="md5",
                    )
                )
            if spec["ruled"]:
                session.add(
                    ItemRuleHit(
                        item_id=item.id,
                        pack="p",
                        pack_version="1",
                        rule_id="r",
                        category="solicitation",
                        field="text",
                        start=0,
                        end=1,
                        matched="x",
                    )
                )
            first = None
            at = received
            for d in spec["decisions"]:  # type: ignore[attr-defined]
                at = later(at, d["after"])
                decision = Decision(
                    item_id=item.id,
                    verdict=d["verdict"],
                    automated=d["automated"],
                    decided_by=d["by"],
                    decided_by_ref="policy 7" if d["by"] == "policy" else "",
                    category=d["category"],
                    created_at=at,
                )
                session.add(decision)
                session.flush()
                first = first or decision
                for kind, after in d["actions"]:
                    session.add(
                        Action(
                            decision_id=decision.id,
                            item_id=item.id,
                            account_id=account.id,
                            kind=kind,
                            target="item",
                            automated=d["automated"],
                            created_at=later(at, after),
                            countries="IN DE" if kind == "withhold" else "",
                        )
                    )
            if spec["reported"] is not None:
                report = CyberTiplineReport(
                    account_id=account.id,
                    state=ReportState.FINISHED,
                    finished_at=later(at, float(spec["reported"])),  # type: ignore[arg-type]
                )
                session.add(report)
                session.flush()
                session.add(
                    CyberTiplineReportFile(
                        report_id=report.id, item_id=item.id, media_id=media.id, sha256=f"{n:064x}"
                    )
                )
        referrals: list[tuple[int, float | None, float | None]] = history["referrals"]  # type: ignore[assignment]
        for drafted, sent, acknowledged in referrals:
            created = later(BASE, drafted)
            sent_at = None if sent is None else later(created, sent)
            ack = None if sent_at is None or acknowledged is None else later(sent_at, acknowledged)
            session.add(
                PoliceReferral(
                    account_id=account.id,
                    jurisdiction="IN",
                    agency="cyber cell",
                    created_by="lead",
                    created_at=created,
                    sent_at=sent_at,
                    acknowledged_at=ack,
                )
            )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_any_history_gives_the_same_statistics_by_both_paths(
    db: Database, history: dict[str, object]
) -> None:
    empty(db)
    write(db, history)
    now = later(BASE, history["rolled_until"])  # type: ignore[arg-type]
    rollup.roll(db, now=now, lag=LAG)
    dirty: list[int] = history["dirty"]  # type: ignore[assignment]
    with db.session() as session:
        history_written(session, [BASE + timedelta(days=d) for d in dirty], now=now)
    edges: tuple[int, int] = history["edges"]  # type: ignore[assignment]
    start_edge, end_edge = edges
    for period in (
        Period(BASE - timedelta(days=1), BASE + timedelta(days=16)),
        Period(BASE + timedelta(seconds=start_edge), BASE + timedelta(days=9, seconds=end_edge)),
    ):
        assert_same_by_both_paths(db, period)
    with db.session() as session:
        assert rollup.verify(session, Period(BASE - timedelta(days=1), BASE + timedelta(days=16))).agrees


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_distinct_items_removed_from_the_rollup_are_those_of_the_records(
    db: Database, history: dict[str, object]
) -> None:
    """The templates' distinct items removed (overall, by tool, by report category, by reporter) and
    items reported, read from the removal measures of closed and open days (an item removed on several
    days of a period counts once: ``since``), equal what ``measures`` counts from the records."""
    empty(db)
    write(db, history)
    rollup.roll(db, now=later(BASE, history["rolled_until"]), lag=LAG)  # type: ignore[arg-type]
    edges: tuple[int, int] = history["edges"]  # type: ignore[assignment]
    first, last = (edge // 86400 for edge in edges)
    for period in (
        Period(BASE - timedelta(days=1), BASE + timedelta(days=16)),
        Period(BASE + timedelta(days=first), BASE + timedelta(days=4 + last)),
        Period(BASE + timedelta(days=3), BASE + timedelta(days=4)),
    ):
        with db.reading() as session:
            found = measures.removals(series(session, period, Granularity.TOTAL)[0].tally, period)
            assert found.items == measures.items_removed(session, period), period
            assert found.by_tool == {
                tool: measures.items_removed(session, period, automated=tool) for tool in (True, False)
            }
            assert found.by_category == {
                tool: measures.removed_by_category(session, period, automated=tool) for tool in (True, False)
            }
            assert found.by_reporter == measures.reported_items_removed(session, period)
            assert found.reports == measures.user_reports(session, period)


def test_the_worker_rolls_up_on_its_schedule(db: Database, database_url: str, tmp_path: Path) -> None:
    """(``db``: emptied after the test, on PostgreSQL.)"""
    seed(db)
    settings = Settings.load(
        {"database_url": database_url, "data_dir": str(tmp_path / "data"), "stats_rollup_every_s": 300.0}
    )
    platform = Platform(settings)
    try:
        registry = platform.job_handlers(platform.bank_index())
        assert registry.schedules[ROLLUP_JOB] == 300.0
        run_worker(
            platform.db,
            registry,
            kinds=[ROLLUP_JOB],
            config=WorkerConfig(poll_interval_s=0.05),
            until_drained=True,
            install_signal_handlers=False,
        )
        with platform.db.reading() as session:
            closed = session.scalars(select(StatsDay.day).where(StatsDay.state == DayState.CLOSED)).all()
        assert min(closed) == (T - timedelta(days=400)).date() and len(closed) > 400
    finally:
        platform.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_a_day_written_while_it_is_being_rolled_stays_dirty(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill commits into days the rollup is counting (PostgreSQL: two writers at once): a day
    already in the ledger keeps its new dirty mark, a day new to the ledger gets one; neither is
    closed on counts that miss the write, and the next run closes both."""
    seed(db)
    now = datetime(2022, 6, 1, tzinfo=UTC)
    old = T.date()
    new = old  # set to another day of the run that counts ``old``
    with db.session() as session:
        history_written(session, [old], now=now - timedelta(days=1))  # dirty before the roll starts
    counted = count_records

    def count_then_backfill(session: Session, period: Period) -> Tally:
        nonlocal new
        tally = counted(session, period)
        if period.start.date() <= old < period.end.date():
            last = period.end.date() - timedelta(days=1)
            new = last if last != old else period.start.date()
            with db.session() as other:  # another process's transaction, committed mid-roll
                history_written(other, [old, new], now=now)
        return tally

    monkeypatch.setattr(rollup, "count_records", count_then_backfill)
    result = rollup.roll(db, now=now, lag=LAG)
    assert result.left_dirty == 2
    with db.reading() as session:
        states = dict(
            session.execute(select(StatsDay.day, StatsDay.state).where(StatsDay.day.in_([old, new]))).all()
        )
    assert states == {old: DayState.DIRTY, new: DayState.DIRTY}
    monkeypatch.setattr(rollup, "count_records", counted)
    rollup.roll(db, now=now, lag=LAG)
    with db.reading() as session:
        states = dict(
            session.execute(select(StatsDay.day, StatsDay.state).where(StatsDay.day.in_([old, new]))).all()
        )
    assert states == {old: DayState.CLOSED, new: DayState.CLOSED}
