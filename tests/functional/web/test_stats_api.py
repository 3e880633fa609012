"""``Platform.stats`` and ``GET /api/v1/stats`` on known records, cell by cell: the same figures by
month, by quarter and in total, broken down by a dimension; zero is 0 and an empty bucket says so;
only a read key may ask; bad input is a clear 400/422, never a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suraksha.app import Platform
from suraksha.content.models import Account, Item
from suraksha.enforcement.models import Action, Decision
from suraksha.reporting.models import PoliceReferral
from tests.functional.web.conftest import Keys
from tests.integration.transparency.test_statistics import PERIOD, seed
from tests.transparency_records import seed_notices_appeals

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
    assert june.detection_to_report.median_s == 7200.0
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
    assert (
        q2["records"] is True
        and q2["identified_items"] == 2
        and q2["identified_by_source"] == {"hash:csam": 1, "text_rule": 1}
    )
    assert (
        q2["decisions"],
        q2["decided_automatically"],
        q2["actions"]["remove"],
        q2["actions_automated"],
    ) == (4, 3, 2, 2)
    assert q2["receipt_to_detection"]["median_s"] == 10.0
    grouped = client.get(
        "/api/v1/stats", params={**YEAR, "by": "total", "group": "category"}, headers=keys.header("read")
    ).json()
    assert grouped["rows"] == [
        {
            "start": "2021-01-01T00:00:00+00:00",
            "end": "2022-01-01T00:00:00+00:00",
            "category": "unspecified",
            "identified": 2,
            "decisions": 4,
            "actions": 3,
            "note": "",
        }
    ]


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

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
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


def seed_policy_and_withholds(platform: Platform) -> None:
    """On 2021-03-10: a policy decision (policy 3) withholding a post in IN and DE, and a legal-desk
    order withholding it in IN; a referral drafted that day and sent the next."""
    at = datetime(2021, 3, 10, 9, 0, tzinfo=UTC)
    with platform.db.session() as session:
        account = Account(platform_account_id="acct-w", handle="@withheld")
        session.add(account)
        session.flush()
        item = Item(
            platform_item_id="post-w",
            payload_digest="0" * 64,
            kind="post",
            account_id=account.id,
            received_at=at - timedelta(minutes=5),
        )
        session.add(item)
        session.flush()
        by_policy = Decision(
            item_id=item.id,
            verdict="violation",
            category="solicitation",
            automated=True,
            decided_by="policy",
            decided_by_ref="policy 3",
            created_at=at,
        )
        by_legal = Decision(
            item_id=item.id,
            verdict="legal_order",
            category="solicitation",
            automated=False,
            decided_by="legal",
            decided_by_ref="legal_request:7",
            created_at=at + timedelta(hours=1),
        )
        session.add_all([by_policy, by_legal])
        session.flush()
        for decision, countries in ((by_policy, "IN DE"), (by_legal, "IN")):
            session.add(
                Action(
                    decision_id=decision.id,
                    item_id=item.id,
                    account_id=account.id,
                    kind="withhold",
                    target="item",
                    countries=countries,
                    automated=decision.automated,
                    created_at=decision.created_at,
                )
            )
        session.add(
            PoliceReferral(
                account_id=account.id,
                jurisdiction="IN",
                agency="Cyber cell",
                created_by="lead",
                created_at=at,
                sent_at=at + timedelta(days=1),
            )
        )


@pytest.mark.parametrize("rolled", [False, True])
def test_policy_country_and_referrals_cell_by_cell(platform: Platform, rolled: bool) -> None:
    seed_policy_and_withholds(platform)
    if rolled:
        platform.stats_rollup(now=datetime(2021, 4, 1, tzinfo=UTC))
    march = (datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 4, 1, tzinfo=UTC))
    report = platform.stats(*march, by="day")
    tenth, eleventh = report.buckets[9].statistics, report.buckets[10].statistics
    # identified once, by its first violation (the policy's, so by the classifier; not the order after)
    assert tenth.identified_items == 1 and tenth.identified_by_source == {"classifier": 1}
    assert tenth.identified_by_category == {"solicitation": 1}
    assert (tenth.decisions, tenth.decided_automatically, tenth.decided_by_people) == (2, 1, 1)
    assert tenth.decisions_by_policy == {"policy 3": 1}
    assert tenth.actions["withhold"] == 2 and tenth.actions_automated == 1
    assert tenth.withheld_by_country == {"DE": 1, "IN": 2}
    assert tenth.actions_by_category == {"solicitation": 2}
    assert (tenth.referrals_drafted, tenth.referrals_sent, eleventh.referrals_sent) == (1, 0, 1)
    assert tenth.receipt_to_detection.median_s == 300.0
    assert tenth.detection_to_action.median_s == 0.0 and tenth.detection_to_action.count == 1
    assert report.buckets[0].statistics.notes == ["no records in this period"]
    rows = platform.stats(*march, by="total", group="country").rows()
    assert [(r["country"], r["withheld"]) for r in rows] == [("DE", 1), ("IN", 2)]
    rows = platform.stats(*march, by="total", group="policy").rows()
    assert [(r["policy"], r["decisions"]) for r in rows] == [("policy 3", 1)]


def test_api_stats_adds_notices_and_appeals(client: TestClient, platform: Platform, keys: Keys) -> None:
    seed_notices_appeals(platform.db, datetime(2021, 3, 1, tzinfo=UTC))
    params = {"from": "2021-03-01", "to": "2021-03-31", "by": "week"}
    answer = client.get("/api/v1/stats", params=params, headers=keys.header("read"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["buckets"]) == 5 and body["rows"] is None  # the buckets as before
    notices = body["notices"]
    assert {k: v for k, v in notices.items() if k != "by_flagger"} == {
        "received": 5,
        "decided": 3,
        "confirmed": 2,
        "not_found": 1,
        "accuracy": 0.6667,
        "median_decision_s": 10800.0,
    }
    assert notices["by_flagger"][1] == {
        "flagger": "beta-na",
        "organisation": "beta-na (made up)",
        "notices": 2,
        "decided": 1,
        "confirmed": 1,
        "not_found": 0,
        "accuracy": 1.0,
        "median_decision_s": 18000.0,
        "status_review": True,
    }
    appeals = body["appeals"]
    assert {k: v for k, v in appeals.items() if k != "reversal_rates"} == {
        "lodged": 4,
        "decided": 3,
        "upheld": 2,
        "reversed": 1,
        "reversal_rate": 0.3333,
        "median_decision_s": 86400.0,
    }
    assert appeals["reversal_rates"][0] == {
        "dimension": "bank",
        "key": "bank:known-na",
        "appealed": 2,
        "reversed": 1,
        "rate": 0.5,
        "flagged": False,
    }
    february = client.get(
        "/api/v1/stats", params={"from": "2021-02-01", "to": "2021-02-28"}, headers=keys.header("read")
    ).json()
    assert (february["notices"]["received"], february["appeals"]["lodged"]) == (1, 1)
    assert february["appeals"]["reversal_rates"] == [] and february["appeals"]["median_decision_s"] is None
    report = platform.stats(datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 4, 1, tzinfo=UTC), by="total")
    assert report.notices_appeals is not None and report.notices_appeals.appeals.reversed == 1
