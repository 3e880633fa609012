"""The console's words for stored values: names, details, time left, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from suraksha.errors import InvalidInput
from suraksha.web.console.activity import parse_period
from suraksha.web.console.pages import _left, is_digest, label, pairs

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_names_details_and_digests_read_as_words() -> None:
    assert label("pause_delivery") == "pause delivery" and label("auth:sign_in") == "auth: sign in"
    details = '{"bank":"x","changes":{"pdq_threshold":31},"ok":true,"views":[{"viewer":"r-1"}],"gone":null}'
    assert pairs(details) == [
        ("bank", "x"),
        ("changes › pdq threshold", "31"),
        ("gone", "-"),
        ("ok", "yes"),
        ("views", "viewer: r-1"),
    ]
    assert pairs("not json") == [("", "not json")] and pairs("{}") == []
    assert is_digest("ab" * 32) and is_digest("sha256:" + "0" * 64) and not is_digest("r-abc123")


def test_time_left_and_overdue() -> None:
    assert _left(NOW + timedelta(hours=2, minutes=5), NOW) == "2h 05m left"
    assert _left(NOW - timedelta(days=3, hours=4), NOW) == "overdue by 3d 4h"
    assert _left(None, NOW) == "-"


def test_periods() -> None:
    assert parse_period(None, None, None, NOW).since == NOW - timedelta(hours=24)
    week = parse_period("7d", None, None, NOW)
    assert (week.since, week.until, week.label) == (NOW - timedelta(days=7), NOW, "last 7 days")
    custom = parse_period("custom", "2026-01-10", "2026-01-12", NOW)
    assert custom.since == datetime(2026, 1, 10, tzinfo=UTC) and custom.until == datetime(
        2026, 1, 13, tzinfo=UTC
    )
    assert (custom.first_day, custom.last_day) == (date(2026, 1, 10), date(2026, 1, 12))
    assert custom.query() == "period=custom&from=2026-01-10&to=2026-01-12"
    with pytest.raises(InvalidInput, match="swap the dates"):
        parse_period("custom", "2026-01-12", "2026-01-10", NOW)
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        parse_period("custom", "2026-01-10", None, NOW)
    with pytest.raises(InvalidInput, match="not one of"):
        parse_period("1y", None, None, NOW)
