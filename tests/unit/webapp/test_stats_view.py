"""The statistics page's pure parts: the form's defaults and errors, bucket labels, durations in words,
the charts' axes and units, and the CSV columns."""

from __future__ import annotations

from datetime import UTC, date, datetime

from suraksha.transparency.columns import columns
from suraksha.transparency.series import Granularity
from suraksha.transparency.statistics import Period
from suraksha.web.console.charts import integer_ticks, unit_for
from suraksha.web.console.stats import bucket_label, duration, parse_asked


def test_the_form_defaults_to_the_last_twelve_months_by_month() -> None:
    asked, error = parse_asked(None, None, None, today=date(2026, 12, 7))
    assert (asked.first, asked.last, asked.by, error) == (date(2026, 1, 1), date(2026, 12, 7), "month", "")
    asked, _ = parse_asked(None, None, None, today=date(2026, 3, 31))
    assert asked.first == date(2025, 4, 1)
    assert asked.period == Period(datetime(2025, 4, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


def test_every_wrong_field_is_named() -> None:
    _, error = parse_asked("2021-02-30", "soon", "hour", today=date(2026, 12, 7))
    assert "from '2021-02-30' is not a date" in error and "to 'soon' is not a date" in error
    assert "by 'hour' is not one of day, week, month, quarter, year, total" in error
    _, error = parse_asked("2021-06-01", "9999-12-31", "year")
    assert error == "to 9999-12-31 is outside the years 1970 to 9998"


def test_bucket_labels_and_durations() -> None:
    period = Period(datetime(2021, 4, 1, tzinfo=UTC), datetime(2021, 7, 1, tzinfo=UTC))
    assert bucket_label(period, Granularity.QUARTER) == "2021 Q2"
    assert bucket_label(period, Granularity.MONTH) == "2021-04"
    assert bucket_label(period, Granularity.YEAR) == "2021"
    assert bucket_label(period, Granularity.WEEK) == "2021-04-01"
    assert bucket_label(period, Granularity.TOTAL) == "2021-04-01 to 2021-06-30"
    assert [duration(s) for s in (None, 0.0, 10.5, 600, 7200, 200000)] == [
        "-",
        "0 s",
        "10.5 s",
        "10.0 min",
        "2.0 h",
        "2.3 d",
    ]


def test_axes_count_in_whole_numbers_and_times_pick_a_unit() -> None:
    assert integer_ticks(0) == [0, 1]
    assert integer_ticks(3) == [0, 1, 2, 3]
    assert integer_ticks(23) == [0, 5, 10, 15, 20, 25]
    assert integer_ticks(180) == [0, 50, 100, 150, 200]
    assert unit_for([None, 30.0]) == ("seconds", 1.0)
    assert unit_for([600.0]) == ("minutes", 60.0)
    assert unit_for([None, 4 * 3600.0]) == ("hours", 3600.0)
    assert unit_for([3 * 86400.0]) == ("days", 86400.0)
    assert unit_for([]) == ("seconds", 1.0)


def test_csv_columns_are_fixed_whatever_the_data() -> None:
    names = columns([])
    assert names[:3] == ["period_start", "period_end", "identified_items"]
    assert "identified_by_hash_csam" in names and "actions_restore" in names
    assert names[-2:] == ["detection_to_report_p99_s", "notes"] and len(names) == len(set(names))
