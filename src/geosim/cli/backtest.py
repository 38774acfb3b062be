"""`geosim backtest`: run the historical scenario from the 2012 world to 2023 and score it.

Writes the usual run files plus `backtest.csv` (the skill table) and `plots/backtest.png` into
one folder, atomically, and prints the skill summary: the model's mean absolute error against
persistence (2012 shares carried to 2023), per indicator, in percentage points.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from geosim.cli import UserError

SCENARIO = "history_2012_2023"
DEFAULT_OUT = Path("results") / "backtest"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim backtest`."""
    p = sub.add_parser("backtest", help="reproduce 2012-2023 and score against persistence",
                       description="Run the historical scenario history_2012_2023 from the 2012 "
                       "world, write the run files, backtest.csv and plots/backtest.png to DIR, "
                       "and print the model's mean absolute error against persistence (pp).")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--until", type=int, default=None,
                   help="last year to simulate (a short check; scores that year against 2023)")
    p.set_defaults(handler=handle)


def observed_worlds():
    """The observed 2012 and 2023 worlds shipped with the package."""
    from geosim.data import load_world

    try:
        first = load_world(2012)
    except TypeError:  # a build without the 2012 world
        raise UserError("geosim backtest needs the 2012 world (geosim.data.load_world(2012)), "
                        "which this build does not ship") from None
    return first, load_world()


def backtest(out: str | Path, *, seed: int = 0, until: int | None = None,
             scenario: str | Path = SCENARIO, simulate: Callable | None = None,
             worlds: tuple | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str], int]:
    """Simulate, score and write the back-test folder; nothing is written if any step fails.

    Args:
        out: output folder (replaced whole).
        seed, until: as for `geosim run`.
        scenario: the historical scenario (name or path).
        simulate: the simulation function (default `geosim.runner.simulate`; tests inject one).
        worlds: the observed (2012, 2023) worlds (default the shipped ones).

    Returns:
        The skill table, its summary over the scored economies, those economies, and the
        simulated year scored.
    """
    from geosim import plotting
    from geosim.backtest import scored_economies, skill_summary, skill_table
    from geosim.reports import write_run
    from geosim.results import atomic_dir
    from geosim.runner import simulate as default_simulate

    first, last = worlds if worlds is not None else observed_worlds()
    sim = (simulate or default_simulate)(scenario, seed=seed, until=until, world=first)
    year = int(sim.countries["year"].max())
    economies = [c for c in first.lac if c in last.iso3]
    table = skill_table(sim.countries, first, last, economies, year=year)
    scored = scored_economies(first, last)
    summary = skill_summary(table, scored)
    with atomic_dir(out) as tmp:
        write_run(sim, tmp)
        table.to_csv(tmp / "backtest.csv", index=False)
        plotting.backtest_figure(table, tmp / "plots" / "backtest.png")
    return table, summary, scored, year


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
    worlds = observed_worlds()
    _, summary, scored, year = backtest(args.out, seed=args.seed, until=args.until,
                                        worlds=worlds)
    print(format_summary(summary, scored, year, worlds[1].base_year))
    print(f"results written to {args.out}")
    return 0
