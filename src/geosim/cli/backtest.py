"""`geosim backtest`: run the historical scenario from the 2012 world to 2023 and score it.

Writes the usual run files plus `backtest.csv` (the skill table) and `plots/backtest.png` into
one folder, atomically, and prints the skill summary: the model's mean absolute error against
persistence (2012 shares carried to 2023), per indicator, in percentage points.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from geosim.cli import add_parameter_option, output_path, parameter_overrides, seed, year

DEFAULT_OUT = Path("results") / "backtest"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim backtest`."""
    p = sub.add_parser("backtest", help="reproduce 2012-2023 and score against persistence",
                       description="Run the historical scenario history_2012_2023 from the 2012 "
                       "world, write the run files, backtest.csv and plots/backtest.png to DIR, "
                       "and print the model's mean absolute error against persistence (pp).")
    p.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    p.add_argument("--out", default=str(DEFAULT_OUT), type=output_path,
                   help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--until", type=year, default=None,
                   help="last year to simulate (a short check; scores that year against 2023)")
    add_parameter_option(p)
    p.set_defaults(handler=handle)


def format_summary(summary: pd.DataFrame, scored: list[str], year: int, base_year: int) -> str:
    """The printed skill summary: model vs persistence MAE per indicator, in pp."""
    lines = [f"skill over {len(scored)} economies ({' '.join(scored)}): mean absolute error, pp",
             f"{'indicator':<20} {'model':>7} {'persistence':>12}  beats"]
    for r in summary.itertuples():
        lines.append(f"{r.indicator:<20} {r.model_mae_pp:>7.2f} {r.persistence_mae_pp:>12.2f}  "
                     f"{'yes' if r.beats_persistence else 'no'}")
    if year != base_year:
        lines.append(f"note: short run, simulated {year} scored against observed {base_year}")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    """Run the back-test, print the skill summary and where the results are."""
    from geosim.reports import backtest, observed_worlds

    worlds = observed_worlds()
    _, summary, scored, year = backtest(args.out, seed=args.seed, until=args.until,
                                        worlds=worlds,
                                        parameters=parameter_overrides(args.param))
    print(format_summary(summary, scored, year, worlds[1].base_year))
    print(f"results written to {args.out}")
    return 0
