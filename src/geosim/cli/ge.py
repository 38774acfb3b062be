"""`geosim ge`: solve a general-equilibrium trade counterfactual on a flows table and a shock table.

Reads CSV files, calls the engine in `geosim.trade`, writes or prints percent changes: one sector
(flows without a `sector` column) or many (Caliendo–Parro, with input–output links); `--example
cp2015` runs the published NAFTA case shipped with the package.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

from geosim.cli import UserError, positive_float, positive_int
from geosim.trade import (
    IMBALANCES,
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
    parser.add_argument("--sectors-out", metavar="SECTORS.csv",
                        help="sector flows: write economy x sector results here")
    parser.add_argument("--reference", metavar="ISO", help="numeraire country (its price fixed)")
    parser.add_argument("--out", metavar="RESULT.csv", help="write per-country results here")
    parser.add_argument("--flows-out", metavar="FLOWS_OUT.csv", help="write new bilateral flows")
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
    flows_table = _read_csv(args.flows)
    if st.is_sector_table(flows_table):
        return _sectors(args, flows_table)
    for option in ("theta", "io", "value_added", "sectors_out"):
        if getattr(args, option):
            raise UserError(f"--{option.replace('_', '-')} needs sector flows: {args.flows} "
                            "has no sector column")
    if args.sigma is None:
        raise UserError("--sigma is required (the elasticity of substitution, > 1)")
    try:
        codes, flows = flows_from_table(flows_table, source=args.flows)
        shock = cost_factor_from_table(_read_csv(args.shock), codes, source=args.shock)
    except TradeDataError as exc:
        raise UserError(str(exc)) from None
    reference = None
    if args.reference is not None:
        if args.reference not in codes:
            raise UserError(f"--reference {args.reference} is not a country in {args.flows}")
        reference = codes.index(args.reference)
    try:
        eq = solve(
            flows,
            args.sigma,
            shock,
            reference=reference,
            tol=args.tol,
            max_iter=args.max_iter,
            imbalance=args.imbalance,
            conditional=args.conditional,
        )
    except ConvergenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    countries = country_table(eq, codes)
    summary = (
        f"solved {len(codes)} economies in {eq.iterations} iterations "
        f"(max relative excess demand {eq.residual:.2g})"
    )
    if args.out:
        _write_csv(countries, args.out)
        print(f"{summary}; wrote {args.out}")
    else:
        print(summary)
        print(countries.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.flows_out:
        _write_csv(flow_table(eq, flows, codes), args.flows_out)
        print(f"wrote {args.flows_out}")
    return 0


def _sectors(args: argparse.Namespace, flows_table: pd.DataFrame) -> int:
    """The multi-sector model on tables."""
    if args.conditional:
        raise UserError("--conditional is for one-sector flows")
    if (args.sigma is None) == (args.theta is None):
        raise UserError("sector flows need the trade elasticities: --theta THETA.csv, or "
                        "--sigma for one value in every sector (theta = sigma - 1)")
    theta = _read_csv(args.theta) if args.theta else args.sigma - 1.0
    sources = {"flows": args.flows, "theta": args.theta or "--sigma", "io": args.io or "",
               "value_added": args.value_added or ""}
    try:
        codes, sectors, economy = st.economy_from_tables(
            flows_table, theta, io=_read_csv(args.io) if args.io else None,
            value_added=_read_csv(args.value_added) if args.value_added else None,
            sources=sources)
        shock = st.shock_from_table(_read_csv(args.shock), codes, sectors, economy,
                                    source=args.shock)
    except TradeDataError as exc:
        raise UserError(str(exc)) from None
    reference = None
    if args.reference is not None:
        if args.reference not in codes:
            raise UserError(f"--reference {args.reference} is not an economy in {args.flows}")
        reference = codes.index(args.reference)
    try:
        eq = solve_sectors(economy, shock, imbalance=args.imbalance, reference=reference,
                           tol=args.tol, max_iter=args.max_iter)
    except ConvergenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = (f"solved {len(codes)} economies x {len(sectors)} sectors in {eq.iterations} "
               f"iterations (max relative excess demand {eq.residual:.2g})")
    _report(st.economy_table(eq, codes), summary, args.out)
    if args.sectors_out:
        _write_csv(st.sector_table(eq, codes, sectors), args.sectors_out)
        print(f"wrote {args.sectors_out}")
    if args.flows_out:
        _write_csv(st.sector_flow_table(eq, codes, sectors), args.flows_out)
        print(f"wrote {args.flows_out}")
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
    case = cp2015.load()
    _, nafta = cp2015.run(case, tol=args.tol)
    table = cp2015.results(case, nafta)
    summary = ("Caliendo & Parro (2015) 5.1: NAFTA's tariff cuts, 31 regions x 40 sectors, zero "
               f"deficits imposed first; solved in {nafta.iterations} iterations; welfare = "
               "terms of trade + volume of trade (the paper's decomposition), in %")
    _report(table, summary, args.out)
    if args.sectors_out:
        _write_csv(st.sector_table(nafta, case.regions, case.sectors), args.sectors_out)
        print(f"wrote {args.sectors_out}")
    if args.flows_out:
        _write_csv(st.sector_flow_table(nafta, case.regions, case.sectors), args.flows_out)
        print(f"wrote {args.flows_out}")
    return 0


def _report(table: pd.DataFrame, summary: str, out: str | None) -> None:
    if out:
        _write_csv(table, out)
        print(f"{summary}; wrote {out}")
    else:
        print(summary)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def _read_csv(path: str) -> pd.DataFrame:
    """Read a CSV as text (codes like NA stay codes); unreadable files become UserError."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UserError(f"cannot read {path}: {reason}") from None


def _write_csv(table: pd.DataFrame, path: str) -> None:
    """Write atomically: a temporary file in the target directory, then os.replace."""
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            table.to_csv(handle, index=False, float_format="%.10g")
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
