"""The statistics page and the commission's answer in the console, over HTTP on SQLite and PostgreSQL:
who may open them, bad input refused with a clear error, the charts (SVG without script or anything
fetched) with their numbers as tables, the CSV cell by cell on known records, an empty period, and the
answer's documents made on request and audited as exports."""

# ruff: noqa: F811  (the console fixtures are imported from test_console and named as test parameters)
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from datetime import UTC, datetime

import pytest
from docx import Document
from fastapi.testclient import TestClient

from suraksha.access import users
from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.app import Platform
from suraksha.appeals.models import ReversalFlag
from suraksha.transparency.answers import COMMISSION_QUESTIONS
from tests.functional.web.test_console import (  # noqa: F401 - the console's fixtures
    PASSWORD,
    _cheap_hashing,
    audit_rows,
    console_platform,
    signed_in,
    web,
)
from tests.transparency_records import seed_notices_appeals, seed_quarter

QUARTER = "/console/stats?from=2021-01-01&to=2021-03-31&by=month"
QUARTER_CSV = "/console/stats.csv?from=2021-01-01&to=2021-03-31&by=month"
IMAGE = re.compile(
    r'<img class="chart-image" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)"'
)


def add_legal(platform: Platform) -> None:
    with platform.db.session() as session:
        users.create_user(session, "legal@example.org", ["legal"], PASSWORD, by="test")


def switch_to(web: TestClient, email: str) -> str:
    web.cookies.clear()
    return signed_in(web, email)


def table(html: str, table_id: str) -> list[list[str]]:
    """A table's body rows as text cells (the row header first)."""
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
        for r in rows
    ]


def test_who_may_open_statistics_and_the_answer(web: TestClient, console_platform: Platform) -> None:
    add_legal(console_platform)
    for email in ("lead@example.org", "legal@example.org", "admin@example.org"):
        switch_to(web, email)
        assert web.get("/console/stats").status_code == 200, email
        assert web.get(QUARTER_CSV).status_code == 200, email
        assert 'href="/console/stats"' in web.get("/console/").text
    for email in ("reviewer@example.org", "auditor@example.org"):
        switch_to(web, email)
        assert web.get("/console/stats").status_code == 403, email
        assert web.get(QUARTER_CSV).status_code == 403, email
        assert 'href="/console/stats"' not in web.get("/console/").text
    # the answer explains named posts: the legal desk's readers (legal, leads), as `suraksha answer`
    for email, status in (
        ("legal@example.org", 200),
        ("lead@example.org", 200),
        ("admin@example.org", 403),
        ("reviewer@example.org", 403),
    ):
        csrf = switch_to(web, email)
        assert web.get("/console/answer?from=2021-01-01&to=2021-03-31").status_code == status, email
        posted = web.post(
            "/console/answer/document",
            data={"from": "2021-01-01", "to": "2021-03-31", "kind": "pdf", "csrf_token": csrf},
        )
        assert posted.status_code == status, email
    assert web.get("/console/stats", follow_redirects=False).status_code == 403
    web.cookies.clear()
    anonymous = web.get("/console/stats.csv", follow_redirects=False)
    assert anonymous.status_code == 303 and "/console/sign-in" in anonymous.headers["location"]


def test_charts_and_their_tables_from_known_records(web: TestClient, console_platform: Platform) -> None:
    seed_quarter(console_platform.db)
    signed_in(web, "lead@example.org")
    page = web.get(QUARTER)
    assert page.status_code == 200
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    html = page.text
    images = IMAGE.findall(html)
    assert len(images) == 5  # counts, share, and the three times
    for encoded, alt in images:
        svg = base64.b64decode(encoded).decode()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "<script" not in svg  # pygal's CDN script reference and its inline config are gone
        fetched = set(re.findall(r'(?:href|src)="([^"#][^"]*)"', svg))
        assert not fetched, fetched
        assert "2021-01" in svg and "2021-03" in svg  # the buckets' labels
        assert "The table below has the numbers" in alt
    counts_svg = base64.b64decode(images[0][0]).decode()
    assert "items identified" in counts_svg and "CyberTipline reports finished" in counts_svg

    assert table(html, "table-counts") == [
        ["2021-01", "2", "2", "1", "0", "0", "0", "3", "1", "1", "0"],
        ["2021-02", "no records"],
        ["2021-03", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],  # zero says zero
    ]
    assert table(html, "table-share") == [
        ["2021-01", "3", "2", "1", "66.7 %"],
        ["2021-02", "no records"],
        ["2021-03", "1", "1", "0", "100.0 %"],
    ]
    assert table(html, "table-detection-to-action") == [
        ["2021-01", "2", "0 s", "60 s", "60 s"],
        ["2021-02", "no records"],
        ["2021-03", "0", "no case", "no case", "no case"],
    ]
    assert table(html, "table-receipt-to-detection")[0] == ["2021-01", "2", "10 s", "60.0 min", "60.0 min"]
    assert table(html, "table-detection-to-report")[0] == ["2021-01", "1", "2.0 h", "2.0 h", "2.0 h"]
    assert 'href="/console/stats.csv?from=2021-01-01&amp;to=2021-03-31&amp;by=month"' in html

    whole = web.get("/console/stats?from=2021-01-01&to=2021-03-31&by=total").text
    assert table(whole, "table-counts") == [
        ["2021-01-01 to 2021-03-31", "2", "2", "1", "0", "0", "0", "3", "1", "1", "0"]
    ]


def test_the_csv_cell_by_cell(web: TestClient, console_platform: Platform) -> None:
    seed_quarter(console_platform.db)
    signed_in(web, "lead@example.org")
    answer = web.get(QUARTER_CSV)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="suraksha-stats-2021-01-01-to-2021-03-31-by-month.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 3
    sources = [
        "hash_csam",
        "hash_ncii",
        "hash_sexual_violence",
        "hash_terrorism",
        "hash_other",
        "text_rule",
        "classifier",
        "user_report",
        "trusted_flagger",
        "authority",
        "reviewer",
    ]
    zero = {
        "identified_items": "0",
        **{f"identified_by_{s}": "0" for s in sources},
        "decisions": "0",
        "decided_automatically": "0",
        "decided_by_people": "0",
        "automated_share": "",
        **{f"actions_{k}": "0" for k in ("remove", "suspend", "withhold", "restrict", "restore")},
        "actions_automated": "0",
        "cybertipline_reports_finished": "0",
        "cybertipline_files_reported": "0",
        "referrals_drafted": "0",
        "referrals_sent": "0",
        "referrals_acknowledged": "0",
        **{
            f"{spread}_{part}": "0" if part == "count" else ""
            for spread in ("receipt_to_detection", "detection_to_action", "detection_to_report")
            for part in ("count", "median_s", "p90_s", "p99_s")
        },
        "notes": "",
    }
    january = {
        **zero,
        "period_start": "2021-01-01T00:00:00+00:00",
        "period_end": "2021-02-01T00:00:00+00:00",
        "identified_items": "2",
        "identified_by_hash_csam": "1",
        "identified_by_text_rule": "1",
        "decisions": "3",
        "decided_automatically": "2",
        "decided_by_people": "1",
        "automated_share": "0.6667",
        "actions_remove": "2",
        "actions_suspend": "1",
        "actions_automated": "2",
        "cybertipline_reports_finished": "1",
        "cybertipline_files_reported": "1",
        "receipt_to_detection_count": "2",
        "receipt_to_detection_median_s": "10.0",
        "receipt_to_detection_p90_s": "3600.0",
        "receipt_to_detection_p99_s": "3600.0",
        "detection_to_action_count": "2",
        "detection_to_action_median_s": "0.0",
        "detection_to_action_p90_s": "60.0",
        "detection_to_action_p99_s": "60.0",
        "detection_to_report_count": "1",
        "detection_to_report_median_s": "7200.0",
        "detection_to_report_p90_s": "7200.0",
        "detection_to_report_p99_s": "7200.0",
    }
    february = {
        **zero,
        "period_start": "2021-02-01T00:00:00+00:00",
        "period_end": "2021-03-01T00:00:00+00:00",
        "notes": "no records in this period",
    }
    march = {
        **zero,
        "period_start": "2021-03-01T00:00:00+00:00",
        "period_end": "2021-04-01T00:00:00+00:00",
        "decisions": "1",
        "decided_automatically": "1",
        "automated_share": "1.0",
    }
    assert list(rows[0]) == ["period_start", "period_end", *zero]  # every measure a column, in this order
    assert rows == [january, february, march]


def test_an_empty_period_says_so(web: TestClient, console_platform: Platform) -> None:
    seed_quarter(console_platform.db)
    signed_in(web, "lead@example.org")
    page = web.get("/console/stats?from=2030-01-01&to=2030-12-31&by=quarter")
    assert page.status_code == 200
    assert "No records from 2030-01-01 to 2030-12-31" in page.text
    charts = page.text.split('id="stats-empty"')[1].split('id="notices-appeals"')[0]
    assert "chart-image" not in page.text and "<table" not in charts  # the notices' and appeals' zeros follow
    rows = list(
        csv.DictReader(
            io.StringIO(web.get("/console/stats.csv?from=2030-01-01&to=2030-12-31&by=quarter").text)
        )
    )
    assert [r["period_start"][:10] for r in rows] == ["2030-01-01", "2030-04-01", "2030-07-01", "2030-10-01"]
    assert {r["decisions"] for r in rows} == {"0"} and {r["detection_to_action_median_s"] for r in rows} == {
        ""
    }


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("from=2021-13-01&to=2021-12-31&by=month", "from '2021-13-01' is not a date such as 2021-06-01"),
        ("from=2021-01-01&to=yesterday&by=month", "to 'yesterday' is not a date"),
        (
            "from=2021-06-01&to=2021-01-01&by=month",
            "the period ends (2021-01-01) before it starts (2021-06-01)",
        ),
        (
            "from=2021-01-01&to=2021-12-31&by=hour",
            "by 'hour' is not one of day, week, month, quarter, year, total",
        ),
        ("from=0001-01-01&to=2021-12-31&by=year", "from 0001-01-01 is outside the years 1970 to 9998"),
        ("from=2000-01-01&to=2021-12-31&by=day", "is more than 400 buckets: choose a coarser 'by'"),
    ],
)
def test_bad_input_is_a_clear_error(
    web: TestClient, console_platform: Platform, query: str, says: str
) -> None:
    signed_in(web, "lead@example.org")
    page = web.get(f"/console/stats?{query}")
    assert page.status_code == 400
    assert says in page.text.replace("&#39;", "'")
    assert 'id="stats-error"' in page.text and 'id="stats-form"' in page.text  # the form again, to fix
    assert "chart-image" not in page.text


def test_bad_csv_input_is_a_clear_error(web: TestClient, console_platform: Platform) -> None:
    signed_in(web, "lead@example.org")
    wrong = web.get("/console/stats.csv?from=2021-06-01&to=2021-01-01&by=month")
    assert wrong.status_code == 400 and "before it starts" in wrong.text
    # past the series' own maximum of buckets (InvalidInput from transparency.series)
    many = web.get("/console/stats.csv?from=1970-01-01&to=2021-12-31&by=day")
    assert many.status_code == 400 and "choose a coarser" in many.text
    assert web.get("/console/stats.csv?from=2021-01-01T00:00&to=2021-12-31&by=day").status_code == 422


def test_the_commissions_answer_shown_and_downloaded(web: TestClient, console_platform: Platform) -> None:
    seed_quarter(console_platform.db)
    add_legal(console_platform)
    csrf = signed_in(web, "legal@example.org")
    form = web.get("/console/answer")
    assert form.status_code == 200 and 'id="answer-form"' in form.text and 'id="answer"' not in form.text
    posts = "post-q1-1\npost-q1-3\nhttps://example.org/p/missing"
    page = web.get("/console/answer", params={"from": "2021-01-01", "to": "2021-03-31", "posts": posts})
    assert page.status_code == 200
    html = page.text.replace("&#39;", "'")
    for question in COMMISSION_QUESTIONS:
        assert question.replace("'", "'") in html
    assert "From 2021-01-01 to 2021-03-31: 2 items identified, 2 removed, 1 accounts suspended" in html
    assert "Of 4 decisions in the period, 3 were made by automated tools and 1 by people" in html
    assert "It was removed and reported to NCMEC" in html and "Nothing in it matched" in html
    assert "Not found:" in html and 'id="answer-banks"' in html and "known-q1" in html
    assert audit_rows(console_platform, "export:create") == []  # showing it writes nothing

    fields = {"from": "2021-01-01", "to": "2021-03-31", "posts": posts, "csrf_token": csrf}
    pdf = web.post("/console/answer/document", data={**fields, "kind": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="reply-2021-01-01-to-2021-03-31.pdf"'
    docx = web.post("/console/answer/document", data={**fields, "kind": "docx"})
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert COMMISSION_QUESTIONS[4] in text and "post-q1-1" in text
    rows = audit_rows(console_platform, "export:create")
    assert len(rows) == 2
    details = [json.loads(r.details) for r in rows]
    assert [d["document"] for d in details] == ["answer.pdf", "answer.docx"]
    assert details[0]["sha256"] == hashlib.sha256(pdf.content).hexdigest()
    assert details[1]["sha256"] == hashlib.sha256(docx.content).hexdigest()
    assert details[0]["posts_named"] == 3 and details[0]["period_start"].startswith("2021-01-01")
    assert rows[0].actor.startswith("user:") and rows[0].subject == f"answer:{details[0]['sha256'][:32]}"


def test_the_answer_refuses_bad_input_and_forged_forms(web: TestClient, console_platform: Platform) -> None:
    add_legal(console_platform)
    csrf = signed_in(web, "legal@example.org")
    backwards = web.get("/console/answer?from=2021-06-01&to=2021-01-01")
    assert backwards.status_code == 400 and "before it starts" in backwards.text
    too_many = web.get(
        "/console/answer",
        params={"from": "2021-01-01", "to": "2021-01-31", "posts": "\n".join(f"p{i}" for i in range(21))},
    )
    assert too_many.status_code == 400 and "21 posts named: at most 20" in too_many.text
    fields = {"from": "2021-01-01", "to": "2021-03-31", "kind": "pdf"}
    assert web.post("/console/answer/document", data=fields).status_code == 403  # no CSRF token
    assert (
        web.post("/console/answer/document", data={**fields, "kind": "exe", "csrf_token": csrf}).status_code
        == 422
    )
    bad_day = web.post("/console/answer/document", data={**fields, "from": "2021-02-30", "csrf_token": csrf})
    assert bad_day.status_code == 400 and "is not a date" in bad_day.text
    assert audit_rows(console_platform, "export:create") == []


def test_read_only_refuses_the_download_but_not_the_pages(
    web: TestClient, console_platform: Platform
) -> None:
    """A download writes its audit row: while the service is read-only it is refused like every write;
    the statistics, their CSV and the answer on the page still open."""
    seed_quarter(console_platform.db)
    csrf = signed_in(web, "lead@example.org")
    with console_platform.db.session() as session:
        set_switch(session, KillSwitch.READ_ONLY, True, by="test", reason="maintenance")
    fields = {"from": "2021-01-01", "to": "2021-03-31", "kind": "pdf", "csrf_token": csrf}
    refused = web.post("/console/answer/document", data=fields)
    assert refused.status_code == 503 and "read-only" in refused.text
    assert audit_rows(console_platform, "export:create") == []
    assert web.get(QUARTER).status_code == 200 and web.get(QUARTER_CSV).status_code == 200
    assert web.get("/console/answer?from=2021-01-01&to=2021-03-31").status_code == 200


def test_notices_and_appeals_below_the_charts(web: TestClient, console_platform: Platform) -> None:
    seed_notices_appeals(console_platform.db, datetime(2021, 3, 1, tzinfo=UTC))
    with console_platform.db.session() as session:
        session.add(ReversalFlag(key="bank:known-na", dimension="bank", appealed=2, reversed=1, rate=0.5))
    march = "/console/stats?from=2021-03-01&to=2021-03-31&by=week"
    signed_in(web, "lead@example.org")
    html = web.get(march).text
    assert "Trusted flaggers' notices and appeals, from 2021-03-01 to 2021-03-31" in html
    assert table(html, "table-notices") == [
        ["all flaggers", "", "5", "3", "2", "1", "66.7 %", "3.0 h", ""],
        ["alpha-na", "alpha-na (made up)", "3", "2", "1", "1", "50 %", "2.0 h", ""],
        ["beta-na", "beta-na (made up)", "2", "1", "1", "0", "100 %", "5.0 h", "status to review"],
        ["gamma-na", "gamma-na (made up)", "0", "0", "0", "0", "-", "-", ""],
    ]
    assert table(html, "table-appeals") == [["all appeals", "4", "3", "2", "1", "33.3 %", "24.0 h"]]
    assert table(html, "table-reversal-rates") == [
        ["bank", "bank:known-na", "2", "1", "50 %", "often wrong"],
        ["policy", "policy 3", "3", "1", "33.3 %", ""],
        ["rule", "rule:default/sale", "1", "0", "0 %", ""],
        ["tool", "hash_bank", "2", "1", "50 %", ""],
        ["tool", "text_rule", "1", "0", "0 %", ""],
    ]
    # the legal desk reads the statistics but not the flaggers' registry: the totals only
    add_legal(console_platform)
    switch_to(web, "legal@example.org")
    html = web.get(march).text
    assert table(html, "table-notices") == [["all flaggers", "5", "3", "2", "1", "66.7 %", "3.0 h"]]
    assert "alpha-na" not in html and table(html, "table-appeals")[0][1] == "4"
    # a period with nothing: zero says zero, and no rate to show
    html = web.get("/console/stats?from=2030-01-01&to=2030-01-31&by=month").text
    assert table(html, "table-notices") == [["all flaggers", "0", "0", "0", "0", "-", "-"]]
    assert table(html, "table-appeals") == [["all appeals", "0", "0", "0", "0", "-", "-"]]
    assert 'id="no-reversal-rates"' in html and 'id="stats-empty"' in html
    # a refused form shows no figures
    assert 'id="notices-appeals"' not in web.get("/console/stats?from=2021-03-31&to=2021-03-01").text
