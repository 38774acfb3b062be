"""The evaluation of one run, on a worker: simulate a scenario, reduce its tables to outcomes.

Owns `Context` (what every run of a sweep shares), `execute` (never raises) and the reductions.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geosim.experiments.spec import OutcomeSpec
from geosim.experiments.store import RunResult


@dataclass(frozen=True)
class Context:
    """What every run of a sweep shares; small and picklable, sent with each task.

    Attributes:
        scenario: the base scenario (an object with `with_overrides(mapping)`).
        until: last simulated year (None: the scenario's end).
        outcomes: scalar outcomes to compute.
        series: yearly paths to keep, as `<region or ISO3>.<metric>`.
        simulate: the simulation (a picklable function, or its dotted path `module:function`),
            called as
            `simulate(scenario, seed=..., until=..., world=...)` and returning an object with
            `.countries` and `.region` DataFrames (default `geosim.runner:simulate`).
        world: dotted path of the world loader, called once per worker process.
        reference: a scenario simulated alongside each run (same seed, same model-parameter
            overrides; event fields belong to the base scenario) for `vs_reference` outcomes.
    """

    scenario: Any
    until: int | None
    outcomes: tuple[OutcomeSpec, ...]
    series: tuple[str, ...] = ()
    simulate: str | Callable[..., Any] = "geosim.runner:simulate"
    world: str = "geosim.data:load_world"
    reference: Any = None


_WORLDS: dict[str, Any] = {}


def resolve(dotted: str | Callable[..., Any]) -> Callable[..., Any]:
    """Import `module:attribute` (a callable is returned as it is)."""
    if callable(dotted):
        return dotted
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


def world(context: Context) -> Any:
    """The world of this process, built once and reused by every run it evaluates."""
    if context.world not in _WORLDS:
        _WORLDS[context.world] = resolve(context.world)()
    return _WORLDS[context.world]


def warm_up(context: Context) -> None:
    """Import the model and build the world (a worker's initializer calls this once)."""
    resolve(context.simulate)
    world(context)


def evaluate(context: Context, overrides: dict[str, Any], seed: int) -> tuple[dict, dict]:
    """Simulate one run and reduce it.

    Args:
        context: what the sweep's runs share.
        overrides: parameter and scenario-field values, as for `Scenario.with_overrides`.
        seed: the run's seed.

    Returns:
        (outcomes: name -> float, series: `<of>.<metric>` -> (years, values)).
    """
    scenario = context.scenario.with_overrides(_as_model_values(overrides))
    simulate = resolve(context.simulate)
    extra = {"keep_flows": False} if _takes_keep_flows(simulate) else {}
    sim = _Paths(simulate(scenario, seed=seed, until=context.until, world=world(context),
                          **extra))
    outcomes = {o.name: reduce(sim.path(o.of, o.metric)[1], o.reduce) for o in context.outcomes}
    relative = [o for o in context.outcomes if o.vs_reference]
    if relative:
        reference = context.reference.with_overrides(
            _as_model_values(model_overrides(overrides)))
        ref = _Paths(simulate(reference, seed=seed, until=context.until, world=world(context),
                              **extra))
        for o in relative:
            outcomes[o.name] -= reduce(ref.path(o.of, o.metric)[1], o.reduce)
    series = {}
    for name in context.series:
        of, _, metric = name.partition(".")
        years, values = sim.path(of, metric)
        series[name] = (years.tolist(), values.tolist())
    return outcomes, series


def model_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides a run's references share: all but the base scenario's event fields
    (`events.…`), which belong to the scenario, not to the model."""
    return {k: v for k, v in overrides.items() if not k.startswith("events.")}


def execute(context: Context, run_id: int, overrides: dict[str, Any], seed: int,
            attempts: int = 1) -> RunResult:
    """Evaluate one run on a worker; an exception becomes a failed result, never a crash."""
    t0 = time.perf_counter()
    try:
        outcomes, series = evaluate(context, overrides, seed)
    except Exception as exc:  # noqa: BLE001 - a failing run is data, the sweep goes on
        tb = traceback.extract_tb(exc.__traceback__)[-3:]
        where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in tb)
        error = f"{type(exc).__name__}: {exc} [{where}]"
        return RunResult(run_id, "failed", error=error, elapsed=time.perf_counter() - t0,
                         attempts=attempts)
    return RunResult(run_id, "done", outcomes, series, elapsed=time.perf_counter() - t0,
                     attempts=attempts)


def execute_batch(context: Context, runs: list[tuple[int, dict[str, Any], int, int]]
                  ) -> list[RunResult]:
    """Evaluate (run_id, overrides, seed, attempts) one after another in this process: runs
    that share a business-as-usual reference find it in the process's cache (`GeoModel`)."""
    return [execute(context, *run) for run in runs]


def path(sim: Any, of: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The yearly path (years, values) of `metric` for `region` or one country."""
    table = _table(sim, of)
    return table["year"].to_numpy(), table[metric].to_numpy(dtype=float)


def _table(sim: Any, of: str) -> pd.DataFrame:
    """The rows of `region` or one country, by year."""
    if of == "region":
        table: pd.DataFrame = sim.region
    else:
        table = sim.countries
        table = table[table["iso3"] == of]
        if table.empty:
            raise KeyError(f"country {of!r} is not in the simulated world")
    return table.sort_values("year")


class _Paths:
    """A simulation's yearly paths, each table selected and sorted once."""

    def __init__(self, sim: Any):
        self.sim = sim
        self._tables: dict[str, pd.DataFrame] = {}

    def path(self, of: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
        if of not in self._tables:
            self._tables[of] = _table(self.sim, of)
        table = self._tables[of]
        return table["year"].to_numpy(), table[metric].to_numpy(dtype=float)


def reduce(values: np.ndarray, how: str) -> float:
    """Reduce a yearly path to a scalar: final, start, change (final - start), pct_change
    (100 × change / start), mean, min or max over the simulated years (start included)."""
    if how == "final":
        return float(values[-1])
    if how == "start":
        return float(values[0])
    if how == "change":
        return float(values[-1] - values[0])
    if how == "pct_change":
        return float(100 * (values[-1] / values[0] - 1)) if values[0] else math.nan
    return float({"mean": np.mean, "min": np.min, "max": np.max}[how](values))


@functools.cache
def _takes_keep_flows(simulate: Callable[..., Any]) -> bool:
    """Whether `simulate` can skip the yearly flows tables (sweeps reduce only the metrics)."""
    try:
        return "keep_flows" in inspect.signature(simulate).parameters
    except (TypeError, ValueError):
        return False


def _as_model_values(overrides: dict[str, Any]) -> dict[str, Any]:
    """Level values stored as tuples (hashable) go to the scenario as lists."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()}
