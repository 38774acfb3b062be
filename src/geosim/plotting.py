"""Figures from results tables (never from a live model): dependency paths, the trade network map
and scenario comparisons. Each function takes data and an optional ``ax`` and returns the axis.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; the viz page draws through its own figures

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

CHINA_COLOR = "#c0392b"
US_COLOR = "#1f4e9c"


def main_economies(countries: pd.DataFrame, k: int = 8, lac: set[str] | None = None) -> list[str]:
    """The k largest Latin American economies by first-year GDP (all countries if lac is None)."""
    first = countries[countries["year"] == countries["year"].min()]
    if lac is not None:
        first = first[first["iso3"].isin(lac)]
    return list(first.nlargest(k, "gdp")["iso3"])


def shares_over_time(countries: pd.DataFrame, iso3: str, ax: Axes | None = None) -> Axes:
    """China's and the US's share of one country's trade, exports and imports, over the years."""
    ax = ax or plt.gca()
    rows = countries[countries["iso3"] == iso3].sort_values("year")
    for who, color in (("china", CHINA_COLOR), ("us", US_COLOR)):
        ax.plot(rows["year"], 100 * rows[f"{who}_trade_share"], color=color, lw=2,
                label=f"{'China' if who == 'china' else 'US'} (trade)")
        ax.plot(rows["year"], 100 * rows[f"{who}_export_share"], color=color, lw=1, ls="--",
                label="exports")
        ax.plot(rows["year"], 100 * rows[f"{who}_import_share"], color=color, lw=1, ls=":",
                label="imports")
    ax.set_title(iso3)
    ax.set_ylabel("% of trade")
    ax.grid(alpha=0.3)
    return ax


def region_shares(region: pd.DataFrame, ax: Axes | None = None, label: str = "") -> Axes:
    """The region's China and US shares of trade over the years."""
    ax = ax or plt.gca()
    ax.plot(region["year"], 100 * region["china_trade_share"], color=CHINA_COLOR,
            label=f"China {label}".strip())
    ax.plot(region["year"], 100 * region["us_trade_share"], color=US_COLOR,
            label=f"US {label}".strip())
    ax.set_ylabel("% of Latin America & Caribbean trade")
    ax.grid(alpha=0.3)
    return ax


def network_map(
    flows: pd.DataFrame,
    nodes: pd.DataFrame,
    ax: Axes | None = None,
    top_edges: int = 120,
) -> Axes:
    """The trade network on a lon/lat layout: node size by GDP, colour by China's trade share.

    Args:
        flows: one year's flows (exporter, importer, value), domestic rows allowed.
        nodes: one row per country with iso3, lon, lat, gdp, china_trade_share.
        ax: axis to draw on.
        top_edges: draw only the largest flows (readability).
    """
    ax = ax or plt.gca()
    pos = nodes.set_index("iso3")[["lon", "lat"]]
    edges = flows[(flows["exporter"] != flows["importer"]) & flows["exporter"].isin(pos.index)
                  & flows["importer"].isin(pos.index)].nlargest(top_edges, "value")
    vmax = edges["value"].max() if len(edges) else 1.0
    for e in edges.itertuples():
        a, b = pos.loc[e.exporter], pos.loc[e.importer]
        involved = {e.exporter, e.importer}
        color = CHINA_COLOR if "CHN" in involved else US_COLOR if "USA" in involved else "0.5"
        ax.plot([a.lon, b.lon], [a.lat, b.lat], color=color, lw=0.3 + 3 * e.value / vmax,
                alpha=0.15 + 0.5 * e.value / vmax, zorder=1)
    size = 20 + 600 * np.sqrt(nodes["gdp"] / nodes["gdp"].max())
    china = (nodes["iso3"] == "CHN").to_numpy()
    ax.scatter(nodes["lon"][china], nodes["lat"][china], s=size[china], color=CHINA_COLOR,
               edgecolor="k", linewidth=0.5, zorder=2)
    points = ax.scatter(nodes["lon"][~china], nodes["lat"][~china], s=size[~china],
                        c=100 * nodes["china_trade_share"][~china], cmap="RdBu_r", vmin=0,
                        vmax=40, edgecolor="k", linewidth=0.5, zorder=2)
    for r in nodes.itertuples():
        ax.annotate(r.iso3, (r.lon, r.lat), fontsize=6, ha="center", va="center", zorder=3)
    plt.colorbar(points, ax=ax, label="China's share of trade (%)", shrink=0.7)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    return ax


def run_plots(countries: pd.DataFrame, region: pd.DataFrame, flows: pd.DataFrame | None,
              folder: Path, nodes: pd.DataFrame | None = None) -> list[Path]:
    """Write a run's standard figures as PNG into folder; return their paths."""
    from geosim.data import load_world

    world = load_world()
    lac = {c for c, is_lac in zip(world.iso3, world.is_lac, strict=True) if is_lac}
    written = []
    economies = main_economies(countries, 8, lac & set(countries["iso3"]))
    fig, axes = plt.subplots(2, 4, figsize=(16, 7), sharex=True, sharey=True)
    for ax, iso in zip(axes.ravel(), economies, strict=False):
        shares_over_time(countries, iso, ax)
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle("China (red) and US (blue) shares of trade: the largest Latin American economies")
    written.append(save_figure(fig, folder / "shares_main_economies.png"))

    fig, ax = plt.subplots(figsize=(8, 5))
    region_shares(region, ax)
    ax.legend()
    ax.set_title("Latin America & Caribbean: China and US shares of trade")
    written.append(save_figure(fig, folder / "region_shares.png"))

    if flows is not None and set(countries["iso3"]) == set(world.iso3):
        final = countries["year"].max()
        last = countries[countries["year"] == final].set_index("iso3")
        nodes = pd.DataFrame({"iso3": world.iso3, "lon": world.lon, "lat": world.lat,
                              "gdp": last.loc[list(world.iso3), "gdp"].to_numpy(),
                              "china_trade_share":
                                  last.loc[list(world.iso3), "china_trade_share"].to_numpy()})
        # Keep the map on the Americas; far economies are clamped to its edge.
        fig, ax = plt.subplots(figsize=(10, 8))
        network_map(flows[flows["year"] == final], nodes[world.is_lac | np.isin(
            world.iso3, ["USA", "CAN", "CHN"])].assign(
                lon=lambda d: d["lon"].clip(-130, -20), lat=lambda d: d["lat"].clip(-60, 60)), ax)
        ax.set_title(f"Trade network {final} (China clamped to the map's edge)")
        written.append(save_figure(fig, folder / "network_final_year.png"))
    return written


def compare_region(region_a: pd.DataFrame, region_b: pd.DataFrame, labels: tuple[str, str],
                   ax: Axes | None = None) -> Axes:
    """Region's China and US shares of trade in two runs (solid: first, dashed: second)."""
    ax = ax or plt.gca()
    for region, ls, label in ((region_a, "-", labels[0]), (region_b, "--", labels[1])):
        ax.plot(region["year"], 100 * region["china_trade_share"], color=CHINA_COLOR, ls=ls,
                label=f"China, {label}")
        ax.plot(region["year"], 100 * region["us_trade_share"], color=US_COLOR, ls=ls,
                label=f"US, {label}")
    ax.set_ylabel("% of Latin America & Caribbean trade")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def change_bars(change: pd.Series, title: str, ax: Axes | None = None) -> Axes:
    """Horizontal bars of a per-country change (percentage points), sorted."""
    ax = ax or plt.gca()
    change = change.sort_values()
    colors = [US_COLOR if v < 0 else CHINA_COLOR for v in change]
    ax.barh(change.index, change.to_numpy(), color=colors)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_title(title)
    ax.set_xlabel("percentage points")
    ax.tick_params(axis="y", labelsize=7)
    return ax


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Save a figure as PNG (tight layout) and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
