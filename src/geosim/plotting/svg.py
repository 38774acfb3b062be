"""Small SVG charts for the browser page: line charts with hover values and event markers, bars.

Plain numbers in, an SVG string out. The browser draws them (no server-side rendering, no
JavaScript, no CDN); every point and bar carries a `<title>`, which the browser shows on hover.
Tick positions come from matplotlib's tick locator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from matplotlib.ticker import MaxNLocator

FONT = "font-family:sans-serif"
GRID = "#e3e3e3"
TEXT = "#333333"
EVENT = "#7b1fa2"


@dataclass(frozen=True)
class Series:
    """One line: its label, the years and values (fractions), its colour and dash."""

    label: str
    years: Sequence[int]
    values: Sequence[float]
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class Marker:
    """A vertical marker at a year with a short label (e.g. a policy event)."""

    year: int
    label: str


def y_range(series: Sequence[Series], min_span: float = 0.01) -> tuple[float, float]:
    """Limits that zoom to the data: min..max padded by 10 %, at least `min_span` wide."""
    values = np.concatenate([np.asarray(s.values, dtype=float) for s in series] or [[0.0]])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    pad = max((high - low) * 0.1, (min_span - (high - low)) / 2, 0.0)
    low, high = low - pad, high + pad
    return max(low, 0.0) if float(values.min()) >= 0 else low, high


def line_chart(series: Sequence[Series], *, title: str, span: tuple[int, int],
               markers: Sequence[Marker] = (), width: int = 470, height: int = 190,
               css_class: str = "geosim-chart") -> str:
    """A line chart of shares (fractions, shown in %) over years, as an SVG document.

    Args:
        series: the lines; dashed ones are drawn thinner and under the solid ones.
        title: the chart's title (top left).
        span: first and last year of the x-axis.
        markers: vertical event markers with labels, stacked when they share a year.
        width, height: size in pixels.
        css_class: class of the `<svg>` element.
    """
    left, right, bottom = 44, 10, 22
    x0, x1 = span[0] - 0.5, span[1] + 0.5

    def sx(year: float) -> float:
        return left + (year - x0) / (x1 - x0) * (width - left - right)

    placed: list[tuple[float, float, int, Marker]] = []  # label x-extents, level, marker
    for marker in sorted(markers, key=lambda m: m.year):
        if span[0] <= marker.year <= span[1]:
            x = sx(marker.year)
            extent = (x, x + 4 + 5.0 * len(marker.label))
            level = 0
            while any(lv == level and a < extent[1] and extent[0] < b
                      for a, b, lv, _ in placed):
                level += 1
            placed.append((*extent, level, marker))
    band = 10 * (max((lv for *_, lv, _ in placed), default=-1) + 1)  # event labels' band
    top = 38 + band
    low, high = y_range(series)

    def sy(value: float) -> float:
        return height - bottom - (value - low) / (high - low) * (height - top - bottom)

    out = [f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" style="{FONT}">',
           f'<text x="4" y="13" font-size="12" font-weight="bold" fill="{TEXT}">'
           f'{escape(title)}</text>']
    ticks = [t for t in MaxNLocator(nbins=5).tick_values(low * 100, high * 100)
             if low * 100 - 1e-9 <= t <= high * 100 + 1e-9]
    decimals = 0 if len(ticks) < 2 or ticks[1] - ticks[0] >= 1 else 1
    for tick in ticks:
        y = sy(tick / 100)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{GRID}"/><text x="{left - 4}" y="{y + 3.5:.1f}" font-size="10" '
                   f'text-anchor="end" fill="{TEXT}">{tick:.{decimals}f}%</text>')
    for year in MaxNLocator(nbins=6, integer=True).tick_values(*span):
        if span[0] <= year <= span[1]:
            out.append(f'<text x="{sx(year):.1f}" y="{height - 6}" font-size="10" '
                       f'text-anchor="middle" fill="{TEXT}">{int(year)}</text>')
    for a, _, level, marker in placed:
        y = 44 + 10 * level
        out.append(f'<g class="geosim-event"><title>{marker.year}: {escape(marker.label)}</title>'
                   f'<line x1="{a:.1f}" x2="{a:.1f}" y1="{y - 8}" y2="{height - bottom}" '
                   f'stroke="{EVENT}" stroke-dasharray="2,2"/><text x="{a + 2:.1f}" y="{y}" '
                   f'font-size="9" fill="{EVENT}">{escape(marker.label)}</text></g>')
    legend_x = 4.0
    for s in sorted(series, key=lambda s: not s.dashed):
        dash = ' stroke-dasharray="5,3"' if s.dashed else ""
        points = [(y, v) for y, v in zip(s.years, s.values, strict=True) if np.isfinite(v)]
        path = " ".join(f"{sx(y):.1f},{sy(v):.1f}" for y, v in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{s.colour}" '
                   f'stroke-width="{1.5 if s.dashed else 2}"{dash}/>')
        for y, v in points:
            out.append(f'<circle class="geosim-point" cx="{sx(y):.1f}" cy="{sy(v):.1f}" '
                       f'r="{2 if s.dashed else 3}" fill="{s.colour}">'
                       f'<title>{escape(s.label)} {int(y)}: {v:.2%}</title></circle>')
    for s in series:
        dash = ' stroke-dasharray="5,3"' if s.dashed else ""
        out.append(f'<line x1="{legend_x:.0f}" x2="{legend_x + 16:.0f}" y1="25" y2="25" '
                   f'stroke="{s.colour}" stroke-width="2"{dash}/><text x="{legend_x + 19:.0f}" '
                   f'y="28.5" font-size="10" fill="{TEXT}">{escape(s.label)}</text>')
        legend_x += 26 + 5.6 * len(s.label)
    out.append("</svg>")
    return "".join(out)


def stacked_bars(categories: Sequence[str], stacks: Sequence[tuple[str, str, Sequence[float]]],
                 *, title: str, unit: str = "bn USD", width: int = 470, bar: int = 14,
                 css_class: str = "geosim-bars") -> str:
    """Horizontal stacked bars, one per category, as an SVG document.

    Args:
        categories: bar labels, top to bottom.
        stacks: (label, colour, values per category) for each segment, left to right.
        title: the chart's title.
        unit: unit of the values (shown in hover texts and the axis note).
        width: width in pixels; the height follows the number of bars.
        bar: bar thickness in pixels.
    """
    left, right = 48, 50
    top = 40 if 20 * len(stacks) + 6.2 * sum(len(label) for label, _, _ in stacks) < width else 54
    totals = np.sum([np.asarray(v, dtype=float) for _, _, v in stacks], axis=0) \
        if stacks else np.zeros(len(categories))
    scale = (width - left - right) / max(float(np.max(totals, initial=0.0)), 1e-12)
    height = top + len(categories) * (bar + 4) + 6
    out = [f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" style="{FONT}">',
           f'<text x="4" y="13" font-size="12" font-weight="bold" fill="{TEXT}">'
           f'{escape(title)}</text>']
    legend_x, legend_y = 4.0, 20
    for label, colour, _ in stacks:
        if legend_x + 20 + 6.2 * len(label) > width:
            legend_x, legend_y = 4.0, legend_y + 14
        out.append(f'<rect x="{legend_x:.0f}" y="{legend_y}" width="10" height="10" '
                   f'fill="{colour}"/><text x="{legend_x + 13:.0f}" y="{legend_y + 9}" '
                   f'font-size="10" fill="{TEXT}">{escape(label)}</text>')
        legend_x += 20 + 6.2 * len(label)
    for row, category in enumerate(categories):
        y = top + row * (bar + 4)
        out.append(f'<text x="{left - 4}" y="{y + bar - 3}" font-size="10" text-anchor="end" '
                   f'fill="{TEXT}">{escape(category)}</text>')
        x = float(left)
        for label, colour, values in stacks:
            w = float(values[row]) * scale
            if w > 0:
                out.append(f'<rect class="geosim-bar" x="{x:.1f}" y="{y}" width="{w:.1f}" '
                           f'height="{bar}" fill="{colour}"><title>{escape(category)}, '
                           f'{escape(label)}: {float(values[row]):.1f} {unit}</title></rect>')
            x += w
        out.append(f'<text x="{x + 3:.1f}" y="{y + bar - 3}" font-size="10" fill="{TEXT}">'
                   f'{totals[row]:.0f}</text>')
    out.append("</svg>")
    return "".join(out)
