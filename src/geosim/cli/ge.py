"""`geosim ge`: solve a general-equilibrium trade counterfactual on a flows table and a shock table.

Reads CSV files, calls the engine in `geosim.trade`, writes or prints percent changes: one sector
(flows without a `sector` column) or many (Caliendo–Parro, with input–output links); `--example
cp2015` runs the published NAFTA case shipped with the package.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from geosim import inputs
from geosim.cli import UserError, output_path, positive_float, positive_int
from geosim.trade import (
    FLOW_RESULT_COLUMNS,
    IMBALANCES,
    RESULT_COLUMNS,
    ConvergenceError,
    TradeDataError,
    cost_factor_from_table,
    country_table,
    cp2015,
    flow_table,
    flows_from_table,
    solve,
    solve_sectors,
)
from geosim.trade import sector_tables as st

EXAMPLES = ("cp2015",)
CP2015_COLUMNS = ("region", "iso3", "welfare_change_pct", "terms_of_trade_pct",
                  "volume_of_trade_pct", "real_wage_change_pct", "real_income_change_pct")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `ge` sub-command."""
    parser = subparsers.add_parser(
        "ge",
        help="general-equilibrium trade counterfactual on any flows table",
        description=(
            "Solve a general-equilibrium trade model by exact hat algebra. One sector: FLOWS.csv "
            "has columns exporter,importer,value (domestic rows included; missing pairs are "
            "zero); SHOCK.csv has exporter,importer,cost_factor (iceberg factors; missing pairs "
            "are 1; a tariff change from t to t' is (1+t')/(1+t)). Many sectors (Caliendo-Parro "
            "2015): FLOWS.csv also has a sector column and optionally tariff; SHOCK.csv has "
            "sector,exporter,importer and cost_factor and/or tariff (the new rate); --theta, "
            "--io and --value-added add elasticities and input-output links. Results are "
            "percent changes. --example cp2015 runs Caliendo and Parro's NAFTA case."
        ),
    )
    parser.add_argument("flows", metavar="FLOWS.csv", nargs="?", help="baseline flows table")
    parser.add_argument("--example", choices=EXAMPLES,
                        help="run a shipped case instead of FLOWS.csv (cp2015: NAFTA's tariff "
                             "cuts, Caliendo & Parro 2015, zero deficits imposed first)")
    parser.add_argument("--shock", metavar="SHOCK.csv", help="cost-factor or tariff table")
    parser.add_argument("--sigma", type=positive_float,
                        help="elasticity of substitution (> 1); by sector: theta = sigma - 1")
    parser.add_argument("--theta", metavar="THETA.csv",
                        help="sector flows: trade elasticity per sector (columns sector,theta)")
    parser.add_argument("--io", metavar="IO.csv", help="sector flows: input-output coefficients "
                        "(economy,input_sector,user_sector,coefficient)")
    parser.add_argument("--value-added", metavar="VA.csv",
                        help="sector flows: value-added shares (economy,sector,va_share)")
    parser.add_argument("--sectors-out", metavar="SECTORS.csv", type=output_path,
                        help="sector flows: write economy x sector results (same rule as --out)")
    parser.add_argument("--reference", metavar="ISO", help="numeraire country (its price fixed)")
    parser.add_argument("--out", metavar="RESULT.csv", type=output_path,
                        help="write per-country results here (a new file, or a table ge wrote "
                        "before, which is replaced)")
    parser.add_argument("--flows-out", metavar="FLOWS_OUT.csv", type=output_path,
                        help="write new bilateral flows (same rule as --out)")
    parser.add_argument(
        "--imbalance",
        choices=IMBALANCES,
        default="world_share",
        help="deficits as constant shares of world output (default; fixed in dollars when "
             "world output is the numeraire), constant E/Y ratios, or set to zero",
    )
    parser.add_argument(
        "--conditional",
        action="store_true",
        help="conditional equilibrium: output and expenditure fixed, only resistances adjust",
    )
    parser.add_argument("--tol", type=positive_float, default=1e-10, help="relative tolerance")
    parser.add_argument("--max-iter", type=positive_int, default=20_000, help="iteration cap")
    parser.set_defaults(handler=main)


# Economies a flows table may hold: the engine's Newton step is n x n (assumption: the world has
# about 200 economies, GTAP 141; 1000 keeps a solve within memory and minutes).
MAX_ECONOMIES = 1000


def output_headers() -> tuple[str, ...]:
    """The first lines of the tables `ge` writes: how `--out`/`--flows-out` recognise a file
    geosim wrote (and may replace)."""
    tables = (RESULT_COLUMNS, FLOW_RESULT_COLUMNS, st.ECONOMY_RESULT_COLUMNS,
              st.SECTOR_RESULT_COLUMNS, st.SECTOR_FLOW_RESULT_COLUMNS, CP2015_COLUMNS)
    return tuple(",".join(columns) for columns in tables)


def check_outputs(args: argparse.Namespace, sources: tuple[str, ...]) -> None:
    """The output rule for `--out` and `--flows-out`, before any work (`results.check_out_file`):
    never an input, never the same file twice, never a file geosim did not write."""
    from geosim.results import check_distinct_outputs, check_out_file

    check_distinct_outputs({"--out": args.out, "--flows-out": args.flows_out,
                            "--sectors-out": args.sectors_out})
    for target in (args.out, args.flows_out, args.sectors_out):
        if target is not None:
            check_out_file(target, output_headers(), sources=sources)


def read_table(path: str) -> pd.DataFrame:
    """A user CSV table within the input limits (`geosim.inputs.read_table`), with at most
    `MAX_ECONOMIES` distinct codes in its exporter and importer columns."""
    try:
        table = inputs.read_table(path)
    except inputs.InputFileError as exc:
        raise UserError(f"cannot read {exc}") from None
    codes = {c for col in ("exporter", "importer", "economy") if col in table
             for c in table[col].unique()}
    if len(codes) > MAX_ECONOMIES:
        raise UserError(f"{inputs.shorten(path, 200)}: {len(codes)} different country codes; "
                        f"the engine takes at most {MAX_ECONOMIES} economies")
    return table


def main(args: argparse.Namespace) -> int:
    """Run `geosim ge`; return 0 on success and 1 if the solver does not converge."""
    if args.sigma is not None and not args.sigma > 1:  # also rejects NaN
        raise UserError(f"--sigma must be > 1, got {args.sigma:g}")
    if not args.tol > 0 or args.max_iter < 1:
        raise UserError("--tol must be > 0 and --max-iter >= 1")
    if args.example:
        if args.flows or args.shock:
            raise UserError("--example runs a shipped case: give no FLOWS.csv or --shock")
        return _example(args)
    if not args.flows:
        raise UserError("give FLOWS.csv (or --example cp2015)")
    if not args.shock:
        raise UserError("--shock SHOCK.csv is required")
    sources = tuple(p for p in (args.flows, args.shock, args.theta, args.io, args.value_added)
                    if p)
    check_outputs(args, sources)
    flows_table = read_table(args.flows)
    if st.is_sector_table(flows_table):
        return _sectors(args, flows_table, sources)
    for option in ("theta", "io", "value_added", "sectors_out"):
        if getattr(args, option):
            raise UserError(f"--{option.replace('_', '-')} needs sector flows: {args.flows} "
                            "has no sector column")
    if args.sigma is None:
        raise UserError("--sigma is required (the elasticity of substitution, > 1)")
    try:
        codes, flows = flows_from_table(flows_table, source=args.flows)
        shock = cost_factor_from_table(read_table(args.shock), codes, source=args.shock)
    except TradeDataError as exc:
        raise UserError(str(exc)) from None
    eq = _quietly(partial(solve, flows, args.sigma, shock, reference=_reference(args, codes),
                          tol=args.tol, max_iter=args.max_iter, imbalance=args.imbalance,
                          conditional=args.conditional))
    if eq is None:
        return 1
    summary = (
        f"solved {len(codes)} economies in {eq.iterations} iterations "
        f"(max relative excess demand {eq.residual:.2g})"
    )
    check_outputs(args, (args.flows, args.shock))  # again: the files may have changed meanwhile
    _write(args, summary, country_table(eq, codes), None, flow_table(eq, flows, codes))
    return 0


def _sectors(args: argparse.Namespace, flows_table: pd.DataFrame,
             sources: tuple[str, ...]) -> int:
    """The multi-sector model on tables."""
    if args.conditional:
        raise UserError("--conditional is for one-sector flows")
    if (args.sigma is None) == (args.theta is None):
        raise UserError("sector flows need the trade elasticities: --theta THETA.csv, or "
                        "--sigma for one value in every sector (theta = sigma - 1)")
    theta = read_table(args.theta) if args.theta else args.sigma - 1.0
    names = {"flows": args.flows, "theta": args.theta or "--sigma", "io": args.io or "",
             "value_added": args.value_added or ""}
    try:
        codes, sectors, economy = st.economy_from_tables(
            flows_table, theta, io=read_table(args.io) if args.io else None,
            value_added=read_table(args.value_added) if args.value_added else None,
            sources=names)
        shock = st.shock_from_table(read_table(args.shock), codes, sectors, economy,
                                    source=args.shock)
    except TradeDataError as exc:
        raise UserError(str(exc)) from None
    eq = _quietly(partial(solve_sectors, economy, shock, imbalance=args.imbalance,
                          reference=_reference(args, codes), tol=args.tol,
                          max_iter=args.max_iter))
    if eq is None:
        return 1
    summary = (f"solved {len(codes)} economies x {len(sectors)} sectors in {eq.iterations} "
               f"iterations (max relative excess demand {eq.residual:.2g})")
    check_outputs(args, sources)  # again: the files may have changed meanwhile
    _write(args, summary, st.economy_table(eq, codes),
           st.sector_table(eq, codes, sectors), st.sector_flow_table(eq, codes, sectors))
    return 0


def _example(args: argparse.Namespace) -> int:
    """`--example cp2015`: NAFTA's tariff cuts on Caliendo and Parro's data."""
    for option in ("sigma", "theta", "io", "value_added", "reference"):
        if getattr(args, option) is not None:
            raise UserError(f"--example cp2015 uses the paper's own data: drop "
                            f"--{option.replace('_', '-')}")
    if args.conditional or args.imbalance != "world_share":
        raise UserError("--example cp2015 imposes zero deficits first, as the paper's table: "
                        "drop --imbalance and --conditional")
    check_outputs(args, ())
    case = cp2015.load()
    _, nafta = cp2015.run(case, tol=args.tol)
    summary = ("Caliendo & Parro (2015) 5.1: NAFTA's tariff cuts, 31 regions x 40 sectors, zero "
               f"deficits imposed first; solved in {nafta.iterations} iterations; welfare = "
               "terms of trade + volume of trade (the paper's decomposition), in %")
    _write(args, summary, cp2015.results(case, nafta),
           st.sector_table(nafta, case.regions, case.sectors),
           st.sector_flow_table(nafta, case.regions, case.sectors))
    return 0


def _write(args: argparse.Namespace, summary: str, table: pd.DataFrame,
           by_sector: pd.DataFrame | None, flows: pd.DataFrame) -> None:
    """Write the requested tables together (`results.write_files`), then say what was done."""
    from geosim.results import write_files

    writers = {}
    for target, frame in ((args.out, table), (args.sectors_out, by_sector),
                          (args.flows_out, flows)):
        if target:
            writers[Path(target)] = partial(_to_csv, frame)
    write_files(writers)
    if args.out:
        print(f"{summary}; wrote {args.out}")
    else:
        print(summary)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    for target in (args.sectors_out, args.flows_out):
        if target:
            print(f"wrote {target}")


def _reference(args: argparse.Namespace, codes: list[str]) -> int | None:
    """The index of `--reference` among the economies, or None."""
    if args.reference is None:
        return None
    if args.reference not in codes:
        raise UserError(f"--reference {inputs.shorten(args.reference)} is not a country in "
                        f"{args.flows}")
    return codes.index(args.reference)


def _quietly(solve_now):
    """Run a solve without numpy's warnings (a failed solve says why itself); on a
    ConvergenceError print it in the CLI's words and return None."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return solve_now()
    except ConvergenceError as exc:
        # The engine speaks Python (imbalance='output_ratio'); here it is an option.
        message = str(exc).replace("imbalance='output_ratio'", "--imbalance output_ratio")
        print(f"error: {message}", file=sys.stderr)
        return None


def _to_csv(table: pd.DataFrame, handle) -> None:
    table.to_csv(handle, index=False, float_format="%.10g")
