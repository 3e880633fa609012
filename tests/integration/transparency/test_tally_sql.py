"""``count_records`` counts in SQL (items' first events, time buckets and their peaks included) exactly
what the Python path it replaced counted (``python_tally``, the oracle), on SQLite and PostgreSQL: on
known records built around the edge cases, and on generated histories."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from sqlalchemy.orm import Session

from suraksha.content.models import Account, Item, ItemMatch, ItemMedia, ItemRuleHit
from suraksha.db import Database
from suraksha.db.engine import _ln
from suraksha.enforcement.models import Action, Decision
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, PoliceReferral, ReportState
from suraksha.transparency.tally import (
    Cell,
    Measure,
    Period,
    Tally,
    TimeMeasure,
    count_records,
    time_bucket,
    to_ms,
)
from tests.integration.transparency.python_tally import count_records_in_python
from tests.integration.transparency.test_rollup import BASE, empty, histories, later, write

T = datetime(2024, 3, 10, 9, 0, tzinfo=UTC)
DAY = T.date()
MS = timedelta(milliseconds=1)
US = timedelta(microseconds=1)


def assert_same(session: Session, period: Period) -> Tally:
    sql, python = count_records(session, period), count_records_in_python(session, period)
    assert +sql.counts == +python.counts, period
    assert +sql.times == +python.times, period
    assert sql.peaks == python.peaks, period
    return sql


def seed_edges(db: Database) -> None:
    """Items named for the edge each one exercises."""
    with db.session() as session:
        account = Account(platform_account_id="acct-edges")
        session.add(account)
        session.flush()
        n = 0

        def item(received: datetime, **kw: object) -> tuple[Item, ItemMedia]:
            nonlocal n
            n += 1
            it = Item(platform_item_id=f"edge-{n}", payload_digest="0" * 64, kind="post",
                      account_id=account.id, received_at=received, **kw)  # fmt: skip
            session.add(it)
            session.flush()
            media = ItemMedia(item_id=it.id, position=0, sha256=f"{n:064x}")
            session.add(media)
            session.flush()
            return it, media

        def match(it: Item, media: ItemMedia, category: str, *, suppressed: bool = False) -> None:
            session.add(ItemMatch(item_id=it.id, media_id=media.id, bank_name=f"bank-{category}",
                                  bank_category=category, entry_id=1, signal_type="md5",
                                  suppressed=suppressed))  # fmt: skip

        def rule(it: Item) -> None:
            session.add(ItemRuleHit(item_id=it.id, pack="p", pack_version="1", rule_id="r",
                                    category="solicitation", field="text", start=0, end=1,
                                    matched="x"))  # fmt: skip

        def decide(
            it: Item, verdict: str, at: datetime, *, by: str = "policy", category: str = "csam"
        ) -> Decision:
            d = Decision(item_id=it.id, verdict=verdict, automated=by == "policy", decided_by=by,
                         decided_by_ref="policy 9" if by == "policy" else "", category=category,
                         created_at=at)  # fmt: skip
            session.add(d)
            session.flush()
            return d

        def act(d: Decision, kind: str, at: datetime, countries: str = "") -> None:
            session.add(Action(decision_id=d.id, item_id=d.item_id, account_id=account.id, kind=kind,
                               target="item", automated=d.automated, created_at=at,
                               countries=countries))  # fmt: skip

        def report(
            it: Item, media: ItemMedia, at: datetime | None, state: str = ReportState.FINISHED
        ) -> None:
            r = CyberTiplineReport(account_id=account.id, state=state, finished_at=at)
            session.add(r)
            session.flush()
            session.add(
                CyberTiplineReportFile(report_id=r.id, item_id=it.id, media_id=media.id, sha256="a" * 64)
            )

        # two sources, three bank categories (one suppressed), a user report: hash:csam, hash:grooming,
        # text_rule, user_report; acted on at once (0 s), reported 1.5 ms later (half to even: 2 ms)
        a, am = item(T - timedelta(seconds=30), reporter_kind="user")
        match(a, am, "csam")
        match(a, am, "csam")
        match(a, am, "grooming")
        match(a, am, "terror", suppressed=True)
        rule(a)
        da = decide(a, "violation", T)
        act(da, "remove", T)
        act(da, "withhold", T + 2 * MS, countries="IN DE IN")
        report(a, am, T + timedelta(microseconds=1500))
        # first-violation rule: a review, then a violation (counted), then another (not counted again);
        # backfilled; reviewer decided: source reviewer; acted before its detection (counts as 0 s)
        b, _ = item(T - timedelta(days=3), backfilled=True)
        decide(b, "review", T - timedelta(days=2), category="")
        db_ = decide(b, "violation", T + timedelta(hours=1), by="reviewer", category="solicitation")
        act(db_, "restrict", T + timedelta(minutes=30))
        decide(b, "violation", T + timedelta(hours=2), by="reviewer")
        # two violations at the same instant: the lower decision id gives the category; a legal order
        # (authority) from a trusted flagger; takedown exactly 1 ms later, report 0.5 ms later (0 ms)
        c, cm = item(T - timedelta(hours=5), reporter_kind="trusted_flagger")
        dc = decide(c, "legal_order", T + timedelta(hours=3), by="legal", category="grooming")
        decide(c, "violation", T + timedelta(hours=3), category="csam")
        act(dc, "withhold", T + timedelta(hours=3) + MS, countries="US")
        report(c, cm, T + timedelta(hours=3) + timedelta(microseconds=500))
        # identified before the periods below start: never identified in them; a restore and a second
        # removal in the period are not its first action; its report's first finished one is earlier
        d, dm = item(T - timedelta(days=40))
        dd = decide(d, "violation", T - timedelta(days=39))
        act(dd, "remove", T - timedelta(days=39))
        act(dd, "restore", T + timedelta(hours=4))
        dd2 = decide(d, "violation", T + timedelta(hours=4))
        act(dd2, "suspend", T + timedelta(hours=4))
        report(d, dm, T - timedelta(days=38))
        report(d, dm, T + timedelta(hours=5))
        report(d, dm, None, state=ReportState.DRAFT)
        # a classifier's violation (no other source), microseconds from receipt, a notify (not a
        # platform action), odd durations for buckets and peaks, a day later
        e, em = item(T + timedelta(days=1) - timedelta(microseconds=1234567))
        de = decide(e, "violation", T + timedelta(days=1), category="")
        act(de, "notify", T + timedelta(days=1))
        act(de, "remove", T + timedelta(days=1, seconds=59, microseconds=999_500))
        report(e, em, T + timedelta(days=1, hours=26, microseconds=2500))
        # an item acted on and reported with no violation decision: no detection times
        f, fm = item(T)
        df = decide(f, "clean", T + timedelta(seconds=1), category="")
        act(df, "remove", T + timedelta(seconds=2))
        report(f, fm, T + timedelta(seconds=3))
        # the same bucket twice: the peak is the longer
        for seconds in (100.2, 100.9, 100.5):
            g, _ = item(T + timedelta(days=1))
            decide(g, "violation", T + timedelta(days=1, seconds=seconds))
        for drafted, sent, acknowledged in ((T, T + timedelta(hours=1), None), (T + MS, None, None),
                                            (T - timedelta(days=1), T, T + timedelta(days=1))):  # fmt: skip
            session.add(PoliceReferral(account_id=account.id, jurisdiction="IN", agency="cyber cell",
                                       created_by="lead", created_at=drafted, sent_at=sent,
                                       acknowledged_at=acknowledged))  # fmt: skip


def test_known_edges_counted_alike_by_sql_and_python(db: Database) -> None:
    seed_edges(db)
    whole = Period(T - timedelta(days=60), T + timedelta(days=10))
    with db.reading() as session:
        tally = assert_same(session, Period(T - timedelta(days=1), T + timedelta(days=3)))
        assert_same(session, whole)
        for cut in (
            Period(T + timedelta(minutes=45), T + timedelta(hours=3)),  # b's action before, its detection in
            Period(T + timedelta(hours=3), T + timedelta(hours=3) + US),  # one microsecond
            Period(T + timedelta(hours=1), T + timedelta(days=1, hours=12)),
            Period(T - timedelta(days=39), T - timedelta(days=38)),
        ):
            assert_same(session, cut)
    counts, times = tally.counts, tally.times
    source = Measure.IDENTIFIED_SOURCE
    assert counts[DAY, Cell(Measure.IDENTIFIED, category="csam")] == 1  # a
    assert counts[DAY, Cell(Measure.IDENTIFIED, category="solicitation", backfilled=True)] == 1  # b
    assert counts[DAY, Cell(Measure.IDENTIFIED, category="grooming")] == 1  # c: the lower id
    for name, n in (("hash:csam", 1), ("hash:grooming", 1), ("text_rule", 1), ("user_report", 1),
                    ("reviewer", 1), ("authority", 1), ("trusted_flagger", 1),
                    ("hash:terror", 0)):  # fmt: skip
        assert counts[DAY, Cell(source, source=name)] == n, name
    assert counts[DAY + timedelta(days=1), Cell(source, source="classifier")] == 4  # e and the three g
    assert counts[DAY, Cell(Measure.WITHHELD_COUNTRY, kind="withhold", country="IN")] == 1
    assert counts[DAY, Cell(Measure.REFERRAL_DRAFTED, country="IN")] == 2
    action = TimeMeasure.DETECTION_TO_ACTION.value
    report = TimeMeasure.DETECTION_TO_REPORT.value
    assert times[DAY, action, 0] == 2  # a at once, b before its detection
    assert times[DAY, action, time_bucket(0.001)] == 1 and time_bucket(0.001) == 1  # c
    assert tally.peaks[DAY, report, time_bucket(0.0015)] == to_ms(0.0015) == 2  # a: half to even
    assert tally.peaks[DAY, report, time_bucket(0.0005)] == 0  # c
    assert (
        tally.peaks[DAY + timedelta(days=1), TimeMeasure.RECEIPT_TO_DETECTION.value, time_bucket(100.9)]
        == 100900
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_any_history_counted_alike_by_sql_and_python(db: Database, history: dict[str, object]) -> None:
    empty(db)
    write(db, history)
    edges: tuple[int, int] = history["edges"]  # type: ignore[assignment]
    start_edge, end_edge = edges
    with db.reading() as session:
        for period in (
            Period(BASE - timedelta(days=1), BASE + timedelta(days=16)),
            Period(later(BASE, start_edge), BASE + timedelta(days=9, seconds=end_edge)),
            Period(later(BASE, start_edge), later(BASE, start_edge + end_edge + 1)),
        ):
            assert_same(session, period)


def test_a_sqlite_without_math_functions_gets_ln_from_python() -> None:
    # what suraksha.db.engine registers as ln() where SQLite was built without its math functions:
    # the same C library call as time_bucket's, null (as SQLite's own) outside its domain
    assert _ln(2.0) == math.log(2.0)
    assert _ln(0.0) is None and _ln(-1.0) is None and _ln(None) is None
