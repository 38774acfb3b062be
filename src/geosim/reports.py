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

from geosim import plotting, runner
from geosim.backtest import scored_economies, skill_summary, skill_table
from geosim.data import World, load_world
from geosim.results import Run, atomic_dir, check_out, compare, slug
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
        pd.DataFrame(sim.decisions).to_csv(tmp / "decisions.csv", index=False)
        (tmp / "plots").mkdir()
        plotting.run_plots(sim.countries, sim.region, sim.flows, tmp / "plots",
                           label=f"{sim.scenario.name}, seed {sim.seed}")
        timings = {**sim.timings, "write_s": time.perf_counter() - started}
        (tmp / "manifest.json").write_text(json.dumps(manifest(sim, timings), indent=2))


def write_tables(out: str | Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write CSV tables into ``out`` atomically."""
    with atomic_dir(out, "comparison") as tmp:
        for name, table in tables.items():
            table.to_csv(tmp / name, index=False)


def write_comparison(a: Run, b: Run, out: str | Path,
                     extra: dict[str, pd.DataFrame] | None = None
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write comparison tables (CSV) and figures (PNG) of run b against run a to ``out``, with
    any extra tables (e.g. intervals over seeds, a decomposition)."""
    per_country, region = compare(a, b)
    world = load_world()
    lac = world.lac
    with atomic_dir(out, "comparison") as tmp:
        for name, table in (extra or {}).items():
            table.to_csv(tmp / name, index=False)
        per_country.to_csv(tmp / "countries_change.csv", index=False)
        region.to_csv(tmp / "region_change.csv", index=False)
        fig, ax = plt.subplots(figsize=(8, 5))
        plotting.compare_region(a.region, b.region, (a.label, b.label), ax)
        ax.set_title(f"{b.label} vs {a.label}")
        plotting.save_figure(fig, tmp / "region_shares.png")
        change = per_country.set_index("iso3")["china_trade_share_change_pp"].reindex(lac)
        fig, ax = plt.subplots(figsize=(7, 9))
        plotting.change_bars(change, f"Change in China's share of trade, {per_country['year'][0]}"
                             f"\n{b.label} − {a.label}", ax)
        plotting.save_figure(fig, tmp / "china_share_change.png")
    return per_country, region


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
