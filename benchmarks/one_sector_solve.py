"""Benchmark the one-sector solve the model makes every year: the shipped 2023 world (41
economies) under random trade-cost and endowment shocks, warm-started from the solution of 90 %
of the shock (as a model year starts from last year's prices) and cold, median of 300 solves.

It uses only `geosim.data.load_world` and `geosim.trade.solve`, which every version of geosim
has, so an older checkout can be timed against this one in the same session:

    python benchmarks/one_sector_solve.py
    PYTHONPATH=/path/to/old-checkout/src python benchmarks/one_sector_solve.py
"""

from __future__ import annotations

import time

import numpy as np

from geosim import trade
from geosim.data import load_world


def median_ms(solve, repeats: int = 300) -> tuple[float, int]:
    """Median milliseconds of `solve()` over repeats, and the solver's iterations."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        eq = solve()
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times)), eq.iterations


def main() -> None:
    """Print the figures."""
    flows = load_world().flows
    n = len(flows)
    rng = np.random.default_rng(0)
    cost = np.exp(rng.normal(0.0, 0.02, (n, n)))
    np.fill_diagonal(cost, 1.0)
    endowment = np.exp(rng.normal(0.03, 0.01, n))
    near = trade.solve(flows, 5.0, cost**0.9, endowment**0.9, reference=0)
    warm, its = median_ms(lambda: trade.solve(flows, 5.0, cost, endowment, reference=0,
                                              initial_price=near.price))
    print(f"shipped world, one sector (41 economies), sigma 5: warm solve {warm:.3f} ms "
          f"({its} iterations)")
    cold, its = median_ms(lambda: trade.solve(flows, 5.0, cost, endowment, reference=0))
    print(f"                                                  cold solve {cold:.3f} ms "
          f"({its} iterations)")


if __name__ == "__main__":
    main()
