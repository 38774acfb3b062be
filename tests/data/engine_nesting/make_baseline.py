"""Regenerate one_sector_baseline.npz: the one-sector engine's results as of main 6895ad3 (the
last commit before the multi-sector engine), on the shipped 2023 world and random worlds.

Usage (from the repository root): git show 6895ad3:src/geosim/trade.py > /tmp/old_trade.py
then python tests/data/engine_nesting/make_baseline.py /tmp/old_trade.py
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FIELDS = ("price", "output", "expenditure", "imr", "omr", "welfare", "flows")


def cases():
    """(name, flows, sigma, cost_factor, endowment_factor, options) of every stored case."""
    from geosim.data import load_world

    world = load_world(2023)
    lac = np.asarray(world.is_lac)
    both = np.outer(lac, lac) & ~np.eye(len(lac), dtype=bool)
    fta = np.ones_like(world.flows)
    fta[both] = 1.0 / (1.0 + world.tariff[both])
    growth = 1.0 + 0.03 * np.random.default_rng(1).random(len(lac))
    usa = world.index("USA")
    yield "world_fta", world.flows, 5.0, fta, growth, {"reference": usa}
    yield "world_fta_output_ratio", world.flows, 7.0, fta, None, {"imbalance": "output_ratio"}
    yield "world_fta_conditional", world.flows, 5.0, fta, None, {"conditional": True,
                                                                  "reference": usa}
    for seed in range(4):
        rng = np.random.default_rng(seed)
        n = 6 + 5 * seed
        x = rng.lognormal(0.0, 1.5, (n, n)) + np.diag(rng.uniform(2, 8, n) * n)
        x[:, rng.random(n) < 0.5] *= 1.2
        shock = rng.uniform(0.6, 1.4, (n, n))
        np.fill_diagonal(shock, 1.0)
        q = rng.uniform(0.9, 1.1, n)
        yield f"random_{seed}", x, 3.0 + seed, shock, q, {}


def main(old_trade: str) -> None:
    spec = importlib.util.spec_from_file_location("old_trade", old_trade)
    old = importlib.util.module_from_spec(spec)
    sys.modules["old_trade"] = old
    spec.loader.exec_module(old)
    stored = {}
    for name, flows, sigma, cost, endowment, options in cases():
        eq = old.solve(flows, sigma, cost, endowment, tol=1e-13, **options)
        for field in FIELDS:
            stored[f"{name}.{field}"] = getattr(eq, field)
    np.savez_compressed(HERE / "one_sector_baseline.npz", **stored)
    print(f"wrote {len(stored)} arrays")


if __name__ == "__main__":
    main(sys.argv[1])
