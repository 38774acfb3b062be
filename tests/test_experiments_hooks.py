"""Test-only evaluation hooks for the sweep tests (no tests here; workers import this module).

A cheap deterministic toy model, and wrappers of the real `simulate` that raise or kill a worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

TOY_DOMAINS = {"kappa": (0.0, 1.0), "sigma": (1.0, 10.0), "growth_shift_pp": (-5.0, 5.0),
               "events.x.year": (2023, 2040)}


@dataclass(frozen=True)
class ToyScenario:
    """Quacks like `geosim.scenario.Scenario` for the sweep machinery."""

    parameters: dict = field(default_factory=dict)
    domains: dict | None = field(default_factory=lambda: TOY_DOMAINS)  # None: accept any name
    name: str = "toy"
    start: int = 2023
    end: int = 2030
    hash: str = "toy-v1"

    def with_overrides(self, mapping: dict[str, Any]) -> ToyScenario:
        for k, v in mapping.items():
            if self.domains is None:
                continue
            if k not in self.domains:
                raise ValueError(f"unknown parameter {k!r}")
            lo, hi = self.domains[k]
            if not lo <= v <= hi:
                raise ValueError(f"{k}: {v} is outside [{lo}, {hi}]")
        return replace(self, parameters={**self.parameters, **mapping})


def toy_world() -> SimpleNamespace:
    return SimpleNamespace(iso3=("MEX", "BRA", "CHN", "USA"))


def toy_simulate(scenario: ToyScenario, *, seed: int, until: int | None, world: Any):
    """Region China share drifts with a, b, c and the event year, plus seeded noise."""
    p = {"kappa": 0.5, "sigma": 5.0, "growth_shift_pp": 0.0, "events.x.year": 2030,
         **scenario.parameters}
    years = np.arange(scenario.start, (until or scenario.end) + 1)
    rng = np.random.default_rng(seed)
    t = years - scenario.start
    after = (years >= p["events.x.year"]).astype(float)
    share = (0.2 + 0.01 * t * (p["kappa"] - 0.02 * p["sigma"]) + 0.002 * p["growth_shift_pp"] * t
             - 0.01 * after)
    share = share + 0.001 * rng.standard_normal(len(years))
    region = pd.DataFrame({"year": years, "china_trade_share": share,
                           "us_trade_share": 0.4 - share / 2})
    countries = pd.concat([pd.DataFrame({"year": years, "iso3": iso, "china_import_share":
                                         share * (k + 1) / 2}) for k, iso in
                           enumerate(("MEX", "BRA"))])
    return SimpleNamespace(region=region, countries=countries)


def ishigami_simulate(scenario: ToyScenario, *, seed: int, until: int | None, world: Any):
    """The Ishigami function of x1, x2, x3 as a one-year 'region' table."""
    x1, x2, x3 = (scenario.parameters[k] for k in ("x1", "x2", "x3"))
    y = np.sin(x1) + 7.0 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)
    return SimpleNamespace(region=pd.DataFrame({"year": [scenario.start],
                                                "china_trade_share": [y]}), countries=None)


def raise_on_sample(scenario: Any, *, seed: int, until: int | None, world: Any,
                    model: Any = None, bad: float = 0.9, key: str = "kappa"):
    """Raise for runs whose parameter `key` exceeds `bad`; otherwise run `model`."""
    value = dict(getattr(scenario, "parameters", {}) or {}).get(key)
    if value is not None and value > bad:
        raise ValueError(f"injected failure: {key}={value} > {bad}")
    return (model or _real_simulate)(scenario, seed=seed, until=until, world=world)


def exit_on_seed(scenario: Any, *, seed: int, until: int | None, world: Any,
                 always: tuple = (), once: tuple = (), markers: str | None = None,
                 model: Any = None):
    """Kill the worker process (os._exit) running a seed in `always`, or a seed in `once` on its
    first attempt only (a marker file in `markers` remembers it); otherwise run `model`."""
    marker = Path(markers) / str(seed) if markers else None
    if seed in always or (seed in once and marker is not None and not marker.exists()):
        if marker is not None and seed in once:
            marker.touch()
        os._exit(13)
    return (model or _real_simulate)(scenario, seed=seed, until=until, world=world)


def _real_simulate(scenario: Any, **kwargs: Any):
    from geosim.runner import simulate

    return simulate(scenario, **kwargs)
