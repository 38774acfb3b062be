"""The sweep driver: bind a sweep file to its base scenario, then stream its runs to the ledger.

Owns resume (skip done runs), bounded in-flight submissions, worker-death retries and progress.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from tqdm import tqdm

from geosim import __version__
from geosim.experiments import samplers
from geosim.experiments.engines import make_engine
from geosim.experiments.evaluate import Context, execute, execute_batch, model_overrides
from geosim.experiments.evaluate import world as load_world
from geosim.experiments.spec import SweepError, SweepSpec, load_sweep
from geosim.experiments.store import Ledger, RunResult

MAX_ATTEMPTS = 3  # a run that kills its worker this many times (alone) is recorded failed
# Outside a terminal (a log file, a batch job) progress is a line on stderr at most this often.
PROGRESS_SECONDS = 30.0
TRIAL_RUNS = 4  # `geosim sweep --plan` times these (the first only warms up)
IN_FLIGHT_PER_WORKER = 2  # bounded submissions: memory stays flat in the number of runs
GROUP_WINDOW = 64  # runs looked ahead to group those that share a reference (`_shared_reference`)

Run = tuple[int, int, int, int]  # run_id, sample_id, replicate, seed


@dataclass(frozen=True)
class Experiment:
    """A sweep bound to its base scenario: what the driver needs to run it."""

    spec: SweepSpec
    context: Context
    meta: dict[str, Any]


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did."""

    directory: Path
    runs: int
    done: int
    failed: int
    skipped: int
    seconds: float
    engine: str


def default_out(spec: SweepSpec) -> Path:
    """`results/sweeps/<sweep name, as a safe folder name>/`."""
    from geosim.results import slug

    return Path("results") / "sweeps" / slug(spec.name, "sweep")


def prepare(spec: SweepSpec, *, scenario: Any = None, simulate: str | Callable | None = None,
            world: str | None = None) -> Experiment:
    """Bind a sweep to its base scenario and check every parameter against it.

    Args:
        spec: the validated sweep file.
        scenario: the base scenario object (default: load `spec.scenario`).
        simulate: the simulation function or its dotted path (default
            `geosim.runner:simulate`); tests inject a model through it.
        world: dotted path of the world loader (default `geosim.data:load_world`).

    Raises:
        SweepError: the scenario cannot be loaded, or a parameter's range or level is refused
            by it (unknown event id or field, out-of-domain value), or an outcome's country is
            not in the world.
    """
    base = scenario if scenario is not None else _load_scenario(spec)
    for p in (*spec.levers, *spec.parameters):
        lever = p in spec.levers
        candidates = p.grid() if lever or spec.sampler == "grid" or p.distribution == "levels" \
            else p.from_unit([0.0, 0.5, 1.0])
        for value, label in candidates:
            try:
                base.with_overrides({p.name: list(value) if isinstance(value, tuple) else value})
            except Exception as exc:  # noqa: BLE001 - the scenario module's own error text
                raise SweepError(f"{spec.locate('levers' if lever else 'parameters', p.name)}: "
                                 f"the value {label!r} is "
                                 f"refused by scenario '{spec.scenario}': {exc}") from None
    start, end = getattr(base, "start", None), getattr(base, "end", None)
    if spec.until is not None and start is not None and not start < spec.until <= end:
        raise SweepError(f"{spec.locate('until')}: expected a year after the scenario's start "
                         f"({start}) and no later than its end ({end}), got {spec.until}")
    kwargs = {k: v for k, v in (("simulate", simulate), ("world", world)) if v}
    if spec.reference is not None:
        kwargs["reference"] = _load_scenario(spec, spec.reference, "reference")
    context = Context(base, spec.until, spec.outcomes, spec.series, **kwargs)
    iso3 = getattr(load_world(context), "iso3", None)
    for o in spec.outcomes:
        if iso3 is not None and o.of != "region" and o.of not in iso3:
            raise SweepError(f"{spec.locate('outcomes', o.name.split('.')[0], 'of')}: "
                             f"{o.of!r} is not a country of the world ({', '.join(iso3)})")
    meta = {
        "name": spec.name,
        "design": spec.design(),
        "design_hash": spec.design_hash,
        "scenario_hash": getattr(base, "hash", None),
        "parameters": spec.input_names,
        "levers": spec.lever_names,
        "n_settings": len(spec.lever_settings),
        "outcomes": spec.outcome_names,
        "series": list(spec.series),
        "sampler": spec.sampler,
        "sweep_path": str(spec.path),
        "sweep_text": spec.text,
        "geosim_version": __version__,
    }
    return Experiment(spec, context, meta)


def _load_scenario(spec: SweepSpec, ref: str | None = None, key: str = "scenario") -> Any:
    from geosim.scenario import ScenarioError, load_scenario

    ref = spec.scenario if ref is None else ref
    beside = spec.path.parent / ref if spec.path else None  # a path relative to the sweep file
    if beside is not None and ("/" in ref or ref.endswith((".yaml", ".yml"))) and beside.is_file():
        ref = str(beside)
    try:
        return load_scenario(ref)
    except (ScenarioError, OSError) as exc:
        what = "the base scenario" if key == "scenario" else f"the {key} scenario"
        raise SweepError(f"{spec.locate(key)}: cannot load {what} {ref!r}: {exc}") from None


def run_sweep(sweep: SweepSpec | str | Path, out: str | Path | None = None, *,
              workers: int | None = None, scheduler: str | None = None, quiet: bool = False,
              scenario: Any = None, simulate: str | Callable | None = None,
              world: str | None = None,
              max_attempts: int = MAX_ATTEMPTS, stream: TextIO | None = None) -> SweepReport:
    """Run (or resume) a sweep, recording each finished run in `out/ledger.sqlite`.

    Rerunning on the same `out` skips runs already done and retries failed ones; a design
    change is refused. At the end `runs.parquet` (and `series.parquet`) are written.

    Args:
        sweep: a `SweepSpec`, or a sweep file path or name.
        out: output directory (default `results/sweeps/<name>/`).
        workers: local worker processes (default: the cores available).
        scheduler: a Dask scheduler address (`tcp://host:port`) or scheduler file.
        quiet: no progress bar.
        scenario, simulate, world: see `prepare` (injection points for tests and notebooks).
        max_attempts: solo attempts for a run whose worker process dies.
        stream: where progress goes (default stderr).

    Returns:
        A `SweepReport`.
    """
    spec = sweep if isinstance(sweep, SweepSpec) else load_sweep(sweep)
    exp = prepare(spec, scenario=scenario, simulate=simulate, world=world)
    out = Path(out) if out is not None else default_out(spec)
    prepare_out(out, create=False)  # refuse a wrong folder before anything starts
    t0 = time.perf_counter()
    engine = make_engine(exp.context, workers=workers, scheduler=scheduler)  # fails early
    try:
        prepare_out(out)
        with Ledger.open(out, writer=True) as ledger:
            if not ledger.check_resume(exp.meta):
                d = samplers.design(spec)
                ledger.initialise(exp.meta | {"n_samples": len(d), "n_runs": len(d) *
                                              spec.replications}, d.values, d.labels, d.unit)
            values, labels, _ = ledger.samples()
            all_runs = list(samplers.runs(spec, len(values)))
            done_before = ledger.finished("done")
            todo = (r for r in all_runs if r[0] not in done_before)
            stream = stream or sys.stderr
            bar = tqdm(total=len(all_runs), initial=len(done_before), unit="run",
                       disable=quiet or not _is_terminal(stream), file=stream,
                       dynamic_ncols=True,
                       smoothing=0.05, desc=f"{spec.name} [{engine.describe()}]")
            counts = {"done": len(done_before), "failed": 0}
            bar.set_postfix(counts, refresh=False)
            lines = None if quiet or _is_terminal(stream) else ProgressLines(
                spec.name, len(all_runs), len(done_before), stream)

            def record(run: Run, result: RunResult) -> None:
                ledger.record(run, labels[run[1]], result)
                counts[result.status] += 1
                bar.set_postfix(counts, refresh=False)
                bar.update(1)
                if lines is not None:
                    lines.update(counts["done"] + counts["failed"], counts["failed"])

            try:
                _drive(engine, exp.context, todo, values, record, max_attempts)
            except KeyboardInterrupt:
                stored = ledger.counts()
                print(f"\ninterrupted: {stored['done']} of {len(all_runs)} runs are stored in "
                      f"{out / 'ledger.sqlite'} ({stored['failed']} failed); rerun the same "
                      "command to resume", file=stream, flush=True)
                raise
            finally:
                bar.close()
                ledger.export()
            final = ledger.counts()
    finally:
        engine.close()
    return SweepReport(out, len(all_runs), final["done"], final["failed"], len(done_before),
                       time.perf_counter() - t0, engine.describe())


class ProgressLines:
    """Progress as plain lines (runs done / total, failures, rate, ETA) for logs: the first
    finished run, then at most every `PROGRESS_SECONDS`, and the last one."""

    def __init__(self, name: str, total: int, before: int, stream: TextIO):
        self.name, self.total, self.before, self.stream = name, total, before, stream
        self.started = self.last = time.monotonic()
        self.printed_first = False

    def update(self, finished: int, failed: int) -> None:
        """Called after each run; prints when due."""
        now = time.monotonic()
        last = finished >= self.total
        if self.printed_first and not last and now - self.last < PROGRESS_SECONDS:
            return
        self.printed_first, self.last = True, now
        rate = (finished - self.before) / max(now - self.started, 1e-9)
        left = (self.total - finished) / rate if rate > 0 else float("inf")
        print(f"{self.name}: {finished}/{self.total} runs ({100 * finished / self.total:.0f} %, "
              f"{failed} failed), {rate:.2f} runs/s, ETA {format_seconds(left)}",
              file=self.stream, flush=True)


def format_seconds(seconds: float) -> str:
    """12 s, 4 min 05 s, 2 h 13 min."""
    if seconds != seconds or seconds == float("inf"):
        return "unknown"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@dataclass(frozen=True)
class Plan:
    """What a sweep would run: its size, what an output folder already holds, and a time."""

    name: str
    sampler: str
    samples: int
    replications: int
    runs: int
    done: int
    workers: int
    seconds_per_run: float
    directory: Path

    @property
    def estimate(self) -> float:
        """Seconds for the runs still to do on `workers` processes (perfect scaling)."""
        return (self.runs - self.done) * self.seconds_per_run / max(self.workers, 1)


def plan(sweep: SweepSpec | str | Path, out: str | Path | None = None, *,
         workers: int | None = None) -> Plan:
    """The run count of a sweep and an estimated time, from trial runs that are not recorded
    (the design's first `TRIAL_RUNS` at the sweep's horizon, the median of the warm ones), each
    run twice: with its business-as-usual reference simulated, and again with it cached, as for
    the runs that share a reference with an earlier one of their task (`_shared_reference`);
    nothing is written. Runs already done in ``out`` (a resume) are counted off."""
    from geosim.experiments.engines import default_workers

    spec = sweep if isinstance(sweep, SweepSpec) else load_sweep(sweep)
    exp = prepare(spec)
    d = samplers.design(spec)
    out = Path(out) if out is not None else default_out(spec)
    done = 0
    if (out / "ledger.sqlite").is_file():
        with Ledger.open(out) as ledger:
            if ledger.check_resume(exp.meta):
                done = ledger.counts()["done"]
    fresh, cached = [], []
    for run in itertools.islice(samplers.runs(spec, len(d)), TRIAL_RUNS):
        for times in (fresh, cached):
            started = time.perf_counter()
            result = execute(exp.context, run[0], d.values[run[1]], run[3], 1)
            times.append(time.perf_counter() - started)
            if result.status != "done":
                raise SweepError(f"{spec.locate('scenario')}: the trial run failed: "
                                 f"{result.error}")
    # the first run warms the process up (world, template), as each worker's first does
    first, later = (float(np.median(t[1:] if len(t) > 1 else t)) for t in (fresh, cached))
    runs = len(d) * spec.replications
    tasks = sum(1 for _ in _shared_reference(samplers.runs(spec, len(d)), d.values))
    seconds = (tasks * first + (runs - tasks) * later) / runs
    return Plan(spec.name, spec.sampler, len(d), spec.replications, len(d) * spec.replications,
                done, workers or default_workers(), seconds, out)


def prepare_out(out: Path, create: bool = True) -> None:
    """A sweep writes (and resumes) in place: `out` must be new, empty or a sweep's folder.

    Raises:
        SweepError: `out` is a file, the working folder or a parent, or a folder holding
            anything but a sweep (see `geosim.results.check_out`).
    """
    from geosim.results import RunDirError, check_out, write_marker

    try:
        check_out(out, "sweep", replace=False)
        if not create:
            return
        out.mkdir(parents=True, exist_ok=True)
        if not (out / ".geosim.json").is_file():
            write_marker(out, "sweep", files=False)
    except RunDirError as exc:
        raise SweepError(str(exc)) from None
    except OSError as exc:
        raise SweepError(f"output folder {out}: cannot write ({exc.strerror or exc})") from None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _drive(engine: Any, context: Context, todo: Iterator[Run], values: list[dict],
           record: Any, max_attempts: int) -> None:
    """Keep a bounded number of tasks in flight and record each run as it finishes.

    A task is a group of runs that share their business-as-usual reference
    (`_shared_reference`), run one after another on one worker. When a worker process dies,
    every run then in flight is lost with the pool; those runs are retried one at a time (so the
    run that kills its worker is identified exactly) and a run that dies alone `max_attempts`
    times is recorded failed.
    """
    limit = IN_FLIGHT_PER_WORKER * engine.workers
    inflight: dict[cf.Future, list[tuple[Run, int]]] = {}
    suspects: deque[tuple[Run, int]] = deque()
    groups = _shared_reference(todo, values)
    breaks = 0  # pools broken in a row without a run finishing

    def submit(tasks: list[tuple[Run, int]]) -> None:
        fut = engine.submit(execute_batch, context,
                            [(run[0], values[run[1]], run[3], attempts) for run, attempts in tasks])
        inflight[fut] = tasks

    while True:
        if suspects:
            if not inflight:
                submit([suspects.popleft()])
        else:
            while len(inflight) < limit and (group := next(groups, None)) is not None:
                submit([(run, 1) for run in group])
        if not inflight:
            return
        finished, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
        lost: list[tuple[Run, int]] = []
        for fut in finished:
            tasks = inflight.pop(fut)
            try:
                results = fut.result()
            except engine.lost_errors:
                lost += tasks
                continue
            except cf.CancelledError:
                raise SweepError("the cluster cancelled the sweep's tasks (scheduler lost?); "
                                 "rerun the same command to resume") from None
            except Exception as exc:  # noqa: BLE001 - e.g. Dask's KilledWorker
                if len(tasks) > 1:  # which run of the group? each alone
                    suspects.extend(tasks)
                    continue
                (run, attempts), = tasks
                results = [RunResult(run[0], "failed", error=f"{type(exc).__name__}: {exc}",
                                     attempts=attempts)]
            for (run, _), result in zip(tasks, results, strict=True):
                record(run, result)
            breaks = 0
        if lost:
            for tasks in inflight.values():  # the broken pool takes every run in flight with it
                lost += tasks
            inflight.clear()
            engine.restart()
            breaks += 1
            if breaks > 1 and not engine.healthy():
                raise SweepError(
                    "worker processes die before running anything (see their errors above; a "
                    "script calling run_sweep needs an `if __name__ == '__main__':` guard). "
                    "Finished runs are kept: rerun to resume.")
            if len(lost) == 1:  # it ran alone: it killed its worker
                run, attempts = lost[0]
                if attempts >= max_attempts:
                    record(run, RunResult(run[0], "failed", attempts=attempts,
                                          error=f"worker process died {attempts} times running "
                                                "this run (killed, out of memory or os._exit?)"))
                else:
                    suspects.appendleft((run, attempts + 1))
            else:
                suspects.extend(lost)


def _shared_reference(todo: Iterator[Run], values: list[dict],
                      window: int = GROUP_WINDOW) -> Iterator[list[Run]]:
    """The runs in groups, looking ahead `window` runs: runs with the same seed and the same
    model overrides (all but a scenario's `events.` fields) have the same business-as-usual
    reference, so one worker running them in turn simulates it once (e.g. a Sobol block's A and
    its AB_i for policy inputs, which share seeds: `samplers.seed_block`). Grouping moves when
    and where runs happen, never their results: references are shared only when identical."""
    while chunk := list(itertools.islice(todo, window)):
        groups: dict[tuple, list[Run]] = {}
        for run in chunk:
            model = tuple(sorted((k, repr(v)) for k, v in model_overrides(values[run[1]]).items()))
            groups.setdefault((run[3], model), []).append(run)
        yield from groups.values()


def run_batch(context: Context, values: list[dict[str, Any]], seeds: list[int], *,
              workers: int | None = None, scheduler: str | None = None, quiet: bool = False,
              desc: str = "runs", stream: TextIO | None = None) -> list[RunResult]:
    """Run `context` once per (values[i], seeds[i]) on the sweep engines, without a ledger.

    The same workers, retries and seeding as `run_sweep`, for a batch that is not resumed (e.g.
    the parameter draws of `geosim compare --draws`). Returns the results in input order.
    """
    if len(values) != len(seeds):
        raise ValueError("run_batch: one seed per set of values is needed")
    results: list[RunResult | None] = [None] * len(values)
    engine = make_engine(context, workers=workers, scheduler=scheduler)
    stream = stream or sys.stderr
    bar = tqdm(total=len(values), unit="run", disable=quiet or not _is_terminal(stream),
               file=stream, dynamic_ncols=True, desc=f"{desc} [{engine.describe()}]")

    def record(run: Run, result: RunResult) -> None:
        results[run[0]] = result
        bar.update(1)

    try:
        _drive(engine, context, ((i, i, 0, s) for i, s in enumerate(seeds)), values, record,
               MAX_ATTEMPTS)
    finally:
        bar.close()
        engine.close()
    return results  # type: ignore[return-value]
