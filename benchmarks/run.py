"""Benchmark the model: time per simulated year and per full run (2023-2040), with the share
spent in the engine, the agents and data collection, for the shipped world (one sector, and by
sector with `engine_sectors = 1`) and a synthetic 200-economy world. Goals: <= 10 ms/year
(shipped world, 41 economies), <= 250 ms/year (200 economies). A pivot run simulates its
business-as-usual reference too (the stocks above which its projects count); the row marked
"ref. held" times the pivot alone, its reference already run, as `geosim compare` and sweeps
run it beside a paired baseline (for information: the goal is the whole run's).

Usage: python benchmarks/run.py [--repeats N]
"""

from __future__ import annotations

import argparse
import platform
import time

from geosim.data import load_world, synthetic_world
from geosim.model import GeoModel


def time_run(scenario: str, world, repeats: int, parameters: dict[str, float] | None = None,
             reference_held: bool = False) -> dict[str, float]:
    """Median over repeats of one full run; phase shares from the median run. With
    ``reference_held`` the run's business-as-usual reference is run before the clock starts."""
    results = []
    for seed in range(repeats):
        started = time.perf_counter()
        model = GeoModel(scenario, seed=seed, world=world, parameters=parameters)
        built = time.perf_counter()
        if reference_held and model.reference is not None:
            model.reference.run()
        ready = time.perf_counter()
        model.run()
        done = time.perf_counter()
        years = model.end - model.start
        results.append({"build": built - started, "run": done - ready, "years": years,
                        **model.timings})
    results.sort(key=lambda r: r["run"])
    return results[len(results) // 2]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}")
    sectors = {"engine_sectors": 1}
    cases = [("shipped world", "baseline", load_world(), None, False),
             ("shipped world", "pivot", load_world(), None, False),
             ("by sector", "baseline", load_world(), sectors, False),
             ("by sector", "pivot", load_world(), sectors, False),
             ("by sector", "pivot", load_world(), sectors, True),
             ("synthetic 200", "baseline", synthetic_world(200, seed=0), None, False)]
    print(f"{'world':<15} {'scenario':<15} {'n':>4} {'ms/year':>8} {'run s':>7} {'build s':>8} "
          f"{'engine':>7} {'agents':>7} {'record':>7}  goal")
    for label, scenario, world, parameters, held in cases:
        r = time_run(scenario, world, args.repeats, parameters, reference_held=held)
        per_year = 1000 * r["run"] / r["years"]
        total = r["engine_s"] + r["agents_s"] + r["record_s"]
        goal = 250 if label == "synthetic 200" else 10
        verdict = "met" if per_year <= goal else "NOT met"
        name = f"{scenario}, ref. held" if held else scenario
        print(f"{label:<15} {name:<15} {len(world.iso3):>4} {per_year:8.2f} {r['run']:7.3f} "
              f"{r['build']:8.3f} {r['engine_s'] / total:7.0%} {r['agents_s'] / total:7.0%} "
              f"{r['record_s'] / total:7.0%}  <= {goal} ms/year: "
              f"{f'({verdict}; the goal is the whole run)' if held else verdict}")
    print(f"(median of {args.repeats} runs each; shares of step time by phase)")


if __name__ == "__main__":
    main()
