"""Trusted flaggers' notices and appeals for a period (``transparency.notices_appeals``), from known
records, figure by figure, on SQLite and PostgreSQL; and beside the buckets of ``Platform.stats``."""

from __future__ import annotations

from datetime import UTC, datetime

from suraksha.db import Database
from suraksha.transparency.notices_appeals import (
    AppealFigures,
    NoticeFigures,
    notices_and_appeals,
)
from suraksha.transparency.statistics import Period
from tests.transparency_records import seed_notices_appeals

MARCH = Period(datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 4, 1, tzinfo=UTC))
FEBRUARY = Period(datetime(2021, 2, 1, tzinfo=UTC), datetime(2021, 3, 1, tzinfo=UTC))


def test_notices_and_appeals_from_known_records(db: Database) -> None:
    seed_notices_appeals(db, MARCH.start)
    with db.reading() as session:
        figures = notices_and_appeals(session, MARCH)
    assert figures.notices == NoticeFigures(
        received=5, decided=3, confirmed=2, not_found=1, median_decision_s=10800.0
    )
    assert figures.notices.accuracy == 0.6667
    assert [f.as_dict() for f in figures.by_flagger] == [
        {"flagger": "alpha-na", "organisation": "alpha-na (made up)", "notices": 3, "decided": 2,
         "confirmed": 1, "not_found": 1, "accuracy": 0.5, "median_decision_s": 7200.0,
         "status_review": False},
        {"flagger": "beta-na", "organisation": "beta-na (made up)", "notices": 2, "decided": 1,
         "confirmed": 1, "not_found": 0, "accuracy": 1.0, "median_decision_s": 18000.0,
         "status_review": True},
        {"flagger": "gamma-na", "organisation": "gamma-na (made up)", "notices": 0, "decided": 0,
         "confirmed": 0, "not_found": 0, "accuracy": None, "median_decision_s": None,
         "status_review": False},
    ]  # fmt: skip
    assert figures.appeals == AppealFigures(
        lodged=4, decided=3, upheld=2, reversed=1, median_decision_s=86400.0
    )
    assert figures.appeals.reversal_rate == 0.3333
    rates = {(r.dimension, r.key): (r.appealed, r.reversed) for r in figures.reversal_rates}
    assert rates == {
        ("policy", "policy 3"): (3, 1),
        ("tool", "hash_bank"): (2, 1),
        ("tool", "text_rule"): (1, 0),
        ("bank", "bank:known-na"): (2, 1),
        ("rule", "rule:default/sale"): (1, 0),
    }
    body = figures.as_dict()
    assert set(body) == {"notices", "appeals"}
    assert body["notices"]["received"] == 5 and len(body["notices"]["by_flagger"]) == 3
    assert body["appeals"]["reversal_rate"] == 0.3333 and len(body["appeals"]["reversal_rates"]) == 5


def test_the_month_before_holds_only_its_own(db: Database) -> None:
    seed_notices_appeals(db, MARCH.start)
    with db.reading() as session:
        figures = notices_and_appeals(session, FEBRUARY)
    # alpha's notice of 24 February, confirmed an hour later; the appeal lodged on 26 February
    assert figures.notices == NoticeFigures(1, 1, 1, 0, 3600.0)
    assert figures.appeals == AppealFigures(lodged=1, decided=0, upheld=0, reversed=0, median_decision_s=None)
    assert figures.appeals.reversal_rate is None and figures.reversal_rates == []
    rows = figures.appeal_rows()
    assert rows == [
        {"start": "2021-02-01T00:00:00+00:00", "end": "2021-03-01T00:00:00+00:00", "dimension": "all",
         "key": "", "lodged": 1, "decided": 0, "upheld": 0, "reversed": 0, "rate": None,
         "median_decision_s": None, "flagged": None}
    ]  # fmt: skip


def test_nothing_at_all_is_zero(db: Database) -> None:
    with db.reading() as session:
        figures = notices_and_appeals(session, MARCH)
    assert figures.notices == NoticeFigures(0, 0, 0, 0, None) and figures.by_flagger == []
    assert figures.appeals == AppealFigures(0, 0, 0, 0, None) and figures.reversal_rates == []
    assert figures.flagger_rows()[0]["notices"] == 0
