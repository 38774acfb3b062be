"""`geosim ge`: solve a general-equilibrium trade counterfactual on a flows table and a shock table.

Reads CSV files, calls the engine in `geosim.trade`, writes or prints per-country percent changes.
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
    flow_table,
    flows_from_table,
    solve,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `ge` sub-command."""
    parser = subparsers.add_parser(
        "ge",
        help="general-equilibrium trade counterfactual on any flows table",
        description=(
            "Solve the one-sector structural gravity model by exact hat algebra. FLOWS.csv has "
            "columns exporter,importer,value (domestic rows included; missing pairs are zero); "
            "SHOCK.csv has exporter,importer,cost_factor (iceberg factors; missing pairs are 1; "
            "a tariff change from t to t' is (1+t')/(1+t)). Results are percent changes."
        ),
    )
    parser.add_argument("flows", metavar="FLOWS.csv", help="baseline flows table")
    parser.add_argument("--shock", metavar="SHOCK.csv", required=True, help="cost-factor table")
    parser.add_argument("--sigma", type=positive_float, required=True,
                        help="elasticity of substitution (> 1)")
    parser.add_argument("--reference", metavar="ISO", help="numeraire country (its price fixed)")
    parser.add_argument("--out", metavar="RESULT.csv", help="write per-country results here")
    parser.add_argument("--flows-out", metavar="FLOWS_OUT.csv", help="write new bilateral flows")
    parser.add_argument(
        "--imbalance",
        choices=IMBALANCES,
        default="world_share",
        help="deficits as constant shares of world output (default) or constant E/Y ratios",
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
    if not args.sigma > 1:  # also rejects NaN
        raise UserError(f"--sigma must be > 1, got {args.sigma:g}")
    if not args.tol > 0 or args.max_iter < 1:
        raise UserError("--tol must be > 0 and --max-iter >= 1")
    try:
        codes, flows = flows_from_table(_read_csv(args.flows), source=args.flows)
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
