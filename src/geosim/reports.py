"""Reports on disk: a run directory (manifest, tables, figures) and a two-run comparison.

Everything is written into a temporary folder and moved into place whole (`results.atomic_dir`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from geosim import __version__, plotting, runner
from geosim.backtest import scored_economies, skill_summary, skill_table
from geosim.data import World, load_world
from geosim.effects import Effects, change_tables
from geosim.parameters import resolve
from geosim.results import ComparisonInput, Run, atomic_dir, check_out, compare, slug
from geosim.runner import Simulation, manifest, simulate
from geosim.scenario import Scenario, ScenarioError, load_scenario
from geosim.trade import ConvergenceError, TradeDataError


def default_out(sim: Simulation) -> Path:
    """Default run directory: results/<scenario slug>/seed<seed>-<scenario hash prefix>/.

    The scenario's name is reduced to a safe folder name (`results.slug`): nothing in a scenario
    file chooses a path outside results/.
    """
    return Path("results") / slug(sim.scenario.name) / f"seed{sim.seed}-{sim.scenario.hash[:8]}"


def run(
    scenario: Scenario | str | Path,
    *,
    seed: int = 0,
    until: int | None = None,
    out: str | Path | None = None,
    progress: bool = False,
    parameters: Mapping[str, float] | None = None,
) -> tuple[Path, Simulation]:
    """Simulate a scenario and write its run directory; return the directory and the results.
    ``parameters`` override the parameter table (over the scenario's own).

    Raises:
        ScenarioError: a bad scenario, or one the engine cannot solve (naming the scenario).
        RunDirError: ``out`` may not be written (checked before simulating).
    """
    spec = load_scenario(scenario)
    if out:
        check_out(out, "run")
    try:
        sim = simulate(spec, seed=seed, until=until, progress=progress, parameters=parameters)
    except (ConvergenceError, TradeDataError) as exc:
        raise ScenarioError(f"{spec.path or spec.name}: scenario '{spec.name}' (seed {seed}) "
                            f"cannot be simulated: the trade model failed: {exc}") from None
    target = Path(out) if out else default_out(sim)
    write_run(sim, target)
    return target, sim


def write_run(sim: Simulation, target: str | Path) -> None:
    """Write manifest.json, countries/region/flows.parquet, decisions.csv and plots/ atomically."""
    with atomic_dir(target, "run") as tmp:
        started = time.perf_counter()
        sim.countries.to_parquet(tmp / "countries.parquet", index=False)
        sim.region.to_parquet(tmp / "region.parquet", index=False)
        if sim.flows is not None:
            sim.flows.to_parquet(tmp / "flows.parquet", index=False)
        if sim.sectors is not None:
            sim.sectors.to_parquet(tmp / "sectors.parquet", index=False)
        pd.DataFrame(sim.decisions).to_csv(tmp / "decisions.csv", index=False)
        (tmp / "plots").mkdir()
        plotting.run_plots(sim.countries, sim.region, sim.flows, tmp / "plots",
                           label=f"{sim.scenario.name}, seed {sim.seed}",
                           decisions=pd.DataFrame(sim.decisions))
        timings = {**sim.timings, "write_s": time.perf_counter() - started}
        (tmp / "manifest.json").write_text(json.dumps(manifest(sim, timings), indent=2))


def comparison_about(a: ComparisonInput, b: ComparisonInput, seeds: list[int],
                     parameters_a: Mapping[str, float] | None = None,
                     parameters_b: Mapping[str, float] | None = None) -> dict:
    """What a comparison ran (`comparison.json`): version, seeds, and per side the scenario's
    name, status, text, hash and resolved parameters."""
    def side(x: ComparisonInput, overrides: Mapping[str, float] | None) -> dict:
        spec = x.scenario
        return {"name": spec.name, "status": spec.status, "description": spec.description,
                "hash": spec.hash, "text": spec.text,
                "parameters": resolve({**spec.parameters, **(overrides or {})})}

    return {"geosim_version": __version__, "seeds": [int(s) for s in seeds],
            "sides": {"a": side(a, parameters_a), "b": side(b, parameters_b)}}


def write_comparison(a: Run, b: Run, out: str | Path, extra: dict[str, pd.DataFrame] | None = None,
                     about: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the comparison of run b against run a (one seed each) to ``out``: tables (CSV),
    figures (PNG), B's decisions, ``about`` as comparison.json, and any extra tables."""
    per_country, region = compare(a, b)
    tables = dict(extra or {})
    decisions = b.path / "decisions.csv"
    if decisions.is_file() and decisions.stat().st_size > 1:
        tables["decisions.csv"] = pd.read_csv(decisions).assign(seed=b.manifest["seed"])
    _write_comparison(out, per_country, region, (a.label, b.label), tables, about)
    return per_country, region


def write_seed_comparison(effects: Effects, out: str | Path, labels: tuple[str, str],
                          parts: pd.DataFrame | None = None, about: dict | None = None,
                          extra: dict[str, pd.DataFrame] | None = None
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write B − A over seeds to ``out``: `countries_change.csv` and `region_change.csv` with
    95 % intervals, `effects_*.csv`, the decomposition (``parts``) if any, B's decisions per
    seed, ``about`` as comparison.json, and the figures with interval bands."""
    per_country, region = change_tables(effects)
    tables = {"effects_region.csv": effects.region, "effects_countries.csv": effects.countries,
              **(extra or {})}
    if parts is not None:
        tables["decomposition.csv"] = parts
    if effects.decisions is not None and not effects.decisions.empty:
        tables["decisions.csv"] = effects.decisions
    seeds = ", ".join(map(str, effects.seeds))
    _write_comparison(out, per_country, region, labels, tables, about, parts,
                      f"seeds {seeds}")
    return per_country, region


def _write_comparison(out: str | Path, per_country: pd.DataFrame, region: pd.DataFrame,
                      labels: tuple[str, str], tables: dict[str, pd.DataFrame],
                      about: dict | None, parts: pd.DataFrame | None = None,
                      seeds: str = "") -> None:
    lac = load_world().lac
    year = int(per_country["year"].iloc[0])
    where = f" ({seeds})" if seeds else ""
    with atomic_dir(out, "comparison") as tmp:
        for name, table in tables.items():
            table.to_csv(tmp / name, index=False)
        per_country.to_csv(tmp / "countries_change.csv", index=False)
        region.to_csv(tmp / "region_change.csv", index=False)
        if about is not None:
            (tmp / "comparison.json").write_text(json.dumps(about, indent=1))
        fig, axes = plt.subplots(1, 2, figsize=(13, 5))
        plotting.compare_region_change(region, labels, axes)
        fig.suptitle(f"Latin America & Caribbean: {labels[1]} vs {labels[0]}{where}")
        plotting.save_figure(fig, tmp / "region_shares.png")
        rows = per_country.set_index("iso3").reindex(lac)
        col = "china_trade_share_change_pp"
        fig, ax = plt.subplots(figsize=(7, 9))
        plotting.change_bars(rows[col], f"Change in China's share of trade, {year}{where}\n"
                             f"{labels[1]} − {labels[0]}", ax,
                             rows.get(f"{col}_low"), rows.get(f"{col}_high"))
        plotting.save_figure(fig, tmp / "china_share_change.png")
        if parts is not None:
            fig, ax = plt.subplots(figsize=(8, 4.5))
            plotting.decomposition_bars(parts, ax)
            ax.set_title(f"{labels[1]} − {labels[0]}, {year}, by policy (Shapley){where}")
            plotting.save_figure(fig, tmp / "decomposition.png")


BACKTEST_SCENARIO = "history_2012_2023"


def observed_worlds() -> tuple[World, World]:
    """The observed 2012 and 2023 worlds shipped with the package."""
    return load_world(2012), load_world()


def backtest(out: str | Path, *, seed: int = 0, until: int | None = None,
             scenario: str | Path = BACKTEST_SCENARIO, simulate: Callable | None = None,
             worlds: tuple | None = None, parameters: Mapping[str, float] | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame, list[str], int]:
    """Simulate, score and write the back-test folder; nothing is written if any step fails.

    Args:
        out: output folder (replaced whole).
        seed, until: as for `geosim run`.
        scenario: the historical scenario (name or path).
        simulate: the simulation function (default `geosim.runner.simulate`; tests inject one).
        worlds: the observed (2012, 2023) worlds (default the shipped ones).
        parameters: overrides of the parameter table (a sensitivity run).

    Returns:
        The skill table, its summary over the scored economies, those economies, and the
        simulated year scored.
    """
    check_out(out, "run")  # before any work
    first, last = worlds if worlds is not None else observed_worlds()
    sim = (simulate or runner.simulate)(scenario, seed=seed, until=until, world=first,
                                        parameters=parameters)
    year = int(sim.countries["year"].max())
    economies = [c for c in first.lac if c in last.iso3]
    table = skill_table(sim.countries, first, last, economies, year=year)
    scored = scored_economies(first, last)
    summary = skill_summary(table, scored)
    with atomic_dir(out, "run") as tmp:
        write_run(sim, tmp)
        table.to_csv(tmp / "backtest.csv", index=False)
        plotting.backtest_figure(table, tmp / "plots" / "backtest.png")
    return table, summary, scored, year
