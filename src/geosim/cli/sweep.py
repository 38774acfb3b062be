"""`geosim sweep EXPERIMENT`: run or resume a batch sweep, locally or on a Dask cluster."""

from __future__ import annotations

import argparse
import sys

from geosim.cli import output_path, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim sweep`."""
    p = sub.add_parser(
        "sweep", help="run a batch sweep over parameters and seeds (resumable)",
        description="Run the runs of a sweep file on local worker processes (default) or an "
        "existing Dask cluster, recording each finished run in DIR/ledger.sqlite. Rerunning "
        "the same command resumes: done runs are skipped, failed runs retried. At the end "
        "DIR/runs.parquet holds one row per run; `geosim analyze DIR` summarises it.")
    p.add_argument("experiment", metavar="EXPERIMENT",
                   help="sweep file, or the name of one in experiments/")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="local worker processes (default: the number of cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask cluster: tcp://host:port or a scheduler file")
    p.add_argument("--out", default=None, metavar="DIR", type=output_path,
                   help="output directory (default results/sweeps/<experiment name>/)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress (a bar in a terminal, else a line every 30 s on stderr)")
    p.add_argument("--plan", action="store_true",
                   help="print the run count and an estimated time (from a few trial runs, "
                   "not recorded), then stop: nothing is written")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the sweep and print where its results are."""
    from geosim.cli import UserError
    from geosim.experiments import SweepError, run_sweep

    if args.workers is not None and args.scheduler:
        raise UserError("--workers and --scheduler exclude each other (the cluster has its own "
                        "workers)")
    if args.workers is not None:
        from geosim.experiments.engines import default_workers

        cores = default_workers()
        if args.workers > cores:  # more processes than cores only slow a sweep down
            print(f"note: --workers {args.workers} is more than the {cores} cores available; "
                  f"using {cores}", file=sys.stderr)
            args.workers = cores
    if args.plan:
        return _plan(args)
    try:
        report = run_sweep(args.experiment, args.out, workers=args.workers,
                           scheduler=args.scheduler, quiet=args.quiet)
    except SweepError as exc:
        raise UserError(str(exc)) from None
    # Ctrl-C: run_sweep says how many runs are stored and how to resume.
    print(f"{report.done} of {report.runs} runs done, {report.failed} failed "
          f"({report.skipped} done before this session; {report.seconds:.1f} s on "
          f"{report.engine})")
    if report.failed:
        print(f"warning: {report.failed} runs failed; their error text is in the 'error' column "
              "(rerun the command to retry them)", file=sys.stderr)
    print(f"results in {report.directory} (ledger.sqlite, runs.parquet); "
          f"next: geosim analyze {report.directory}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    """`--plan`: the size of the sweep and an estimated time, without running it."""
    from geosim.cli import UserError
    from geosim.experiments import SweepError
    from geosim.experiments.sweep import format_seconds, plan

    if args.scheduler:
        raise UserError("--plan estimates a local sweep: give --workers N (not --scheduler)")
    try:
        p = plan(args.experiment, args.out, workers=args.workers)
    except SweepError as exc:
        raise UserError(str(exc)) from None
    left = p.runs - p.done
    print(f"{p.name}: {p.sampler}, {p.samples} samples x {p.replications} replication"
          f"{'s' if p.replications != 1 else ''} = {p.runs} runs"
          + (f" ({p.done} already done in {p.directory}, {left} to run)" if p.done else ""))
    print(f"one run takes about {p.seconds_per_run:.2f} s here (median of trial runs, not "
          f"recorded); {left} runs on {p.workers} worker "
          f"process{'es' if p.workers != 1 else ''}: about {format_seconds(p.estimate)} "
          "(assumes the workers scale perfectly and this machine is not busier than now)")
    print(f"run it: geosim sweep {args.experiment}"
          + (f" --workers {args.workers}" if args.workers else "")
          + (f" --out {args.out}" if args.out else ""))
    return 0
