"""The statistics page's charts, drawn on the server as SVG by pygal (a maintained Python plotting
library, a runtime dependency: nothing is copied into the repository and nothing is fetched).

Each chart goes into the page as an ``<img>`` whose source is a ``data:`` URI (the console's CSP allows
images from ``data:``; an SVG shown as an image runs no script and loads nothing, and its own ``<style>``
applies inside it, not to the page). pygal refers to its tooltip script on a CDN by default: ``js=[]``
drops that reference, and the inline configuration script it still writes is removed (it would never
run in an image anyway). Each chart's numbers are also a table on the page (``stats.html``).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from pygal.style import Style

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9")
"""Okabe and Ito's colours, told apart with any of the common colour-vision deficiencies."""

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2430",
    foreground_strong="#1d2430",
    foreground_subtle="#c9ced6",
    opacity="0.9",
    opacity_hover="1",
    colors=PALETTE,
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    tooltip_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    no_data_font_family=FONT,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    no_data_font_size=18,
)
WIDTH, HEIGHT = 1100, 380
CHAR_WIDTH = 7.5
"""About how wide a character of a 12 px label is: labels rotate when they would not fit side by side."""
FEW_BUCKETS = 16
"""Up to this many buckets, times are bars side by side; more, they are lines."""
MAX_LABELS = 14
"""At most this many x labels are written; with more buckets every n-th is (the table has them all)."""

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


@dataclass(frozen=True)
class Line:
    """One series of a chart: its name and a value per bucket (None: nothing to draw there)."""

    name: str
    values: Sequence[float | None]


def _config(labels: Sequence[str], y_title: str, lines: int) -> dict[str, object]:
    every = max(1, math.ceil(len(labels) / MAX_LABELS))
    shown = math.ceil(len(labels) / every)
    widest = max((len(name) for name in labels), default=0) * CHAR_WIDTH
    rotate = widest + 16 > (WIDTH - 120) / max(shown, 1)
    return {
        "style": STYLE,
        "width": WIDTH,
        "height": HEIGHT,
        "js": [],  # no tooltip script from pygal's CDN
        "legend_at_bottom": True,
        "legend_at_bottom_columns": lines,
        "x_labels": list(labels),
        "x_labels_major_every": every,
        "show_minor_x_labels": every == 1,
        "x_label_rotation": 30 if rotate else 0,
        "margin_bottom": 24 if rotate else 12,
        "truncate_label": -1,
        "truncate_legend": -1,
        "y_title": y_title,
        "no_data_text": "no records",
        "margin_top": 12,
        "margin_left": 12,
        "margin_right": 24,
        "spacing": 14,
    }


def integer_ticks(top: float) -> list[int]:
    """Whole-number y labels from 0 to at least ``top``, about five of them (counts have no halves)."""
    top = max(1, math.ceil(top))
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return list(range(0, int(math.ceil(top / step) * step) + 1, int(step)))


def _data_uri(svg: str) -> str:
    cleaned = _SCRIPT.sub("", svg)
    return "data:image/svg+xml;base64," + base64.b64encode(cleaned.encode("utf-8")).decode("ascii")


def counts_chart(labels: Sequence[str], lines: Sequence[Line]) -> str:
    """Bars of counts per bucket (grouped by bucket, one colour per line)."""
    chart = pygal.Bar(**_config(labels, "count", len(lines)))
    top = max((v for line in lines for v in line.values if v is not None), default=0)
    chart.y_labels = integer_ticks(top)
    for line in lines:
        chart.add(line.name, list(line.values))
    return _data_uri(chart.render(is_unicode=True))


def share_chart(labels: Sequence[str], lines: Sequence[Line]) -> str:
    """Stacked bars of percentages per bucket (each bucket's bars add up to 100)."""
    chart = pygal.StackedBar(**_config(labels, "% of decisions", len(lines)))
    chart.range = (0, 100)
    chart.y_labels = [0, 25, 50, 75, 100]
    for line in lines:
        chart.add(line.name, list(line.values))
    return _data_uri(chart.render(is_unicode=True))


def times_chart(labels: Sequence[str], lines: Sequence[Line], unit: str) -> str:
    """Durations per bucket: grouped bars for a few buckets, lines (with a gap where a bucket had no
    case, and a dot on every value) for many."""
    config = _config(labels, unit, len(lines))
    chart = (
        pygal.Bar(**config)
        if len(labels) <= FEW_BUCKETS
        else pygal.Line(
            **config, show_dots=True, dots_size=3, stroke_style={"width": 2.5}, allow_interruptions=True
        )
    )
    top = max((v for line in lines for v in line.values if v is not None), default=0)
    chart.range = (0, top * 1.1 if top else 1)
    for line in lines:
        chart.add(line.name, list(line.values))
    return _data_uri(chart.render(is_unicode=True))


UNITS = (("seconds", 1.0), ("minutes", 60.0), ("hours", 3600.0), ("days", 86400.0))


def unit_for(seconds: Sequence[float | None]) -> tuple[str, float]:
    """The unit that reads best for the largest of ``seconds``: under two of the next unit up."""
    top = max((s for s in seconds if s is not None), default=0.0)
    chosen = UNITS[0]
    for name, size in UNITS:
        if top >= 2 * size:
            chosen = (name, size)
    return chosen
