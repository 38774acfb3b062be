"""The trade map of the Americas and the dependency charts, for run reports and the browser page.

Plain arrays and DataFrames in, `Figure`s out (no pyplot, no Mesa, no Solara): testable alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import TwoSlopeNorm, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter
from matplotlib.transforms import Bbox, TransformedBbox

from geosim.plotting.outline import load_outline

CHINA_COLOUR = "#c62828"
US_COLOUR = "#1565c0"
OTHER_COLOUR = "#8a8a8a"
COLOUR_MAP = "RdBu_r"  # blue: less China trade than the reference, red: more
SHARE_MAX = 0.5  # the colour scale saturates at a 50 % China share

# The map frame (degrees): the Americas, with economies elsewhere parked on its margins.
AMERICAS_LON = (-128.0, -30.0)
AMERICAS_LAT = (-57.0, 64.0)
WEST_MARGIN_LON = -145.0  # Asia-Pacific partners, across the Pacific
EAST_MARGIN_LON = -17.0  # Europe and the rest of the world, across the Atlantic
MAP_LAT = (AMERICAS_LAT[0] - 3, AMERICAS_LAT[1] + 4)
MARGIN_SLOTS_LAT = (12.0, -4.0, 28.0, -20.0, 44.0, -36.0)  # filled biggest economy first


@dataclass(frozen=True)
class MapData:
    """What the trade map shows for one year; arrays follow the order of `iso3`."""

    year: int
    iso3: tuple[str, ...]
    lon: np.ndarray
    lat: np.ndarray
    is_lac: np.ndarray
    gdp: np.ndarray
    china_share: np.ndarray
    flows: np.ndarray
    usmca: np.ndarray | None = None  # mask of USMCA members, ringed in blue


@dataclass(frozen=True)
class MapScale:
    """Fixed references so sizes, widths and colours compare across years of one run."""

    gdp_ref: float
    flow_ref: float
    centre: float

    @classmethod
    def from_base(cls, data: MapData, centre: float) -> MapScale:
        """Scale on the base year: the largest GDP, the largest drawn flow, a colour centre.

        Args:
            data: the base-year map data.
            centre: China share drawn white (e.g. the region's base-year average).
        """
        _, values = trade_edges(data.flows, data.is_lac)
        flow_ref = float(values.max()) if values.size else 1.0
        return cls(float(np.max(data.gdp)), flow_ref, float(np.clip(centre, 0.01, SHARE_MAX - .01)))


def layout(iso3: Sequence[str], lon: np.ndarray, lat: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Map positions (x, y) in degrees: lon/lat inside the Americas, margin slots outside.

    Economies east of 60°E or west of 150°W go to the western (Pacific) margin; the rest of the
    outsiders (Europe, the rest of the world, unknown coordinates) to the eastern margin. Each
    margin fills `MARGIN_SLOTS_LAT` from the largest economy down.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    xy = np.column_stack([lon, lat])
    inside = ((lon >= AMERICAS_LON[0]) & (lon <= AMERICAS_LON[1])
              & (lat >= AMERICAS_LAT[0]) & (lat <= AMERICAS_LAT[1]))
    west = ~inside & ((lon > 60) | (lon < -150))
    for margin, x in ((west, WEST_MARGIN_LON), (~inside & ~west, EAST_MARGIN_LON)):
        order = sorted(np.flatnonzero(margin), key=lambda i: -gdp[i])
        for slot, i in enumerate(order):
            xy[i] = (x, MARGIN_SLOTS_LAT[slot % len(MARGIN_SLOTS_LAT)] - 10 * (slot // 6))
    return xy


def trade_edges(flows: np.ndarray, is_lac: np.ndarray, top: int = 160
                ) -> tuple[np.ndarray, np.ndarray]:
    """The largest two-way trade links that touch Latin America.

    Args:
        flows: n×n flows X[exporter, importer] (the diagonal is ignored).
        is_lac: mask of Latin American and Caribbean economies.
        top: how many links to keep.

    Returns:
        (pairs, values): k×2 index pairs (i < j) and their two-way flow X_ij + X_ji, largest first.
    """
    two_way = np.triu(flows + flows.T, k=1)
    lac = np.asarray(is_lac, dtype=bool)
    touches = lac[:, None] | lac[None, :]
    i, j = np.nonzero((two_way > 0) & touches)
    values = two_way[i, j]
    keep = np.argsort(values)[::-1][:top]
    return np.column_stack([i[keep], j[keep]]), values[keep]


def node_sizes(gdp: np.ndarray, gdp_ref: float) -> np.ndarray:
    """Marker areas (pt²): grow with the square root of GDP so small islands stay visible."""
    return 14.0 + 900.0 * np.sqrt(np.clip(np.asarray(gdp, dtype=float) / gdp_ref, 0.0, 4.0))


def draw_trade_map(ax: Axes, data: MapData, scale: MapScale, *, selected: str | None = None,
                   subtitle: str = "", outline: Sequence[np.ndarray] = (),
                   cax: Axes | None = None) -> Axes:
    """Draw countries (size GDP, colour China share) and trade links (width by flow) on `ax`.

    Links with China are red and links with the United States blue, drawn over the grey rest.
    Latin American members of USMCA get a blue ring. A colour bar goes into `cax`, or next to
    `ax` when none is given.

    Args:
        ax: the axis to draw on.
        data: one year's map data.
        scale: the run's fixed references (see `MapScale.from_base`).
        selected: ISO3 code of a country to ring and label, or None.
        subtitle: a line under the year (e.g. the scenario name).
        outline: coastline rings (lon, lat) drawn lightly under the Americas.
        cax: the axis for the colour bar.

    Returns:
        The axis.
    """
    iso3 = list(data.iso3)
    xy = layout(iso3, data.lon, data.lat, data.gdp)
    china = iso3.index("CHN") if "CHN" in iso3 else -1
    usa = iso3.index("USA") if "USA" in iso3 else -1

    if len(outline):
        land = PolyCollection(outline, facecolors="#eef1f4", edgecolors="#c5ccd3",
                              linewidths=0.5, zorder=0.5)
        ax.add_collection(land)  # clipped to the axes and to the Americas' part of the map
        frame = Bbox([[AMERICAS_LON[0] - 2, MAP_LAT[0]], [AMERICAS_LON[1] + 2, MAP_LAT[1]]])
        land.set_clip_box(TransformedBbox(frame, ax.transData))

    pairs, values = trade_edges(data.flows, data.is_lac)
    strength = np.sqrt(np.clip(values / scale.flow_ref, 0.0, 1.5))
    kind = np.where((pairs == china).any(axis=1), 2, np.where((pairs == usa).any(axis=1), 1, 0))
    for k, colour in ((0, OTHER_COLOUR), (1, US_COLOUR), (2, CHINA_COLOUR)):
        mask = kind == k
        if mask.any():
            segments = xy[pairs[mask]]
            rgba = np.tile(to_rgba(colour), (mask.sum(), 1))
            rgba[:, 3] = 0.12 + 0.6 * strength[mask] if k else 0.08 + 0.4 * strength[mask]
            ax.add_collection(LineCollection(segments, colors=rgba,
                                             linewidths=0.3 + 7.0 * strength[mask],
                                             capstyle="round", zorder=1 + k))

    sizes = node_sizes(data.gdp, scale.gdp_ref)
    norm = TwoSlopeNorm(vmin=0.0, vcenter=scale.centre, vmax=SHARE_MAX)
    lac = np.asarray(data.is_lac, dtype=bool)
    others = ~lac
    others[[i for i in (china, usa) if i >= 0]] = False
    ax.scatter(*xy[lac].T, s=sizes[lac], c=np.clip(data.china_share[lac], 0, SHARE_MAX),
               cmap=COLOUR_MAP, norm=norm, edgecolors="#333333", linewidths=0.6, zorder=5)
    ax.scatter(*xy[others].T, s=sizes[others], c="#d9d9d9", marker="s",
               edgecolors="#666666", linewidths=0.6, zorder=5)
    if data.usmca is not None and (ringed := lac & data.usmca).any():
        ax.scatter(*xy[ringed].T, s=sizes[ringed] * 1.5 + 40, facecolors="none",
                   edgecolors=US_COLOUR, linewidths=1.8, zorder=5.5)
    for index, colour in ((china, CHINA_COLOUR), (usa, US_COLOUR)):
        if index >= 0:
            ax.scatter(*xy[index], s=sizes[index], c=colour, marker="D",
                       edgecolors="white", linewidths=1.2, zorder=6)

    _label_countries(ax, iso3, xy, data.gdp, lac, selected)
    if selected in iso3:
        ax.scatter(*xy[iso3.index(selected)], s=sizes[iso3.index(selected)] * 1.9,
                   facecolors="none", edgecolors="#111111", linewidths=1.6, zorder=7)

    ax.set_xlim(WEST_MARGIN_LON - 12, EAST_MARGIN_LON + 12)
    ax.set_ylim(*MAP_LAT)
    ax.set_aspect(1.15)  # roughly equal-area around 30° latitude
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#cccccc")
    ax.axvspan(WEST_MARGIN_LON - 12, AMERICAS_LON[0] - 2, color="#f3f3f3", zorder=0)
    ax.axvspan(AMERICAS_LON[1] + 2, EAST_MARGIN_LON + 12, color="#f3f3f3", zorder=0)
    ax.text(WEST_MARGIN_LON, AMERICAS_LAT[0] + 1, "Asia-Pacific", ha="center", fontsize=7,
            color="#777777")
    ax.text(EAST_MARGIN_LON, AMERICAS_LAT[0] + 1, "Europe &\nrest of world", ha="center",
            fontsize=7, color="#777777")
    ax.set_title(f"{data.year}" + (f"  ·  {subtitle}" if subtitle else ""), loc="left",
                 fontsize=14, fontweight="bold")

    colourbar = ax.figure.colorbar(ScalarMappable(norm=norm, cmap=COLOUR_MAP), cax=cax,
                                   ax=None if cax else ax, fraction=0.035, pad=0.01,
                                   extend="max")
    colourbar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    colourbar.set_label(f"China's share of the country's trade (white: {scale.centre:.0%}, "
                        "the region's base-year share)", fontsize=8)
    colourbar.ax.tick_params(labelsize=7)
    ax.legend(handles=[
        Line2D([], [], color=CHINA_COLOUR, lw=3, label="trade with China"),
        Line2D([], [], color=US_COLOUR, lw=3, label="trade with the US"),
        Line2D([], [], color=OTHER_COLOUR, lw=3, alpha=0.6, label="other trade"),
        Line2D([], [], ls="", marker="o", color="#bbbbbb", markeredgecolor="#333333",
               markersize=9, label="country (area ~ √GDP)"),
        Line2D([], [], ls="", marker="o", markerfacecolor="none", markeredgecolor=US_COLOUR,
               markeredgewidth=1.8, markersize=11, label="USMCA member"),
    ], loc="lower left", bbox_to_anchor=(0.13, 0.0), fontsize=7, frameon=False)
    return ax


def _label_countries(ax: Axes, iso3: list[str], xy: np.ndarray, gdp: np.ndarray,
                     lac: np.ndarray, selected: str | None) -> None:
    """Label every non-Latin American economy, the 12 largest Latin American ones and `selected`."""
    biggest = set(sorted(np.flatnonzero(lac), key=lambda i: -gdp[i])[:12])
    for i, code in enumerate(iso3):
        if lac[i] and i not in biggest and code != selected:
            continue
        ax.annotate(code, xy[i], xytext=(5, 4), textcoords="offset points", fontsize=7,
                    fontweight="bold" if code == selected else "normal", color="#222222",
                    zorder=8)


def draw_shares(ax: Axes, years: Sequence[int], china: Sequence[float], us: Sequence[float], *,
                title: str, span: tuple[int, int]) -> Axes:
    """China's and the US's share of trade over the years so far, on a fixed time axis.

    Args:
        ax: the axis to draw on.
        years, china, us: the years recorded so far and the two shares (fractions).
        title: what the shares are of (e.g. "Latin America & Caribbean").
        span: first and last year of the run (the x-axis limits).

    Returns:
        The axis.
    """
    ax.plot(years, china, color=CHINA_COLOUR, lw=2, marker="o", ms=3, label="China")
    ax.plot(years, us, color=US_COLOUR, lw=2, marker="o", ms=3, label="United States")
    top = max(0.5, float(np.nanmax(np.concatenate([np.asarray(china), np.asarray(us), [0]]))) + .05)
    ax.set_ylim(0, top)
    ax.set_xlim(span[0] - 0.5, span[1] + 0.5)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title(f"Share of trade: {title}", loc="left", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", ncols=2, frameon=False)
    _tidy(ax)
    return ax


def draw_top_partner(ax: Axes, years: Sequence[int], exports: Sequence[int],
                     imports: Sequence[int], *, n_countries: int, span: tuple[int, int]) -> Axes:
    """How many Latin American countries have China as their top export or import partner.

    Args:
        ax: the axis to draw on.
        years: the years recorded so far.
        exports, imports: counts with China as top export destination / import source.
        n_countries: the number of countries in the region (the y-axis limit).
        span: first and last year of the run.

    Returns:
        The axis.
    """
    ax.step(years, exports, where="mid", color=CHINA_COLOUR, lw=2, label="top export market")
    ax.step(years, imports, where="mid", color="#ef6c00", lw=2, ls="--",
            label="top import source")
    ax.set_ylim(0, n_countries)
    ax.set_xlim(span[0] - 0.5, span[1] + 0.5)
    ax.set_title(f"Countries whose top partner is China (of {n_countries})", loc="left",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper left", ncols=2, frameon=False)
    _tidy(ax)
    return ax


def _tidy(ax: Axes) -> None:
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def map_figure(data: MapData, scale: MapScale, *, selected: str | None = None,
               subtitle: str = "") -> Figure:
    """A new figure holding the trade map (see `draw_trade_map`)."""
    fig = Figure(figsize=(6.4, 5.9))  # fixed axes, no layout engine: much faster to draw
    ax = fig.add_axes((0.012, 0.01, 0.85, 0.93))
    cax = fig.add_axes((0.875, 0.12, 0.022, 0.72))
    draw_trade_map(ax, data, scale, selected=selected, subtitle=subtitle, outline=_outline(),
                   cax=cax)
    return fig


@cache
def _outline() -> list[np.ndarray]:
    return load_outline()


def charts_figure(region: pd.DataFrame, country: pd.DataFrame, *, country_name: str,
                  span: tuple[int, int], n_countries: int) -> Figure:
    """A new figure with the region's and one country's trade shares and the top-partner count.

    Args:
        region: one row per year with `year`, `china_trade_share`, `us_trade_share`,
            `n_top_partner_china_exports`, `n_top_partner_china_imports`.
        country: one row per year for the selected country with `year`, `china_trade_share`,
            `us_trade_share`.
        country_name: the selected country's name.
        span: first and last year of the run.
        n_countries: the number of countries in the region.
    """
    fig = Figure(figsize=(4.6, 5.9))
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.05, top=0.95, hspace=0.28)
    top, middle, bottom = fig.subplots(3, 1, sharex=True)
    draw_shares(top, region["year"], region["china_trade_share"], region["us_trade_share"],
                title="Latin America & Caribbean", span=span)
    draw_shares(middle, country["year"], country["china_trade_share"], country["us_trade_share"],
                title=country_name, span=span)
    draw_top_partner(bottom, region["year"], region["n_top_partner_china_exports"],
                     region["n_top_partner_china_imports"], n_countries=n_countries, span=span)
    bottom.xaxis.get_major_locator().set_params(integer=True)
    return fig
