"""Analysis of a finished (or running) sweep, from its saved results only.

Owns summaries, Sobol / Morris indices (SALib), main effects, PRIM scenario discovery, and
`analyze(DIR)`, which writes the tables (CSV) and figures (PNG) under `DIR/analysis/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from geosim.experiments import plots
from geosim.experiments.spec import SweepError
from geosim.experiments.store import Ledger
from geosim.results import atomic_dir

QUANTILES = (0.05, 0.5, 0.95)


@dataclass
class Analysis:
    """What `analyze` computed and wrote."""

    directory: Path
    summary: pd.DataFrame
    by_sample: pd.DataFrame
    sensitivity: pd.DataFrame | None
    effects: pd.DataFrame
    prim: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    robustness: pd.DataFrame | None = None  # per lever setting, across the worlds


# --------------------------------------------------------------------------- summaries


# Units of outcomes in every table, figure and target of an analysis: (scale from the stored
# value, unit, the suffix a wide table's column gets).
SUFFIX = {"pp": "pp", "%": "pct", "index (start = 100)": "index", "index points": "index_pts",
          "bn USD": "bn_usd", "% of GDP": "pct_gdp", "pp of GDP": "pp_gdp",
          "countries": "countries", "HHI (0-1)": "hhi", "": ""}


def outcome_units(meta: dict) -> dict[str, tuple[float, str]]:
    """(scale, unit) of each outcome in an analysis: a share x100 in '%', a difference of shares
    (`change`, `vs_reference`) in 'pp'; `pct_change` in '%'; indices x100 (start = 100) and
    their differences in index points; trade values in bn USD."""
    units = {}
    for o in meta.get("design", {}).get("outcomes", []):
        metric = o["metric"]
        change = o["reduce"] == "change" or bool(o.get("vs_reference"))
        if o["reduce"] == "pct_change":
            units[o["name"]] = (1.0, "%")
        elif "share" in metric:
            units[o["name"]] = (100.0, "pp" if change else "%")
        elif metric == "china_debt_gdp":
            units[o["name"]] = (100.0, "pp of GDP" if change else "% of GDP")
        elif metric.endswith("_index"):
            units[o["name"]] = (100.0, "index points" if change else "index (start = 100)")
        elif metric in ("intra_americas_trade", "trade_with_china", "gdp"):
            units[o["name"]] = (1e-9, "bn USD")
        elif metric.startswith("n_top_partner"):
            units[o["name"]] = (1.0, "countries")
        elif metric.startswith("partner_hhi"):
            units[o["name"]] = (1.0, "HHI (0-1)")
        else:
            units[o["name"]] = (1.0, "")
    return units


def in_units(runs: pd.DataFrame, units: dict[str, tuple[float, str]]) -> pd.DataFrame:
    """A copy of the runs with each outcome scaled to its unit (`outcome_units`)."""
    runs = runs.copy()
    for name, (scale, _) in units.items():
        if name in runs and scale != 1.0:
            runs[name] = runs[name] * scale
    return runs


def with_unit(name: str, units: dict[str, tuple[float, str]]) -> str:
    """An outcome's name with its unit, for axes and titles: 'china_share (pp)'."""
    unit = units.get(name, (1.0, ""))[1]
    return f"{name} ({unit})" if unit else name


def summary(runs: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Per outcome, across finished runs: n, mean, sd, median, 5-95 % interval, and the seed
    noise: `replicate_sd`, the mean over samples of the standard deviation across replicates."""
    done = runs[runs["status"] == "done"]
    rows = []
    for name in outcomes:
        v = done[name].dropna()
        within = done.groupby("sample_id")[name].std(ddof=1)
        q = np.quantile(v, QUANTILES) if len(v) else [np.nan] * 3
        rows.append({"outcome": name, "runs": len(v), "failed": int((runs["status"] != "done")
                     .sum()), "mean": v.mean(), "sd": v.std(ddof=1), "median": q[1],
                     "p05": q[0], "p95": q[2], "min": v.min(), "max": v.max(),
                     "replicate_sd": within.mean() if within.notna().any() else np.nan})
    return pd.DataFrame(rows)


def by_sample(runs: pd.DataFrame, parameters: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Per sample: its parameter values and, per outcome, mean, sd, p05, p95 across replicates."""
    done = runs[runs["status"] == "done"]
    g = done.groupby("sample_id")
    stats = g[outcomes].agg(["mean", "std", lambda s: s.quantile(0.05),
                              lambda s: s.quantile(0.95)])
    stats.columns = [f"{o}_{s}" for o in outcomes for s in ("mean", "sd", "p05", "p95")]
    first = g[parameters].first()
    return first.join(g.size().rename("replicates")).join(stats).reset_index()


def sample_means(runs: pd.DataFrame, outcomes: list[str], n_samples: int) -> pd.DataFrame:
    """Outcomes averaged over replicates, one row per sample id 0..n-1 (NaN where none is done)."""
    done = runs[runs["status"] == "done"]
    return done.groupby("sample_id")[outcomes].mean().reindex(range(n_samples))


# --------------------------------------------------------------------------- sensitivity


def salib_problem(names: list[str]) -> dict[str, Any]:
    """The SALib problem of a sweep: every input on [0, 1] (samplers map through inverse CDFs)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


# Seed of the bootstrap intervals (SALib seeds only when the seed is truthy: 0 would leave the
# intervals to chance, so the same runs would give other intervals on every analysis).
BOOTSTRAP_SEED = 20250101


def sobol(names: list[str], y: np.ndarray, *, calc_second_order: bool = True,
          num_resamples: int = 200, seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Sobol first-order and total indices with 95 % bootstrap intervals (SALib `sobol.analyze`).

    Args:
        names: the inputs, in design order.
        y: outputs in the Saltelli design's row order (N(2D+2), or N(D+2) without S2).
        calc_second_order: as sampled.
        num_resamples, seed: the bootstrap of the confidence intervals.
    """
    from SALib.analyze import sobol as salib_sobol

    res = salib_sobol.analyze(salib_problem(names), np.asarray(y, dtype=float),
                              calc_second_order=calc_second_order, num_resamples=num_resamples,
                              seed=seed)
    return pd.DataFrame({"parameter": names, "S1": res["S1"], "S1_conf": res["S1_conf"],
                         "ST": res["ST"], "ST_conf": res["ST_conf"]})


def morris(names: list[str], x: np.ndarray, y: np.ndarray, *, num_levels: int = 4,
           num_resamples: int = 200, seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Morris μ, μ* (with its 95 % interval) and σ, inputs scaled to [0, 1] (SALib `morris`)."""
    from SALib.analyze import morris as salib_morris

    res = salib_morris.analyze(salib_problem(names), np.asarray(x, dtype=float),
                               np.asarray(y, dtype=float), num_levels=num_levels,
                               num_resamples=num_resamples, seed=seed)
    return pd.DataFrame({"parameter": names, "mu": res["mu"], "mu_star": res["mu_star"],
                         "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"]})


def sensitivity(meta: dict[str, Any], unit: np.ndarray | None, runs: pd.DataFrame
                ) -> tuple[pd.DataFrame | None, list[str]]:
    """Ranked sensitivity indices of every outcome for a `sobol` or `morris` sweep.

    Replicates are averaged per sample first. Returns (table or None, notes on what was skipped).
    """
    sampler, names = meta["sampler"], meta["parameters"]
    if sampler not in ("sobol", "morris"):
        return None, [f"no sensitivity indices for a {sampler} sweep (main effects only)"]
    options = meta["design"].get("options", {})
    means = sample_means(runs, meta["outcomes"], meta["n_samples"])
    tables, notes = [], []
    for outcome in meta["outcomes"]:
        y = means[outcome].to_numpy()
        missing = int(np.isnan(y).sum())
        if missing:
            notes.append(f"{outcome}: {missing} of {len(y)} samples have no finished run; "
                         "indices skipped (resume the sweep to complete it)")
            continue
        if np.ptp(y) == 0:
            notes.append(f"{outcome}: constant across samples; indices skipped")
            continue
        if sampler == "sobol":
            t = sobol(names, y, calc_second_order=options.get("calc_second_order", True))
            t = t.assign(rank=t["ST"].rank(ascending=False, method="first").astype(int))
        else:
            t = morris(names, unit, y, num_levels=options.get("num_levels", 4))
            t = t.assign(rank=t["mu_star"].rank(ascending=False, method="first").astype(int))
        tables.append(t.assign(outcome=outcome, method=sampler).sort_values("rank"))
    if not tables:
        return None, notes
    table = pd.concat(tables, ignore_index=True)
    lead = ["outcome", "method", "rank", "parameter"]
    return table[lead + [c for c in table.columns if c not in lead]], notes


def main_effects(runs: pd.DataFrame, parameters: list[str], outcome: str,
                 bins: int = 5) -> pd.DataFrame:
    """Mean outcome at each parameter's lowest and highest values (a tornado's bars).

    Numeric parameters with more than `bins` distinct values are cut into `bins` quantile bins;
    for categorical levels, the levels with the lowest and highest mean are shown.
    """
    done = runs[runs["status"] == "done"]
    rows = []
    for p in parameters:
        x = done[p]
        numeric = pd.api.types.is_numeric_dtype(x)
        if numeric and x.nunique() > bins:
            group = pd.qcut(x.rank(method="first"), bins, labels=False)
            m = done.groupby(group)[outcome].mean()
            edges = x.groupby(group).agg(["min", "max"])
            lo, hi = m.index.min(), m.index.max()
            low_label, high_label = f"≤{edges.loc[lo, 'max']:.4g}", f"≥{edges.loc[hi, 'min']:.4g}"
            low, high = m.loc[lo], m.loc[hi]
        else:
            m = done.groupby(x.astype(str) if not numeric else x)[outcome].mean()
            if numeric:
                low_label, high_label = m.index.min(), m.index.max()
            else:
                low_label, high_label = m.idxmin(), m.idxmax()
            low, high = m.loc[low_label], m.loc[high_label]
        rows.append({"outcome": outcome, "parameter": p, "low_label": low_label,
                     "high_label": high_label, "low_mean": low, "high_mean": high,
                     "swing": abs(high - low)})
    table = pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)
    table.attrs["mean"] = float(done[outcome].mean())
    return table


def robustness(runs: pd.DataFrame, levers: list[str], outcomes: list[str], n_samples: int,
               n_settings: int) -> pd.DataFrame:
    """Each lever setting across the worlds (the parameters' samples × seeds): mean, sd, p05,
    median, p95, min and max of every outcome, and how often the setting gives the lowest and
    the highest value among the settings in the same world and seed (`share_lowest`,
    `share_highest`, over worlds where every setting finished)."""
    done = runs[runs["status"] == "done"].copy()
    done["setting"] = done[levers].astype(str).apply(
        lambda row: ", ".join(f"{k}={v}" for k, v in row.items()), axis=1)
    done["world"] = done["sample_id"] % (n_samples // n_settings)
    rows = []
    for outcome in outcomes:
        grid = done.pivot_table(index=["world", "replicate"], columns="setting", values=outcome,
                                aggfunc="first").dropna()
        lowest = grid.idxmin(axis=1).value_counts() / max(len(grid), 1)
        highest = grid.idxmax(axis=1).value_counts() / max(len(grid), 1)
        for setting, values in done.groupby("setting", sort=False)[outcome]:
            rows.append({"outcome": outcome, "setting": setting, "worlds": int(values.count()),
                         "mean": values.mean(), "sd": values.std(),
                         "p05": values.quantile(0.05), "median": values.median(),
                         "p95": values.quantile(0.95), "min": values.min(),
                         "max": values.max(), "share_lowest": float(lowest.get(setting, 0.0)),
                         "share_highest": float(highest.get(setting, 0.0))})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- scenario discovery


def prim(x: pd.DataFrame, interesting: np.ndarray, *, alpha: float = 0.05,
         min_mass: float = 0.05, min_coverage: float = 0.5, tolerance: float | None = None,
         pick: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PRIM (Friedman & Fisher 1999): peel a box of inputs where cases of interest are dense.

    Each step removes the `alpha` tail of one numeric input (or one level of a categorical
    input) that most raises the density of interesting cases inside, until the box holds less
    than `min_mass` of the runs or no peel helps. The chosen box is the densest one on the
    trajectory that still covers `min_coverage` of the interesting cases; restrictions whose
    removal costs less than `tolerance` density (default: two standard errors of the relaxed
    box's density) are then dropped, pruning peels that chance made look useful.

    Args:
        x: inputs, one row per run.
        interesting: boolean per run.
        alpha, min_mass, min_coverage, tolerance: see above.
        pick: a step of the peeling trajectory to report instead (0 = the whole space), as
            peeled (not pruned), as EMA Workbench's `inspect`/`select` let one choose; a step
            beyond the trajectory is a `SweepError` naming its length.

    Returns:
        (box: parameter, low, high, full range, levels for the restricted inputs, with
        `attrs` coverage, density, mass; trajectory: step, coverage, density, mass, chosen).
    """
    y = np.asarray(interesting, dtype=bool)
    n, total = len(y), max(int(y.sum()), 1)
    cols = {c: x[c].to_numpy() for c in x}
    numeric = {c: pd.api.types.is_numeric_dtype(x[c]) for c in x}

    def stats(mask: np.ndarray) -> dict[str, float]:
        k = mask.sum()
        return {"coverage": y[mask].sum() / total, "density": y[mask].mean() if k else 0.0,
                "mass": k / n}

    inside = np.ones(n, dtype=bool)
    boxes, steps = [inside], [stats(inside)]
    while True:
        best, best_density = None, steps[-1]["density"]
        for c, v in cols.items():
            vin = v[inside]
            if numeric[c]:
                lo, hi = np.quantile(vin, alpha), np.quantile(vin, 1 - alpha)
                cuts = [v < lo if (vin < lo).any() else v == vin.min(),
                        v > hi if (vin > hi).any() else v == vin.max()]
            else:
                levels = pd.unique(vin)
                cuts = [v == lev for lev in levels] if len(levels) > 1 else []
            for cut in cuts:
                trial = inside & ~cut
                k = trial.sum()
                if k < max(min_mass * n, 1) or k == inside.sum():
                    continue
                if (d := y[trial].mean()) > best_density:
                    best, best_density = trial, d
        if best is None:
            break
        inside = best
        boxes.append(inside)
        steps.append(stats(inside))
    trajectory = pd.DataFrame(steps).rename_axis("step")
    chosen_by_user = pick is not None
    if pick is None:
        ok = trajectory["coverage"] >= min_coverage
        pick = int(trajectory[ok]["density"].idxmax()) if ok.any() else 0
    elif not 0 <= pick < len(trajectory):
        raise SweepError(f"--prim-box {pick}: the peeling trajectory has steps 0 to "
                         f"{len(trajectory) - 1} (see prim_trajectory.csv)")
    trajectory["chosen"] = trajectory.index == pick

    # The box as limits per input, then pruned of restrictions that barely matter.
    chosen = boxes[pick]
    limits = {c: (v[chosen].min(), v[chosen].max()) if numeric[c] else set(v[chosen])
              for c, v in cols.items()}

    def within(c: str) -> np.ndarray:
        v, lim = cols[c], limits[c]
        return (v >= lim[0]) & (v <= lim[1]) if numeric[c] else np.isin(v, list(lim))

    def restricted(c: str) -> bool:
        v = cols[c]
        return (limits[c] != (v.min(), v.max())) if numeric[c] else len(limits[c]) < len(set(v))

    def box_mask() -> np.ndarray:
        return np.logical_and.reduce([within(c) for c in cols]) if cols else np.ones(n, bool)

    density = stats(box_mask())["density"]
    # A step the user chose is reported as peeled; the default choice is pruned.
    for c in [c for c in cols if restricted(c) and not chosen_by_user]:
        kept = limits[c]
        v = cols[c]
        limits[c] = (v.min(), v.max()) if numeric[c] else set(v)
        mask = box_mask()
        relaxed = stats(mask)["density"]
        tol = tolerance if tolerance is not None else \
            2 * np.sqrt(relaxed * (1 - relaxed) / max(mask.sum(), 1))
        if relaxed < density - tol:
            limits[c] = kept
        else:
            density = relaxed
    rows = []
    for c, v in cols.items():
        if restricted(c):
            num = numeric[c]
            rows.append({"parameter": c, "low": limits[c][0] if num else np.nan,
                         "high": limits[c][1] if num else np.nan,
                         "full_low": v.min() if num else np.nan,
                         "full_high": v.max() if num else np.nan,
                         "levels": "" if num else " | ".join(sorted(map(str, limits[c])))})
    box = pd.DataFrame(rows, columns=["parameter", "low", "high", "full_low", "full_high",
                                      "levels"])
    box.attrs.update(stats(box_mask()))
    return box, trajectory.reset_index()


def parse_target(target: str, outcomes: list[str]) -> tuple[str, str, float]:
    """Parse `OUTCOME<VALUE` or `OUTCOME>VALUE`."""
    m = re.fullmatch(r"\s*(.+?)\s*([<>])\s*([-+0-9.eE]+)\s*", target or "")
    if not m or m.group(1) not in outcomes:
        raise SweepError(f"--target {target!r}: expected OUTCOME<VALUE or OUTCOME>VALUE with an "
                         f"outcome of this sweep ({', '.join(outcomes)})")
    return m.group(1), m.group(2), float(m.group(3))


def default_target(meta: dict[str, Any], runs: pd.DataFrame) -> str | None:
    """The region's China share (final, else any reduction) below its median across runs."""
    outcomes = meta["outcomes"]
    design = {o["name"]: o for o in meta["design"]["outcomes"]}
    pick = [o for o in outcomes if design[o]["of"] == "region"
            and design[o]["metric"] == "china_trade_share"]
    pick.sort(key=lambda o: design[o]["reduce"] != "final")
    if not pick:
        return None
    med = runs.loc[runs["status"] == "done", pick[0]].median()
    return None if pd.isna(med) else f"{pick[0]}<{med:.6g}"


# --------------------------------------------------------------------------- the whole analysis


def analyze(directory: str | Path, *, target: str | None = None, figures: bool = True,
            out: str | Path | None = None, prim_box: int | None = None) -> Analysis:
    """Analyse a sweep directory and write CSV tables and PNG figures under `DIR/analysis/`.

    Every outcome is in its unit (`outcome_units`: shares in %, their differences in pp) in
    every table, figure and target; tables carry a `unit` column (wide ones a suffix).

    Args:
        directory: the sweep's output directory.
        target: scenario-discovery target `OUTCOME<VALUE` in the outcome's unit (default: the
            region's China share below its median); "none" to skip PRIM. A value outside the
            outcome's range across runs (selecting all or none of them) is a `SweepError`.
        figures: write PNG figures too.
        out: the analysis folder (default `DIR/analysis`), replaced whole if it is one.
        prim_box: the step of PRIM's peeling trajectory to report (default: the densest box
            covering half of the cases of interest).

    Returns:
        An `Analysis` with the tables, notes and the files written.
    """
    directory = Path(directory)
    with Ledger.open(directory) as ledger:
        meta = ledger.meta()
        if not meta:
            raise SweepError(f"{directory}: the ledger holds no sweep")
        _, _, unit = ledger.samples()
        runs = ledger.frame()
        series = ledger.series_frame() if meta.get("series") else None
    params, outcomes = meta["parameters"], meta["outcomes"]
    units = outcome_units(meta)
    runs = in_units(runs, units)
    done = runs[runs["status"] == "done"]
    if done.empty:
        raise SweepError(f"{directory}: no finished run to analyse yet")
    res = Analysis(directory, _unit_column(summary(runs, outcomes), units),
                   _suffixed(by_sample(runs, params, outcomes), units), None, pd.DataFrame(),
                   None)
    res.sensitivity, res.notes = sensitivity(meta, unit, runs)
    if res.sensitivity is not None:
        res.sensitivity = _unit_column(res.sensitivity, units)
    effects = {o: main_effects(runs, params, o) for o in outcomes}
    res.effects = _unit_column(pd.concat(effects.values(), ignore_index=True), units)
    if levers := meta.get("levers"):
        res.robustness = _unit_column(robustness(runs, levers, outcomes, meta["n_samples"],
                                                 meta["n_settings"]), units)
    if target != "none":
        target = target or default_target(meta, runs)
    if target and target != "none":
        name, op, value = parse_target(target, outcomes)
        check_target(name, op, value, done[name], units)
        y = (done[name] < value) if op == "<" else (done[name] > value)
        box, trajectory = prim(done[params], y.to_numpy(), pick=prim_box)
        res.prim = {"target": f"{name}{op}{value:g}", "unit": units.get(name, (1, ""))[1],
                    "box": box, "trajectory": trajectory, **box.attrs,
                    "base_density": float(y.mean())}
    final = Path(out) if out is not None else directory / "analysis"
    if final.resolve() == directory.resolve():
        raise SweepError(f"--out {final}: that is the sweep's own folder; give a new folder "
                         "(e.g. its analysis_gamma/)")
    with atomic_dir(final, "analysis") as tmp:
        _write(res, tmp, done, outcomes, effects, series, figures, units)
    res.files[:] = [final / p.relative_to(tmp) for p in res.files]
    res.directory = final
    return res


def check_target(name: str, op: str, value: float, values: pd.Series,
                 units: dict[str, tuple[float, str]]) -> None:
    """A target that selects none or all of the finished runs is an error naming the range."""
    lo, hi = float(values.min()), float(values.max())
    empty = value <= lo if op == "<" else value >= hi
    full = value > hi if op == "<" else value < lo
    if empty or full:
        unit = units.get(name, (1.0, ""))[1]
        raise SweepError(
            f"--target {name}{op}{value:g}: {name} ranges from {lo:.4g} to {hi:.4g}"
            f"{' ' + unit if unit else ''} across the {len(values)} finished runs, so the "
            f"target selects {'none' if empty else 'all'} of them; give a value inside that "
            "range, in the outcome's unit" + (" (shares in %, their differences in pp)"
                                               if unit in ("%", "pp") else ""))


def _unit_column(table: pd.DataFrame, units: dict[str, tuple[float, str]]) -> pd.DataFrame:
    table = table.copy()
    table.insert(table.columns.get_loc("outcome") + 1, "unit",
                 table["outcome"].map(lambda o: units.get(o, (1.0, ""))[1]))
    return table


def _suffixed(table: pd.DataFrame, units: dict[str, tuple[float, str]]) -> pd.DataFrame:
    """`by_sample`'s outcome columns (`<outcome>_<stat>`) named with their unit's suffix."""
    names = {}
    for name, (_, unit) in units.items():
        for stat in ("mean", "sd", "p05", "p95"):
            if f"{name}_{stat}" in table and SUFFIX.get(unit):
                names[f"{name}_{stat}"] = f"{name}_{stat}_{SUFFIX[unit]}"
    return table.rename(columns=names)


def _write(res: Analysis, out: Path, done: pd.DataFrame, outcomes: list[str],
           effects: dict[str, pd.DataFrame], series: pd.DataFrame | None, figures: bool,
           units: dict[str, tuple[float, str]]) -> None:
    files = res.files
    files.append(_csv(res.summary, out / "summary.csv"))
    files.append(_csv(res.by_sample, out / "by_sample.csv"))
    files.append(_csv(res.effects, out / "main_effects.csv"))
    if res.robustness is not None:
        files.append(_csv(res.robustness, out / "robustness.csv"))
    if res.sensitivity is not None:
        files.append(_csv(res.sensitivity, out / "sensitivity.csv"))
    if res.prim:
        box = res.prim["box"].assign(target=res.prim["target"], target_unit=res.prim["unit"],
                                     coverage=res.prim["coverage"],
                                     density=res.prim["density"], mass=res.prim["mass"])
        files.append(_csv(box, out / "prim_box.csv"))
        files.append(_csv(res.prim["trajectory"], out / "prim_trajectory.csv"))
    if figures:
        files.extend(_figures(out, done, outcomes, res, effects, series, units))


def _figures(out: Path, done: pd.DataFrame, outcomes: list[str], res: Analysis,
             effects: dict[str, pd.DataFrame], series: pd.DataFrame | None,
             units: dict[str, tuple[float, str]]) -> list[Path]:
    files = []
    cols = min(3, len(outcomes))
    rows = -(-len(outcomes) // cols)
    fig = Figure(figsize=(4 * cols, 3 * rows), layout="constrained")
    for i, name in enumerate(outcomes):
        ax = plots.distribution(done[name], ax=fig.add_subplot(rows, cols, i + 1))
        ax.set_xlabel(with_unit(name, units), fontsize=8)
    files.append(plots.save(fig.axes[0], out / "distributions.png"))
    for name in outcomes:
        ax = plots.tornado(effects[name])
        ax.set_title(f"main effects on {name}", fontsize=9)
        ax.set_xlabel(f"mean {with_unit(name, units)}", fontsize=8)
        files.append(plots.save(ax, out / f"tornado_{_slug(name)}.png"))
        if res.sensitivity is not None and name in set(res.sensitivity["outcome"]):
            rows = res.sensitivity[res.sensitivity["outcome"] == name]
            ax = plots.indices(rows)
            ax.set_title(f"sensitivity of {with_unit(name, units)}", fontsize=9)
            if rows["method"].iloc[0] == "morris":
                unit = units.get(name, (1.0, ""))[1] or "outcome units"
                ax.set_xlabel(f"Morris μ* ({unit} per the input's whole range)")
            files.append(plots.save(ax, out / f"sensitivity_{_slug(name)}.png"))
    if series is not None and not series.empty:
        for name, s in series.groupby("name"):
            ax = plots.fan(s, scale=100 if "share" in name else 1)
            ax.set_title(f"{name}: median and 25-75 / 5-95 % of runs", fontsize=9)
            ax.set_ylabel("% of trade" if "share" in name else name)
            files.append(plots.save(ax, out / f"fan_{_slug(name)}.png"))
    if res.prim:
        ax = plots.prim_trajectory(res.prim["trajectory"])
        unit = f" ({res.prim['unit']})" if res.prim["unit"] else ""
        ax.set_title(f"PRIM: {res.prim['target']}{unit}", fontsize=9)
        files.append(plots.save(ax, out / "prim.png"))
    return files


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)
    return path


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
