"""`geosim run SCENARIO`: simulate one scenario and write its run directory."""

from __future__ import annotations

import argparse

from geosim.cli import add_parameter_option, output_path, parameter_overrides, seed, year
from geosim.cli.tables import print_summary


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim run`."""
    p = sub.add_parser("run", help="run one scenario and write its results",
                       description="Run one scenario (default horizon 2023-2040) and write "
                       "manifest.json, countries/region/flows.parquet and plots/ to DIR.")
    p.add_argument("scenario", help="scenario file or name of a shipped scenario")
    p.add_argument("--seed", type=seed, default=0, help="random seed, 0 to 2**32-1 (default 0)")
    p.add_argument("--until", type=year, default=None, help="last year to simulate")
    p.add_argument("--out", default=None, type=output_path,
                   help="output folder (default results/<scenario>/<run-id>/); must be new, "
                   "empty or a previous geosim run, which is replaced")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    add_parameter_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the scenario, print a short summary and where the results are."""
    from geosim.reports import run

    out, sim = run(args.scenario, seed=args.seed, until=args.until, out=args.out,
                   progress=not args.quiet, parameters=parameter_overrides(args.param))
    if not args.quiet:
        print_summary(sim)
    print(f"results written to {out}")
    return 0
