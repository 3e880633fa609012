"""The investigation page in a real browser: the graph library loads from our own server under the
console's Content-Security-Policy (the ``page`` fixture fails on any violation or script error), the
graph is drawn on a canvas, and the filters by shared kind and by time change what is shown."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Console, sign_in
from tests.browser.network_seed import seed_racket


def test_the_investigation_graph_renders_and_filters(page: Page, console: Console) -> None:
    lead = console.user("network-lead", ["lead"])
    investigation = seed_racket(console, "brk", accounts=10, lead=lead)
    sign_in(page, console, lead)
    expect(page.locator("h1")).to_have_text("Dashboard")
    page.goto(f"{console.url}/console/investigations/{investigation}")
    graph = page.locator("#network-graph")
    expect(graph).to_have_attribute("data-rendered", "yes")
    expect(graph.locator("canvas")).to_have_count(1)
    everything = int(graph.get_attribute("data-edges-shown") or 0)
    assert everything > 0
    expect(page.locator("#graph-status")).to_contain_text("10 accounts")
    assert everything == 45  # the channel links all ten
    # only the payment handles: each till's five accounts (2 x 10 pairs)
    for box in page.locator("#graph-filters input[name=kind]").all():
        if box.get_attribute("value") != "upi_id":
            box.uncheck()
    expect(graph).to_have_attribute("data-edges-shown", "20")
    # a time window before anything was posted: nothing
    page.fill("#graph-filters input[name=to]", "2001-01-01")
    page.locator("#graph-filters input[name=to]").dispatch_event("change")
    expect(graph).to_have_attribute("data-edges-shown", "0")
