"""The trade map of the Americas, for run reports and the browser page.

Plain arrays in, `Figure`s or PNG bytes out (no pyplot, no Mesa, no Solara): testable alone.
`MapRenderer` keeps the static layers as pixels and redraws only a year's layers (the page).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import BoundaryNorm, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter
from matplotlib.transforms import Bbox, TransformedBbox
from PIL import Image

from geosim.plotting.outline import load_outline

CHINA_COLOUR = "#c62828"
US_COLOUR = "#1565c0"
OTHER_COLOUR = "#8a8a8a"
COLOUR_MAP = "YlOrRd"  # pale: little trade with China, dark red: much
SHARE_MAX = 0.5  # the colour scale saturates at a 50 % China share
SHARE_STEP = 0.05  # one colour per 5 percentage points: an even scale
LABEL_SIZE = 6.5  # points

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
    """Fixed references so sizes, widths, positions and colours compare across years of one run.

    Attributes:
        gdp_ref: the largest base-year GDP (marker areas are relative to it).
        flow_ref: the largest base-year two-way flow drawn (line widths are relative to it).
        region_share: the region's base-year China share, in the tables' trade-weighted
            definition (`geosim.metrics.region_metrics`), marked on the colour bar.
        base_gdp: base-year GDP per economy: the order of the margin slots, so boxes keep their
            places from year to year.
        sector: the sector whose trade the colours and links show ("": all trade), named in
            the colour bar's label.
    """

    gdp_ref: float
    flow_ref: float
    region_share: float
    base_gdp: tuple[float, ...] = ()
    base_year: int | None = None
    sector: str = ""

    @classmethod
    def from_base(cls, data: MapData, region_share: float, sector: str = "") -> MapScale:
        """Scale on the base year: the largest GDP, the largest drawn flow, the region's share."""
        _, values = trade_edges(data.flows, data.is_lac)
        flow_ref = float(values.max()) if values.size else 1.0
        return cls(float(np.max(data.gdp)), flow_ref, float(region_share),
                   tuple(float(g) for g in data.gdp), int(data.year), sector)


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


def place_labels(points: np.ndarray, radii: np.ndarray, widths: np.ndarray, height: float,
                 bounds: tuple[float, float, float, float], order: Sequence[int] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Label positions that overlap neither each other nor the markers (pixel coordinates).

    Labels are placed one by one (in `order`, biggest first by default) at the first free spot
    on rings of growing distance around their point: right, upper right, lower right, above,
    below, left...; labels pushed off their point get a leader line. When no spot is free, the
    spot with the least overlap is taken.

    Args:
        points: n×2 marker centres (pixels, y up).
        radii: marker radii (pixels).
        widths: label widths (pixels); `height` is the labels' height.
        bounds: (x0, y0, x1, y1) the labels must stay inside.
        order: placing order (indices).

    Returns:
        (centres, leader): n×2 label centres and a mask of labels that need a leader line.
    """
    n = len(points)
    order = list(range(n)) if order is None else list(order)
    angles = np.radians([0, 35, -35, 90, -90, 145, -145, 180])
    boxes: list[np.ndarray] = []  # x0, y0, x1, y1 of placed labels
    nodes = np.column_stack([points - radii[:, None], points + radii[:, None]])
    centres = np.zeros((n, 2))
    leader = np.zeros(n, dtype=bool)

    def overlap(box: np.ndarray, own: int) -> float:
        others = np.vstack([nodes[np.arange(n) != own], *boxes]) if boxes else \
            nodes[np.arange(n) != own]
        w = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
        h = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
        outside = (max(bounds[0] - box[0], 0) + max(box[2] - bounds[2], 0)
                   + max(bounds[1] - box[1], 0) + max(box[3] - bounds[3], 0))
        return float((w * h).sum()) + 100.0 * outside

    for i in order:
        best: tuple[float, np.ndarray, bool] | None = None
        for ring, gap in enumerate((1.5, 7.0, 15.0, 26.0)):
            for angle in angles:
                half = np.array([widths[i] / 2 + 1, height / 2 + 1])
                direction = np.array([np.cos(angle), np.sin(angle)])
                centre = points[i] + direction * (radii[i] + gap + np.abs(direction) @ half)
                box = np.concatenate([centre - half, centre + half])
                cost = overlap(box, i)
                if best is None or cost < best[0]:
                    best = (cost, centre, ring >= 2)
                if cost == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        centres[i], leader[i] = best[1], best[2]
        half = np.array([widths[i] / 2 + 1, height / 2 + 1])
        boxes.append(np.concatenate([best[1] - half, best[1] + half])[None, :])
    return centres, leader


def _colour_norm() -> tuple[object, BoundaryNorm]:
    """The even colour scale: one colour per `SHARE_STEP` from 0 to `SHARE_MAX`."""
    bounds = np.arange(0.0, SHARE_MAX + SHARE_STEP / 2, SHARE_STEP)
    cmap = colormaps[COLOUR_MAP].resampled(len(bounds))  # one extra colour: above SHARE_MAX
    return cmap, BoundaryNorm(bounds, cmap.N, extend="max")


def _draw_static(ax: Axes, scale: MapScale, outline: Sequence[np.ndarray],
                 cax: Axes | None) -> None:
    """What does not change from year to year: land, margins, legend, colour bar, limits."""
    if len(outline):
        land = PolyCollection(outline, facecolors="#eef1f4", edgecolors="#c5ccd3",
                              linewidths=0.5, zorder=0.5)
        ax.add_collection(land)  # clipped to the axes and to the Americas' part of the map
        frame = Bbox([[AMERICAS_LON[0] - 2, MAP_LAT[0]], [AMERICAS_LON[1] + 2, MAP_LAT[1]]])
        land.set_clip_box(TransformedBbox(frame, ax.transData))
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
    cmap, norm = _colour_norm()
    colourbar = ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax,
                                   ax=None if cax else ax, fraction=0.035, pad=0.01)
    colourbar.set_ticks(np.arange(0.0, SHARE_MAX + 1e-9, 2 * SHARE_STEP))
    colourbar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    colourbar.ax.axhline(scale.region_share, color="#111111", lw=2.5)
    year = scale.base_year if scale.base_year is not None else "base-year"
    colourbar.set_label((f"Sector: {scale.sector}\n" if scale.sector else "")
                        + f"China's share of the country's trade (5-point steps)\nblack line: "
                        f"the region's {year} share, {scale.region_share:.1%} (trade-weighted)",
                        fontsize=7)
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


def _draw_labels(ax: Axes, iso3: Sequence[str], xy: np.ndarray, sizes: np.ndarray,
                 animated: bool = False) -> list:
    """Place and draw a label for every economy (see `place_labels`); the artists.

    The last artist holds the leader lines of labels pushed away from their marker; the others
    are the labels in the order of `iso3`.
    """
    ax.apply_aspect()
    dpi = ax.figure.dpi
    points = ax.transData.transform(xy)
    radii = np.sqrt(sizes) / 2 * dpi / 72
    texts = [ax.text(*xy[i], code, ha="center", va="center", fontsize=LABEL_SIZE,
                     color="#222222", zorder=8, animated=animated,
                     bbox={"boxstyle": "square,pad=0.05", "fc": "#ffffffb0", "ec": "none"})
             for i, code in enumerate(iso3)]
    canvas = ax.figure.canvas
    renderer = (canvas.get_renderer() if hasattr(canvas, "get_renderer")
                else FigureCanvasAgg(ax.figure).get_renderer())
    bold = ax.text(0, 0, "", fontsize=LABEL_SIZE, fontweight="bold")  # a selected label
    extents = []
    for text in texts:
        bold.set_text(text.get_text())
        extents.append(bold.get_window_extent(renderer))  # bold is the wider
    bold.remove()
    widths = np.array([e.width for e in extents])
    height = max(e.height for e in extents)
    box = ax.get_window_extent()
    order = np.argsort(-sizes, kind="stable")
    centres, leader = place_labels(points, radii, widths, height,
                                   (box.x0 + 2, box.y0 + 2, box.x1 - 2, box.y1 - 2), order)
    at = ax.transData.inverted().transform(centres)
    for text, position in zip(texts, at, strict=True):
        text.set_position(position)
    lines = LineCollection([np.array([xy[i], at[i]]) for i in np.flatnonzero(leader)],
                           colors="#888888", linewidths=0.5, zorder=7.5, animated=animated)
    return [*texts, ax.add_collection(lines)]


def _draw_year(ax: Axes, data: MapData, scale: MapScale, xy: np.ndarray, labels: list,
               *, selected: str | None, subtitle: str, animated: bool = False) -> list:
    """One year's layers: trade links, countries, rings and the title; their artists.

    `labels` (from `_draw_labels`) are kept across years; the selected one is set in bold.
    """
    iso3 = list(data.iso3)
    china = iso3.index("CHN") if "CHN" in iso3 else -1
    usa = iso3.index("USA") if "USA" in iso3 else -1
    artists: list = []
    pairs, values = trade_edges(data.flows, data.is_lac)
    strength = np.sqrt(np.clip(values / scale.flow_ref, 0.0, 1.5))
    kind = np.where((pairs == china).any(axis=1), 2, np.where((pairs == usa).any(axis=1), 1, 0))
    for k, colour in ((0, OTHER_COLOUR), (1, US_COLOUR), (2, CHINA_COLOUR)):
        mask = kind == k
        if mask.any():
            rgba = np.tile(to_rgba(colour), (mask.sum(), 1))
            rgba[:, 3] = 0.12 + 0.6 * strength[mask] if k else 0.08 + 0.4 * strength[mask]
            artists.append(ax.add_collection(LineCollection(
                xy[pairs[mask]], colors=rgba, linewidths=0.3 + 7.0 * strength[mask],
                capstyle="round", zorder=1 + k, animated=animated)))

    sizes = node_sizes(data.gdp, scale.gdp_ref)
    cmap, norm = _colour_norm()
    lac = np.asarray(data.is_lac, dtype=bool)
    others = ~lac
    others[[i for i in (china, usa) if i >= 0]] = False
    artists.append(ax.scatter(*xy[lac].T, s=sizes[lac], c=data.china_share[lac], cmap=cmap,
                              norm=norm, edgecolors="#333333", linewidths=0.6, zorder=5,
                              animated=animated))
    artists.append(ax.scatter(*xy[others].T, s=sizes[others], c="#d9d9d9", marker="s",
                              edgecolors="#666666", linewidths=0.6, zorder=5,
                              animated=animated))
    if data.usmca is not None and (ringed := lac & data.usmca).any():
        artists.append(ax.scatter(*xy[ringed].T, s=sizes[ringed] * 1.5 + 40, facecolors="none",
                                  edgecolors=US_COLOUR, linewidths=1.8, zorder=5.5,
                                  animated=animated))
    for index, colour in ((china, CHINA_COLOUR), (usa, US_COLOUR)):
        if index >= 0:
            artists.append(ax.scatter(*xy[index], s=sizes[index], c=colour, marker="D",
                                      edgecolors="white", linewidths=1.2, zorder=6,
                                      animated=animated))
    if selected in iso3:
        i = iso3.index(selected)
        artists.append(ax.scatter(*xy[i], s=sizes[i] * 1.9 + 30, facecolors="none",
                                  edgecolors="#111111", linewidths=1.6, zorder=7,
                                  animated=animated))
    for text, code in zip(labels, iso3, strict=False):
        chosen = code == selected
        text.set_fontweight("bold" if chosen else "normal")
    if not animated:  # the browser page shows the year in its header
        ax.text(0.0, 1.01, f"{data.year}" + (f"  ·  {subtitle}" if subtitle else ""),
                transform=ax.transAxes, fontsize=14, fontweight="bold")
    return artists


def draw_trade_map(ax: Axes, data: MapData, scale: MapScale, *, selected: str | None = None,
                   subtitle: str = "", outline: Sequence[np.ndarray] = (),
                   cax: Axes | None = None) -> Axes:
    """Draw countries (size GDP, colour China share) and trade links (width by flow) on `ax`.

    Links with China are red and links with the United States blue, drawn over the grey rest.
    Latin American members of USMCA get a blue ring. Every economy is labelled with its ISO3
    code, without overlaps (see `place_labels`). Margin boxes keep their places in base-year
    GDP order. A colour bar in even 5-point steps, with the region's base-year share marked,
    goes into `cax`, or next to `ax` when none is given.

    Args:
        ax: the axis to draw on.
        data: one year's map data.
        scale: the run's fixed references (see `MapScale.from_base`).
        selected: ISO3 code of a country to ring and label in bold, or None.
        subtitle: a line after the year (e.g. the scenario name).
        outline: coastline rings (lon, lat) drawn lightly under the Americas.
        cax: the axis for the colour bar.

    Returns:
        The axis.
    """
    base_gdp = np.asarray(scale.base_gdp) if len(scale.base_gdp) else data.gdp
    xy = layout(data.iso3, data.lon, data.lat, base_gdp)
    _draw_static(ax, scale, outline, cax)
    labels = _draw_labels(ax, data.iso3, xy, node_sizes(base_gdp, scale.gdp_ref) * 1.15)
    _draw_year(ax, data, scale, xy, labels, selected=selected, subtitle=subtitle)
    return ax


def _map_axes(fig: Figure) -> tuple[Axes, Axes]:
    ax = fig.add_axes((0.012, 0.01, 0.8, 0.93))
    cax = fig.add_axes((0.83, 0.12, 0.022, 0.72))
    return ax, cax


MAP_SIZE = (6.4, 5.9)  # inches


def map_figure(data: MapData, scale: MapScale, *, selected: str | None = None,
               subtitle: str = "") -> Figure:
    """A new figure holding the trade map (see `draw_trade_map`)."""
    fig = Figure(figsize=MAP_SIZE)  # fixed axes, no layout engine: much faster to draw
    ax, cax = _map_axes(fig)
    draw_trade_map(ax, data, scale, selected=selected, subtitle=subtitle, outline=_outline(),
                   cax=cax)
    return fig


class MapRenderer:
    """The trade map of one run as PNG bytes, fast: the static layers are drawn once.

    Land, margins, legend and colour bar are rendered at construction and kept as a pixel
    buffer; each `png` call restores it and draws only the year's layers on top (Agg blitting).
    Positions and label places are fixed on the base year, so nothing jumps between years.
    """

    def __init__(self, base: MapData, scale: MapScale, *, subtitle: str = "", dpi: int = 100):
        self.scale, self.subtitle = scale, subtitle
        self.figure = Figure(figsize=MAP_SIZE, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax, cax = _map_axes(self.figure)
        base_gdp = np.asarray(scale.base_gdp) if len(scale.base_gdp) else base.gdp
        self.xy = layout(base.iso3, base.lon, base.lat, base_gdp)
        _draw_static(self.ax, scale, _outline(), cax)
        if subtitle:
            self.ax.text(0.0, 1.01, subtitle, transform=self.ax.transAxes, fontsize=12,
                         fontweight="bold")
        self.labels = _draw_labels(self.ax, base.iso3, self.xy,
                                   node_sizes(base_gdp, scale.gdp_ref) * 1.15, animated=True)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def png(self, data: MapData, selected: str | None = None) -> bytes:
        """One year's map as PNG bytes."""
        self.canvas.restore_region(self.background)
        artists = _draw_year(self.ax, data, self.scale, self.xy, self.labels, selected=selected,
                             subtitle=self.subtitle, animated=True)
        try:
            for artist in sorted([*artists, *self.labels], key=lambda a: a.get_zorder()):
                self.ax.draw_artist(artist)
            width, height = self.canvas.get_width_height()
            image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw",
                                     "RGBA", 0, 1)
            out = io.BytesIO()
            image.convert("RGB").save(out, format="PNG", compress_level=1)
            return out.getvalue()
        finally:
            for artist in artists:
                artist.remove()


@cache
def _outline() -> list[np.ndarray]:
    return load_outline()
