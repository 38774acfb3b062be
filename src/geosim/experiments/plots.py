"""Figures of a sweep's results: outcome distributions, sensitivity bars, tornado, fan, PRIM.

Each function takes data and an optional `ax` and returns the axis (matplotlib OO API, no pyplot).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

CHINA_COLOR = "#c0392b"
ACCENT_COLOR = "#1f4e9c"
BAND_COLOR = "#7f8c8d"


def new_axes(width: float = 6.4, height: float = 4.0) -> Axes:
    """A fresh axis on its own figure (no global pyplot state)."""
    return Figure(figsize=(width, height), layout="constrained").add_subplot()


def save(ax: Axes, path: Path, dpi: int = 120) -> Path:
    """Save the axis's figure atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    ax.figure.savefig(tmp, dpi=dpi)
    tmp.replace(path)
    return path


def distribution(values: pd.Series, ax: Axes | None = None, bins: int = 30) -> Axes:
    """Histogram of one outcome across runs, with its median and 5-95 % interval."""
    ax = ax or new_axes()
    v = pd.Series(values).dropna()
    ax.hist(v, bins=bins, color=ACCENT_COLOR, alpha=0.75)
    if len(v):
        lo, med, hi = np.quantile(v, [0.05, 0.5, 0.95])
        ax.axvline(med, color="black", lw=1.5, label=f"median {med:.4g}")
        ax.axvspan(lo, hi, color=BAND_COLOR, alpha=0.15, label="5-95 %")
        ax.legend(fontsize=7, frameon=False)
    ax.set_title(str(values.name or ""), fontsize=9)
    ax.set_ylabel("runs")
    return ax


def indices(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Ranked sensitivity indices of one outcome as horizontal bars with confidence intervals.

    Args:
        table: rows per parameter with `S1, S1_conf, ST, ST_conf` (Sobol) or `mu_star,
            mu_star_conf` (Morris), as returned by `analysis.sensitivity`.
        ax: where to draw.
    """
    ax = ax or new_axes(6.4, 0.5 + 0.4 * len(table))
    if "ST" in table:
        t = table.sort_values("ST")
        y = np.arange(len(t))
        ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], color=ACCENT_COLOR, label="total (ST)")
        ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], color=CHINA_COLOR, alpha=0.8,
                label="first order (S1)")
        ax.set_xlabel("Sobol index (share of output variance)")
    else:
        t = table.sort_values("mu_star")
        y = np.arange(len(t))
        ax.barh(y, t["mu_star"], xerr=t["mu_star_conf"], color=ACCENT_COLOR, label="μ*")
        ax.plot(t["sigma"], y, "o", color=CHINA_COLOR, label="σ (interactions)")
        ax.set_xlabel("Morris elementary effect (per unit of the input's range)")
    ax.set_yticks(y, t["parameter"], fontsize=8)
    ax.axvline(0, color="black", lw=0.5)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return ax


def tornado(effects: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Tornado chart: the outcome's mean at each parameter's lowest and highest values.

    Args:
        effects: rows per parameter with `low_mean, high_mean, low_label, high_label` and the
            overall mean in `effects.attrs["mean"]`, as returned by `analysis.main_effects`.
        ax: where to draw.
    """
    ax = ax or new_axes(6.4, 0.6 + 0.4 * len(effects))
    base = effects.attrs.get("mean", 0.0)
    t = effects.assign(swing=(effects["high_mean"] - effects["low_mean"]).abs())
    t = t.sort_values("swing")
    y = np.arange(len(t))
    ax.barh(y, t["low_mean"] - base, left=base, color=ACCENT_COLOR, label="lowest values")
    ax.barh(y, t["high_mean"] - base, left=base, color=CHINA_COLOR, alpha=0.8,
            label="highest values")
    labels = [f"{p} ({lo} → {hi})" for p, lo, hi in
              zip(t["parameter"], t["low_label"], t["high_label"], strict=True)]
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(base, color="black", lw=0.8)
    ax.set_xlabel("mean outcome")
    ax.legend(fontsize=7, frameon=False)
    return ax


def fan(series: pd.DataFrame, ax: Axes | None = None, scale: float = 100.0,
        color: str = CHINA_COLOR) -> Axes:
    """Fan chart of a yearly path across runs: median, 25-75 % and 5-95 % bands.

    Args:
        series: long table with `run_id, year, value` (one series).
        ax: where to draw.
        scale: multiply values (100: shares as percent).
        color: of the median and bands.
    """
    ax = ax or new_axes()
    q = series.groupby("year")["value"].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack() * scale
    ax.fill_between(q.index, q[0.05], q[0.95], color=color, alpha=0.15, lw=0, label="5-95 %")
    ax.fill_between(q.index, q[0.25], q[0.75], color=color, alpha=0.3, lw=0, label="25-75 %")
    ax.plot(q.index, q[0.5], color=color, lw=2, label="median")
    ax.set_xlabel("year")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no 2022.5
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return ax


def prim_trajectory(trajectory: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """PRIM peeling trajectory: density against coverage, the chosen box marked."""
    ax = ax or new_axes(4.8, 4.0)
    ax.plot(trajectory["coverage"], trajectory["density"], "o-", color=ACCENT_COLOR, ms=3)
    chosen = trajectory[trajectory["chosen"]]
    ax.plot(chosen["coverage"], chosen["density"], "o", color=CHINA_COLOR, ms=8, label="box")
    ax.set_xlabel("coverage (share of cases of interest inside)")
    ax.set_ylabel("density (share of runs inside that are of interest)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return ax
