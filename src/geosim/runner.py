"""Simulate one scenario in memory: the model loop, progress, timings and the run's manifest.

Used by the CLI, sweeps, benchmarks and `geosim.reports` (which writes run directories).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geosim import __version__, references
from geosim.data import World
from geosim.model import GeoModel
from geosim.scenario import Scenario, ScenarioError, load_scenario


class Simulation:
    """The outcome of one simulated scenario.

    Attributes:
        scenario, seed, parameters: what was simulated.
        countries: outcomes per country and year (built when first read).
        region: Latin America & Caribbean aggregates per year.
        flows: bilateral flows per year (None unless kept).
        sectors: outcomes by economy (and the region, iso3 LAC), sector and year, when the world
            was solved by sector (`engine_sectors = 1`); else None.
        decisions: accession decisions.
        timings: seconds per phase.
    """

    def __init__(self, scenario: Scenario, seed: int, parameters: dict[str, float],
                 countries: pd.DataFrame | Callable[[], pd.DataFrame], region: pd.DataFrame,
                 flows: pd.DataFrame | None, decisions: list[dict],
                 timings: dict[str, float] | None = None, sectors: pd.DataFrame | None = None):
        self.scenario, self.seed, self.parameters = scenario, seed, parameters
        self.sectors = sectors  # outcomes by sector (engine_sectors = 1), else None
        self._countries = countries  # or what builds it (sweeps often never read it)
        self.region, self.flows, self.decisions = region, flows, decisions
        self.timings = timings if timings is not None else {}

    @property
    def countries(self) -> pd.DataFrame:
        """Outcomes per country and year."""
        if callable(self._countries):
            self._countries = self._countries()
        return self._countries

    def __repr__(self) -> str:
        return (f"Simulation(scenario={self.scenario.name!r}, seed={self.seed}, "
                f"years={len(self.region)})")


def simulate(
    scenario: Scenario | str | Path,
    *,
    seed: int = 0,
    parameters: Mapping[str, float] | None = None,
    until: int | None = None,
    world: World | None = None,
    progress: bool | Callable[[int], None] = False,
    keep_flows: bool = True,
) -> Simulation:
    """Simulate one scenario from its start year to ``until`` (default its end).

    Args:
        scenario: a `Scenario` or the name or path of a scenario file.
        seed: seed of the model's random generator.
        parameters: overrides of the parameter table (over the scenario's own).
        until: last year to simulate.
        world: the base-year world (default the embedded data); pass it to reuse across runs.
        progress: True for a progress bar, or a callback called with each finished year.
        keep_flows: also return the yearly bilateral flows (large for big worlds).
    """
    spec = load_scenario(scenario)
    if until is not None and not spec.start < until <= spec.end:
        raise ScenarioError(f"{spec.path or spec.name}: until: expected a year after the start "
                            f"({spec.start}) and not after the end ({spec.end}), got {until}")
    started = time.perf_counter()
    # A scenario without policies may be the business-as-usual reference of a run just made
    # (a sweep's paired baseline): the same model, already stepped; its tables are the same.
    model = references.held(spec, parameters=parameters, seed=seed, world=world)
    if model is None:
        model = GeoModel(spec, parameters=parameters, seed=seed, world=world)
    built = time.perf_counter()
    last = model.end if until is None else min(until, model.end)
    bar = _progress_bar(last - model.year, spec.name) if progress is True else None
    while model.year < last:
        model.step()
        if bar is not None:
            bar.update(1)
        elif callable(progress):
            progress(model.year)
    if bar is not None:
        bar.close()
    finished = time.perf_counter()
    timings = {"build_s": built - started, "simulate_s": finished - built,
               "years": last - model.start, **model.timings}
    return Simulation(
        scenario=spec, seed=seed, parameters=dict(model.params),
        countries=functools.partial(model.countries_frame, last),
        region=model.region_frame(last),
        flows=model.flows_frame(last) if keep_flows else None,
        decisions=[d for d in model.decisions if d["year"] <= last], timings=timings,
        sectors=model.sectors_frame(last),
    )


def manifest(sim: Simulation, timings: Mapping[str, float]) -> dict[str, Any]:
    """The run's provenance: version, scenario text and hash, seed, parameters, timings."""
    spec = sim.scenario
    return {
        "geosim_version": __version__,
        "scenario": spec.name,
        "scenario_path": str(spec.path) if spec.path else None,
        "scenario_status": spec.status,
        "scenario_hash": spec.hash,
        "scenario_text": spec.text,
        "seed": sim.seed,
        "start": int(sim.region["year"].min()),
        "end": int(sim.region["year"].max()),
        "parameters": sim.parameters,
        "timings": dict(timings),
    }


def _progress_bar(total: int, name: str):
    import sys

    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="yr", leave=False, disable=not sys.stderr.isatty())
