"""`geosim compare A B`: B minus A — tables and plots of two runs, intervals over seeds, and the
Shapley decomposition of B's effect into its policies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geosim.cli import (
    UserError,
    add_parameter_option,
    output_path,
    parameter_overrides,
    seed,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim compare`."""
    p = sub.add_parser(
        "compare", help="compare two runs or scenarios (B minus A)",
        description="Compare B with A. Given two run directories: per-country changes in the "
        "final year and the region's path, as CSV tables and PNG plots. With --seeds, both "
        "scenarios are run for each seed (same random streams) and every difference is reported "
        "with its 95 %% interval over seeds; --decompose splits B's effect on the region's China "
        "share of trade into B's policies (Shapley values, which add up to the whole).")
    p.add_argument("run_a", help="run directory (or scenario) of the reference, e.g. baseline")
    p.add_argument("run_b", help="run directory (or scenario) of the alternative, e.g. pivot")
    p.add_argument("--seeds", type=seed, nargs="+", default=None, metavar="SEED",
                   help="run both for these seeds and report intervals over them")
    p.add_argument("--decompose", action="store_true",
                   help="Shapley decomposition of B's effect into its policies (2^k runs per seed)")
    p.add_argument("--out", default=None, type=output_path,
                   help="output folder (default results/<B>_vs_<A>/, e.g. pivot_vs_baseline)")
    add_parameter_option(p)  # over both sides' parameters, for the runs --seeds makes
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Write the comparison and print its headline tables."""
    from geosim.effects import paired_effects, shapley
    from geosim.reports import write_comparison, write_tables
    from geosim.results import check_comparable, check_out, comparison_input, read_run, slug

    a_dir, b_dir = Path(args.run_a), Path(args.run_b)
    runs = a_dir.is_dir() and b_dir.is_dir()
    if not runs and args.seeds is None and not args.decompose:
        read_run(b_dir if a_dir.is_dir() else a_dir)  # the usual "not a run directory" error
    a_in, b_in = comparison_input(args.run_a), comparison_input(args.run_b)
    if a_in.scenario.start != b_in.scenario.start:
        raise UserError(f"cannot compare {args.run_a} (scenario '{a_in.name}', the "
                        f"{a_in.scenario.start} world) with {args.run_b} (scenario "
                        f"'{b_in.name}', the {b_in.scenario.start} world): different base years;"
                        " compare two runs that start from the same world")
    note = None
    if runs:  # read (and check) both before any work
        a, b = read_run(a_dir), read_run(b_dir)
        note = check_comparable(a, b)
    overrides = parameter_overrides(args.param)
    if overrides and args.seeds is None and not args.decompose:
        raise UserError("--param changes the runs a comparison makes: add --seeds (or "
                        "--decompose); finished run directories keep their own parameters")
    params_a = {**(a_in.parameters or {}), **overrides} or None
    params_b = {**(b_in.parameters or {}), **overrides} or None
    out = Path(args.out) if args.out else (
        Path("results") / f"{slug(b_in.name)}_vs_{slug(a_in.name)}")
    check_out(out, "comparison")  # before any work
    tables = {}
    seeds = args.seeds or sorted({a_in.seed, b_in.seed})
    if args.seeds is not None or args.decompose:
        effects = paired_effects(a_in.scenario, b_in.scenario, seeds,
                                 parameters_a=params_a, parameters_b=params_b)
        tables = {"effects_region.csv": effects.region,
                  "effects_countries.csv": effects.countries}
        if args.decompose:
            tables["decomposition.csv"] = shapley(a_in.scenario, b_in.scenario, seeds,
                                                  parameters=params_b)
    if runs:
        if note:
            print(f"note: {note}", file=sys.stderr)
        per_country, region = write_comparison(a, b, out, tables)
        _print_runs(a, b, per_country, region)
    else:
        write_tables(out, tables)
    if tables:
        _print_effects(a_in.name, b_in.name, seeds, tables)
    print(f"comparison written to {out}")
    return 0


def _print_runs(a, b, per_country, region) -> None:
    last = region.iloc[-1]
    print(f"{b.label} vs {a.label}, {int(last['year'])}:")
    print(f"  region China share of trade {last['china_trade_share_a']:.1f}% -> "
          f"{last['china_trade_share_b']:.1f}% ({last['china_trade_share_change_pp']:+.2f} pp)"
          f"; US {last['us_trade_share_a']:.1f}% -> {last['us_trade_share_b']:.1f}% "
          f"({last['us_trade_share_change_pp']:+.2f} pp)")
    cols = ["iso3", "china_trade_share_a", "china_trade_share_b",
            "china_trade_share_change_pp", "us_trade_share_change_pp", "real_gdp_change_pct"]
    moved = per_country.reindex(per_country["china_trade_share_change_pp"].abs()
                                .sort_values(ascending=False).index)[cols].head(12)
    print(moved.round(2).to_string(index=False))


def _print_effects(a_name: str, b_name: str, seeds: list[int], tables: dict) -> None:
    region = tables["effects_region.csv"].set_index("outcome")
    print(f"{b_name} minus {a_name} over {len(seeds)} seed(s) ({', '.join(map(str, seeds))}): "
          "mean [95 % interval]")
    for outcome, label, unit in (("china_trade_share", "China share of trade", "pp"),
                                 ("us_trade_share", "US share of trade", "pp"),
                                 ("real_gdp_index", "real GDP", "%")):
        r = region.loc[outcome]
        print(f"  region {label}: {r['mean']:+.3f} {unit} [{r['ci_low']:+.3f}, "
              f"{r['ci_high']:+.3f}]")
    parts = tables.get("decomposition.csv")
    if parts is not None:
        for outcome, rows in parts.groupby("outcome", sort=False):
            print(f"  Shapley decomposition of the region's {outcome} (pp):")
            for r in rows.itertuples():
                print(f"    {r.policy:<22} {r.mean:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]")
