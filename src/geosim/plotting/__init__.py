"""Figures from results tables (never from a live model): dependency paths, scenario comparisons,
and the trade map (`plotting.maps`). Functions take data and an optional ``ax``, return the axis.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

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
    whole_years(ax, nbins=4)  # small panels: a few years, never run together
    return ax


def whole_years(ax: Axes, nbins: int | str = "auto") -> Axes:
    """Ticks on whole years only (no 2027.5) on the x-axis, at most ``nbins`` intervals."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=nbins))
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
    whole_years(ax)
    return ax


def run_plots(countries: pd.DataFrame, region: pd.DataFrame, flows: pd.DataFrame | None,
              folder: Path, label: str = "", decisions: pd.DataFrame | None = None
              ) -> list[Path]:
    """Write a run's standard figures as PNG into folder; return their paths.

    ``label`` (e.g. "pivot, seed 0") names the run in every title; ``decisions`` (the run's
    accession decisions) add the countries that joined USMCA to its ringed members on the map.
    """
    suffix = f" ({label})" if label else ""
    from geosim.data import load_world

    world = load_world()
    lac = set(world.lac)
    written = []
    economies = main_economies(countries, 8, lac & set(countries["iso3"]))
    fig, axes = plt.subplots(2, 4, figsize=(16, 7), sharex=True, sharey=True)
    for ax, iso in zip(axes.ravel(), economies, strict=False):
        shares_over_time(countries, iso, ax)
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle("China (red) and US (blue) shares of trade: the largest Latin American "
                 f"economies{suffix}")
    written.append(save_figure(fig, folder / "shares_main_economies.png"))

    fig, ax = plt.subplots(figsize=(8, 5))
    region_shares(region, ax)
    ax.legend()
    ax.set_title(f"Latin America & Caribbean: China and US shares of trade{suffix}")
    written.append(save_figure(fig, folder / "region_shares.png"))

    if flows is not None and set(countries["iso3"]) == set(world.iso3):
        written.append(_final_year_map(countries, flows, world, folder,
                                       float(region["china_trade_share"].iloc[0]), label,
                                       usmca_members(world, decisions)))
    return written


def usmca_members(world, decisions: pd.DataFrame | None = None) -> set[str]:
    """USMCA's members at the end of a run: the world's, plus those a decision says joined."""
    rows = world.memberships
    members = set(rows.loc[rows["bloc"] == "USMCA", "iso3"])
    if decisions is not None and not decisions.empty:
        joined = decisions[(decisions["bloc"] == "USMCA") & decisions["joined"].astype(bool)]
        members |= set(joined["country"])
    return members


def _final_year_map(countries: pd.DataFrame, flows: pd.DataFrame, world, folder: Path,
                    region_share: float, label: str = "", usmca: set[str] | None = None
                    ) -> Path:
    """The trade map of the final year, scaled on the first year (as on the browser page).

    `region_share` is the region's first-year China share in the tables' (trade-weighted)
    definition, marked on the colour bar.
    """
    from geosim.plotting import maps

    def year_data(year: int) -> maps.MapData:
        rows = countries[countries["year"] == year].set_index("iso3").loc[list(world.iso3)]
        x = (flows[flows["year"] == year].pivot(index="exporter", columns="importer",
                                                values="value")
             .loc[list(world.iso3), list(world.iso3)].to_numpy())
        return maps.MapData(year=year, iso3=tuple(world.iso3), lon=np.asarray(world.lon),
                            lat=np.asarray(world.lat), is_lac=np.asarray(world.is_lac, bool),
                            gdp=rows["gdp"].to_numpy(float),
                            china_share=rows["china_trade_share"].to_numpy(float), flows=x,
                            usmca=np.array([c in (usmca or set()) for c in world.iso3]))

    first, final = int(countries["year"].min()), int(countries["year"].max())
    base = year_data(first)
    fig = maps.map_figure(year_data(final), maps.MapScale.from_base(base, region_share),
                          subtitle="trade network, final year" + (f" ({label})" if label else ""))
    path = folder / "network_final_year.png"
    fig.savefig(path, dpi=120)
    return path


def compare_region(region_a: pd.DataFrame, region_b: pd.DataFrame, labels: tuple[str, str],
                   ax: Axes | None = None) -> Axes:
    """Region's China and US shares of trade in two runs: the reference (first) dashed, the
    scenario (second) solid, as on the browser page."""
    ax = ax or plt.gca()
    for region, ls, label in ((region_a, "--", labels[0]), (region_b, "-", labels[1])):
        ax.plot(region["year"], 100 * region["china_trade_share"], color=CHINA_COLOR, ls=ls,
                label=f"China, {label}")
        ax.plot(region["year"], 100 * region["us_trade_share"], color=US_COLOR, ls=ls,
                label=f"US, {label}")
    ax.set_ylabel("% of Latin America & Caribbean trade")
    ax.grid(alpha=0.3)
    ax.legend()
    whole_years(ax)
    return ax


def compare_region_change(region: pd.DataFrame, labels: tuple[str, str],
                          axes: tuple[Axes, Axes]) -> tuple[Axes, Axes]:
    """A region change table (`region_change.csv`): left, A's (dashed) and B's (solid) China
    and US shares of trade (%); right, B − A (pp) with its 95 % interval band over seeds when
    the table has one (`*_low`, `*_high`)."""
    left, right = axes
    for who, color, name in (("china", CHINA_COLOR, "China"), ("us", US_COLOR, "US")):
        col = f"{who}_trade_share"
        left.plot(region["year"], region[f"{col}_a_pct"], color=color, ls="--",
                  label=f"{name}, {labels[0]}")
        left.plot(region["year"], region[f"{col}_b_pct"], color=color, ls="-",
                  label=f"{name}, {labels[1]}")
        change = f"{col}_change_pp"
        right.plot(region["year"], region[change], color=color, label=f"{name} share of trade")
        if f"{change}_low" in region:
            right.fill_between(region["year"], region[f"{change}_low"],
                               region[f"{change}_high"], color=color, alpha=0.2, lw=0,
                               label="95 % interval over seeds")
    left.set_ylabel("% of Latin America & Caribbean trade")
    right.set_ylabel(f"{labels[1]} − {labels[0]} (percentage points)")
    right.axhline(0, color="k", lw=0.8)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        whole_years(ax)
    return left, right


def change_bars(change: pd.Series, title: str, ax: Axes | None = None,
                low: pd.Series | None = None, high: pd.Series | None = None) -> Axes:
    """Horizontal bars of a per-country change (percentage points), sorted; with ``low`` and
    ``high`` (same index), error bars of its interval."""
    ax = ax or plt.gca()
    change = change.sort_values()
    colors = [US_COLOR if v < 0 else CHINA_COLOR for v in change]
    xerr = None
    if low is not None and high is not None:
        xerr = np.vstack([(change - low.loc[change.index]).clip(lower=0).to_numpy(),
                          (high.loc[change.index] - change).clip(lower=0).to_numpy()])
    ax.barh(change.index, change.to_numpy(), color=colors, xerr=xerr,
            error_kw={"ecolor": "0.3", "lw": 0.8, "capsize": 1.5})
    ax.axvline(0, color="k", lw=0.8)
    ax.set_title(title)
    ax.set_xlabel("percentage points" + (" (bars: 95 % interval over seeds)"
                                         if xerr is not None else ""))
    ax.tick_params(axis="y", labelsize=7)
    return ax


def decomposition_bars(parts: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """A Shapley decomposition table (`decomposition.csv`): each policy's part of B − A (pp),
    one group of bars per outcome, with 95 % interval error bars; the total last."""
    ax = ax or plt.gca()
    outcomes = list(dict.fromkeys(parts["outcome"]))
    policies = list(dict.fromkeys(parts["policy"]))
    width = 0.8 / len(outcomes)
    y = np.arange(len(policies))
    for k, (outcome, color) in enumerate(zip(outcomes, (CHINA_COLOR, US_COLOR, "0.5", "0.7"),
                                             strict=False)):
        rows = parts[parts["outcome"] == outcome].set_index("policy").reindex(policies)
        err = np.vstack([(rows["mean"] - rows["ci_low"]).fillna(0).clip(lower=0),
                         (rows["ci_high"] - rows["mean"]).fillna(0).clip(lower=0)])
        ax.barh(y + k * width, rows["mean"], height=width, color=color, xerr=err,
                error_kw={"ecolor": "0.2", "lw": 0.8, "capsize": 2},
                label=outcome.removesuffix("_pp").replace("_", " ") + " (pp)")
    ax.set_yticks(y + width * (len(outcomes) - 1) / 2, policies)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("part of B − A in the final year (percentage points; bars: 95 % interval)")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8)
    return ax


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Save a figure as PNG (tight layout) and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def backtest_scatter(table: pd.DataFrame, indicator: str, ax: Axes | None = None) -> Axes:
    """Simulated (filled) and persistence (2012, hollow) shares against observed 2023, in %,
    for one indicator of a back-test skill table, with the 45° line (a perfect forecast)."""
    ax = ax or plt.gca()
    rows = table[table["indicator"] == indicator]
    observed = 100 * rows["observed_2023"]
    color = CHINA_COLOR if indicator.startswith("china") else US_COLOR
    top = max(1.0, float(np.nanmax(100 * rows[["observed_2012", "observed_2023",
                                                  "simulated_2023"]].to_numpy(), initial=0)))
    ax.plot([0, top * 1.05], [0, top * 1.05], color="0.5", lw=1, ls="--", label="45°")
    ax.scatter(observed, 100 * rows["observed_2012"], facecolors="none", edgecolors="0.4",
               s=28, label="persistence (2012)")
    ax.scatter(observed, 100 * rows["simulated_2023"], color=color, s=28, label="simulated")
    for code, x, y in zip(rows["iso3"], observed, 100 * rows["simulated_2023"], strict=True):
        ax.annotate(code, (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel("observed 2023 (%)")
    ax.set_ylabel("forecast for 2023 (%)")
    ax.set_title(indicator.replace("_", " "))
    ax.grid(alpha=0.3)
    return ax


def backtest_figure(table: pd.DataFrame, path: Path) -> Path:
    """The four indicators' back-test scatters in one PNG."""
    indicators = list(dict.fromkeys(table["indicator"]))
    fig, axes = plt.subplots(2, 2, figsize=(10, 9))
    for ax, indicator in zip(axes.flat, indicators, strict=False):
        backtest_scatter(table, indicator, ax)
    axes.flat[0].legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)
