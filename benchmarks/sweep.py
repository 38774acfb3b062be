"""Benchmark sweeps: the projected time of the N = 1024 Sobol design of
`experiments/pivot_sensitivity.yaml` (32,768 runs of 2023-2040, each paired with its baseline)
from random whole blocks of its runs on 2 workers; runs per second on 1 and 2 local workers (400
runs), the per-run overhead over a bare `simulate` call, peak memory (driver + workers) for 200
and 2,000 runs, and the same 200 runs through Mesa's `batch_run`. Goals: the N = 1024 design in
<= 15 minutes on 2 workers; >= 1.7x from 1 to 2 workers; overhead <= 5 % of a run; flat memory;
>= 3x as fast as batch_run. Takes about 2 minutes on 2 idle cores.

Usage: python benchmarks/sweep.py [--until YEAR] [--big N] [--slice RUNS] [--only-design]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from geosim import references
from geosim.data import load_world
from geosim.experiments import design, load_sweep, prepare, run_sweep
from geosim.experiments.engines import make_engine
from geosim.experiments.evaluate import execute
from geosim.experiments.samplers import runs as design_runs
from geosim.experiments.samplers import seed_block
from geosim.experiments.sweep import _drive
from geosim.model import GeoModel
from geosim.runner import simulate
from geosim.scenario import load_scenario

SIGMAS = [3.5, 4.5, 5.5, 6.5, 7.5]
KAPPAS = [0.05, 0.1, 0.15, 0.2, 0.25]
YEARS = [2024, 2025, 2026, 2027]


def sweep_text(until: int, replications: int, sampler: str = "grid", samples: int = 0) -> str:
    """A sweep of the pivot over sigma × kappa × accession year (grid: 100 samples)."""
    if sampler == "grid":
        params = (f"  sigma: {SIGMAS}\n  kappa: {KAPPAS}\n"
                  f"  events.usmca_accession.year: {YEARS}\n")
        size = ""
    else:
        params = ("  sigma: {low: 3.5, high: 7.5}\n  kappa: {low: 0.05, high: 0.25}\n"
                  "  events.usmca_accession.year: {low: 2024, high: 2027}\n")
        size = f"samples: {samples}\n"
    return (f"name: bench\nscenario: pivot\nsampler: {sampler}\n{size}"
            f"replications: {replications}\nseed: 1\nuntil: {until}\nparameters:\n{params}"
            "outcomes:\n  china_share: {metric: china_trade_share, of: region, reduce: final}\n"
            "  china_change: {metric: china_trade_share, of: region, reduce: change}\n")


class PeakRSS:
    """Peak resident memory of this process and all its descendants, sampled every 100 ms."""

    def __init__(self) -> None:
        self.peak = self.driver_peak = 0
        self.workers_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                driver = me.memory_info().rss
                kids = [p.memory_info().rss for p in me.children(recursive=True)]
            except psutil.Error:
                continue
            self.driver_peak = max(self.driver_peak, driver)
            self.workers_peak = max(self.workers_peak, max(kids, default=0))
            self.peak = max(self.peak, driver + sum(kids))
            time.sleep(0.1)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed_sweep(text: str, workers: int, tmp: Path, tag: str, memory: bool = False
                ) -> dict[str, float]:
    """Run a sweep: wall time, steady-state rate (the ledger's finish times), time inside the
    workers per run, the driver's CPU per run and, with `memory`, peak RSS."""
    path = tmp / f"{tag}.yaml"
    path.write_text(text)
    out = tmp / tag
    mem = PeakRSS() if memory else None
    if mem:
        mem.__enter__()
    cpu0, t0 = time.process_time(), time.perf_counter()
    report = run_sweep(path, out, workers=workers, quiet=True)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if mem:
        mem.__exit__()
    assert report.failed == 0, "benchmark runs failed"
    with sqlite3.connect(out / "ledger.sqlite") as c:
        n, first, last, inside = c.execute(
            "SELECT count(*), min(finished), max(finished), avg(elapsed) FROM runs").fetchone()
    result = {"runs": n, "wall": wall, "rate": n / wall, "steady": (n - 1) / (last - first),
              "inside": inside, "driver_cpu": cpu / n, "first": wall - (last - first)}
    if mem:
        result.update(rss=mem.peak / 2**20, driver=mem.driver_peak / 2**20,
                      worker=mem.workers_peak / 2**20)
    return result


DESIGN = Path(__file__).resolve().parent.parent / "experiments" / "pivot_sensitivity.yaml"
DESIGN_N = 1024  # Sobol base sample size of the research-scale design
DESIGN_GOAL_MIN = 15.0


def projected_design(tmp: Path, slice_runs: int, workers: int = 2, n: int = DESIGN_N
                     ) -> dict[str, float]:
    """Run random whole blocks of the N = `n` Sobol design of pivot_sensitivity (with
    second-order indices, 2 seeds: n x 16 samples x 2 = 32,768 runs at n = 1024), about
    `slice_runs` runs, on `workers` local workers (the sweep's own engine and driver, without the
    ledger) and project the whole design's time: start-up + all runs at the steady rate measured
    after the first result."""
    fixed = {"samples:": f"samples: {n}", "options:": "options: {calc_second_order: true}",
             "replications:": "replications: 2"}  # the design: N(2D+2) samples x 2 seeds
    lines = [next((v for k, v in fixed.items() if line.startswith(k)), line)
             for line in DESIGN.read_text().splitlines()]
    path = tmp / "design.yaml"
    path.write_text("\n".join(lines) + "\n")
    spec = load_sweep(path)
    context = prepare(spec).context
    values = design(spec).values
    every = list(design_runs(spec, len(values)))
    # whole Saltelli blocks (a base row's 2D + 2 samples × seeds, which share seeds and, for
    # the policy inputs, references), drawn at random: the sweep runs every block, in order
    per_block = seed_block(spec) * spec.replications
    blocks = np.random.default_rng(0).choice(len(every) // per_block,
                                             size=max(1, slice_runs // per_block), replace=False)
    chosen = [run for b in sorted(blocks) for run in every[b * per_block:(b + 1) * per_block]]
    engine = make_engine(context, workers=workers)
    finished: list[float] = []
    failed = []

    def record(run, result) -> None:
        finished.append(time.perf_counter())
        if result.status != "done":
            failed.append(result.error)

    try:
        t0 = time.perf_counter()
        _drive(engine, context, iter(chosen), values, record, 3)
        wall = time.perf_counter() - t0
    finally:
        engine.close()
    assert not failed, f"design runs failed: {failed[:1]}"
    first = finished[0] - t0
    steady = (len(finished) - 1) / (finished[-1] - finished[0])
    total = len(every)
    return {"runs": len(chosen), "total": total, "wall": wall, "first": first,
            "steady": steady, "projected": first + total / steady}


def _spin(n: int) -> float:
    t0 = time.perf_counter()
    s = 0
    for i in range(n):
        s += i * i % 7
    return time.perf_counter() - t0


def hardware_ceiling(n: int = 10_000_000) -> float:
    """Throughput of 2 concurrent pure-Python processes over 1: what this machine allows now."""
    ctx = multiprocessing.get_context("forkserver")
    with ctx.Pool(2) as pool:
        pool.map(_spin, [1000, 1000])  # start both
        one = pool.apply(_spin, (n,))
        two = pool.map(_spin, [n, n], chunksize=1)
    return 2 * one / max(two)


def bare_and_execute(until: int, n: int, tmp: Path) -> tuple[float, float]:
    """Mean seconds per bare `simulate` call and per `execute` (what a worker runs: overrides,
    simulate, reductions) on the same runs, interleaved so machine load affects both alike."""
    path = tmp / "inproc.yaml"
    path.write_text(sweep_text(until, 1))
    spec = load_sweep(path)
    context = prepare(spec).context
    values = design(spec).values[:n]
    world = load_world()
    scenarios = [context.scenario.with_overrides(v) for v in values]
    execute(context, 0, values[0], 0)  # warm up
    bare, full = [], []
    for i, (v, sc) in enumerate(zip(values, scenarios, strict=True)):
        references.forget()  # neither call may reuse the other's business-as-usual reference
        t0 = time.perf_counter()
        simulate(sc, seed=i, until=until, world=world, keep_flows=False)
        t1 = time.perf_counter()
        references.forget()
        execute(context, i, v, i)
        full.append(time.perf_counter() - t1)
        bare.append(t1 - t0)
    return statistics.mean(bare), statistics.mean(full)


class BatchModel(GeoModel):
    """The pivot as a plain Mesa model for `mesa.batch_run`: same overrides, same outcomes."""

    def __init__(self, sigma: float = 5.0, kappa: float = 0.12, year: int = 2027,
                 until: int = 2030, seed: int | None = None):
        from mesa import DataCollector

        scenario = load_scenario("pivot").with_overrides(
            {"sigma": sigma, "kappa": kappa, "events.usmca_accession.year": year})
        super().__init__(scenario, seed=seed, world=load_world())
        self.until = until
        self.datacollector = DataCollector(model_reporters={
            "china_share": lambda m: m.region_frame()["china_trade_share"].iloc[-1],
            "china_change": lambda m: (lambda s: s.iloc[-1] - s.iloc[0])(
                m.region_frame()["china_trade_share"]),
        })

    def step(self) -> None:
        super().step()
        if self.year >= self.until:
            self.running = False
            self.datacollector.collect(self)


def batch_run_rate(until: int, replications: int, processes: int) -> tuple[int, float]:
    """Runs and seconds for the same grid through `mesa.batch_run` (it forces `spawn`)."""
    from mesa.batchrunner import batch_run

    t0 = time.perf_counter()
    rows = batch_run(BatchModel, parameters={"sigma": SIGMAS, "kappa": KAPPAS, "year": YEARS,
                                             "until": until},
                     number_processes=processes, rng=list(range(replications)),
                     max_steps=until - 2023, data_collection_period=-1, display_progress=False)
    return len(rows), time.perf_counter() - t0


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--until", type=int, default=2030, help="horizon (default 2030)")
    parser.add_argument("--big", type=int, default=2000, help="runs of the memory sweep")
    parser.add_argument("--slice", type=int, default=256,
                        help="runs of the N = 1024 design measured, in random whole blocks "
                             "(default 256)")
    parser.add_argument("--only-design", action="store_true",
                        help="only the projected time of the N = 1024 design")
    args = parser.parse_args()
    cpu = psutil.cpu_freq()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"{len(os.sched_getaffinity(0))} cores"
          f"{f' @ {cpu.current:.0f} MHz' if cpu else ''}, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; load average at start "
          f"{os.getloadavg()[0]:.2f}")
    years = args.until - 2023
    print(f"sweeps of the pivot over a sigma × kappa × accession-year grid (100 samples), {years} "
          f"years each (until {args.until}) unless said\n")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ceiling = hardware_ceiling()
        print(f"hardware ceiling now:     {ceiling:.2f}x (2 pure-Python processes vs 1; other "
              "tenants of the machine lower it)")
        r = projected_design(tmp, args.slice)
        minutes = r["projected"] / 60
        print(f"N = {DESIGN_N} Sobol design of pivot_sensitivity ({r['total']:,} runs of "
              f"2023-2040, each with its paired baseline): {r['runs']} runs (random whole "
              f"blocks) on 2 workers "
              f"in {r['wall']:.1f} s, {r['steady']:.1f} runs/s after the first result "
              f"({r['first']:.1f} s start-up)")
        print(f"projected N = {DESIGN_N} design: {minutes:5.1f} min on 2 workers   "
              f"[goal <= {DESIGN_GOAL_MIN:.0f} min: "
              f"{'met' if minutes <= DESIGN_GOAL_MIN else 'NOT met'}]")
        if args.only_design:
            return
        bare, inside = bare_and_execute(args.until, 100, tmp)
        print(f"bare simulate():          {1000 * bare:6.1f} ms/run (mean of 100, in-process, "
              "world reused)")
        print(f"execute() in-process:     {1000 * inside:6.1f} ms/run, interleaved with the bare "
              f"calls: {100 * (inside / bare - 1):+.1f} % (overrides, reductions)")
        text = sweep_text(args.until, 4)  # 400 runs
        one = timed_sweep(text, 1, tmp, "w1")
        two = timed_sweep(text, 2, tmp, "w2")
        for label, r in (("1 worker", one), ("2 workers", two)):
            print(f"geosim sweep, {label:9s}  {r['runs']} runs in {r['wall']:5.1f} s: "
                  f"{r['rate']:5.1f} runs/s overall, {r['steady']:5.1f} runs/s after the first "
                  f"result ({r['first']:.1f} s start-up)")
        speedup, steady_speedup = two["rate"] / one["rate"], two["steady"] / one["steady"]
        print(f"speed-up 1 -> 2 workers:  {speedup:.2f}x overall ({50 * speedup:.0f} % "
              f"efficiency), {steady_speedup:.2f}x after start-up   [goal >= 1.7x]")
        per_run = 1 / one["steady"]
        print(f"per-run overhead:         {1000 * (per_run - bare):+5.1f} ms = "
              f"{100 * (per_run / bare - 1):+.1f} % of a bare run (1 worker, after start-up: "
              f"{1000 * per_run:.1f} ms/run; {1000 * one['inside']:.1f} ms inside execute())"
              "   [goal <= 5 %]")
        print(f"driver CPU per run:       {1000 * one['driver_cpu']:5.2f} ms (ledger commit, "
              "pickling, scheduling)")
        small = timed_sweep(sweep_text(2026, 2), 2, tmp, "small", memory=True)
        big = timed_sweep(sweep_text(2026, 1, "random", args.big), 2, tmp, "big", memory=True)
        for r in (small, big):
            print(f"peak RSS, {r['runs']:5d} runs:     {r['rss']:5.0f} MB driver + workers "
                  f"(driver {r['driver']:.0f} MB, largest worker {r['worker']:.0f} MB; 3-year "
                  f"runs, {r['wall']:.0f} s)")
        print(f"memory ratio 2000 / 200:  {big['rss'] / small['rss']:.2f}   [goal: flat]")
        # geosim sweep and mesa.batch_run on the same 200 runs, alternated, best of two each
        ours, theirs = [], []
        for i in range(2):
            ours.append(timed_sweep(sweep_text(args.until, 2), 2, tmp, f"vs{i}")["rate"])
            n, seconds = batch_run_rate(args.until, 2, 2)
            theirs.append(n / seconds)
    ratio = max(ours) / max(theirs)
    print(f"200 runs, 2 processes:    geosim sweep {max(ours):5.1f} runs/s, mesa.batch_run "
          f"{max(theirs):5.1f} runs/s (best of 2, alternated) -> {ratio:.2f}x "
          f"as fast   [goal >= 3x: {'met' if ratio >= 3 else 'NOT met'}]")


if __name__ == "__main__":
    main()
