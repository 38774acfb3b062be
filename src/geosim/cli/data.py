"""`geosim data build [--out DIR]`: rebuild the calibrated 2023 world from the shipped sources.

Owns the command-line front end of `geosim.data.build`; prints a short calibration summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from geosim.cli import UserError
from geosim.data import PROVENANCES, WORLD_DIR


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `data` and its `build` sub-command."""
    parser = subparsers.add_parser("data", help="build and inspect the embedded 2023 world")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    build = sub.add_parser("build", help="rebuild the world tables from the shipped sources")
    build.add_argument(
        "--out", type=Path, default=WORLD_DIR,
        help="output folder (default: the package's world/ folder, replaced whole); must be "
             "new, empty or a previous data build",
    )
    build.set_defaults(handler=main)
    parser.set_defaults(handler=lambda args: parser.print_help() or 0)


def main(args: argparse.Namespace) -> int:
    """Run the build and print cells by provenance and the worst calibration misses."""
    from geosim.data.build import build, calibration, largest_lac
    from geosim.results import atomic_dir

    out = Path(args.out)
    try:
        with atomic_dir(out, "data") as tmp:
            world = build(tmp)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write ({exc.strerror})") from None
    counts = pd.Series(world.provenance.ravel()).value_counts()
    print(f"built {world.n} economies into {out}")
    print("cells: " + ", ".join(f"{p} {counts.get(p, 0)}" for p in PROVENANCES))
    cal = calibration(world)
    top = cal[cal.iso3.isin(largest_lac(world))]
    print(f"calibration, 20 largest LAC: {int(top.ok.sum())}/{len(top)} shares within tolerance")
    print("worst misses (pp):")
    for t in top.sort_values("miss_pp", ascending=False).head(5).itertuples():
        bound = "<" if t.bound == "<" else ""
        print(f"  {t.iso3} {t.indicator:<19} target {bound}{t.target:.1%}  model {t.model:.1%}"
              f"  miss {t.miss_pp:.2f}")
    print(f"report: {out / 'BUILD_REPORT.md'}")
    return 0 if top.ok.all() else 1
