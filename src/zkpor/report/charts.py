"""The report's charts as inline SVG (pygal): total reserves vs liabilities over the rounds, and each
asset's reserve ratio over the rounds against the 100 % line.

Values reach the charts as floats: charts are pictures, every figure a reader can quote is printed
in the tables from exact values.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import pygal
from pygal.style import Style

INK = "#1f2933"
RESERVES = "#1d4ed8"
LIABILITIES = "#94a3b8"
PAR = "#b91c1c"
FONT = "'Helvetica Neue', 'Liberation Sans', 'DejaVu Sans', Arial, sans-serif"

_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground=INK,
    foreground_strong=INK,
    foreground_subtle="#e5e7eb",
    guide_stroke_color="#e5e7eb",
    major_guide_stroke_color="#d1d5db",
    guide_stroke_dasharray="0",
    major_guide_stroke_dasharray="0",
    font_family=FONT,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=13,
    title_font_size=14,
    stroke_width="2.5",
    opacity="1",
    colors=(RESERVES, LIABILITIES, PAR),
)
# pygal embeds its configuration as a <script> for its (unused) tooltips; the report runs no script.
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)


def _render(chart: Any, label: str) -> str:
    svg = chart.render(is_unicode=True)
    svg = _SCRIPT.sub("", svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _chart(kind: type, *, width: int, height: int, **options: Any) -> Any:
    # Legends are drawn in HTML next to the chart: they then wrap and scale with the page's text.
    options = {"style": _STYLE, "margin": 8, "margin_right": 36, "dots_size": 4, **options}
    return kind(
        width=width,
        height=height,
        js=[],
        disable_xml_declaration=True,
        explicit_size=False,
        show_legend=False,
        show_x_guides=False,
        truncate_label=-1,
        **options,
    )


def _money(value: float) -> str:
    for scale, unit in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= scale:
            return f"${value / scale:,.{1 if scale > 1e3 else 0}f}{unit}"
    return f"${value:,.0f}"


def totals_chart(history: list[dict[str, Any]]) -> str:
    """Verified reserves and customer net liabilities in USD, one point per round."""
    chart = _chart(
        pygal.Line, width=720, height=300, value_formatter=_money, include_x_axis=True, max_scale=6
    )
    chart.x_labels = [point["round_id"] for point in history]
    chart.add("Verified reserves (USD)", [float(Decimal(p["reserves_usd"])) for p in history])
    chart.add("Customer net liabilities (USD)", [float(Decimal(p["liabilities_usd"])) for p in history])
    return _render(chart, "Total verified reserves and customer net liabilities in USD over the rounds")


def ratio_charts(history: list[dict[str, Any]], symbols: list[str]) -> dict[str, str]:
    """One small chart per asset: its reserve ratio (percent) per round, and the 100 % line.

    All share one vertical range, so a glance across them compares like with like."""
    labels = [point["round_id"] for point in history]
    series = {
        symbol: [
            None if (v := p["asset_ratios"].get(symbol)) is None else float(Decimal(v)) * 100 for p in history
        ]
        for symbol in symbols
    }
    values = [v for points in series.values() for v in points if v is not None]
    if not values:
        return {}
    low = min(95.0, min(values) - 2)
    high = max(105.0, max(values) + 2)
    step = 10 if high - low <= 60 else 50
    ticks = [
        100.0 + step * k for k in range(math.floor((low - 100) / step), math.ceil((high - 100) / step) + 1)
    ]
    ticks = [t for t in ticks if low <= t <= high]
    charts = {}
    for symbol, points in series.items():
        if all(v is None for v in points):
            continue
        chart = _chart(
            pygal.Line,
            width=300,
            height=170,
            range=(low, high),
            value_formatter=lambda v: f"{v:.0f} %",
            y_labels=ticks,
            margin_right=24,
            style=_SMALL_STYLE,
            x_label_rotation=0,
            show_x_labels=len(labels) <= 4,
            dots_size=3,
        )
        chart.x_labels = labels
        chart.add(symbol, points)
        chart.add(
            "100 %", [100.0] * len(points), show_dots=False, stroke_style={"dasharray": "5,4", "width": 1.5}
        )
        charts[symbol] = _render(chart, f"Reserve ratio of {symbol} over the rounds, with the 100 % line")
    return charts


_SMALL_STYLE = Style(**{**_STYLE.to_dict(), "colors": (RESERVES, PAR), "label_font_size": 15,
                        "major_label_font_size": 15})  # fmt: skip
