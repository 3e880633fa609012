"""The statistics page and the commission's answer in a real browser: the server-drawn SVG charts render
under the console's CSP (each image decoded, laid out at its size, and drawn in pygal's colours, which
come from the SVG's own style), their tables say zero and "no records", an empty period says so, the
CSV and the answer's PDF download."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from suraksha.audit import AuditEvent
from tests.browser.conftest import Console, sign_in
from tests.transparency_records import seed_quarter

BLUE = (0x00, 0x72, 0xB2)
"""The first series' colour (items identified, automated, median), drawn at 0.9 opacity on white."""


def _pixels_near(png: bytes, colour: tuple[int, int, int], opacity: float = 0.9) -> int:
    """How many pixels of ``png`` are ``colour`` drawn at ``opacity`` on white."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    blended = np.array([round(opacity * c + (1 - opacity) * 255) for c in colour], dtype=np.int16)
    return int((np.abs(pixels - blended) <= 12).all(axis=-1).sum())


def test_the_charts_render_with_their_tables(page: Page, console: Console) -> None:
    seed_quarter(console.platform.db, tag="browser-q1")
    sign_in(page, console, console.user("stats-lead", ["lead"]))
    expect(page.locator("h1")).to_have_text("Dashboard")
    page.locator("header nav a", has_text="Statistics").click()
    expect(page.locator("h1")).to_have_text("Statistics")
    page.fill("#stats-form input[name=from]", "2021-01-01")
    page.fill("#stats-form input[name=to]", "2021-03-31")
    page.locator("#stats-form select[name=by]").select_option("month")
    page.locator("#stats-form button").click()

    charts = page.locator("img.chart-image")
    # the period's figures are counted when the form is sent: on a loaded 2-core machine that and
    # the page's load can take longer than expect's default 5 s
    try:
        expect(charts).to_have_count(5, timeout=90_000)
    except AssertionError as exc:  # what the page said instead (seen once in a whole-suite run)
        raise AssertionError(f"{exc}\n{page.url}\n{page.locator('main').inner_text()[:3000]}") from exc
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.chart-image')].every(i => i.complete && i.naturalWidth > 0)"
    )
    for index in range(5):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 200, box
        assert "The table below has the numbers" in (chart.get_attribute("alt") or "")
        drawn = _pixels_near(chart.screenshot(), BLUE)
        assert drawn > 100, f"chart {index}: {drawn} pixels in the first series' colour"  # styled, drawn
    expect(page.locator("#chart-counts h2")).to_have_text("Identified, actioned and reported")
    expect(page.locator("#chart-counts img")).to_have_attribute(
        "alt",
        "Bar chart of items identified, platform actions and CyberTipline reports finished per month, "
        "from 2021-01-01 to 2021-03-31 (UTC). The table below has the numbers.",
    )
    rows = page.locator("#table-counts tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("2021-01")
    expect(rows.nth(1)).to_contain_text("no records")
    expect(rows.nth(2).locator("td").first).to_have_text("0")
    expect(page.locator("#table-share tbody tr").nth(0)).to_contain_text("66.7 %")

    with page.expect_download() as download:
        page.click("#stats-csv")
    assert download.value.suggested_filename == "suraksha-stats-2021-01-01-to-2021-03-31-by-month.csv"
    path = download.value.path()
    lines = path.read_text().splitlines()
    assert lines[0].startswith("period_start,period_end,identified_items,") and len(lines) == 4

    page.locator("#stats-form select[name=by]").select_option("total")
    page.locator("#stats-form button").click()
    expect(page.locator("#table-counts tbody tr")).to_have_count(1)
    expect(page.locator("#table-counts tbody tr th")).to_have_text("2021-01-01 to 2021-03-31")
    expect(page.locator("img.chart-image")).to_have_count(5)

    page.goto(f"{console.url}/console/stats?from=2031-01-01&to=2031-06-30&by=month")
    expect(page.locator("#stats-empty")).to_contain_text("No records from 2031-01-01 to 2031-06-30")
    expect(page.locator("img.chart-image")).to_have_count(0)

    page.goto(f"{console.url}/console/stats?from=2000-01-01&to=2021-12-31&by=day")
    expect(page.locator("#stats-error")).to_contain_text("choose a coarser 'by'")


def test_the_answer_page_and_its_pdf(page: Page, console: Console) -> None:
    seed_quarter(console.platform.db, tag="browser-answer")
    sign_in(page, console, console.user("answer-legal", ["legal"]))
    page.goto(f"{console.url}/console/answer")
    page.fill("#answer-form input[name=from]", "2021-01-01")
    page.fill("#answer-form input[name=to]", "2021-03-31")
    page.fill("#answer-form textarea[name=posts]", "post-browser-answer-1\npost-browser-answer-3")
    page.locator("#answer-form button").click()
    expect(page.locator("#question-1 h2")).to_contain_text("What steps does the platform take")
    expect(page.locator("#question-4 p")).to_contain_text(
        "post-browser-answer-1: It was removed and reported"
    )
    expect(page.locator(".named-post")).to_have_count(2)
    with page.expect_download() as download:
        page.click("#download-pdf")
    assert download.value.suggested_filename == "reply-2021-01-01-to-2021-03-31.pdf"
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    with console.platform.db.reading() as session:
        exported = session.scalars(
            select(AuditEvent).where(AuditEvent.subject == f"answer:{hashlib.sha256(pdf).hexdigest()[:32]}")
        ).one()
    assert json.loads(exported.details)["posts_named"] == 2  # both posts travelled with the form
