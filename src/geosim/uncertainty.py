"""B minus A under the model's own uncertainty: every uncertain parameter drawn from its
distribution, A and B run with the same draws and the same seeds, the effect's distribution and
its attribution to the parameters (`geosim compare A B --draws N`).

Distributions (`distributions`): a parameter with a standard error (`Parameter.se`: its default
is an estimate) is Normal(default, se) truncated to its hard limits (σ > 1, non-negative
elasticities, ...); every other uncertain parameter is uniform over its documented range
[low, high]. Not drawn (`NOT_DRAWN`): the investors' yearly budgets, which scenarios set and
change, the choice of engine, of published elasticities and of the sector engine's nesting, its
commodity-price driver and that driver's elasticity, and any parameter the caller fixes (`--param`).

Design (`design`): N draws on a scrambled Latin hypercube (`scipy.stats.qmc`), each draw with
its own seed from the root `SeedSequence` (`experiments.samplers.run_seed`), so the effect's
spread is over parameters and seeds together. Attribution (`attribution`): first-order Sobol
indices S1 (the share of the effect's variance each parameter explains alone) estimated from
those draws by RBD-FAST (SALib `rbd_fast`, Tarantola et al. 2006; Plischke 2010), valid for
independent inputs on any sample; 1 − ΣS1 is interactions and seed noise. With N ≥
`SALTELLI_MIN_BASE`·(D + 2) draws the design is Saltelli's instead (SALib, first-order and total
indices S1 and ST from N' = the largest power of two with N'(D + 2) ≤ N).

Runs go through the sweep engines (`experiments.sweep.run_batch`: local worker processes or a
Dask cluster): each draw is one run of B with A as its reference, same parameters, same seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geosim import metrics
from geosim.experiments.evaluate import Context
from geosim.experiments.samplers import block_size, run_seed
from geosim.experiments.spec import OutcomeSpec, ParameterSpec
from geosim.experiments.sweep import run_batch
from geosim.parameters import PARAMETERS, hard_limits
from geosim.scenario import Scenario, ScenarioError

# Parameters not drawn, and why (docs/experiments.md repeats this list).
NOT_DRAWN = {
    name: "a yearly budget: a level scenarios set and change (the pivot multiplies China's "
          "lending); its range spans policy choices (0-40 bn is the 2010 peak), not the "
          "uncertainty of a measured quantity"
    for name in ("china_lending_bn", "china_fdi_bn", "us_public_bn", "us_private_bn",
                 "eu_private_bn")
} | {
    "engine_sectors": "a choice of model (one sector or the world by sector), not an uncertain "
                      "quantity: compare the two with --param engine_sectors=0 and =1",
    "sector_elasticities": "a choice among published specifications, used only by the sector "
                           "engine: run the alternatives with --param",
    "import_nest": "a choice of model structure (one nest or imports nested), used only by the "
                   "sector engine: compare with --param import_nest=0.5",
    "commodity_prices": "a choice of driver (observed commodity prices on or off), used only by "
                        "the sector engine: compare with --param commodity_prices=0",
    "commodity_demand_elasticity": "used only by the sector engine, which the default one-sector "
                                   "sweeps do not run (a drawn input without effect would only "
                                   "add noise to the attribution): vary it with --param",
}
SALTELLI_MIN_BASE = 64  # base samples below which Saltelli's estimates are too noisy to report
RBD_HARMONICS = 10  # SALib's default M
# SALib's bootstrap resamples N/2 draws; its bias correction divides by 1 − 2M/(N/2), so N/2
# must be well above 2M (at N = 42 the intervals collapse to zero): N/2 ≥ 4M.
MIN_DRAWS = 8 * RBD_HARMONICS
BOOTSTRAP_SEED = 20250101  # the indices' bootstrap intervals (as `geosim analyze`)
# Region outcomes recorded per draw (final year): B's level and B − A.
METRICS = ("china_trade_share", "us_trade_share", "real_gdp_index", "trade_with_china",
           "trade_with_us", "intra_region_trade", "total_trade")
# The effect columns of the draws table, with their units (summary and CLI).
EFFECTS = {
    "china_trade_share_pp": "pp", "us_trade_share_pp": "pp", "real_gdp_pct": "%",
    "trade_with_china_pct": "%", "trade_with_us_pct": "%", "intra_region_trade_pct": "%",
    "total_trade_pct": "%", "china_share_from_china_trade_pp": "pp",
    "china_share_from_total_trade_pp": "pp",
}
ATTRIBUTED = ("china_trade_share_pp", "us_trade_share_pp")


def distributions(fixed: Sequence[str] = ()) -> list[ParameterSpec]:
    """The drawn parameters, in table order: Normal(default, se) truncated to the hard limits
    where the table gives a standard error, else uniform over [low, high] (whole numbers for
    integer parameters). ``fixed`` names parameters held at their given value instead."""
    specs = []
    for p in PARAMETERS.values():
        if p.name in NOT_DRAWN or p.name in fixed:
            continue
        if p.se:
            lo, hi = hard_limits(p.name)
            specs.append(ParameterSpec(p.name, "normal", low=None if math.isinf(lo) else lo,
                                       high=None if math.isinf(hi) else hi, mean=p.default,
                                       sd=p.se, integer=p.integer))
        else:
            specs.append(ParameterSpec(p.name, "uniform", low=p.low, high=p.high,
                                       integer=p.integer))
    return specs


@dataclass(frozen=True)
class Design:
    """The draws: unit-cube points, the parameter values they map to, their seeds, the method."""

    unit: np.ndarray
    values: list[dict[str, float]]
    seeds: list[int]
    method: str  # "lhs" (RBD-FAST S1) or "saltelli" (Sobol S1 and ST)


def design(specs: Sequence[ParameterSpec], draws: int, root: int) -> Design:
    """N draws of the parameters, deterministic in ``root`` (the design's stream is
    `SeedSequence(root)`; draw i runs with seed `run_seed(root, i, 0)`, or in a Saltelli design
    `run_seed(root, i // (D + 2), 0)`: a base row's draws share their seeds, as in sweeps)."""
    d = len(specs)
    if draws < MIN_DRAWS:
        raise ScenarioError(f"compare --draws: at least {MIN_DRAWS} draws are needed (RBD-FAST "
                            f"and the bootstrap of its intervals), got {draws}")
    rng = np.random.default_rng(np.random.SeedSequence(root))
    base = 2 ** int(math.log2(draws // (d + 2))) if draws >= SALTELLI_MIN_BASE * (d + 2) else 0
    if base:
        from SALib.sample import sobol

        problem = {"num_vars": d, "names": [s.name for s in specs], "bounds": [[0, 1]] * d}
        unit = sobol.sample(problem, base, calc_second_order=False, scramble=True,
                            seed=int(rng.integers(2**31)))
        method = "saltelli"
    else:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=d, rng=rng).random(draws)
        method = "lhs"
    columns = [s.from_unit(unit[:, j]) for j, s in enumerate(specs)]
    values = [{s.name: c[i][0] for s, c in zip(specs, columns, strict=True)}
              for i in range(len(unit))]
    block = block_size("sobol", d, second_order=False) if method == "saltelli" else 1
    return Design(unit, values, [run_seed(root, i // block, 0) for i in range(len(unit))],
                  method)


@dataclass(frozen=True)
class Draws:
    """The runs of a `--draws` comparison.

    Attributes:
        table: one row per draw: draw, seed, status, the fixed and the drawn parameters, the
            effect columns (`EFFECTS`) and A's China share (%), in design order.
        design: the design the rows follow.
        specs: the drawn parameters.
        year: the year compared (the last common year of A and B).
    """

    table: pd.DataFrame
    design: Design
    specs: list[ParameterSpec]
    year: int


def run_draws(a: Scenario, b: Scenario, draws: int, *, root: int = 1,
              parameters: Mapping[str, float] | None = None, workers: int | None = None,
              scheduler: str | None = None, quiet: bool = False) -> Draws:
    """Run B against A for N parameter draws (same draws, same seeds on both sides).

    ``parameters`` are fixed overrides on both sides (those parameters are not drawn).
    """
    fixed = dict(parameters or {})
    specs = distributions(tuple(fixed))
    d = design(specs, draws, root)
    normal = [s.name for s in specs if s.distribution == "normal"]
    year = min(a.end, b.end)
    # an estimate's draw, or a value fixed on purpose (`--param`), may leave the documented range
    sides = [s.allowing_out_of_range([*normal, *fixed]).with_overrides(fixed) for s in (a, b)]
    outcomes = tuple(OutcomeSpec(f"{m}{suffix}", m, "region", "final", suffix == "_diff")
                     for m in METRICS for suffix in ("_b", "_diff"))
    context = Context(sides[1], year, outcomes, reference=sides[0])
    results = run_batch(context, d.values, d.seeds, workers=workers, scheduler=scheduler,
                        quiet=quiet, desc=f"{b.name} vs {a.name}, {len(d.values)} draws")
    rows = []
    for i, (values, seed, r) in enumerate(zip(d.values, d.seeds, results, strict=True)):
        row = {"draw": i, "seed": seed, "status": r.status, **fixed, **values}
        if r.status == "done":
            row.update(_effects(r.outcomes))
        else:
            row["error"] = r.error
        rows.append(row)
    return Draws(pd.DataFrame(rows), d, specs, year)


def _effects(out: Mapping[str, float]) -> dict[str, float]:
    """The effect columns of one draw from B's levels and B − A."""
    b = {m: out[f"{m}_b"] for m in METRICS}
    a = {m: b[m] - out[f"{m}_diff"] for m in METRICS}
    row = {"china_trade_share_pp": 100 * out["china_trade_share_diff"],
           "us_trade_share_pp": 100 * out["us_trade_share_diff"],
           "real_gdp_pct": 100 * (b["real_gdp_index"] / a["real_gdp_index"] - 1)}
    for m in ("trade_with_china", "trade_with_us", "intra_region_trade", "total_trade"):
        row[f"{m}_pct"] = 100 * (b[m] / a[m] - 1)
    own, total = metrics.share_change_parts(a["trade_with_china"], a["total_trade"],
                                            b["trade_with_china"], b["total_trade"])
    row["china_share_from_china_trade_pp"] = 100 * float(own)
    row["china_share_from_total_trade_pp"] = 100 * float(total)
    row["china_trade_share_a_pct"] = 100 * a["china_trade_share"]
    return row


def summary(draws: Draws) -> pd.DataFrame:
    """Per effect over the finished draws: n, median, 5-95 % interval, mean, sd, P(< 0)."""
    done = draws.table[draws.table["status"] == "done"]
    rows = []
    for name, unit in EFFECTS.items():
        v = done[name].to_numpy(dtype=float) if name in done else np.array([])
        q = np.quantile(v, (0.05, 0.5, 0.95)) if len(v) else [np.nan] * 3
        rows.append({"outcome": name, "unit": unit, "n": len(v), "median": q[1], "p05": q[0],
                     "p95": q[2], "mean": v.mean() if len(v) else np.nan,
                     "sd": v.std(ddof=1) if len(v) > 1 else np.nan,
                     "p_negative": float((v < 0).mean()) if len(v) else np.nan,
                     "failed": int(len(draws.table) - len(done))})
    return pd.DataFrame(rows)


def attribution(draws: Draws, outcomes: Sequence[str] = ATTRIBUTED) -> pd.DataFrame:
    """Sobol indices of each outcome over the drawn parameters (see the module docstring):
    S1 (and ST for a Saltelli design) with 95 % bootstrap intervals, sorted by S1."""
    table, names = draws.table, [s.name for s in draws.specs]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0, 1]] * len(names)}
    frames = []
    done = (table["status"] == "done").to_numpy()
    for outcome in outcomes:
        if draws.design.method == "saltelli":
            if not done.all():
                raise ScenarioError(f"compare --draws: {int((~done).sum())} draws failed; "
                                    "Saltelli's estimates need every draw (see the error column "
                                    "of draws.csv)")
            y = table[outcome].to_numpy(dtype=float)
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=False, seed=BOOTSTRAP_SEED)
            frame = pd.DataFrame({"parameter": names, "S1": res["S1"],
                                  "S1_conf": res["S1_conf"], "ST": res["ST"],
                                  "ST_conf": res["ST_conf"]})
            method = "Sobol (Saltelli design, SALib)"
        else:
            from SALib.analyze import rbd_fast

            y = table.loc[done, outcome].to_numpy(dtype=float)  # given data: any subset
            res = rbd_fast.analyze(problem, draws.design.unit[done], y, M=RBD_HARMONICS,
                                   seed=BOOTSTRAP_SEED)
            frame = pd.DataFrame({"parameter": names, "S1": res["S1"],
                                  "S1_conf": res["S1_conf"]})
            method = "first-order Sobol by RBD-FAST (Latin hypercube, SALib)"
        frame.insert(0, "outcome", outcome)
        frame["method"] = method
        frames.append(frame.sort_values("S1", ascending=False))
    return pd.concat(frames, ignore_index=True)
