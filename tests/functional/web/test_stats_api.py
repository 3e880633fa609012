"""``Platform.stats`` and ``GET /api/v1/stats`` on known records, cell by cell: the same figures by
month, by quarter and in total, broken down by a dimension; zero is 0 and an empty bucket says so;
only a read key may ask; bad input is a clear 400/422, never a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suraksha.app import Platform
from suraksha.transparency.tally import bucket_upper_s, time_bucket
from tests.functional.web.conftest import Keys
from tests.integration.transparency.test_statistics import PERIOD, seed

YEAR = {"from": "2021-01-01", "to": "2021-12-31"}


def test_platform_stats_by_month_and_group(platform: Platform) -> None:
    seed(platform.db)
    report = platform.stats(PERIOD.start, PERIOD.end, by="month")
    assert [b.period.start.month for b in report.buckets] == list(range(1, 13))
    june = report.buckets[5].statistics
    assert (june.identified_items, june.decisions, june.decided_automatically, june.decided_by_people) == (
        2,
        4,
        3,
        1,
    )
    assert june.actions == {"remove": 2, "restore": 0, "restrict": 0, "suspend": 1, "withhold": 0}
    assert (june.cybertipline_reports_finished, june.cybertipline_files_reported) == (1, 1)
    assert june.detection_to_report.median_s == bucket_upper_s(time_bucket(7200))
    january = report.buckets[0].statistics
    assert january.decisions == 0 and january.notes == ["no records in this period"]
    rows = platform.stats(PERIOD.start, PERIOD.end, by="total", group="source").rows()
    assert [(r["source"], r["identified"]) for r in rows] == [("hash:csam", 1), ("text_rule", 1)]
    rolled = platform.stats_rollup(now=datetime(2022, 3, 1, tzinfo=UTC))
    assert rolled.closed > 365
    assert platform.stats(PERIOD.start, PERIOD.end, by="month") == report  # the same from the rollup
    assert platform.stats_check(PERIOD.start, PERIOD.end, actor="cli:test").agrees


def test_api_stats_cell_by_cell(client: TestClient, platform: Platform, keys: Keys) -> None:
    seed(platform.db)
    answer = client.get("/api/v1/stats", params={**YEAR, "by": "quarter"}, headers=keys.header("read"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["from"], body["to"], body["by"]) == (
        "2021-01-01T00:00:00+00:00",
        "2022-01-01T00:00:00+00:00",
        "quarter",
    )
    q1, q2, _q3, _q4 = body["buckets"]
    assert (
        q1["records"] is False
        and q1["identified_items"] == 0
        and q1["notes"] == ["no records in this period"]
    )
    assert q1["receipt_to_detection"] == {"count": 0, "median_s": None, "p90_s": None, "p99_s": None}
    assert q2["records"] is True and q2["identified_items"] == 2 and q2["identified_by_source"] == {
        "hash:csam": 1, "text_rule": 1
    }  # fmt: skip
    assert (
        q2["decisions"],
        q2["decided_automatically"],
        q2["actions"]["remove"],
        q2["actions_automated"],
    ) == (4, 3, 2, 2)
    assert q2["receipt_to_detection"]["median_s"] == 10.037  # 10 s, as its bucket's upper bound
    grouped = client.get("/api/v1/stats", params={**YEAR, "by": "total", "group": "category"},
                         headers=keys.header("read")).json()  # fmt: skip
    assert grouped["rows"] == [{"start": "2021-01-01T00:00:00+00:00", "end": "2022-01-01T00:00:00+00:00",
                                "category": "unspecified", "identified": 2, "decisions": 4, "actions": 3,
                                "note": ""}]  # fmt: skip


def test_api_stats_only_for_read_keys_and_bad_input_is_refused(client: TestClient, keys: Keys) -> None:
    assert client.get("/api/v1/stats", params=YEAR).status_code == 401
    assert client.get("/api/v1/stats", params=YEAR, headers=keys.header("ingest")).status_code == 403
    assert client.get("/api/v1/stats", params=YEAR, headers=keys.header("revoked")).status_code == 401
    read = keys.header("read")
    refused = {
        "by fortnight": ({**YEAR, "by": "fortnight"}, 422, "by"),
        "group colour": ({**YEAR, "group": "colour"}, 422, "group"),
        "no to": ({"from": "2021-01-01"}, 422, "to"),
        "not a day": ({**YEAR, "from": "2021-02-30"}, 400, "not a day"),
        "no offset": ({**YEAR, "from": "2021-01-01T00:00:00"}, 400, "offset"),
        "backwards": ({"from": "2022-01-01", "to": "2021-01-01"}, 400, "starts"),
        "far future": ({"from": "2021-01-01", "to": "9999-12-31"}, 400, "years"),
        "too many days": ({"from": "2000-01-01", "to": "2021-01-01", "by": "day"}, 400, "more than 1000"),
    }
    for name, (params, status, says) in refused.items():
        answer = client.get("/api/v1/stats", params=params, headers=read)
        assert answer.status_code == status, (name, answer.text)
        assert says in answer.text, (name, answer.text)
    empty = client.get(
        "/api/v1/stats", params={"from": "2030-01-01", "to": "2030-01-03", "by": "day"}, headers=read
    )
    assert [b["records"] for b in empty.json()["buckets"]] == [False, False, False]


def test_openapi_describes_stats(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/stats"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "by", "group"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StatsOut"
    }


BOUNDS = st.one_of(
    st.text(max_size=45),
    st.dates().map(str),
    st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat()),
    st.sampled_from(["1969-12-31", "1970-01-01T00:00:00+14:00", "2200-12-31", "0001-01-01T00:00:00+00:00"]),
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_api_stats_never_answers_a_server_error(client: TestClient, keys: Keys) -> None:
    read = keys.header("read")

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(
        start=BOUNDS,
        end=BOUNDS,
        by=st.sampled_from(["day", "week", "month", "quarter", "year", "total", "hour"]),
        group=st.sampled_from([None, "category", "source", "policy", "country", "x"]),
    )
    def ask(start: str, end: str, by: str, group: str | None) -> None:
        params = {"from": start, "to": end, "by": by} | ({"group": group} if group else {})
        answer = client.get("/api/v1/stats", params=params, headers=read)
        assert answer.status_code in (200, 400, 422), (params, answer.text)

    ask()
