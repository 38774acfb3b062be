"""`geosim compare RUN_A RUN_B`: difference tables and plots of two run directories."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim compare`."""
    p = sub.add_parser("compare", help="compare two runs (B minus A)",
                       description="Compare two run directories: per-country changes in the final "
                       "year and the region's path (B minus A), as CSV tables and PNG plots.")
    p.add_argument("run_a", help="run directory of the reference (e.g. baseline)")
    p.add_argument("run_b", help="run directory of the alternative (e.g. pivot)")
    p.add_argument("--out", default=None,
                   help="output folder (default results/compare/<A>_vs_<B>/)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Write the comparison and print its headline table."""
    from geosim.reports import write_comparison
    from geosim.results import read_run

    a, b = read_run(args.run_a), read_run(args.run_b)
    out = Path(args.out) if args.out else (
        Path("results") / "compare" / f"{a.manifest['scenario']}_vs_{b.manifest['scenario']}")
    per_country, region = write_comparison(a, b, out)
    last = region.iloc[-1]
    print(f"{b.label} vs {a.label}, {int(last['year'])}:")
    print(f"  region China share of trade {last['china_trade_share_a']:.1f}% -> "
          f"{last['china_trade_share_b']:.1f}% ({last['china_trade_share_change_pp']:+.2f} pp); "
          f"US {last['us_trade_share_a']:.1f}% -> {last['us_trade_share_b']:.1f}% "
          f"({last['us_trade_share_change_pp']:+.2f} pp)")
    cols = ["iso3", "china_trade_share_a", "china_trade_share_b", "china_trade_share_change_pp",
            "us_trade_share_change_pp", "real_gdp_change_pct"]
    moved = per_country.reindex(per_country["china_trade_share_change_pp"].abs()
                                .sort_values(ascending=False).index)[cols].head(12)
    print(moved.round(2).to_string(index=False))
    print(f"comparison written to {out}")
    return 0
