"""Benchmark the trade engine: solve time for 40, 100 and 200 synthetic economies, and the
speed-up over gegravity's OneSectorGE on the same counterfactual (its sample data, a
Canada–Japan PTA) on this machine in this run; then the multi-sector engine: Caliendo & Parro's
NAFTA counterfactual (31 regions × 40 sectors) and a 41-economy world by sector with
input–output links, warm-started. Goals: 200 economies < 50 ms; >= 100x gegravity; NAFTA
<= 1 s; 41 × J warm-started <= 10 ms.

BLAS runs single-threaded (both engines alike) so the figures are stable on a shared machine.

Usage: python benchmarks/engine.py [--repeats N]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from geosim.data import load_world, synthetic_world  # noqa: E402
from geosim.trade import (  # noqa: E402
    Economy,
    Shock,
    cp2015,
    solve,
    solve_sectors,
    solve_table,
    tariff_factor,
)

PEER = Path(__file__).resolve().parents[1] / "tests" / "data" / "gegravity" / "peer.py"
SIGMA = 5.0
GOAL_MS, GOAL_RATIO = 50.0, 100.0
GOAL_CP_S, GOAL_SECTORS_MS = 1.0, 10.0


def median_time(run, repeats: int) -> tuple[float, object]:
    """Median wall time of run() in seconds, and its last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def fta_shock(world) -> np.ndarray:
    """Tariffs among the Latin American economies removed: t̂ = (1 + 0) / (1 + τ)."""
    lac = np.asarray(world.is_lac)
    cost = np.ones_like(world.flows)
    both = np.outer(lac, lac) & ~np.eye(len(lac), dtype=bool)
    cost[both] = tariff_factor(world.tariff[both], 0.0)
    return cost


def tatonnement(flows, sigma, cost, tol=1e-10, max_iter=100_000) -> int:
    """Reference: the plain price-adjustment iteration p̂ ← p̂ (demand/supply)^(1/σ) that the
    engine's Newton solver replaced (same equilibrium); returns its iteration count."""
    y, e = flows.sum(axis=1), flows.sum(axis=0)
    a = flows / e * cost ** (1 - sigma)
    d = (e - y) / y.sum()
    p = np.ones(len(y))
    for iteration in range(1, max_iter + 1):
        w = p ** (1 - sigma)
        out = p * y
        demand = w * (a @ ((out + d * out.sum()) / (w @ a)))
        if np.max(np.abs(demand / out - 1)) < tol:
            return iteration
        p = p * (demand / out) ** (1 / sigma)
        p *= y.sum() / (p * y).sum()
    return max_iter


def load_peer():
    spec = importlib.util.spec_from_file_location("gegravity_peer", PEER)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gegravity_time(peer, repeats: int) -> float:
    """Median time of gegravity's counterfactual (define_experiment + simulate); the baseline
    model is rebuilt, untimed, before each run because simulate() changes it."""
    times = []
    for _ in range(repeats):
        model = peer.baseline_model(peer.load_data())
        experiment = peer.pta_experiment(model)
        started = time.perf_counter()
        peer.simulate(model, experiment)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def tables(peer, run) -> tuple[pd.DataFrame, pd.DataFrame]:
    """gegravity's baseline flows and cost change as geosim's input tables."""
    codes = np.asarray(run.codes)
    i, j = np.indices(run.flows.shape)
    flows = pd.DataFrame(
        {"exporter": codes[i.ravel()], "importer": codes[j.ravel()], "value": run.flows.ravel()}
    )
    changed = run.cost_factor != 1.0
    shock = pd.DataFrame({"exporter": codes[i[changed]], "importer": codes[j[changed]]}).assign(
        cost_factor=run.cost_factor[changed]
    )
    return flows, shock


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=21, help="runs per geosim timing")
    parser.add_argument("--peer-repeats", type=int, default=5, help="runs per gegravity timing")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, python "
        f"{platform.python_version()}, numpy {np.__version__}, BLAS threads "
        f"{os.environ['OPENBLAS_NUM_THREADS']}"
    )

    print(
        f"\nSynthetic gravity worlds (geosim.data.synthetic_world), tariffs among the Latin "
        f"American economies removed, σ = {SIGMA:g}, tol 1e-10; median of {args.repeats} runs"
    )
    print(
        f"{'economies':>9} {'iterations':>10} {'solve':>10} {'warm start':>11} "
        f"{'residual':>9}   {'plain iteration (replaced)':>26}"
    )
    rows = [(f"{n}", synthetic_world(n, seed=0), 1.0, SIGMA) for n in (40, 100, 200)]
    rows.append(("200 hard", rows[-1][1], 20.0, 1.5))  # 20x the home bias, σ = 1.5
    for label, world, home_bias, sigma in rows:
        flows = world.flows * np.where(np.eye(len(world.flows), dtype=bool), home_bias, 1.0)
        cost = fta_shock(world)
        usa = world.index("USA")
        run = partial(solve, flows, sigma, cost, reference=usa)
        seconds, eq = median_time(run, args.repeats)
        last_year = solve(flows, sigma, cost**0.9, reference=usa).price  # warm start
        warm, _ = median_time(partial(run, initial_price=last_year), args.repeats)
        plain_s, plain_its = median_time(partial(tatonnement, flows, sigma, cost), 3)
        goal = f"   goal < {GOAL_MS:g} ms: {'met' if seconds * 1e3 < GOAL_MS else 'MISSED'}"
        print(
            f"{label:>9} {eq.iterations:>10} {seconds * 1e3:>7.2f} ms {warm * 1e3:>8.2f} ms "
            f"{eq.residual:>9.1e}   {plain_its:>8} it, {plain_s * 1e3:>7.1f} ms"
            f"{goal if label == '200' else ''}"
        )

    print(
        "\ngegravity 0.3 OneSectorGE on its sample data (30 economies, 2006), Canada–Japan "
        "PTA, σ = 5, reference DEU"
    )
    peer = load_peer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = peer.run()
        ge_seconds = gegravity_time(peer, args.peer_repeats)
    ref = run.codes.index(peer.REFERENCE)
    ours, eq = median_time(
        lambda: solve(
            run.flows, peer.SIGMA, run.cost_factor, reference=ref, imbalance="output_ratio"
        ),
        args.repeats,
    )
    flows, shock = tables(peer, run)
    ours_table, _ = median_time(
        lambda: solve_table(
            flows, shock, peer.SIGMA, reference=peer.REFERENCE, imbalance="output_ratio"
        ),
        args.repeats,
    )
    print(
        f"  gegravity define_experiment + simulate   {ge_seconds * 1e3:9.1f} ms "
        f"(median of {args.peer_repeats})"
    )
    for label, seconds in (
        ("geosim solve (arrays)", ours),
        ("geosim solve_table (tables in and out)", ours_table),
    ):
        ratio = ge_seconds / seconds
        print(
            f"  {label:<40} {seconds * 1e3:9.2f} ms   {ratio:8.0f}x faster "
            f"(goal >= {GOAL_RATIO:g}x: {'met' if ratio >= GOAL_RATIO else 'MISSED'})"
        )
    print(
        f"  geosim iterations {eq.iterations}, residual {eq.residual:.1e} "
        "(gegravity: scipy root 'hybr', tol 1e-8)"
    )
    sector_benchmarks(args.repeats)


def sector_world(sectors: int = 8, seed: int = 0) -> tuple[str, Economy, np.ndarray]:
    """The shipped 2023 world by sector with input–output links, and LAC tariffs removed.

    Uses the world's own sector tables when it has them; otherwise splits its flows into
    `sectors` random sectors with random input–output coefficients (value-added shares
    0.35–0.6), solved once so that the data are an equilibrium.
    """
    world = load_world()
    lac = np.asarray(world.is_lac)
    both = np.outer(lac, lac) & ~np.eye(len(lac), dtype=bool)
    if getattr(world, "sector_flows", None) is not None:
        economy = Economy.build(world.sector_flows, world.theta, tariff=world.sector_tariff,
                                va_share=world.value_added_share, io=world.io)
        label = f"shipped 2023 world, {len(world.sectors)} sectors"
    else:
        rng = np.random.default_rng(seed)
        split = rng.dirichlet(np.ones(sectors), world.flows.shape).transpose(2, 0, 1)
        beta = rng.uniform(0.35, 0.6, (len(lac), sectors))
        io = rng.dirichlet(np.ones(sectors), (len(lac), sectors)).transpose(0, 2, 1)
        tariff = np.broadcast_to(world.tariff, split.shape)
        raw = Economy.build(split * world.flows, rng.uniform(3.0, 9.0, sectors),
                            tariff=tariff, va_share=beta, io=io * (1 - beta)[:, None, :],
                            final_share=rng.dirichlet(np.ones(sectors), len(lac)))
        economy = solve_sectors(raw, tol=1e-12).rebased()
        label = f"shipped 2023 world split into {sectors} random sectors"
    new = np.array(economy.tariff)
    new[:, both] = 0.0
    return label, economy, new


def sector_benchmarks(repeats: int) -> None:
    """The multi-sector engine: the NAFTA case and a 41-economy world by sector."""
    case = cp2015.load()
    total, (_, nafta) = median_time(lambda: cp2015.run(case, tol=1e-10), 3)
    start = cp2015.run(case)[0].rebased()
    alone, _ = median_time(
        lambda: solve_sectors(start, Shock(tariff=case.tariff_nafta), tol=1e-10), 3)
    print("\nCaliendo & Parro (2015) NAFTA: 31 regions x 40 sectors with input-output links, "
          "tol 1e-10 (median of 3)")
    print(f"  zero deficits imposed, then NAFTA's tariffs   {total:7.3f} s   goal <= "
          f"{GOAL_CP_S:g} s: {'met' if total <= GOAL_CP_S else 'MISSED'}")
    print(f"  the NAFTA counterfactual alone               {alone:7.3f} s   "
          f"({nafta.iterations} Newton iterations)")
    label, economy, tariff = sector_world()
    n, j = economy.shape
    (cold_s, cold), (warm_s, warm) = cold_and_warm(economy, tariff, repeats)
    print(f"\n{label} ({n} x {j}), input-output links, tariffs among Latin American "
          f"economies removed (median of {repeats})")
    print(f"  cold start  {cold_s * 1e3:7.2f} ms   ({cold.iterations} Newton iterations)")
    print(f"  warm start  {warm_s * 1e3:7.2f} ms   ({warm.iterations} Newton iterations; from "
          f"the solution at 90 % of the cut)   goal <= {GOAL_SECTORS_MS:g} ms: "
          f"{'met' if warm_s * 1e3 <= GOAL_SECTORS_MS else 'MISSED'}")
    nested = economy.replace(nest=0.5 * economy.theta)  # `import_nest = 0.5` (docs/model.md)
    (cold_s, cold), (warm_s, warm) = cold_and_warm(nested, tariff, repeats)
    print(f"  the same, imports nested (eta = theta / 2): cold {cold_s * 1e3:.2f} ms "
          f"({cold.iterations} iterations), warm {warm_s * 1e3:.2f} ms ({warm.iterations})")


def cold_and_warm(economy: Economy, tariff: np.ndarray, repeats: int):
    """Median time and result of the solve to ``tariff`` from the baseline (cold) and from the
    solution at 90 % of the way (warm)."""
    cold = median_time(lambda: solve_sectors(economy, Shock(tariff=tariff)), repeats)
    near = solve_sectors(economy, Shock(tariff=economy.tariff + 0.9 * (tariff - economy.tariff)))
    warm = median_time(lambda: solve_sectors(economy, Shock(tariff=tariff), start=near), repeats)
    return cold, warm

if __name__ == "__main__":
    main()
