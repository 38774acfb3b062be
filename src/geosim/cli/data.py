"""`geosim data build [--year 2023|2012] [--out DIR]`: rebuild a shipped world from its sources.

Owns the command-line front end of `geosim.data.build`; prints a short calibration summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from geosim.cli import UserError, output_path
from geosim.data import PROVENANCES, SECTOR_PROVENANCES, WORLD_DIRS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `data` and its `build` sub-command."""
    parser = subparsers.add_parser("data", help="build and inspect the embedded worlds")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    build = sub.add_parser("build", help="rebuild the world tables from the shipped sources")
    build.add_argument(
        "--year", type=int, default=2023, choices=sorted(WORLD_DIRS),
        help="base year of the world to build (default 2023)",
    )
    build.add_argument(
        "--out", type=lambda t: Path(output_path(t)), default=None,
        help="output folder (default: the package's world/ or world_2012/ folder, replaced "
             "whole); must be new, empty or a previous data build",
    )
    build.set_defaults(handler=main)
    parser.set_defaults(handler=lambda args: parser.print_help() or 0)


def main(args: argparse.Namespace) -> int:
    """Run the build and print cells by provenance and the worst calibration misses."""
    from geosim.data.build import build, calibration, largest_lac
    from geosim.data.build_2012 import build_2012
    from geosim.results import atomic_dir

    out = Path(args.out) if args.out is not None else WORLD_DIRS[args.year]
    try:
        with atomic_dir(out, "data") as tmp:
            world = build(tmp) if args.year == 2023 else build_2012(tmp)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write ({exc.strerror})") from None
    counts = pd.Series(world.provenance.ravel()).value_counts()
    print(f"built the {world.base_year} world ({world.n} economies) into {out}")
    print("cells: " + ", ".join(f"{p} {counts.get(p, 0)}" for p in PROVENANCES))
    cal = calibration(world)
    top = cal[cal.iso3.isin(largest_lac(world))]
    print(f"calibration, 20 largest LAC: {int(top.ok.sum())}/{len(top)} shares within tolerance")
    print("worst misses (pp):")
    for t in top.sort_values("miss_pp", ascending=False).head(5).itertuples():
        bound = "<" if t.bound == "<" else ""
        print(f"  {t.iso3} {t.indicator:<19} target {bound}{t.target:.1%}  model {t.model:.1%}"
              f"  miss {t.miss_pp:.2f}")
    _print_sectors(world)
    print(f"report: {out / 'BUILD_REPORT.md'}")
    return 0 if top.ok.all() else 1


def _print_sectors(world) -> None:
    """Sector cells by provenance and the independent checks, worst first."""
    from geosim.data.sectors import checks

    counts = pd.Series(world.sector_provenance.ravel()).value_counts()
    print(f"sectors: {', '.join(world.sectors)}; cells: "
          + ", ".join(f"{p} {counts.get(p, 0)}" for p in SECTOR_PROVENANCES))
    cal = checks(world.sector_flows, list(world.iso3), world.base_year)
    cal = cal.assign(miss=(cal.ratio.map(lambda r: abs(np.log(r))))).sort_values(
        "miss", ascending=False)
    print(f"sector checks: {int(cal.ok.sum())}/{len(cal)} within their bands; worst first:")
    for r in cal.itertuples():
        print(f"  {r.check:<48} figure {r.figure_bn:7.2f}bn  model {r.model_bn:7.2f}bn  "
              f"ratio {r.ratio:.2f} (band {r.low:.2f}-{r.high:.2f}){'' if r.ok else '  MISS'}")
