"""Policy effects: a scenario against its reference over several seeds (paired runs with common
random numbers, means with t intervals), and the Shapley decomposition of the effect into the
scenario's policies.

Reads scenarios and simulates them (`geosim.runner`); writing and printing are the callers'.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from geosim import metrics
from geosim.data import World
from geosim.runner import simulate
from geosim.scenario import Scenario, ScenarioError

# Outcomes compared (final year): shares in percentage points, indices in percent.
SHARES = ("china_trade_share", "china_export_share", "china_import_share", "us_trade_share",
          "us_export_share", "us_import_share")
INDICES = ("real_gdp_index",)
MAX_PLAYERS = 8  # a Shapley decomposition runs 2^k scenarios per seed
CONFIDENCE = 0.95


# An outcome's name in the tables carries its unit: shares' differences in percentage points,
# real GDP's in percent.
UNIT_NAMES = {**{col: f"{col}_pp" for col in SHARES}, "real_gdp_index": "real_gdp_pct"}


@dataclass(frozen=True)
class Effects:
    """Differences B − A in the final year over seeds.

    Attributes:
        seeds: the seeds run (each seed runs A and B with the same random streams).
        region: one row per outcome (named with its unit, `UNIT_NAMES`): year, mean, sd,
            ci_low, ci_high, n.
        countries: one row per country × outcome, same columns.
        paths: the region's tables of every run: one row per side (a, b), seed and year.
        final: the countries' final-year tables of every run: one row per side, seed, country.
        decisions: B's accession decisions, with the seed.
    """

    seeds: tuple[int, ...]
    region: pd.DataFrame
    countries: pd.DataFrame
    paths: pd.DataFrame | None = None
    final: pd.DataFrame | None = None
    decisions: pd.DataFrame | None = None


def _difference(a: pd.DataFrame, b: pd.DataFrame, year: int) -> dict[str, np.ndarray | float]:
    ra = a[a["year"] == year]
    rb = b[b["year"] == year]
    out: dict[str, np.ndarray | float] = {}
    for col in SHARES:
        out[col] = 100.0 * (rb[col].to_numpy() - ra[col].to_numpy())
    for col in INDICES:
        out[col] = 100.0 * (rb[col].to_numpy() / ra[col].to_numpy() - 1.0)
    return out


def summarise(samples: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation and the t interval of the mean over the first axis."""
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    sd = samples.std(axis=0, ddof=1) if n > 1 else np.full_like(mean, np.nan)
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * sd / math.sqrt(n) if n > 1 else np.nan
    return {"mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half, "n": n}


def paired_effects(a: Scenario, b: Scenario, seeds: Sequence[int], *,
                   parameters_a: dict | None = None, parameters_b: dict | None = None,
                   world: World | None = None) -> Effects:
    """Simulate A and B for each seed and summarise B − A in their last common year."""
    if not seeds:
        raise ScenarioError("compare: at least one seed is needed")
    year = min(a.end, b.end)
    region_rows, country_rows, iso3 = [], [], None
    paths, final, decisions = [], [], []
    for seed in seeds:
        sa = simulate(a, seed=seed, parameters=parameters_a, until=year, world=world,
                      keep_flows=False)
        sb = simulate(b, seed=seed, parameters=parameters_b, until=year, world=world,
                      keep_flows=False)
        region_rows.append(_difference(sa.region, sb.region, year))
        ca = sa.countries.sort_values(["year", "iso3"])
        cb = sb.countries.sort_values(["year", "iso3"])
        iso3 = ca.loc[ca["year"] == year, "iso3"].to_numpy()
        country_rows.append(_difference(ca, cb, year))
        for side, sim, table in (("a", sa, ca), ("b", sb, cb)):
            paths.append(sim.region.assign(side=side, seed=seed))
            final.append(table[table["year"] == year].assign(side=side, seed=seed))
        decisions += [{"seed": seed, **d} for d in sb.decisions]
    region = []
    for col in (*SHARES, *INDICES):
        s = summarise(np.array([np.atleast_1d(r[col]) for r in region_rows]))
        region.append({"outcome": UNIT_NAMES[col], "year": year,
                       **{k: _scalar(k, np.squeeze(v)) for k, v in s.items()}})
    countries = []
    for col in (*SHARES, *INDICES):
        s = summarise(np.array([r[col] for r in country_rows]))
        for i, iso in enumerate(iso3):
            countries.append({"iso3": iso, "outcome": UNIT_NAMES[col], "year": year,
                              **{k: _scalar(k, v if np.isscalar(v) else v[i])
                                 for k, v in s.items()}})
    return Effects(tuple(seeds), pd.DataFrame(region), pd.DataFrame(countries),
                   paths=pd.concat(paths, ignore_index=True),
                   final=pd.concat(final, ignore_index=True),
                   decisions=pd.DataFrame(decisions))


def _scalar(key: str, value: object) -> float | int:
    """A summary value as a plain number; the count `n` as an integer."""
    return int(value) if key == "n" else float(value)


def change_tables(effects: Effects) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`countries_change.csv` and `region_change.csv` over seeds: A's and B's mean levels (%) and
    B − A with its 95 % interval over seeds (pp for shares, % for real GDP); per country in the
    final year, for the region every year. Columns name their unit; `n` counts the seeds."""
    if effects.paths is None or effects.final is None:
        raise ValueError("change_tables needs the per-seed tables (paired_effects keeps them)")
    year = int(effects.final["year"].iloc[0])
    _, iso3, countries = _by_side(effects.final, "iso3", effects.seeds)
    per_country = _change_columns(countries)
    per_country.insert(0, "iso3", iso3)
    per_country.insert(1, "year", year)
    by_year, years, paths = _by_side(effects.paths, "year", effects.seeds)
    region = _change_columns(paths)
    region.insert(0, "year", years.astype(int))
    means = {side: t.groupby("year")[[c for c in metrics.DOLLARS if c in t]].mean()
             for side, t in by_year.items()}
    dollars = metrics.region_dollars(means["a"], means["b"])  # of the means over seeds
    region = region.join(dollars.reset_index(drop=True)) if not dollars.empty else region
    return per_country, region


def _by_side(table: pd.DataFrame, key: str, seeds: Sequence[int]):
    """A per-seed table split by side (a, b) and sorted by seed and ``key``; the keys of one
    seed; each outcome as a (seeds × keys) array per side."""
    sides = {side: table[table["side"] == side].sort_values(["seed", key]) for side in ("a", "b")}
    keys = sides["a"].loc[sides["a"]["seed"] == seeds[0], key].to_numpy()
    values = {side: {col: t[col].to_numpy(float).reshape(len(seeds), -1)
                     for col in (*SHARES, "real_gdp_index")} for side, t in sides.items()}
    return sides, keys, values


def _change_columns(values: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """Columns of a change table from (seeds × items) arrays of each side."""
    out: dict[str, np.ndarray] = {}
    a, b = values["a"], values["b"]
    n = a[SHARES[0]].shape[0]
    for col in SHARES:
        out[f"{col}_a_pct"] = 100 * a[col].mean(axis=0)
        out[f"{col}_b_pct"] = 100 * b[col].mean(axis=0)
        s = summarise(100 * (b[col] - a[col]))
        out[f"{col}_change_pp"] = s["mean"]
        out[f"{col}_change_pp_low"] = s["ci_low"]
        out[f"{col}_change_pp_high"] = s["ci_high"]
    s = summarise(100 * (b["real_gdp_index"] / a["real_gdp_index"] - 1))
    out["real_gdp_change_pct"] = s["mean"]
    out["real_gdp_change_pct_low"] = s["ci_low"]
    out["real_gdp_change_pct_high"] = s["ci_high"]
    table = pd.DataFrame(out)
    table["n"] = n
    return table


def _name(event) -> str:
    return event.id or f"{event.type}@{event.year}"


def shapley(a: Scenario, b: Scenario, seeds: Sequence[int], *,
            outcomes: Sequence[str] = ("china_trade_share", "us_trade_share"),
            parameters: dict | None = None, world: World | None = None) -> pd.DataFrame:
    """Split B − A (region, final year, pp of each share) into B's policies by Shapley values.

    Every subset S of B's extra policies is simulated (A's events plus S, B's parameters) for
    each seed; a policy's value is its marginal contribution averaged over all orders in which
    the policies could be added. The values add up to v(all) − v(none) exactly.

    Returns:
        Per outcome (named with its unit, e.g. ``china_trade_share_pp``), one row per policy and
        a final row ``total``: year, mean, sd, ci_low, ci_high, n over seeds.
    """
    own = {repr(x) for x in a.events}
    extra = [e for e in b.events if e.policy and repr(e) not in own]
    if not extra:
        raise ScenarioError(f"compare --decompose: {b.name} has no policy that {a.name} lacks")
    if len(extra) > MAX_PLAYERS:
        raise ScenarioError(f"compare --decompose: {len(extra)} policies; at most {MAX_PLAYERS} "
                            "can be decomposed (2^k runs per seed)")
    base_events = tuple(e for e in b.events if all(e is not x for x in extra))
    year = min(a.end, b.end)
    k = len(extra)
    masks = list(itertools.product((False, True), repeat=k))
    per_seed = {o: [] for o in outcomes}
    for seed in seeds:
        value = {}
        for mask in masks:
            events = base_events + tuple(e for e, on in zip(extra, mask, strict=True) if on)
            region = simulate(dataclasses.replace(b, events=events), seed=seed,
                              parameters=parameters, until=year, world=world,
                              keep_flows=False).region.set_index("year")
            value[mask] = {o: 100.0 * float(region.loc[year, o]) for o in outcomes}
        for o in outcomes:
            per_seed[o].append(_shapley_values({m: v[o] for m, v in value.items()}, k))
    names = [_name(e) for e in extra] + ["total"]
    rows = []
    for o in outcomes:
        s = summarise(np.array(per_seed[o]))
        rows += [{"policy": name, "outcome": f"{o}_pp", "year": year,
                  **{key: _scalar(key, v if np.isscalar(v) else v[i]) for key, v in s.items()}}
                 for i, name in enumerate(names)]
    return pd.DataFrame(rows)


def _shapley_values(value: dict[tuple[bool, ...], float], k: int) -> list[float]:
    """Shapley value of each of k players from the value of every coalition, then the total."""
    phi = []
    for i in range(k):
        total = 0.0
        for mask, v in value.items():
            if mask[i]:
                continue
            size = sum(mask)
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            with_i = tuple(True if j == i else m for j, m in enumerate(mask))
            total += weight * (value[with_i] - v)
        phi.append(total)
    return [*phi, value[(True,) * k] - value[(False,) * k]]
