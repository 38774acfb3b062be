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
    positive_int,
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
    p.add_argument("--draws", type=positive_int, default=None, metavar="N",
                   help="also draw every uncertain parameter N times (estimates from their "
                   "standard errors, assumptions uniform over their ranges; same draws and seeds "
                   "for A and B) and report the effect's median, 5-95 %% interval, P(decrease) "
                   "and its Sobol attribution, next to the seed interval at the defaults "
                   "(--seeds, default 1 2 3 4 5)")
    p.add_argument("--draw-seed", type=seed, default=1, metavar="ROOT",
                   help="root of the draws' SeedSequence (design and per-draw seeds; default 1)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="worker processes for --draws (default: the cores available)")
    add_parameter_option(p)  # over both sides' parameters, for the runs --seeds makes
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Write the comparison and print its headline tables."""
    from geosim.effects import paired_effects, shapley
    from geosim.reports import comparison_about, write_comparison, write_seed_comparison
    from geosim.results import check_comparable, check_out, comparison_input, read_run, slug

    if args.draws is not None:
        return handle_draws(args)
    a_dir, b_dir = Path(args.run_a), Path(args.run_b)
    runs = a_dir.is_dir() and b_dir.is_dir()
    if not runs and args.seeds is None and not args.decompose:
        read_run(b_dir if a_dir.is_dir() else a_dir)  # the usual "not a run directory" error
    a_in, b_in = comparison_input(args.run_a), comparison_input(args.run_b)
    _check_same_world(args, a_in, b_in)
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
    seeds = args.seeds or sorted({a_in.seed, b_in.seed})
    about = comparison_about(a_in, b_in, seeds, params_a, params_b)
    if args.seeds is not None or args.decompose:
        effects = paired_effects(a_in.scenario, b_in.scenario, seeds,
                                 parameters_a=params_a, parameters_b=params_b)
        parts = (shapley(a_in.scenario, b_in.scenario, seeds, parameters=params_b)
                 if args.decompose else None)
        _, region = write_seed_comparison(effects, out, (a_in.name, b_in.name), parts, about)
        _print_effects(a_in.name, b_in.name, seeds, effects.region, parts)
        _print_dollars(region.iloc[-1])
    else:
        if note:
            print(f"note: {note}", file=sys.stderr)
        about["seeds"] = [int(a.manifest["seed"]), int(b.manifest["seed"])]
        per_country, region = write_comparison(a, b, out, about=about)
        _print_runs(a, b, per_country, region)
    print(f"comparison written to {out}")
    return 0


def _check_same_world(args: argparse.Namespace, a_in, b_in) -> None:
    if a_in.scenario.start != b_in.scenario.start:
        raise UserError(f"cannot compare {args.run_a} (scenario '{a_in.name}', the "
                        f"{a_in.scenario.start} world) with {args.run_b} (scenario "
                        f"'{b_in.name}', the {b_in.scenario.start} world): different base years;"
                        " compare two runs that start from the same world")


def _print_runs(a, b, per_country, region) -> None:
    last = region.iloc[-1]
    print(f"{b.label} vs {a.label}, {int(last['year'])}:")
    print(f"  region China share of trade {last['china_trade_share_a_pct']:.1f}% -> "
          f"{last['china_trade_share_b_pct']:.1f}% ({last['china_trade_share_change_pp']:+.2f} "
          f"pp); US {last['us_trade_share_a_pct']:.1f}% -> {last['us_trade_share_b_pct']:.1f}% "
          f"({last['us_trade_share_change_pp']:+.2f} pp)")
    _print_dollars(last)
    cols = ["iso3", "china_trade_share_a_pct", "china_trade_share_b_pct",
            "china_trade_share_change_pp", "us_trade_share_change_pp", "real_gdp_change_pct"]
    moved = per_country.reindex(per_country["china_trade_share_change_pp"].abs()
                                .sort_values(ascending=False).index)[cols].head(12)
    print(moved.round(2).to_string(index=False))


def _print_dollars(last) -> None:
    """The region's trade in USD and the China share's split, from a change table's last row."""
    if "total_trade_change_pct" not in last:
        return
    print(f"  trade in USD: with China {last['trade_with_china_change_pct']:+.2f}%, with the "
          f"US {last['trade_with_us_change_pct']:+.2f}%, within the region "
          f"{last['intra_region_trade_change_pct']:+.2f}%, total "
          f"{last['total_trade_change_pct']:+.2f}%; China share change = "
          f"{last['china_trade_share_change_from_trade_with_china_pp']:+.3f} pp (trade with "
          f"China) {last['china_trade_share_change_from_total_trade_pp']:+.3f} pp "
          "(the denominator)")


def _print_effects(a_name: str, b_name: str, seeds: list[int], region, parts) -> None:
    region = region.set_index("outcome")
    year = int(region["year"].iloc[0])
    print(f"{b_name} minus {a_name} in {year} over {len(seeds)} seed(s) "
          f"({', '.join(map(str, seeds))}): mean [95 % interval]")
    for outcome, label, unit in (("china_trade_share_pp", "China share of trade", "pp"),
                                 ("us_trade_share_pp", "US share of trade", "pp"),
                                 ("real_gdp_pct", "real GDP", "%")):
        r = region.loc[outcome]
        print(f"  region {label}: {r['mean']:+.3f} {unit} [{r['ci_low']:+.3f}, "
              f"{r['ci_high']:+.3f}]")
    if parts is not None:
        for outcome, rows in parts.groupby("outcome", sort=False):
            print(f"  Shapley decomposition of the region's {outcome.removesuffix('_pp')} (pp):")
            for r in rows.itertuples():
                print(f"    {r.policy:<22} {r.mean:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]")


DEFAULT_SEEDS = [1, 2, 3, 4, 5]  # the seed interval a --draws comparison prints beside its own


def handle_draws(args: argparse.Namespace) -> int:
    """`compare A B --draws N`: the effect over parameter draws, beside the seed interval."""
    from geosim.effects import paired_effects, shapley
    from geosim.reports import comparison_about, write_seed_comparison
    from geosim.results import check_out, comparison_input, slug
    from geosim.uncertainty import MIN_DRAWS, attribution, run_draws, summary

    if args.draws < MIN_DRAWS:
        raise UserError(f"--draws: at least {MIN_DRAWS} draws are needed (RBD-FAST and the "
                        f"bootstrap of its intervals), got {args.draws}")
    a_in, b_in = comparison_input(args.run_a), comparison_input(args.run_b)
    _check_same_world(args, a_in, b_in)
    overrides = parameter_overrides(args.param)  # fixed on both sides, not drawn
    out = Path(args.out) if args.out else (
        Path("results") / f"{slug(b_in.name)}_vs_{slug(a_in.name)}")
    check_out(out, "comparison")  # before any work
    seeds = args.seeds or DEFAULT_SEEDS
    params = overrides or None
    effects = paired_effects(a_in.scenario, b_in.scenario, seeds, parameters_a=params,
                             parameters_b=params)
    draws = run_draws(a_in.scenario, b_in.scenario, args.draws, root=args.draw_seed,
                      parameters=overrides, workers=args.workers)
    table = summary(draws)
    sobol = attribution(draws)
    parts = (shapley(a_in.scenario, b_in.scenario, seeds, parameters=params)
             if args.decompose else None)
    about = comparison_about(a_in, b_in, seeds, params, params)
    about["draws"] = {"n": args.draws, "root": args.draw_seed}
    write_seed_comparison(effects, out, (a_in.name, b_in.name), parts, about,
                          extra={"draws.csv": draws.table, "draws_summary.csv": table,
                                 "draws_sobol.csv": sobol})
    _print_effects(a_in.name, b_in.name, seeds, effects.region, parts)
    _print_draws(a_in.name, b_in.name, draws, table, sobol)
    print(f"comparison written to {out}")
    return 0


def _print_draws(a_name: str, b_name: str, draws, table, sobol) -> None:
    s = table.set_index("outcome")
    n, failed = int(s.loc["china_trade_share_pp", "n"]), int(s["failed"].iloc[0])
    how = ("Saltelli design" if draws.design.method == "saltelli" else "Latin hypercube")
    print(f"{b_name} minus {a_name}, {draws.year}, over {n} parameter draws ({how}, one seed "
          f"per draw){f'; {failed} failed' if failed else ''}: median [5-95 %], P(decrease)")
    labels = {"china_trade_share_pp": "China share of trade", "us_trade_share_pp":
              "US share of trade", "real_gdp_pct": "real GDP",
              "trade_with_china_pct": "trade with China (USD)",
              "trade_with_us_pct": "trade with the US (USD)",
              "intra_region_trade_pct": "trade within the region (USD)",
              "total_trade_pct": "total trade (USD)",
              "china_share_from_china_trade_pp": "China share: from trade with China",
              "china_share_from_total_trade_pp": "China share: from the denominator"}
    for outcome, label in labels.items():
        r = s.loc[outcome]
        print(f"  region {label}: {r['median']:+.3f} {r['unit']} [{r['p05']:+.3f}, "
              f"{r['p95']:+.3f}], P(decrease) {r['p_negative']:.2f}")
    for outcome, rows in sobol.groupby("outcome", sort=False):
        top = rows.head(5)
        print(f"  {rows['method'].iloc[0]} of the {outcome} (S1 ± 95 % bootstrap): " + ", ".join(
            f"{r.parameter} {r.S1:.2f} ± {r.S1_conf:.2f}" for r in top.itertuples())
            + f"; sum of S1 {rows['S1'].sum():.2f}")
